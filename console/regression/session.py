"""A run as a UI follows it: started in a worker thread, read from the UI thread.

    session = RunSession(plan, store_url)
    app.run_worker(session.run, thread=True)      # the console's run screen does this
    session.snapshot()                            # counts, status, elapsed, rate: any thread
    session.results[seen:]                        # the cases that landed since last time
    session.cancel()                              # stop cleanly, from any thread

No Textual here: the same object is driven by tests directly. A stored run can be shown the
same way (RunSession.stored, load_stored_run), finished from the start.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from console.cases.format import RegressionCase
from console.regression.events import CaseDone, RunEvent, RunStarted, SuiteLoaded
from console.regression.plan import PlanError, RunPlan
from console.regression.results import CaseResult, Counts
from console.regression.runner import Runner

if TYPE_CHECKING:  # execute and history pull in the store (SQLAlchemy): imported when it is used
    from console.regression.execute import RunReport
    from console.regression.history import RunInfo

STARTING, RUNNING, FINISHED, CANCELLED, FAILED = "starting", "running", "finished", "cancelled", "failed"
CANCEL_POLL_S = 0.2  # how soon a cancelled worker stops its run


@dataclass(frozen=True)
class Snapshot:
    state: str
    run_id: int | None
    counts: Counts
    elapsed_s: float
    error: str | None

    @property
    def rate(self) -> float:
        """Cases per second so far."""
        return self.counts.done / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def active(self) -> bool:
        return self.state in (STARTING, RUNNING)


@dataclass(frozen=True)
class SuiteReport:
    """What of the suite will not run, and why, and its notes: for the run screen."""

    problems: tuple[tuple[str, str], ...] = ()  # (label, "file:where: reason"), label as the CLI prints it
    notes: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.problems or self.notes)

    @classmethod
    def of(cls, loaded: SuiteLoaded) -> SuiteReport:
        return cls(tuple((p.label, str(p)) for p in loaded.problems), loaded.notes)

    @classmethod
    def from_summary(cls, summary: dict | None) -> SuiteReport:
        """A stored run's (RunReport.summary()); runs stored before not_run existed show their problems."""
        summary = summary or {}
        not_run = [f"{e['file']}:{e['test']}: {e['reason']}" for e in summary.get("not_run") or []]
        malformed = [p for p in summary.get("problems") or [] if p not in not_run]
        problems = [("promptfoo test not run", p) for p in not_run] + [("skipped malformed case", p) for p in malformed]
        return cls(tuple(problems), tuple(summary.get("suite_notes") or ()))


def clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}" if minutes < 60 else f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}"


