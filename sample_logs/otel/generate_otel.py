"""Generate support-chat.otlp.jsonl: real OpenTelemetry GenAI spans, in the Collector's file format.

The real `openai` client, instrumented by `opentelemetry-instrumentation-openai-v2`, calls a
local stub of the chat completions API (stub_openai.py: no network, no key). Each request
is a plain completion, a stream, or an HTTP 500. The spans are encoded exactly as OTLP
(opentelemetry-exporter-otlp-proto-common) and written as the Collector's `file` exporter
writes them: one TracesData JSON object a line, ids in hex, 64-bit numbers as strings,
enums as numbers.

Two apps are recorded, each in its own process (the instrumentation reads its settings once):
- support-chat: message content captured on the span (OTEL_INSTRUMENTATION_GENAI_CAPTURE_
  MESSAGE_CONTENT=SPAN_ONLY); its stream does not ask for usage, so that span has no tokens;
- faq-bot: the instrumentation's defaults (no content); its stream asks for usage.
With these versions both write the latest GenAI conventions (gen_ai.provider.name, schema
1.37); the instrumentation reports no cached tokens, and error.type as a class repr
("<class 'openai.InternalServerError'>"). The console reads all of that as it is.

Each request runs inside the app's own server span (not GenAI: the console skips and counts
it). The prompt name and version travel as baggage and are copied onto the spans, as
opentelemetry-processor-baggage does.

Run (outside the project's venv; the versions are pinned in requirements.txt):

    python3 -m venv /tmp/otelgen
    /tmp/otelgen/bin/pip install -r sample_logs/otel/requirements.txt
    /tmp/otelgen/bin/python sample_logs/otel/generate_otel.py

Timestamps are the real ones of the run, so the output differs from run to run in times,
trace ids and durations, never in shape.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from harness import CollectorFileExporter, ContextToAttributes  # noqa: E402 - after the path is set
DEFAULT_OUT = HERE / "support-chat.otlp.jsonl"

APPS = {
    "support-chat": {
        "env": {
            "OTEL_SEMCONV_STABILITY_OPT_IN": "gen_ai_latest_experimental",
            "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "SPAN_ONLY",
        },
        "prompt": ("support-answer", "v8"),
        "model": "gpt-4o-mini",
    },
    "faq-bot": {"env": {}, "prompt": ("faq", "v3"), "model": "gpt-4o"},
}
QUESTIONS = [
    ("plain", "How do I reset my password?"),
    ("stream", "When will my refund arrive?"),
    ("error", "Where can I download my invoice?"),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--app", choices=sorted(APPS), help=argparse.SUPPRESS)  # one app, in a child
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.app:
        run_app(args.app, args.base_url, args.out)
        return 0
    from stub_openai import StubServer

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(b"")
    with StubServer() as server:
        for app in APPS:  # one process per app: the conventions are chosen at instrument time
            env = {**os.environ, **APPS[app]["env"], "OTEL_SERVICE_NAME": app}
            command = [sys.executable, __file__, "--app", app, "--base-url", server.base_url, "--out", str(args.out)]
            subprocess.run(command, env=env, check=True)
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes)")
    return 0


def run_app(app: str, base_url: str, out: Path) -> None:
    import openai
    from opentelemetry import baggage, context, trace
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.trace import SpanKind

    provider = TracerProvider(resource=Resource.create({"service.name": app, "deployment.environment.name": "production"}))
    provider.add_span_processor(ContextToAttributes())
    processor = BatchSpanProcessor(CollectorFileExporter(out), schedule_delay_millis=60_000)
    provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)
    OpenAIInstrumentor().instrument(tracer_provider=provider)

    settings = APPS[app]
    prompt_name, prompt_version = settings["prompt"]
    client = openai.OpenAI(base_url=base_url, api_key="stub-key", max_retries=0)
    tracer = trace.get_tracer("support-chat.app")
    for kind, question in QUESTIONS:
        ctx = baggage.set_baggage("gen_ai.prompt.name", prompt_name)
        ctx = baggage.set_baggage("gen_ai.prompt.version", prompt_version, ctx)
        token = context.attach(ctx)
        try:
            with tracer.start_as_current_span("POST /answer", kind=SpanKind.SERVER,
                                              attributes={"http.request.method": "POST", "http.route": "/answer"}):
                messages = [{"role": "system", "content": "You are a concise support assistant."},
                            {"role": "user", "content": question}]
                if kind == "error":
                    _stub_fail_next(base_url)
                try:
                    if kind == "stream":
                        stream = client.chat.completions.create(
                            model=settings["model"], messages=messages, stream=True,
                            stream_options={"include_usage": app == "faq-bot"},
                        )
                        "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
                    else:
                        client.chat.completions.create(model=settings["model"], messages=messages, temperature=0.2)
                except openai.APIStatusError:
                    pass  # the app answers with an apology; the span records the error
        finally:
            context.detach(token)
        processor.force_flush()  # one exported batch (one line) per request, as a Collector would
    provider.shutdown()


def _stub_fail_next(base_url: str) -> None:
    """The stub lives in the parent process; ask it over HTTP to fail the next request."""
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(base_url.removesuffix("/v1") + "/stub/fail-next", data=b"{}"))


if __name__ == "__main__":
    sys.exit(main())
