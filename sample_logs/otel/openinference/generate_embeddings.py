"""embeddings.otlp.jsonl: openinference-instrumentation-openai's spans of embedding calls.

The real `openai` client's embeddings.create against the local stub (../stub_openai.py), with
the same pinned requirements as generate.py: one text, a list of three texts, an HTTP 500, and
one text under using_attributes (prompt template version, user, session). OpenInference writes
these as EMBEDDING spans (embedding.model_name, llm.token_count.prompt, the texts and, unless
OPENINFERENCE_HIDE_EMBEDDING_VECTORS is set, every vector). The truth file holds what the
client saw of each call.

    /tmp/otel-openinference/bin/python sample_logs/otel/openinference/generate_embeddings.py
"""

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import harness  # noqa: E402
from stub_openai import StubServer  # noqa: E402

HERE = Path(__file__).resolve().parent
TRACE = HERE / "embeddings.otlp.jsonl"
TRUTH = HERE / "embeddings.truth.json"
CALLS = [("one", "How do I reset my password?"),
         ("list", ["Refunds take 5 to 10 days.", "Invoices are under Billing.", "Reset links expire in an hour."]),
         ("500", "This call fails."),
         ("tagged", "Where can I download my invoice?")]


def main() -> None:
    import openai
    from openinference.instrumentation import using_attributes
    from openinference.instrumentation.openai import OpenAIInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "support-chat"}))
    provider.add_span_processor(SimpleSpanProcessor(harness.CollectorFileExporter(TRACE)))
    truth = []
    with StubServer() as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="stub-key", max_retries=0)
        # warm-ups, uninstrumented then instrumented (its span dropped): first-call costs
        # (imports, the connection) would otherwise fall between the client's clock and the span's
        client.embeddings.create(model="text-embedding-3-small", input="warm-up")
        OpenAIInstrumentor().instrument(tracer_provider=provider)
        client.embeddings.create(model="text-embedding-3-small", input="warm-up")
        TRACE.write_bytes(b"")
        for kind, text in CALLS:
            seen = {"kind": kind, "model": "text-embedding-3-small", "status": "ok", "input_tokens": None}
            if kind == "500":
                server.fail_next(500)
            tags = using_attributes(session_id="s-1", user_id="u-1", prompt_template_version="v2") \
                if kind == "tagged" else harness.no_tags(None)
            started = time.perf_counter()
            try:
                with tags:
                    response = client.embeddings.create(model="text-embedding-3-small", input=text)
                seen["input_tokens"] = response.usage.prompt_tokens
            except openai.APIStatusError as exc:
                seen.update(status="error", error_type=f"openai.{type(exc).__name__}")
            seen["latency_ms"] = (time.perf_counter() - started) * 1000
            truth.append(seen)
    provider.shutdown()
    TRUTH.write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {TRACE} and {TRUTH}")


if __name__ == "__main__":
    main()
