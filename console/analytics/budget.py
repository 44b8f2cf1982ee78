"""Budget burn: the SRE multi-window burn-rate method, adapted to money.

For a budget of `amount` USD per period (a UTC day, or the UTC calendar month `now` is in):

- budget rate = amount / period length (a day is 24 h; a month is its real length,
  28 to 31 days);
- burn(w) = (spend within the budget's scope over the last w / w) / budget rate, so burn 1
  spends exactly the budget over the period, and burn 14.4 spends a 30-day budget in 50 h;
- an alert fires when BOTH the long and the short window of a rule exceed its threshold:
  the long window proves the burn is real, the short one that it is still going on (it
  stops paging soon after the spike ends). The page rule is checked first, then warn;
- spent = spend since the period started (UTC midnight, or the 1st of the month) plus
  `baseline` (spend in the period before the first loaded row, when only recent rows are
  loaded); projected exhaustion = remaining / the spend rate over the last hour, as a time
  and in hours: null when nothing was spent in the last hour, "now" and 0 h once exhausted.

Thresholds. A monthly budget uses `[burn]` from llmops.toml, by default the SRE workbook's
pairs: page at 14.4x over 1 h and 5 m (2% of a 30-day budget in an hour; gone in ~2 days),
warn at 6x over 6 h and 30 m (5% in 6 hours; gone in 5 days). Those numbers are wrong for a
daily budget, where 14.4x means gone in 1.7 h and 6x in 4 h, too late to act on. A daily
budget is judged by hours to exhaustion instead:

- page at 12x over 1 h and 5 m: at that rate the day's budget is gone within 2 hours;
- warn at 4x over 6 h and 30 m: gone within 6 hours (6 h at 4x is the whole day's budget).

A `[burn.daily]` table (same shape as `[burn]`), when the configuration has one, replaces
these daily defaults. Spend counts priced requests only: unpriced requests are reported as
such by the spend section, never counted as $0 here or anywhere.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Mapping, Sequence

import numpy as np

from console.analytics.aggregates import NANO, cost_nano
from console.analytics.columns import Columns
from console.analytics.report_types import Alert, BudgetStatus
from console.analytics.tail_cells import Pieces, TailCells, codes_in, grid_ends, grid_sums, minute_of
from console.config import Budget, BurnAlert, BurnSettings, duration_seconds
from console.formatting import rfc3339, usd

DAILY_PAGE = BurnAlert(threshold=12.0, long="1h", short="5m")
DAILY_WARN = BurnAlert(threshold=4.0, long="6h", short="30m")
REPORTED_WINDOWS = ("5m", "30m", "1h", "6h", "24h")
RATE_WINDOW = "1h"  # the current spend rate, for projected exhaustion
_SCOPES = (("model", "model"), ("prompt_id", "prompt_id"), ("user_id", "user"), ("environment", "environment"))


def period_bounds(now: float, period: str) -> tuple[float, float]:
    """(start, end) of the UTC day or calendar month holding `now`."""
    moment = datetime.fromtimestamp(now, tz=timezone.utc)
    if period == "day":
        start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        return start.timestamp(), start.timestamp() + 86400.0
    start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    return start.timestamp(), end.timestamp()


def burn_rules(budget: Budget, burn: BurnSettings) -> tuple[BurnAlert, BurnAlert]:
    """(page, warn) for this budget: [burn] for months; [burn.daily] or the daily defaults for days."""
    if budget.period == "month":
        return burn.page, burn.warn
    daily = getattr(burn, "daily", None)
    if daily is not None:
        return daily.page, daily.warn
    return DAILY_PAGE, DAILY_WARN


def budget_windows(budgets: Sequence[Budget], burn: BurnSettings) -> list[str]:
    """Every burn window reported or used by a rule, shortest first."""
    names = set(REPORTED_WINDOWS)
    for budget in budgets:
        for rule in burn_rules(budget, burn):
            names.update((rule.long, rule.short))
    return sorted(names, key=duration_seconds)


def earliest_needed(now: float, budgets: Sequence[Budget], burn: BurnSettings) -> float | None:
    """The oldest row the budgets look at (period starts and the longest burn window)."""
    if not budgets:
        return None
    longest = max(duration_seconds(name) for name in budget_windows(budgets, burn))
    return min(min(period_bounds(now, b.period)[0] for b in budgets), now - longest)


@dataclass
class _Rows:
    """The priced rows from `since` to `now` in time order, with the columns the scopes need;
    over a bounded tail (console.analytics.tail_cells) the tail's cells before the rows, as
    pieces (user code -1: a budget scoped by user reads its own pieces, user_spend)."""

    ts: np.ndarray
    cost: np.ndarray  # nano-dollars
    codes: dict[str, np.ndarray]
    minute: np.ndarray | None = None  # each row's or piece's minute: onsets on the minute grid
    user_spend: Mapping[str, Pieces] = dataclasses.field(default_factory=dict)

    @classmethod
    def of(cls, cols: Columns, since: float, now: float, time_sorted: bool, tail: TailCells | None = None) -> _Rows:
        ts = cols.ts
        if time_sorted:
            lo, hi = int(np.searchsorted(ts, since, "left")), int(np.searchsorted(ts, now, "right"))
            cost = cols.cost_usd[lo:hi]
            rows = np.flatnonzero(cost == cost) + lo  # NaN (unpriced) is not equal to itself
        else:
            cost = cols.cost_usd
            rows = np.flatnonzero((ts >= since) & (ts <= now) & (cost == cost))
            rows = rows[np.argsort(ts[rows], kind="stable")]
        made = cls(
            ts=ts[rows],
            cost=cost_nano(cols.cost_usd[rows])[1],
            codes={category: getattr(cols, category)[rows] for _, category in _SCOPES},
        )
        return made if tail is None else made._with_tail(cols, tail, since, now)

    def _with_tail(self, cols: Columns, tail: TailCells, since: float, now: float) -> _Rows:
        cells = tail.cells
        order = tail.order()
        order = order[(cells.min_ts[order] >= since) & (cells.min_ts[order] <= now)]
        codes = {
            category: np.concatenate([codes_in(cols, category, cells, category)[order], self.codes[category]])
            for _, category in _SCOPES if category != "user"
        }  # fmt: skip
        codes["user"] = np.concatenate([np.full(len(order), -1, np.int64), self.codes["user"].astype(np.int64)])
        return _Rows(
            ts=np.concatenate([cells.min_ts[order], self.ts]),
            cost=np.concatenate([cells.sums["cost_nano"][order], self.cost]),
            codes=codes,
            minute=np.concatenate([cells.bucket[order], minute_of(self.ts)]),
            user_spend=tail.user_spend,
        )

    def scoped(self, cols: Columns, budget: Budget) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(ts, cost, minute) of the rows and pieces in the budget's scope, in time order."""
        keep = _in_scope(cols, self, budget)
        ts, cost, minute = (self.ts, self.cost, self.minute) if keep is None else (
            self.ts[keep], self.cost[keep], None if self.minute is None else self.minute[keep])  # fmt: skip
        pieces = self.user_spend.get(budget.name)
        if pieces is not None and len(pieces.ts):  # all before the rows: in front of them
            ts, cost = np.concatenate([pieces.ts, ts]), np.concatenate([pieces.cost, cost])
            minute = np.concatenate([pieces.minute, minute])
        return ts, cost, minute


