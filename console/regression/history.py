"""Every run and every result in the store (regression_runs, regression_results).

Low volume (a row per attempt), so SQLAlchemy Core through the Store's engine. Results are
written as cases land, in small batches, so a run that is killed keeps what it did. A run
row keeps the host and pid of the process running it: a run left 'running' by a process
that is gone (kill -9, a crash, the machine rebooted) is marked 'interrupted', with the
counts of the results it stored, the next time runs are listed or a run starts on that
host (mark_abandoned). A baseline is marked explicitly and never
moves by itself: marking a run clears the mark on the other runs of the same suite, so the
default baseline is the run marked last.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Iterable

import orjson
from sqlalchemy import insert, select, update

from console.regression.results import Attempt, CaseResult, Counts, Verdict
from console.store.engine import default_host
from console.store.tables import RegressionResultRow, RegressionRunRow

RUNS = RegressionRunRow.__table__
RESULTS = RegressionResultRow.__table__


@dataclass(frozen=True)
class RunInfo:
    id: int
    started_at: float
    finished_at: float | None
    status: str
    suite: str
    target: str
    prompt_version: str | None
    model: str | None
    git_commit: str | None
    is_baseline: bool
    total: int
    passed: int
    failed: int
    errored: int
    skipped: int
    summary: dict | None
    host: str | None = None  # the process that ran it (None: a run stored before schema v3)
    pid: int | None = None

    @property
    def pass_rate(self) -> float | None:
        evaluated = self.passed + self.failed + self.errored
        return self.passed / evaluated if evaluated else None


def _info(row) -> RunInfo:
    values = dict(row._mapping)
    values["summary"] = orjson.loads(values["summary"]) if values.get("summary") else None
    values["is_baseline"] = bool(values["is_baseline"])
    return RunInfo(**values)


def start_run(store, *, suite: str, target: str, prompt_version: str | None = None, model: str | None = None,
              git_commit: str | None = None, total: int = 0) -> int:
    mark_abandoned(store)
    with store.engine.begin() as conn:
        result = conn.execute(
            insert(RUNS).values(
                started_at=time.time(), status="running", suite=suite, target=target, prompt_version=prompt_version,
                model=model, git_commit=git_commit, is_baseline=False, total=total, host=default_host(),
                pid=os.getpid(),
            )
        )
        return int(result.inserted_primary_key[0])


def _clock_ticks() -> int:
    try:
        return os.sysconf("SC_CLK_TCK")
    except (AttributeError, ValueError, OSError):
        return 100


def _boot_time() -> float | None:
    try:
        with open("/proc/stat", "rb") as handle:
            for line in handle:
                if line.startswith(b"btime "):
                    return float(line.split()[1])
    except OSError:
        pass
    return None


def process_gone(pid: int, started_at: float) -> bool:
    """True when no process `pid` that could have started a run at `started_at` is alive:
    none at all, a zombie, or (Linux) one started after the run did (the pid was reused)."""
    if pid == os.getpid():
        return False  # this process: a run in another thread of it is alive
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        pass
    except OSError:
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
    except OSError:
        return False  # not Linux, or it just went: the next look decides
    fields = stat[stat.rfind(b")") + 2:].split()
    if fields[0] == b"Z":  # killed, not yet reaped by its parent
        return True
    boot = _boot_time()
    if boot is None:
        return False
    process_started = boot + int(fields[19]) / _clock_ticks()
    return process_started > started_at + 2.0  # a second of slack for the clock's rounding


def mark_abandoned(store) -> list[int]:
    """Mark 'interrupted' the runs of this host left 'running' by a process that is gone,
    with the counts of the results they stored; returns their ids. Runs of other hosts are
    left to those hosts (a pid says nothing across machines), and so are runs stored
    before the process was kept (no pid)."""
    host = default_host()
    query = select(RUNS.c.id, RUNS.c.pid, RUNS.c.started_at, RUNS.c.total).where(
        RUNS.c.status == "running", RUNS.c.host == host, RUNS.c.pid.is_not(None)
    )
    with store.engine.connect() as conn:
        candidates = [tuple(row) for row in conn.execute(query)]
    marked = []
    for run_id, pid, started_at, total in candidates:
        if not process_gone(int(pid), float(started_at)):
            continue
        counts = stored_counts(store, run_id, total)
        last = _last_result_at(store, run_id)
        with store.engine.begin() as conn:
            updated = conn.execute(
                update(RUNS).where(RUNS.c.id == run_id, RUNS.c.status == "running").values(
                    status="interrupted", finished_at=max(last or started_at, started_at), total=counts.total,
                    passed=counts.passed, failed=counts.failed, errored=counts.errored, skipped=counts.skipped,
                )
            )
        if updated.rowcount:
            marked.append(run_id)
    return marked


def stored_counts(store, run_id: int, total: int = 0) -> Counts:
    """The counts of the results a run stored (for a run that did not finish)."""
    results = load_results(store, run_id)
    counts = Counts(total=total or len(results))
    for result in results.values():
        counts.add(result.status)
    return counts


def _last_result_at(store, run_id: int) -> float | None:
    from sqlalchemy import func

    with store.engine.connect() as conn:
        value = conn.execute(select(func.max(RESULTS.c.created_at)).where(RESULTS.c.run_id == run_id)).scalar()
    return float(value) if value is not None else None


def _attempt_row(run_id: int, case_id: str, attempt: Attempt, now: float) -> dict:
    reasons: list = [v.to_json() for v in attempt.verdicts]
    if attempt.error:
        reasons.append({"type": "error", "status": "errored", "reason": attempt.error})
    return {
        "run_id": run_id, "case_id": case_id, "attempt": attempt.number, "status": attempt.status,
        "score": attempt.score, "output": attempt.output, "reasons": orjson.dumps(reasons).decode(),
        "latency_ms": attempt.latency_ms, "cost_usd": attempt.cost_usd, "created_at": now,
    }


def record_results(store, run_id: int, results: Iterable[CaseResult]) -> None:
    now = time.time()
    rows = [_attempt_row(run_id, r.case_id, a, now) for r in results for a in r.attempts]
    if rows:
        with store.engine.begin() as conn:
            conn.execute(insert(RESULTS), rows)


def finish_run(store, run_id: int, counts: Counts, *, status: str, summary: dict | None = None) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            update(RUNS).where(RUNS.c.id == run_id).values(
                finished_at=time.time(), status=status, total=counts.total, passed=counts.passed,
                failed=counts.failed, errored=counts.errored, skipped=counts.skipped,
                summary=orjson.dumps(summary).decode() if summary is not None else None,
            )
        )


def get_run(store, run_id: int) -> RunInfo | None:
    with store.engine.connect() as conn:
        row = conn.execute(select(RUNS).where(RUNS.c.id == run_id)).first()
    return _info(row) if row is not None else None


def list_runs(store, *, limit: int = 200, suite: str | None = None) -> list[RunInfo]:
    """Newest first; runs whose process is gone are marked 'interrupted' first."""
    mark_abandoned(store)
    query = select(RUNS).order_by(RUNS.c.id.desc()).limit(limit)
    if suite is not None:
        query = query.where(RUNS.c.suite == suite)
    with store.engine.connect() as conn:
        return [_info(row) for row in conn.execute(query)]


def baseline_run(store, suite: str) -> RunInfo | None:
    """The suite's baseline: the run marked last (there is at most one)."""
    query = select(RUNS).where(RUNS.c.suite == suite, RUNS.c.is_baseline.is_(True)).order_by(RUNS.c.id.desc()).limit(1)
    with store.engine.connect() as conn:
        row = conn.execute(query).first()
    return _info(row) if row is not None else None


