"""openllmetry.otlp.jsonl: OpenLLMetry's opentelemetry-instrumentation-openai (see ../harness.py).

The instrumentation alone, without traceloop-sdk: the SDK's span processor copies its context
(association properties, the managed prompt's key and version) onto each span as it starts;
ContextToAttributes does the same here from baggage, under the SDK's attribute names
(traceloop.association.properties.<name>, traceloop.prompt.key / .version).

    python3 -m venv /tmp/otel-openllmetry
    /tmp/otel-openllmetry/bin/pip install -r sample_logs/otel/openllmetry/requirements.txt
    /tmp/otel-openllmetry/bin/python sample_logs/otel/openllmetry/generate.py
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import harness  # noqa: E402

NAME = "openllmetry"


def main() -> None:
    from opentelemetry.instrumentation.openai import OpenAIInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "support-chat"}))
    provider.add_span_processor(harness.ContextToAttributes())
    provider.add_span_processor(SimpleSpanProcessor(harness.CollectorFileExporter(harness.trace_path(NAME))))
    prompt, version = harness.PROMPT

    def setup():
        OpenAIInstrumentor().instrument(tracer_provider=provider)
        return lambda: None, lambda call: harness.baggage({
            "traceloop.prompt.key": prompt, "traceloop.prompt.version": version,
            "traceloop.association.properties.user_id": call.user,
            "traceloop.association.properties.session_id": call.session,
            "traceloop.association.properties.environment": "production",
        })

    harness.run(NAME, setup)
    provider.shutdown()


if __name__ == "__main__":
    main()