class RunSession:
    def __init__(self, plan: RunPlan | None, store_url: str | None, *, title: str | None = None) -> None:
        self.plan = plan
        self.store_url = store_url
        self.title = title or (f"{plan.target_name}" + (f" @ {plan.prompt_version}" if plan and plan.prompt_version else "")
                               if plan else "run")  # fmt: skip
        self.results: list[CaseResult] = []  # append-only, in landing order
        self.cases: dict[str, RegressionCase] = {}
        self.report: RunReport | None = None
        self.stored_summary: dict | None = None  # a stored run's summary (RunReport.summary() as saved)
        self.stored_info: RunInfo | None = None  # a stored run's row: what running it again starts from
        self._suite_report: SuiteReport | None = None  # set as the suite is read, before the first case
        self._lock = threading.Lock()
        self._state = STARTING
        self._run_id: int | None = None
        self._counts = Counts()
        self._started = time.monotonic()
        self._ended: float | None = None
        self._error: str | None = None
        self._runner: Runner | None = None
        self._cancel = False
        self.done = threading.Event()

    @classmethod
    def stored(cls, run_id: int, title: str, results: list[CaseResult], counts: Counts,
               cases: dict[str, RegressionCase], elapsed_s: float, state: str = FINISHED) -> RunSession:
        session = cls(None, None, title=title)
        session.results, session.cases = list(results), dict(cases)
        session._run_id, session._counts, session._state = run_id, counts, state
        session._started = time.monotonic() - elapsed_s
        session._ended = time.monotonic()
        session.done.set()
        return session

    # -- the worker side ---------------------------------------------------------------

    def run(self, is_cancelled: Callable[[], bool] | None = None) -> RunReport | None:
        """Blocking: run the plan to the end (call it in a worker thread).

        is_cancelled is polled beside the run (the runner is busy in its own event loop), and
        the run is cancelled as soon as it says so: a UI worker's cancellation at shutdown.
        """
        from console.store import Store, StoreError

        if is_cancelled is not None:
            threading.Thread(target=self._cancel_when, args=(is_cancelled,), name="regress-watch", daemon=True).start()

        assert self.plan is not None and self.store_url is not None
        try:
            store = Store(self.store_url)
        except StoreError as exc:
            return self._fail(str(exc))
        try:
            from console.regression.execute import execute

            report = execute(self.plan, store, on_event=self._on_event, on_runner=self._attach)
        except PlanError as exc:
            return self._fail(str(exc))
        except Exception as exc:  # shown on the run screen rather than lost in a thread
            return self._fail(f"{type(exc).__name__}: {exc}")
        finally:
            store.close()
        with self._lock:
            self.report = report
            self._counts = replace(report.counts)
            self._state = CANCELLED if report.cancelled else FINISHED
            self._ended = time.monotonic()
        self.done.set()
        return report

    def _cancel_when(self, is_cancelled: Callable[[], bool]) -> None:
        while not self.done.wait(CANCEL_POLL_S):
            if is_cancelled():
                self.cancel()
                return

    def _fail(self, message: str) -> None:
        with self._lock:
            self._state, self._error, self._ended = FAILED, message, time.monotonic()
        self.done.set()
        return None

    def _attach(self, runner: Runner) -> None:
        self.cases = {case.id: case for case in runner.cases}
        with self._lock:
            self._runner = runner
            cancel = self._cancel
        if cancel:
            runner.cancel()

    def _on_event(self, event: RunEvent) -> None:
        if isinstance(event, SuiteLoaded):
            with self._lock:
                self._suite_report = SuiteReport.of(event)
        elif isinstance(event, RunStarted):
            with self._lock:
                self._state, self._run_id = RUNNING, event.run_id
                self._counts = Counts(total=event.total)
                self._started = time.monotonic()
        elif isinstance(event, CaseDone):
            self.results.append(event.result)
            with self._lock:
                self._counts = event.counts

    # -- the UI side -------------------------------------------------------------------

    def cancel(self) -> None:
        with self._lock:
            self._cancel = True
            runner = self._runner
        if runner is not None:
            runner.cancel()

    def snapshot(self) -> Snapshot:
        with self._lock:
            end = self._ended if self._ended is not None else time.monotonic()
            return Snapshot(self._state, self._run_id, replace(self._counts), end - self._started, self._error)

    @property
    def suite_report(self) -> SuiteReport:
        """The tests that will not run with their reasons, and the suite's notes (any thread)."""
        with self._lock:
            found = self._suite_report
        return found if found is not None else SuiteReport.from_summary(self.stored_summary)

    def status_line(self) -> str:
        """One line for the header: 'regress #12 app: 34/120 ✓30 ✗3 !1 0:12'."""
        snap = self.snapshot()
        c = snap.counts
        head = f"regress #{snap.run_id}" if snap.run_id else "regress"
        if snap.state == FAILED:
            return f"{head}: could not start"
        tail = {FINISHED: " done", CANCELLED: " stopped"}.get(snap.state, "")
        gate = ""
        if self.report is not None:
            gate = " gate PASS" if self.report.gate.passed else " gate FAIL"
        return f"{head} {self.title}: {c.done}/{c.total} ✓{c.passed} ✗{c.failed} !{c.errored} {clock(snap.elapsed_s)}{tail}{gate}"


def load_stored_run(store_url: str, info: RunInfo) -> RunSession:
    """A stored run as a finished session: its results, and its cases when the suite file is
    still readable (for the expected output and the input)."""
    from console.regression import history
    from console.regression.suite import SuiteError, load_suite
    from console.store import Store

    with Store(store_url) as store:
        results = history.load_results(store, info.id)
    cases = {}
    suite = Path(info.suite)
    try:
        cases = load_suite(suite).by_id() if suite.is_file() else {}
    except SuiteError:
        pass
    ordered = list(results.values())
    for result in ordered:
        if result.case_id in cases:
            result.tags = tuple(cases[result.case_id].tags)
    counts = Counts(total=info.total, done=len(ordered), passed=info.passed, failed=info.failed,
                    errored=info.errored, skipped=info.skipped)  # fmt: skip
    elapsed = (info.finished_at or info.started_at) - info.started_at
    title = info.target + (f" @ {info.prompt_version}" if info.prompt_version else "")
    session = RunSession.stored(info.id, title, ordered, counts, cases, elapsed,
                                state=FINISHED if info.status == "finished" else CANCELLED)
    session.stored_summary = info.summary
    session.stored_info = info
    return session
