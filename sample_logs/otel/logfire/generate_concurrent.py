"""logfire-concurrent.otlp.jsonl: Logfire streams running at the same time (issue 18's join).

A Logfire stream is two spans (see generate.py): the call's span, ended when the stream
opens, and a log at the stream's end, emitted in the context the call was made in (so a
sibling of the call's span: same parent, and the same trace when there is a parent). Nothing
else links them, so this trace puts the halves of concurrent streams side by side in the ways
that crossed them when the join took "the opening that ended last before the reading began":

- own-spans: two threads, each inside its own request span (as two HTTP requests of a
  server), the same request; A and B are created, then A is read, then B (A's reading
  begins after B's opening ended);
- root-crossed: the same schedule with no enclosing span (every span a root of its own
  trace), the same model, different questions;
- gather: asyncio.gather of two identical streams inside one request span (same parent,
  same trace, same request: only the timing tells them apart), each read as soon as it
  opens.

Each scenario runs twice. Spans are exported one by one as they end (SimpleSpanProcessor),
so the two halves are always on different lines. The truth (logfire-concurrent.truth.json)
is what the client saw of each stream: its response id, tokens and latency.

    python3 -m venv /tmp/otel-logfire
    /tmp/otel-logfire/bin/pip install -r sample_logs/otel/logfire/requirements.txt
    /tmp/otel-logfire/bin/python sample_logs/otel/logfire/generate_concurrent.py
"""

import asyncio
import json
import sys
import threading
import time
from contextlib import nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import harness  # noqa: E402
from stub_openai import StubServer  # noqa: E402

NAME = "logfire-concurrent"
HERE = Path(__file__).resolve().parent
MODEL = "gpt-4o-mini"


def messages(question: str) -> list[dict]:
    return [{"role": "system", "content": harness.SYSTEM}, {"role": "user", "content": question}]


def _read(stream, seen: dict, started: float) -> dict:
    usage = chunk = None
    for chunk in stream:
        usage = chunk.usage or usage
    seen.update(latency_ms=(time.perf_counter() - started) * 1000, response_id=chunk.id,
                input_tokens=usage.prompt_tokens, output_tokens=usage.completion_tokens)
    return seen


def crossed_pair(logfire, client, scenario: str, questions: tuple[str, str], span_name: str | None) -> list[dict]:
    """A and B created in that order, then A read to its end, then B."""
    a_created, b_created, a_read = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, dict] = {}

    def call(name, question, before_create, created, before_read, read):
        with logfire.span(span_name) if span_name else nullcontext():
            if before_create:
                before_create.wait(10)
            started = time.perf_counter()
            seen[name] = {"scenario": scenario, "call": name, "ts": time.time(), "question": question}
            stream = client.chat.completions.create(model=MODEL, messages=messages(question), stream=True,
                                                    stream_options={"include_usage": True})
            created.set()
            if before_read:
                before_read.wait(10)
            _read(stream, seen[name], started)
            read.set()

    threads = [threading.Thread(target=call, args=("A", questions[0], None, a_created, b_created, a_read)),
               threading.Thread(target=call, args=("B", questions[1], a_created, b_created, a_read, threading.Event()))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return [seen["A"], seen["B"]]


def gathered_pair(logfire, base_url: str, scenario: str, question: str) -> list[dict]:
    import openai

    async def one(async_client, name):
        started = time.perf_counter()
        seen = {"scenario": scenario, "call": name, "ts": time.time(), "question": question}
        stream = await async_client.chat.completions.create(model=MODEL, messages=messages(question), stream=True,
                                                            stream_options={"include_usage": True})
        usage = chunk = None
        async for chunk in stream:
            usage = chunk.usage or usage
        seen.update(latency_ms=(time.perf_counter() - started) * 1000, response_id=chunk.id,
                    input_tokens=usage.prompt_tokens, output_tokens=usage.completion_tokens)
        return seen

    async def both():  # a client per event loop: its connections belong to the loop
        async with openai.AsyncOpenAI(base_url=base_url, api_key="stub-key", max_retries=0) as async_client:
            with logfire.span("POST /chat"):
                return await asyncio.gather(one(async_client, "A"), one(async_client, "B"))

    return list(asyncio.run(both()))


def main() -> None:
    import logfire
    import openai
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    path = HERE / f"{NAME}.otlp.jsonl"
    path.write_bytes(b"")
    exporter = harness.CollectorFileExporter(Path("/dev/null"))
    logfire.configure(send_to_logfire=False, service_name="support-chat", environment="production",
                      console=False, additional_span_processors=[SimpleSpanProcessor(exporter)], metrics=False)
    truth = []
    with StubServer() as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="stub-key", max_retries=0)
        logfire.instrument_openai()
        q = harness.QUESTIONS
        for _ in range(2):  # warm-up: first-call costs (imports, connections) stay out of the trace
            crossed_pair(logfire, client, "warm-up", (q[0], q[1]), None)
            gathered_pair(logfire, server.base_url, "warm-up", q[0])
        exporter.path = path
        for _ in range(2):
            truth += crossed_pair(logfire, client, "own-spans", (q[0], q[0]), "POST /chat")
            truth += crossed_pair(logfire, client, "root-crossed", (q[1], q[2]), None)
            truth += gathered_pair(logfire, server.base_url, "gather", q[2])
    logfire.shutdown()
    out = HERE / f"{NAME}.truth.json"
    out.write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out} and {path}")


if __name__ == "__main__":
    main()
