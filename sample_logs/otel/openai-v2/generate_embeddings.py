"""embeddings.otlp.jsonl: opentelemetry-instrumentation-openai-v2's spans of embedding calls.

The real `openai` client's embeddings.create against the local stub (../stub_openai.py), with
the same pinned requirements as generate.py (and its settings: latest GenAI conventions,
content on the span): one text, a list of three texts, an HTTP 500. The spans carry
gen_ai.operation.name = embeddings and gen_ai.usage.input_tokens, no output tokens (an
embedding has none). The truth file holds what the client saw of each call.

    /tmp/otel-openai-v2/bin/python sample_logs/otel/openai-v2/generate_embeddings.py
"""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import harness  # noqa: E402
from stub_openai import StubServer  # noqa: E402

HERE = Path(__file__).resolve().parent
TRACE = HERE / "embeddings.otlp.jsonl"
TRUTH = HERE / "embeddings.truth.json"
CALLS = [("one", "How do I reset my password?"),
         ("list", ["Refunds take 5 to 10 days.", "Invoices are under Billing.", "Reset links expire in an hour."]),
         ("500", "This call fails.")]


def main() -> None:
    os.environ["OTEL_SEMCONV_STABILITY_OPT_IN"] = "gen_ai_latest_experimental"
    os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "SPAN_ONLY"
    import openai
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "support-chat"}))
    provider.add_span_processor(SimpleSpanProcessor(harness.CollectorFileExporter(TRACE)))
    truth = []
    with StubServer() as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="stub-key", max_retries=0)
        OpenAIInstrumentor().instrument(tracer_provider=provider)
        client.embeddings.create(model="text-embedding-3-small", input="warm-up")  # its span dropped
        TRACE.write_bytes(b"")
        for kind, text in CALLS:
            seen = {"kind": kind, "model": "text-embedding-3-small", "status": "ok", "input_tokens": None}
            if kind == "500":
                server.fail_next(500)
            try:
                seen["input_tokens"] = client.embeddings.create(model="text-embedding-3-small", input=text).usage.prompt_tokens
            except openai.APIStatusError as exc:
                seen.update(status="error", error_type=f"openai.{type(exc).__name__}")
            truth.append(seen)
    provider.shutdown()
    TRUTH.write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {TRACE} and {TRUTH}")


if __name__ == "__main__":
    main()