def spent_since(ts: np.ndarray, cost: np.ndarray, starts: list[float]) -> list[int]:
    """Nano-dollars of cost from each start to the end (ts ascending)."""
    if not len(ts):
        return [0 for _ in starts]
    total = np.cumsum(cost)
    firsts = np.searchsorted(ts, np.asarray(starts, np.float64), "left")
    before = np.where(firsts > 0, total[np.maximum(firsts - 1, 0)], 0)
    return (total[-1] - before).tolist()


def _scope(budget: Budget) -> dict[str, str]:
    return {field: getattr(budget, field) for field, _ in _SCOPES if getattr(budget, field) is not None}


budget_scope = _scope  # the budget's store columns and values (Store.spend_nano_between's scope)


def longest_burn_window(budgets: Sequence[Budget], burn: BurnSettings) -> float | None:
    """Seconds of the longest burn window any budget reports or alerts on (None: no budgets)."""
    if not budgets:
        return None
    return max(duration_seconds(name) for name in budget_windows(budgets, burn))


def _in_scope(cols: Columns, rows: _Rows, budget: Budget) -> np.ndarray | None:
    """The rows a scoped budget counts (None: all of them)."""
    keep: np.ndarray | None = None
    for field, category in _SCOPES:
        wanted = getattr(budget, field)
        if wanted is None:
            continue
        code = cols.categories[category].codes.get(wanted)
        matches = rows.codes[category] == code if code is not None else np.zeros(len(rows.ts), bool)
        keep = matches if keep is None else keep & matches
    return keep


