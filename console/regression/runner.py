"""The runner: every case (and each of its repeats) against a target, concurrently.

    runner = Runner(target, suite.cases, RunOptions(concurrency=4), on_event=print)
    outcome = await runner.run()          # or runner.run_blocking() from a plain thread
    runner.cancel()                       # from any thread: stops cleanly

- concurrency: at most N target calls at a time (attempts of one case run in parallel too);
- timeout: per target call; a call past it is cancelled (a command's process group is
  killed) and the attempt is errored;
- retries: an errored call (not a timeout) is tried again after a backoff that doubles
  (with jitter); errors the target marks as not retryable are not;
- repeat N: N attempts, pass rate k/N (console.regression.results.CaseResult);
- cancellation: no new call starts, calls in flight are cancelled, cases not complete are
  left out; the outcome says it was cancelled.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable

import msgspec

from console.cases.format import RegressionCase
from console.regression.assertions import Embedder, Judge, evaluate, needs_thread
from console.regression.events import AttemptDone, CaseDone, EventCallback, RunFinished, RunStarted
from console.regression.results import ERRORED, Attempt, CaseResult, Counts
from console.regression.targets.base import Target, TargetError, in_thread

MAX_BACKOFF_S = 30.0


@dataclass(frozen=True)
class RunOptions:
    concurrency: int = 4
    timeout_s: float = 30.0
    retries: int = 2
    backoff_s: float = 0.5
    context: dict[str, Any] = field(default_factory=dict)  # prompt_version, model, target: given to targets
    run_id: int | None = None


@dataclass
class RunOutcome:
    results: list[CaseResult]  # complete cases, in suite order
    counts: Counts
    elapsed_s: float
    cancelled: bool


class Runner:
    def __init__(
        self,
        target: Target,
        cases: list[RegressionCase],
        options: RunOptions | None = None,
        *,
        judge: Judge | None = None,
        embedder: Embedder | None = None,
        on_event: EventCallback | None = None,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.target = target
        self.cases = cases
        self.options = options or RunOptions()
        self.judge = judge
        self.embedder = embedder
        self.on_event = on_event or (lambda event: None)
        self._sleep = sleep
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task] = []
        self._cancel_requested = False
        self.cancelled = False

    # -- control -----------------------------------------------------------------------

    def cancel(self) -> None:
        """Stop the run: safe from any thread, before or during the run."""
        self._cancel_requested = True
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self._cancel_tasks)
            except RuntimeError:  # the loop just closed: the run is over
                pass

    def _cancel_tasks(self) -> None:
        self.cancelled = True
        for task in self._tasks:
            task.cancel()

    def run_blocking(self) -> RunOutcome:
        return asyncio.run(self.run())

    # -- the run -----------------------------------------------------------------------

    async def run(self) -> RunOutcome:
        self._loop = asyncio.get_running_loop()
        options = self.options
        started = time.perf_counter()
        total_attempts = sum(case.repeat for case in self.cases)
        counts = Counts(total=len(self.cases))
        pending = {case.id: case.repeat for case in self.cases}
        results = {case.id: CaseResult(case.id, tags=tuple(case.tags)) for case in self.cases}
        queue = [(case, n) for case in self.cases for n in range(1, case.repeat + 1)]
        queue.reverse()  # pop() from the end: suite order
        attempts_done = 0
        self.on_event(RunStarted(options.run_id, len(self.cases), total_attempts))

        def finished(case: RegressionCase, attempt: Attempt) -> None:
            nonlocal attempts_done
            attempts_done += 1
            result = results[case.id]
            result.attempts.append(attempt)
            self.on_event(AttemptDone(case.id, attempt, attempts_done, total_attempts))
            pending[case.id] -= 1
            if pending[case.id] == 0:
                result.attempts.sort(key=lambda a: a.number)
                counts.add(result.status)
                self.on_event(CaseDone(result, replace(counts), time.perf_counter() - started))

        base_payloads: dict[str, dict[str, Any]] = {}

        async def worker() -> None:
            while queue and not self._cancel_requested:
                case, number = queue.pop()
                base = base_payloads.get(case.id)
                if base is None:
                    base = base_payloads[case.id] = msgspec.to_builtins(case)
                payload = dict(base)
                payload["context"] = {**options.context, "attempt": number}
                finished(case, await self._attempt(case, number, payload))

        workers = min(options.concurrency, len(queue)) or 0
        self._tasks = [asyncio.ensure_future(worker()) for _ in range(workers)]
        if self._cancel_requested:
            self._cancel_tasks()
        try:
            await asyncio.gather(*self._tasks, return_exceptions=False)
        except asyncio.CancelledError:
            if not self.cancelled:  # cancelled from outside, not by cancel(): pass it on
                raise
        finally:
            for task in self._tasks:  # once: a second cancel would cut short a task's clean-up
                if not task.done() and not task.cancelling():
                    task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            try:
                await self.target.aclose()
            except Exception:
                pass
        self.cancelled = self.cancelled or self._cancel_requested and attempts_done < total_attempts
        elapsed = time.perf_counter() - started
        complete = [results[case.id] for case in self.cases if pending[case.id] == 0]
        self.on_event(RunFinished(replace(counts), elapsed, self.cancelled))
        return RunOutcome(complete, counts, elapsed, self.cancelled)

    async def _attempt(self, case: RegressionCase, number: int, payload: dict[str, Any]) -> Attempt:
        options = self.options
        tries = 0
        while True:
            tries += 1
            started = time.perf_counter()
            try:
                async with asyncio.timeout(options.timeout_s):
                    out = await self.target.run(payload, case)
            except TimeoutError:
                return Attempt(number, ERRORED, error=f"timed out after {options.timeout_s:g} s", tries=tries)
            except TargetError as exc:
                if exc.retryable and tries <= options.retries:
                    delay = min(MAX_BACKOFF_S, options.backoff_s * 2 ** (tries - 1)) * (0.5 + random.random())
                    await self._sleep(delay)
                    continue
                return Attempt(number, ERRORED, error=str(exc), tries=tries)
            except Exception as exc:  # a bug in the target (or its adapter): not worth retrying
                return Attempt(number, ERRORED, error=f"{type(exc).__name__}: {exc}", tries=tries)
            if out.latency_ms is None:
                out = replace(out, latency_ms=(time.perf_counter() - started) * 1000)
            if needs_thread(case):
                try:
                    async with asyncio.timeout(options.timeout_s):
                        status, score, verdicts = await in_thread(evaluate, case, out, self.judge, self.embedder)
                except TimeoutError:
                    return Attempt(number, ERRORED, output=out.output, latency_ms=out.latency_ms,
                                   error=f"the assertions took over {options.timeout_s:g} s", tries=tries)
            else:
                status, score, verdicts = evaluate(case, out, self.judge, self.embedder)
            return Attempt(number, status, score, out.output, verdicts, out.latency_ms, out.cost_usd, out.tokens,
                           tries=tries)
