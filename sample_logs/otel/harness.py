"""The 30 calls every instrumentation's fixture is made of, and what the client saw of each.

Each sample_logs/otel/<instrumentation>/generate.py instruments the real `openai` client with
the real instrumentation (pinned in that folder's requirements.txt), hands its spans to
CollectorFileExporter, and calls ``run``: 30 calls against the local stub (stub_openai.py,
127.0.0.1 only), 15 to gpt-4o-mini and 15 to gpt-4o, alternating: plain completions, streams
that ask for usage, streams that do not, three HTTP 500 and three HTTP 429. It writes

- ``<name>.otlp.jsonl``: the spans as the Collector's `file` exporter writes them (OTLP/JSON,
  one TracesData a line: protobuf's JSON mapping of the SDK's own OTLP encoding, ids in hex);
- ``<name>.truth.json``: per call what the client measured around it (model, status, error
  type, tokens from the response's usage, latency, and for streams the time to the first
  chunk), which tests/test_otel_instrumentations.py compares with what the console reads.

Standard library only at import time: the instrumentation's packages are imported by the
generator that uses this module, inside its own throwaway venv.
"""

from __future__ import annotations

import base64
import gc
import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from stub_openai import StubServer  # noqa: E402 - after the path is set

MODELS = ("gpt-4o-mini", "gpt-4o")
# 12 plain, 6 streams asking for usage, 6 without, three HTTP 500 and three 429, spread over
# both models (the models alternate, the kinds follow a fixed permutation).
KINDS = ["plain"] * 12 + ["stream_usage"] * 6 + ["stream"] * 6 + ["500"] * 3 + ["429"] * 3
QUESTIONS = ["How do I reset my password?", "When will my refund arrive?", "Where can I download my invoice?"]
# Long enough for the stub to report cached prompt tokens (it caches whole blocks of 16).
SYSTEM = ("You are a concise support assistant for an online shop. Answer in two sentences at most, "
          "in the customer's language, without promising refunds, dates or discounts that the help "
          "centre does not state, and point to the page of the help centre that answers the question.")
PROMPT = ("support-answer", "v8")


@dataclass(frozen=True)
class Call:
    n: int
    model: str
    kind: str  # plain, stream_usage, stream, 500 or 429
    question: str
    user: str
    session: str


def plan() -> list[Call]:
    """The 30 calls, kinds spread so that consecutive calls differ."""
    order = [KINDS[(i * 7) % len(KINDS)] for i in range(len(KINDS))]  # 7 is coprime with 30
    return [
        Call(n, MODELS[n % 2], kind, QUESTIONS[n % 3], user=f"u-{n % 4}", session=f"s-{n // 5}")
        for n, kind in enumerate(order)
    ]


Tagging = Callable[[Call], AbstractContextManager]
Setup = Callable[[], tuple[Callable[[], None], Tagging]]


def run(name: str, setup: Setup) -> None:
    """Make the 30 calls through an instrumented client; write the truth beside the trace.

    setup() instruments the client and returns (flush, tagged): flush() exports what has ended
    (one call's spans become one line, as a Collector batches them) and tagged(call) is the
    context that tells the instrumentation the call's prompt, user and session. It is called
    after one uninstrumented warm-up call, and instrumented ones of each kind whose spans are dropped, so
    that first-call costs (imports, the connection) do not fall between the client's clock and
    the span's.
    """
    import openai

    truth = []
    with StubServer() as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="stub-key", max_retries=0)
        client.chat.completions.create(model=MODELS[0], messages=[{"role": "user", "content": "warm-up"}])
        flush, tagged = setup()
        for kind in ("plain", "stream_usage", "stream", "500"):  # the instrumentation's first-call costs
            warm_up = Call(-1, MODELS[0], kind, QUESTIONS[0], user="warm-up", session="warm-up")
            with tagged(warm_up):
                _one_call(client, server, warm_up)
            time.sleep(0.01)
            flush()
        trace_path(name).write_bytes(b"")
        for call in plan():
            gc.disable()  # a collection inside a call would sit between the client's clock and the span's
            with tagged(call):
                truth.append(_one_call(client, server, call))
            gc.enable()
            gc.collect()  # stream spans that end on garbage collection end here, before the flush
            flush()
    out = HERE / name / f"{name}.truth.json"
    out.write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out} and {trace_path(name)}")