def mark_baseline(store, run_id: int) -> RunInfo:
    """Make `run_id` its suite's baseline (and no other run of that suite)."""
    with store.engine.begin() as conn:
        row = conn.execute(select(RUNS.c.suite).where(RUNS.c.id == run_id)).first()
        if row is None:
            raise LookupError(f"no regression run {run_id}")
        conn.execute(update(RUNS).where(RUNS.c.suite == row[0], RUNS.c.id != run_id).values(is_baseline=False))
        conn.execute(update(RUNS).where(RUNS.c.id == run_id).values(is_baseline=True))
    info = get_run(store, run_id)
    assert info is not None
    return info


def _verdicts(reasons: str | None) -> tuple[tuple[Verdict, ...], str | None]:
    verdicts, error = [], None
    for item in orjson.loads(reasons) if reasons else []:
        if item.get("type") == "error":
            error = item.get("reason")
            continue
        status = item.get("status")
        passed = None if status == "skipped" else status == "pass"
        verdicts.append(Verdict(item.get("type", "?"), passed, float(item.get("score") or 0.0),
                                float(item.get("weight", 1.0)), item.get("reason", "")))
    return tuple(verdicts), error


def load_results(store, run_id: int) -> dict[str, CaseResult]:
    """A stored run's results by case id, attempts in order."""
    query = select(RESULTS).where(RESULTS.c.run_id == run_id).order_by(RESULTS.c.case_id, RESULTS.c.attempt)
    results: dict[str, CaseResult] = {}
    with store.engine.connect() as conn:
        for row in conn.execute(query):
            verdicts, error = _verdicts(row.reasons)
            attempt = Attempt(row.attempt, row.status, row.score, row.output, verdicts, row.latency_ms, row.cost_usd,
                              error=error)
            results.setdefault(row.case_id, CaseResult(row.case_id)).attempts.append(attempt)
    return results


class RunRecorder:
    """Stores a run's cases as they land: buffered, written every `batch` cases or `every_s`."""

    def __init__(self, store, run_id: int, *, batch: int = 200, every_s: float = 1.0) -> None:
        self.store = store
        self.run_id = run_id
        self.batch = batch
        self.every_s = every_s
        self._buffer: list[CaseResult] = []
        self._last = time.monotonic()

    def add(self, result: CaseResult) -> None:
        self._buffer.append(result)
        if len(self._buffer) >= self.batch or time.monotonic() - self._last >= self.every_s:
            self.flush()

    def flush(self) -> None:
        buffer, self._buffer = self._buffer, []
        self._last = time.monotonic()
        record_results(self.store, self.run_id, buffer)
