"""Comparing a run with its baseline, case by case.

Each case is one of: regression (passed in the baseline, does not now), fix (the reverse),
still-failing, stable (passed in both), new (not in the baseline), missing (in the baseline,
not in this run), errored (the target errored or timed out now), skipped (undecided now).
An errored or skipped baseline case counts as not passing. With repeats, any drop in a
case's pass rate is flagged even when its class does not change (3/5 -> 1/5 still fails).

Summary: each run's pass rate (passed / cases with a verdict, errored included) with a
Wilson 95% interval, the change, and an exact McNemar test on regressions against fixes (a
two-sided binomial test of b regressions in b + c discordant cases at 1/2): advisory, since
a small suite rarely reaches significance and one critical regression matters regardless.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Mapping

from console.analytics.stats import wilson_interval
from console.regression.results import ERRORED, PASS, SKIPPED, CaseResult

REGRESSION, FIX, STILL_FAILING, STABLE = "regression", "fix", "still-failing", "stable"
NEW, MISSING = "new", "missing"
CLASSES = (REGRESSION, FIX, STILL_FAILING, STABLE, NEW, MISSING, ERRORED, SKIPPED)


@dataclass(frozen=True)
class CaseChange:
    case_id: str
    kind: str
    status: str | None  # now (None: missing)
    baseline_status: str | None  # in the baseline (None: new, or no baseline)
    passes: int = 0
    attempts: int = 0
    baseline_passes: int = 0
    baseline_attempts: int = 0
    rate_dropped: bool = False
    new_error: bool = False
    critical: bool = False

    @property
    def pass_rate(self) -> float | None:
        return self.passes / self.attempts if self.attempts else None

    @property
    def baseline_pass_rate(self) -> float | None:
        return self.baseline_passes / self.baseline_attempts if self.baseline_attempts else None


@dataclass(frozen=True)
class PassRate:
    passed: int
    evaluated: int
    low: float
    high: float

    @property
    def rate(self) -> float | None:
        return self.passed / self.evaluated if self.evaluated else None


def pass_rate(results: Mapping[str, CaseResult] | list[CaseResult]) -> PassRate:
    values = results.values() if isinstance(results, Mapping) else results
    statuses = [r.status for r in values]
    evaluated = sum(s != SKIPPED for s in statuses)
    passed = sum(s == PASS for s in statuses)
    return PassRate(passed, evaluated, *wilson_interval(passed, evaluated))


def mcnemar_exact(regressions: int, fixes: int) -> float | None:
    """Two-sided exact McNemar p-value; None without discordant cases."""
    if regressions + fixes == 0:
        return None
    from scipy.stats import binomtest

    return float(binomtest(regressions, regressions + fixes, 0.5).pvalue)


@dataclass
class Comparison:
    baseline_run_id: int | None
    changes: list[CaseChange]
    current: PassRate
    baseline: PassRate | None
    counts: dict[str, int] = field(default_factory=dict)
    mcnemar_p: float | None = None

    @property
    def delta(self) -> float | None:
        if self.baseline is None or self.current.rate is None or self.baseline.rate is None:
            return None
        return self.current.rate - self.baseline.rate

    def of(self, kind: str) -> list[CaseChange]:
        return [c for c in self.changes if c.kind == kind]

    @property
    def rate_drops(self) -> list[CaseChange]:
        return [c for c in self.changes if c.rate_dropped and c.kind != REGRESSION]

    def to_json(self) -> dict:
        return {
            "baseline_run_id": self.baseline_run_id,
            "counts": self.counts,
            "pass_rate": _rate_json(self.current),
            "baseline_pass_rate": _rate_json(self.baseline) if self.baseline else None,
            "delta": self.delta,
            "mcnemar_p": self.mcnemar_p,
            "cases": [
                {**asdict(c), "pass_rate": c.pass_rate, "baseline_pass_rate": c.baseline_pass_rate}
                for c in self.changes
                if c.kind != STABLE or c.rate_dropped
            ],
        }


def _rate_json(rate: PassRate) -> dict:
    return {"passed": rate.passed, "evaluated": rate.evaluated, "rate": rate.rate, "wilson_95": [rate.low, rate.high]}


def classify(status: str | None, baseline_status: str | None) -> str:
    if status is None:
        return MISSING
    if status in (ERRORED, SKIPPED):
        return status
    if baseline_status is None:
        return NEW
    if status == PASS:
        return STABLE if baseline_status == PASS else FIX
    return REGRESSION if baseline_status == PASS else STILL_FAILING


def compare(
    current: list[CaseResult],
    baseline: Mapping[str, CaseResult] | None,
    *,
    baseline_run_id: int | None = None,
    critical_tag: str = "critical",
) -> Comparison:
    before = baseline or {}
    changes: list[CaseChange] = []
    for result in current:
        old = before.get(result.case_id)
        status = result.status
        kind = classify(status, old.status if old else None)
        rate, old_rate = result.pass_rate, old.pass_rate if old else None
        dropped = status in (PASS, "fail") and rate is not None and old_rate is not None and rate < old_rate
        changes.append(CaseChange(
            result.case_id, kind, status, old.status if old else None,
            result.passes, len(result.attempts), old.passes if old else 0, len(old.attempts) if old else 0,
            rate_dropped=dropped, new_error=status == ERRORED and (old is None or old.status != ERRORED),
            critical=critical_tag in result.tags,
        ))  # fmt: skip
    seen = {r.case_id for r in current}
    for case_id, old in before.items():
        if case_id not in seen:
            changes.append(CaseChange(case_id, MISSING, None, old.status, 0, 0, old.passes, len(old.attempts)))
    counts = {kind: 0 for kind in CLASSES}
    for change in changes:
        counts[change.kind] += 1
    return Comparison(
        baseline_run_id,
        changes,
        pass_rate(current),
        pass_rate(before) if baseline is not None else None,
        counts,
        mcnemar_exact(counts[REGRESSION], counts[FIX]) if baseline is not None else None,
    )