def _fires(rule: BurnAlert, burn: dict[str, float]) -> bool:
    return burn[rule.long] > rule.threshold and burn[rule.short] > rule.threshold


def burn_figure(*window_rates: tuple[str, float]) -> str:
    """'burn 15m 24.9x' (two windows: 'burn 15m 24.9x, 1m 30.2x'): the burn of the windows of
    the rule that fires, as the alert's figures (check, the alerts screen) and the dashboard's
    summary line quote it."""
    return "burn " + ", ".join(f"{window} {burn_rate:.1f}x" for window, burn_rate in window_rates)


def _rule_text(rule: BurnAlert) -> str:
    return f"{rule.threshold:g}x over {rule.long} and {rule.short}"


def _hours_text(hours: float) -> str:
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} h"


def budget_status(
    cols: Columns, rows: _Rows, now: float, budget: Budget, burn: BurnSettings, baseline: float,
    baseline_nano: int = 0,
) -> tuple[BudgetStatus, Alert | None]:
    period_start, period_end = period_bounds(now, budget.period)
    rate = budget.amount_usd / (period_end - period_start)  # USD per second
    windows = budget_windows([budget], burn)
    starts = [now - duration_seconds(name) for name in windows] + [period_start]
    *spent_windows, spent_period = spent_since(*rows.scoped(cols, budget)[:2], starts)
    spent_in = {name: spent / NANO for name, spent in zip(windows, spent_windows)}
    burn_rates = {name: spent_in[name] / duration_seconds(name) / rate for name in windows}
    spent = baseline + (baseline_nano + spent_period) / NANO
    remaining = max(budget.amount_usd - spent, 0.0)
    current = spent_in[RATE_WINDOW] / duration_seconds(RATE_WINDOW)
    if remaining <= 0:
        exhaustion, hours = rfc3339(now), 0.0
    elif current > 0:
        hours = remaining / current / 3600.0
        exhaustion = rfc3339(now + remaining / current)
    else:
        exhaustion, hours = None, None
    page, warn = burn_rules(budget, burn)
    state, fired = ("page", page) if _fires(page, burn_rates) else ("warn", warn) if _fires(warn, burn_rates) else ("ok", None)
    status = BudgetStatus(
        name=budget.name,
        period=budget.period,
        scope=_scope(budget),
        budget_usd=float(budget.amount_usd),
        period_start=rfc3339(period_start),
        period_end=rfc3339(period_end),
        spent_usd=spent,
        remaining_usd=remaining,
        burn_rates={name: burn_rates[name] for name in windows},
        state=state,  # type: ignore[arg-type]
        rules={"page": _rule_text(page), "warn": _rule_text(warn)},
        projected_exhaustion=exhaustion,
        hours_to_exhaustion=hours,
        firing_windows=[] if fired is None else [fired.long, fired.short],
    )
    if fired is None:
        return status, None
    outlook = "exhausted" if hours == 0 else (
        f"at this rate it runs out in {_hours_text(hours)}" if hours is not None else "no spend in the last hour"
    )
    message = (
        f"budget '{budget.name}' burning {burn_rates[fired.long]:.1f}x over {fired.long} and "
        f"{burn_rates[fired.short]:.1f}x over {fired.short} ({state} above {fired.threshold:g}x); "
        f"{usd(spent)} of {usd(budget.amount_usd)} this {budget.period} spent, {outlook}"
    )
    onset = _burn_onset(cols, rows, budget, now, rate, fired)
    return status, Alert(
        kind="budget", severity=state, subject=budget.name, message=message,  # type: ignore[arg-type]
        rule=f"{state} when the burn rate is over {fired.threshold:g}x over both {fired.long} and {fired.short}",
        figures=[
            f"{burn_figure((fired.long, burn_rates[fired.long]))} > {fired.threshold:g}x",
            f"{burn_figure((fired.short, burn_rates[fired.short]))} > {fired.threshold:g}x",
            f"spent {usd(spent)} of {usd(budget.amount_usd)} this {budget.period}; {outlook}",
        ],
        since=rfc3339(onset.since, timespec="seconds") if onset else None,
        since_capped=bool(onset and onset.capped),
        target="budget",
    )


