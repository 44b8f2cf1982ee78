"""The gate: whether a run may ship. It fails on a regression in a critical case (tagged
`critical`, or regression.critical_tag; with repeats, any drop in its pass rate), on new
errors (errored now, not errored in the baseline), on a pass rate below
regression.min_pass_rate, and on a run that did not finish (cancelled)."""

from __future__ import annotations

from dataclasses import dataclass, field

from console.regression.baseline import REGRESSION, Comparison


@dataclass
class GateResult:
    passed: bool
    reasons: list[str] = field(default_factory=list)  # why it failed
    notes: list[str] = field(default_factory=list)  # worth knowing, not failing

    def to_json(self) -> dict:
        return {"passed": self.passed, "reasons": self.reasons, "notes": self.notes}


def _ids(changes, limit: int = 5) -> str:
    ids = [c.case_id for c in changes]
    return ", ".join(ids[:limit]) + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def judge_gate(
    comparison: Comparison,
    *,
    min_pass_rate: float | None = None,
    cancelled: bool = False,
    problems: int = 0,
    not_run: int = 0,
) -> GateResult:
    """`problems`: malformed case lines skipped; `not_run`: promptfoo tests that cannot run here."""
    reasons: list[str] = []
    notes: list[str] = []
    if cancelled:
        reasons.append("the run was cancelled before every case ran")
    critical = [c for c in comparison.changes if c.critical and (c.kind == REGRESSION or c.rate_dropped)]
    if critical:
        reasons.append(f"{len(critical)} critical case(s) regressed: {_ids(critical)}")
    new_errors = [c for c in comparison.changes if c.new_error]
    if new_errors:
        reasons.append(f"{len(new_errors)} new error(s): {_ids(new_errors)}")
    rate = comparison.current.rate
    if min_pass_rate is not None and rate is not None and rate < min_pass_rate - 1e-12:
        reasons.append(f"pass rate {rate:.1%} is below the minimum {min_pass_rate:.1%}")
    other = [c for c in comparison.changes if c.kind == REGRESSION and not c.critical]
    if other:
        notes.append(f"{len(other)} regression(s) in cases not tagged critical: {_ids(other)}")
    if problems:
        notes.append(f"{problems} malformed case line(s) were skipped")
    if not_run:
        notes.append(f"{not_run} promptfoo test(s) were not run: they cannot run here (each is listed with its reason)")
    if comparison.baseline_run_id is None:
        notes.append("no baseline: every case is new (mark one with --mark-baseline or B in the runs history)")
    return GateResult(not reasons, reasons, notes)