def no_tags(call: Call) -> AbstractContextManager:
    return nullcontext()


def _one_call(client, server: StubServer, call: Call) -> dict:
    import openai

    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": call.question}]
    seen: dict = {"n": call.n, "model": call.model, "kind": call.kind, "status": "ok", "error_type": None,
                  "input_tokens": None, "output_tokens": None, "cached_input_tokens": None, "ttft_ms": None}
    if call.kind in ("500", "429"):
        server.fail_next(int(call.kind))
    started = time.perf_counter()
    seen["ts"] = time.time()
    try:
        if call.kind.startswith("stream"):
            stream = client.chat.completions.create(
                model=call.model, messages=messages, stream=True,
                stream_options={"include_usage": call.kind == "stream_usage"},
            )
            usage = None
            for chunk in stream:
                if seen["ttft_ms"] is None:
                    seen["ttft_ms"] = (time.perf_counter() - started) * 1000
                usage = chunk.usage or usage
            response_id = chunk.id
        else:
            response = client.chat.completions.create(model=call.model, messages=messages, temperature=0.2)
            usage, response_id = response.usage, response.id
    except openai.APIStatusError as exc:
        seen["latency_ms"] = (time.perf_counter() - started) * 1000
        seen.update(status="error", http_status=exc.status_code, error_type=f"openai.{type(exc).__name__}")
        return seen
    seen["latency_ms"] = (time.perf_counter() - started) * 1000
    seen["response_id"] = response_id
    if usage is not None:
        details = usage.prompt_tokens_details
        seen.update(input_tokens=usage.prompt_tokens, output_tokens=usage.completion_tokens,
                    cached_input_tokens=details.cached_tokens if details else None)
    return seen


def trace_path(name: str) -> Path:
    return HERE / name / f"{name}.otlp.jsonl"


class CollectorFileExporter:
    """A SpanExporter writing the Collector `file` exporter's JSON: one TracesData a line.

    The encoding is the SDK's (opentelemetry-exporter-otlp-proto-common's encode_spans) and
    protobuf's JSON mapping (json_format); only the ids are turned from base64 into hex, which
    is what OTLP/JSON says and what the Collector writes.
    """

    def __init__(self, path: Path) -> None:
        self.path = path  # appended to: whoever makes the file empties it first
        path.parent.mkdir(parents=True, exist_ok=True)

    def export(self, spans):
        from google.protobuf import json_format
        from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
        from opentelemetry.sdk.trace.export import SpanExportResult

        message = json_format.MessageToDict(encode_spans(spans), use_integers_for_enums=True)
        for node in _walk(message):
            for key in ("traceId", "spanId", "parentSpanId"):
                if isinstance(node.get(key), str):
                    node[key] = base64.b64decode(node[key]).hex()
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(message, separators=(",", ":"), ensure_ascii=False) + "\n")
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def _walk(node) -> Iterator[dict]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


class ContextToAttributes:
    """A span processor copying baggage entries onto each span as it starts, as
    opentelemetry-processor-baggage (and traceloop-sdk for its association properties) do."""

    def on_start(self, span, parent_context=None) -> None:
        from opentelemetry import baggage

        for key, value in baggage.get_all(parent_context).items():
            span.set_attribute(key, str(value))

    def on_end(self, span) -> None:
        pass

    def _on_ending(self, span) -> None:
        pass

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def baggage(entries: dict[str, str]) -> AbstractContextManager:
    """Attach baggage entries for the duration of a call (ContextToAttributes copies them)."""
    from contextlib import contextmanager

    from opentelemetry import baggage as otel_baggage
    from opentelemetry import context

    @contextmanager
    def attached():
        ctx = None
        for key, value in entries.items():
            ctx = otel_baggage.set_baggage(key, value, ctx)
        token = context.attach(ctx)
        try:
            yield
        finally:
            context.detach(token)

    return attached()