def _burn_onset(cols: Columns, rows: _Rows, budget: Budget, now: float, rate: float, rule: BurnAlert):
    """The first minute of the current run in which the rule fired (both windows over its
    threshold), looking back one long window (console.analytics.alert_onset); over a bounded
    tail, on the whole-minute grid (console.analytics.tail_cells), now's end firing (it does)."""
    from console.analytics.alert_onset import minute_ends, rolling_sums, trailing_run

    ts, cost, minute = rows.scoped(cols, budget)
    long, short = duration_seconds(rule.long), duration_seconds(rule.short)
    if minute is not None:
        ends, grid = grid_ends(now, long)
        burn_long = grid_sums(minute, cost, grid, long) / NANO / long / rate
        burn_short = grid_sums(minute, cost, grid, short) / NANO / short / rate
        over = (burn_long > rule.threshold) & (burn_short > rule.threshold)
        over[-1] = True
        return trailing_run(ends, over)
    ends = minute_ends(now, long)
    burn_long = rolling_sums(ts, cost, ends, long) / NANO / long / rate
    burn_short = rolling_sums(ts, cost, ends, short) / NANO / short / rate
    return trailing_run(ends, (burn_long > rule.threshold) & (burn_short > rule.threshold))


def budget_section(
    cols: Columns,
    now: float,
    budgets: Sequence[Budget],
    burn: BurnSettings,
    baseline_spend: Mapping[str, float] | None = None,
    time_sorted: bool | None = None,
    baseline_nano: Mapping[str, int] | None = None,
    tail: TailCells | None = None,
) -> tuple[list[BudgetStatus], list[Alert]]:
    """Every budget's status, and the burn alerts that fire (page before warn).

    baseline_nano: like baseline_spend, in integer nano-dollars (Store.spend_nano_between):
    added to the loaded rows' integer sum, so spent is what loading those rows would give.
    tail: the exact tail's cells before the rows, when it held more rows than a report loads."""
    since = earliest_needed(now, budgets, burn)
    if since is None:
        return [], []
    if time_sorted is None:
        time_sorted = is_time_sorted(cols.ts)
    rows = _Rows.of(cols, since, now, time_sorted, tail)
    baseline_spend, baseline_nano = baseline_spend or {}, baseline_nano or {}
    statuses, alerts = [], []
    for budget in budgets:
        status, alert = budget_status(
            cols, rows, now, budget, burn, float(baseline_spend.get(budget.name, 0.0)),
            int(baseline_nano.get(budget.name, 0)),
        )
        statuses.append(status)
        if alert is not None:
            alerts.append(alert)
    alerts.sort(key=lambda alert: alert.severity != "page")
    return statuses, alerts


def is_time_sorted(ts: np.ndarray) -> bool:
    return bool(len(ts) < 2 or (ts[1:] >= ts[:-1]).all())


def prefix_spend_nano(cols: Columns, rows: int, budgets: Sequence[Budget], now: float) -> dict[str, int]:
    """Per budget, the nano-dollars the first `rows` rows of cols spent in its current
    period within its scope (what leaves the budgets when those rows are evicted)."""
    if not budgets or rows <= 0:
        return {}
    ts, cost = cols.ts[:rows], cols.cost_usd[:rows]
    priced, nano = cost_nano(cost)
    spent = {}
    for budget in budgets:
        keep = priced & (ts >= period_bounds(now, budget.period)[0]) & (ts <= now)
        for field, category in _SCOPES:
            wanted = getattr(budget, field)
            if wanted is not None:
                code = cols.categories[category].codes.get(wanted)
                keep &= getattr(cols, category)[:rows] == code if code is not None else False
        spent[budget.name] = int(nano[keep].sum())
    return spent


def budget_baselines(spend_nano, budgets: Sequence[Budget], now: float, since: float | None) -> dict[str, int]:
    """Per budget whose period starts before `since`, the nano-dollars spent in its period
    before `since`: spend_nano(start, end, scope) is Store.spend_nano_between. Exact: the
    loaded rows' integer sum plus this is the period's sum as if every row were loaded."""
    baselines: dict[str, int] = {}
    if since is None:
        return baselines
    for budget in budgets:
        start, _end = period_bounds(now, budget.period)
        if start < since:
            baselines[budget.name] = spend_nano(start, since, _scope(budget))
    return baselines
