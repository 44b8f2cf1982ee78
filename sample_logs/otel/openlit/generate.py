"""openlit.otlp.jsonl: openlit's OpenAI instrumentation (see ../harness.py).

openlit.init reuses the tracer provider set before it (so the Collector file exporter gets its
spans) and reads its prices from pricing.json here (it would fetch them from the network
otherwise). For a stream that did not ask for usage openlit writes its own token estimates
as gen_ai.usage.* (and a cost from them): the truth has no tokens for those calls.
Prompt, user and session travel as baggage copied onto the spans (ContextToAttributes).

    python3 -m venv /tmp/otel-openlit
    /tmp/otel-openlit/bin/pip install --no-deps -r sample_logs/otel/openlit/requirements.txt
    /tmp/otel-openlit/bin/python sample_logs/otel/openlit/generate.py
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import harness  # noqa: E402

NAME = "openlit"


def main() -> None:
    import openlit
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "support-chat",
                                                        "deployment.environment": "production"}))
    provider.add_span_processor(harness.ContextToAttributes())
    provider.add_span_processor(SimpleSpanProcessor(harness.CollectorFileExporter(harness.trace_path(NAME))))
    trace.set_tracer_provider(provider)
    prompt, version = harness.PROMPT

    def setup():
        openlit.init(application_name="support-chat", environment="production", disable_metrics=True,
                     disable_events=True, pricing_json=str(HERE / "pricing.json"))
        return lambda: None, lambda call: harness.baggage(
            {"gen_ai.prompt.name": prompt, "gen_ai.prompt.version": version, "user.id": call.user,
             "session.id": call.session})

    harness.run(NAME, setup)
    provider.shutdown()


if __name__ == "__main__":
    main()
