"""When a budget runs out at this rate, in words: one wording for `report`'s Budgets table and
the console's Budget pane (they disagreed: the pane said 'runs out 01-04 15:29 UTC, in 1491.0
days' for a monthly budget and 'runs out 12-08 09:07' for a daily one that resets first, where
`report` said '(after it resets)').

A projection is only said within the budget's own period: past its end the budget has reset,
so the run-out does not happen at this rate and is said as 'not this day/month' with the
reset. A date said is then at most a month away, so month-day without a year is unambiguous.
No projection is made from partial figures (the history still loading): the rate of the last
hour is not known yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from console.analytics.report_types import BudgetStatus
from console.formatting import parse_rfc3339, short_time

OutlookKind = Literal["exhausted", "loading", "idle", "after_reset", "runs_out"]


@dataclass(frozen=True, slots=True)
class Outlook:
    kind: OutlookKind
    text: str  # the cell under "runs out at this rate": "12-07 18:04 UTC, in 3.2 h", "not this month (...)"


def hours_in_words(hours: float) -> str:
    if hours < 1:
        return f"in {hours * 60:.0f} min"
    if hours < 48:
        return f"in {hours:.1f} h"
    return f"in {hours / 24:.1f} days"


def budget_outlook(budget: BudgetStatus, partial: bool = False) -> Outlook:
    if budget.hours_to_exhaustion == 0:
        return Outlook("exhausted", "exhausted")  # spent only grows as the history loads
    if partial:
        return Outlook("loading", "not projected (figures still loading)")
    if budget.projected_exhaustion is None or budget.hours_to_exhaustion is None:
        return Outlook("idle", "not this period (no spend in the last hour)")
    if parse_rfc3339(budget.projected_exhaustion) >= parse_rfc3339(budget.period_end):
        return Outlook("after_reset", f"not this {budget.period} (resets {short_time(budget.period_end)} UTC)")
    return Outlook("runs_out", f"{short_time(budget.projected_exhaustion)} UTC, "
                               f"{hours_in_words(budget.hours_to_exhaustion)}")  # fmt: skip
