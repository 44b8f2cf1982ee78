"""What every target shares: the call contract, errors, and reading a target's reply.

A target receives the case as one JSON object: the case exactly as in the suite file plus a
``context`` object (target name, attempt number, and the prompt_version and model asked for
with ``--prompt-version`` / ``--model`` or in the target's table). It answers with plain text,
or with a JSON object ``{"output": ..., "latency_ms"?, "cost_usd"?, "tokens"?}``.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Callable, Protocol, TypeVar

import msgspec

from console.cases.format import RegressionCase
from console.regression.results import TargetOutput


T = TypeVar("T")


async def in_thread(func: Callable[..., T], *args: Any) -> T:
    """Run a blocking call in a daemon thread of its own and await it.

    Not the loop's executor: Python cannot stop a thread, so a call that hangs past its
    timeout is abandoned, and an abandoned daemon thread neither blocks the end of the run
    (asyncio.run waits for its executor) nor the exit of the process."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: Any, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    def call() -> None:
        try:
            result, error = func(*args), None
        except BaseException as exc:  # handed to the awaiting coroutine
            result, error = None, exc
        try:
            loop.call_soon_threadsafe(settle, result, error)
        except RuntimeError:  # the loop is closed: nobody waits any more
            pass

    threading.Thread(target=call, name=f"regress-{getattr(func, '__name__', 'call')}", daemon=True).start()
    return await future


class TargetError(Exception):
    """The target failed to answer (the case is errored, never failed). `retryable` errors
    are tried again with backoff; the others (a 400 from an API) are not."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class TargetConfigError(Exception):
    """The target cannot be built from its configuration (a usage error: exit 2)."""


class Target(Protocol):
    name: str

    async def run(self, payload: dict[str, Any], case: RegressionCase) -> TargetOutput:
        """Answer one case; raise TargetError on failure. Cancellation (timeout, stop) must
        release whatever the call holds (a child process, a connection)."""
        ...

    async def aclose(self) -> None: ...


_to_builtins = msgspec.to_builtins


def case_payload(case: RegressionCase, context: dict[str, Any]) -> dict[str, Any]:
    payload = _to_builtins(case)
    payload["context"] = context
    return payload


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def output_from(reply: Any, *, text_fallback: bool = False) -> TargetOutput:
    """A target's reply as a TargetOutput: a string, or a dict with an 'output' key."""
    if isinstance(reply, str):
        return TargetOutput(reply)
    if isinstance(reply, dict) and "output" in reply:
        output = reply["output"]
        if output is None:
            raise TargetError("the reply's output is null")
        if not isinstance(output, str):
            output = msgspec.json.encode(output).decode()
        tokens = reply.get("tokens")
        return TargetOutput(
            output,
            latency_ms=_number(reply.get("latency_ms")),
            cost_usd=_number(reply.get("cost_usd")),
            tokens=int(tokens) if isinstance(tokens, (int, float)) and not isinstance(tokens, bool) else None,
            raw=reply,
        )
    if isinstance(reply, dict) and "error" in reply:
        raise TargetError(f"the target reported an error: {reply['error']}")
    if text_fallback:
        return TargetOutput(msgspec.json.encode(reply).decode(), raw=reply)
    raise TargetError(f"expected text or an object with 'output', got {type(reply).__name__}")


def parse_stdout(stdout: bytes) -> TargetOutput:
    """A command's stdout: a JSON object with 'output', else the text itself (one trailing
    newline removed)."""
    text = stdout.decode("utf-8", errors="replace")
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            reply = msgspec.json.decode(stripped)
        except msgspec.DecodeError:
            reply = None
        if isinstance(reply, dict) and ("output" in reply or set(reply) == {"error"}):
            return output_from(reply)
    return TargetOutput(text[:-1] if text.endswith("\n") else text)
