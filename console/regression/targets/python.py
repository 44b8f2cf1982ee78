"""A python target: `module:function`, sync or async, called with the case as a dict.

An async function runs on the runner's event loop (a timeout cancels it). A sync one runs in
the runner's thread pool; Python cannot stop a thread, so a sync call that times out is
abandoned (the case is errored and the run goes on) and finishes in the background.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from typing import Any

from console.regression.case_format import RegressionCase
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
            raise TargetError(f"{type(exc).__name__}: {exc}") from None
        out = output_from(reply)
        if out.latency_ms is None:
            out = TargetOutput(out.output, (time.perf_counter() - started) * 1000, out.cost_usd, out.tokens, out.raw)
        return out

    async def aclose(self) -> None:
        return None
