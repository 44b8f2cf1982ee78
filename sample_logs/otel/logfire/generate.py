"""logfire.otlp.jsonl: Pydantic Logfire's OpenAI integration (see ../harness.py).

logfire.configure(send_to_logfire=False) with the Collector file exporter as an additional
span processor, then logfire.instrument_openai(). A stream is two spans: the call's span,
which ends when the stream opens (no usage), and a zero-length log span at the stream's end
carrying usage and the iteration's duration. Prompt, user and session travel as baggage,
which Logfire copies onto every span.

    python3 -m venv /tmp/otel-logfire
    /tmp/otel-logfire/bin/pip install -r sample_logs/otel/logfire/requirements.txt
    /tmp/otel-logfire/bin/python sample_logs/otel/logfire/generate.py
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import harness  # noqa: E402

NAME = "logfire"


def main() -> None:
    import logfire
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    processor = BatchSpanProcessor(harness.CollectorFileExporter(harness.trace_path(NAME)), schedule_delay_millis=60_000)
    logfire.configure(send_to_logfire=False, service_name="support-chat", environment="production",
                      console=False, additional_span_processors=[processor], metrics=False)
    prompt, version = harness.PROMPT

    def setup():
        logfire.instrument_openai()
        return processor.force_flush, lambda call: logfire.set_baggage(
            **{"gen_ai.prompt.name": prompt, "gen_ai.prompt.version": version, "user.id": call.user,
               "session.id": call.session})

    harness.run(NAME, setup)
    logfire.shutdown()


if __name__ == "__main__":
    main()
