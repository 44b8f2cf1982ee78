"""A python target: `module:function`, sync or async, called with the case as a dict.

An async function runs on the runner's event loop (a timeout cancels it). A sync one runs in
a daemon thread of its own; Python cannot stop a thread, so a sync call that times out is
abandoned (the case is errored and the run goes on) and finishes in the background.

What the function does is contained as far as one process can contain it:

- any exception it raises, and SystemExit (sys.exit) or KeyboardInterrupt raised by the
  function itself, errors the case with the exception and where it was raised
  ("SystemExit: 3 (at app.py:12 in answer)"); the run goes on. SystemExit and
  KeyboardInterrupt are not retried (the same input would do the same);
- a reply that is not text (or an object with 'output') errors the case, naming its type;
- a call past the timeout errors the case ("timed out after 30 s");
- sys.exit while the module is imported is a configuration error, not the end of the run.

Not contained: os._exit(), a crash of the interpreter (a segfault in a C extension), and an
async function that blocks the event loop with synchronous work (the timeout cannot fire
until it yields). A target that may do these belongs in a `command` target, which runs in a
process of its own with its output capped and its process group killed at the timeout.
"""

from __future__ import annotations

import asyncio
import inspect
import time
import traceback
from typing import Any

from console.cases.format import RegressionCase
from console.regression.loading import LoadError, load_callable
from console.regression.results import TargetOutput
from console.regression.targets.base import TargetConfigError, TargetError, in_thread, output_from


class PythonTarget:
    def __init__(self, name: str, function: str) -> None:
        self.name = name
        try:
            self.func = load_callable(function, what=f"target {name!r}")
        except LoadError as exc:
            raise TargetConfigError(str(exc)) from None
        except SystemExit as exc:  # the module calls sys.exit when imported
            raise TargetConfigError(
                f"target {name!r} {function!r}: importing it called sys.exit({exc.code!r})"
            ) from None
        self.is_async = inspect.iscoroutinefunction(self.func)

    async def run(self, payload: dict[str, Any], case: RegressionCase) -> TargetOutput:
        started = time.perf_counter()
        try:
            if self.is_async:
                reply = await self.func(payload)
            else:
                reply = await in_thread(self.func, payload)
                if inspect.isawaitable(reply):
                    reply = await reply
        except (asyncio.CancelledError, TargetError):
            raise
        except Exception as exc:
            raise TargetError(describe_exception(exc)) from None
        except (SystemExit, KeyboardInterrupt) as exc:  # raised by the function, not by the user's Ctrl+C
            raise TargetError(describe_exception(exc), retryable=False) from None
        out = output_from(reply)
        if out.latency_ms is None:
            out = TargetOutput(out.output, (time.perf_counter() - started) * 1000, out.cost_usd, out.tokens, out.raw)
        return out

    async def aclose(self) -> None:
        return None


def describe_exception(exc: BaseException) -> str:
    """'ValueError: nope (at app.py:4 in broken)': the exception and the frame that raised it."""
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        last = frames[-1]
        file = last.filename.replace("\\", "/").rsplit("/", 1)[-1]
        text += f" (at {file}:{last.lineno} in {last.name})"
    return text
