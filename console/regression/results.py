"""What a run produces: a target's output, each assertion's verdict, attempts and case results.

Plain dataclasses: the runner fills them, the CLI and the UI read them, history stores them.

Statuses, for an attempt and for a case:
- ``pass``: the weighted score reached the case's threshold (by default every assertion passed);
- ``fail``: it did not;
- ``errored``: the target errored or timed out (never counted as a failure of the app);
- ``skipped``: the verdict depends on assertions that could not run (llm-rubric without a
  judge) and is never counted as a pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PASS, FAIL, ERRORED, SKIPPED = "pass", "fail", "errored", "skipped"
STATUSES = (PASS, FAIL, ERRORED, SKIPPED)


@dataclass(frozen=True)
class TargetOutput:
    """What a target answered. latency_ms is the target's own figure when it reports one,
    else the runner's wall-clock measurement."""

    output: str
    latency_ms: float | None = None
    cost_usd: float | None = None
    tokens: int | None = None
    raw: Any = None  # the target's parsed JSON reply, for python assertions


@dataclass(frozen=True)
class Verdict:
    """One assertion on one output. passed None = skipped (could not run: never a pass)."""

    type: str
    passed: bool | None
    score: float
    weight: float
    reason: str

    @property
    def status(self) -> str:
        return SKIPPED if self.passed is None else PASS if self.passed else FAIL

    def to_json(self) -> dict:
        return {"type": self.type, "status": self.status, "score": round(self.score, 6),
                "weight": self.weight, "reason": self.reason}


@dataclass(frozen=True)
class Attempt:
    """One run of a case against the target (1..repeat)."""

    number: int
    status: str
    score: float | None = None
    output: str | None = None
    verdicts: tuple[Verdict, ...] = ()
    latency_ms: float | None = None
    cost_usd: float | None = None
    tokens: int | None = None
    error: str | None = None  # why it errored (after retries), or None
    tries: int = 1  # target calls made, retries included


@dataclass
class CaseResult:
    """A case's attempts. With repeat N the pass rate is k/N; the case passes only when every
    attempt passed (any errored attempt makes it errored, any failed one makes it fail)."""

    case_id: str
    attempts: list[Attempt] = field(default_factory=list)
    tags: tuple[str, ...] = ()

    @property
    def status(self) -> str:
        statuses = {a.status for a in self.attempts}
        for status in (ERRORED, FAIL, SKIPPED):
            if status in statuses:
                return status
        return PASS if statuses else SKIPPED

    @property
    def passes(self) -> int:
        return sum(a.status == PASS for a in self.attempts)

    @property
    def pass_rate(self) -> float | None:
        return self.passes / len(self.attempts) if self.attempts else None

    @property
    def last(self) -> Attempt | None:
        return self.attempts[-1] if self.attempts else None

    @property
    def shown(self) -> Attempt | None:
        """The attempt worth showing: the first that did not pass, else the last."""
        return next((a for a in self.attempts if a.status != PASS), self.last)

    @property
    def why(self) -> str:
        """The first reason the case did not pass (the error, or the first failing assertion)."""
        attempt = self.shown
        if attempt is None:
            return ""
        if attempt.error:
            return attempt.error
        for verdict in attempt.verdicts:
            if verdict.passed is not True and verdict.weight > 0:
                return f"{verdict.type}: {verdict.reason}"
        return ""

    @property
    def latency_ms(self) -> float | None:
        values = [a.latency_ms for a in self.attempts if a.latency_ms is not None]
        return sum(values) / len(values) if values else None

    @property
    def cost_usd(self) -> float | None:
        values = [a.cost_usd for a in self.attempts if a.cost_usd is not None]
        return sum(values) if values else None


@dataclass
class Counts:
    total: int = 0  # cases in the run
    done: int = 0
    passed: int = 0
    failed: int = 0
    errored: int = 0
    skipped: int = 0

    def add(self, status: str) -> None:
        self.done += 1
        if status == PASS:
            self.passed += 1
        elif status == FAIL:
            self.failed += 1
        elif status == ERRORED:
            self.errored += 1
        else:
            self.skipped += 1

    @property
    def evaluated(self) -> int:
        """Cases with a verdict that counts: skipped ones are left out of the pass rate."""
        return self.passed + self.failed + self.errored

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.evaluated if self.evaluated else None
