"""openinference.otlp.jsonl: Arize's openinference-instrumentation-openai (see ../harness.py).

The prompt template version, the user and the session are set the OpenInference way
(openinference.instrumentation.using_attributes), which the instrumentation copies onto its
spans as llm.prompt_template.version, user.id and session.id.

    python3 -m venv /tmp/otel-openinference
    /tmp/otel-openinference/bin/pip install -r sample_logs/otel/openinference/requirements.txt
    /tmp/otel-openinference/bin/python sample_logs/otel/openinference/generate.py
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import harness  # noqa: E402

NAME = "openinference"


def main() -> None:
    from openinference.instrumentation import using_attributes
    from openinference.instrumentation.openai import OpenAIInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "support-chat"}))
    provider.add_span_processor(SimpleSpanProcessor(harness.CollectorFileExporter(harness.trace_path(NAME))))
    prompt, version = harness.PROMPT

    def setup():
        OpenAIInstrumentor().instrument(tracer_provider=provider)
        return lambda: None, lambda call: using_attributes(
            session_id=call.session, user_id=call.user, prompt_template=harness.SYSTEM,
            prompt_template_version=version, metadata={"prompt_id": prompt})

    harness.run(NAME, setup)
    provider.shutdown()


if __name__ == "__main__":
    main()
