"""openai-v2.otlp.jsonl: the official opentelemetry-instrumentation-openai-v2 (see ../harness.py).

Latest GenAI conventions, message content on the span. The prompt name and version travel as
baggage and are copied onto the spans (as opentelemetry-processor-baggage does); this
instrumentation has no user or session of its own.

    python3 -m venv /tmp/otel-openai-v2
    /tmp/otel-openai-v2/bin/pip install -r sample_logs/otel/openai-v2/requirements.txt
    /tmp/otel-openai-v2/bin/python sample_logs/otel/openai-v2/generate.py
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import harness  # noqa: E402

NAME = "openai-v2"


def main() -> None:
    os.environ["OTEL_SEMCONV_STABILITY_OPT_IN"] = "gen_ai_latest_experimental"
    os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "SPAN_ONLY"
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "support-chat",
                                                        "deployment.environment.name": "production"}))
    provider.add_span_processor(harness.ContextToAttributes())
    provider.add_span_processor(SimpleSpanProcessor(harness.CollectorFileExporter(harness.trace_path(NAME))))
    prompt, version = harness.PROMPT

    def setup():
        OpenAIInstrumentor().instrument(tracer_provider=provider)
        return lambda: None, lambda call: harness.baggage(
            {"gen_ai.prompt.name": prompt, "gen_ai.prompt.version": version})

    harness.run(NAME, setup)
    provider.shutdown()


if __name__ == "__main__":
    main()
