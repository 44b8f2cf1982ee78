"""Progress as events: the runner emits them, the CLI's progress bar and the TUI's run
screen consume them (and so does history, which stores each case as it lands).

The callback runs on the runner's event loop thread; a consumer in another thread (the
Textual UI) hands them over itself (call_from_thread, or a lock and a timer)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Union

from console.regression.results import Attempt, CaseResult, Counts
from console.regression.suite import CaseProblem


@dataclass(frozen=True)
class SuiteLoaded:
    """The suite as read, before the first case runs: what will not run (malformed lines,
    promptfoo tests that cannot run here, each with its reason) and notes on the whole suite."""

    path: str
    problems: tuple[CaseProblem, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class RunStarted:
    run_id: int | None
    total: int  # cases
    attempts: int  # target calls planned (cases x repeat)


@dataclass(frozen=True)
class AttemptDone:
    case_id: str
    attempt: Attempt
    attempts_done: int
    attempts_total: int


@dataclass(frozen=True)
class CaseDone:
    result: CaseResult
    counts: Counts  # a snapshot after this case
    elapsed_s: float


@dataclass(frozen=True)
class RunFinished:
    counts: Counts
    elapsed_s: float
    cancelled: bool


RunEvent = Union[SuiteLoaded, RunStarted, AttemptDone, CaseDone, RunFinished]
EventCallback = Callable[[RunEvent], None]
