"""The shape of every monitoring figure: what the panes draw and `report --json` prints.

These Structs are the documented JSON contract of `report --json` (field names are stable;
new fields may be added). Times are RFC 3339 UTC strings, money is USD, latency is ms,
rates are fractions in [0, 1]; a figure that cannot be computed (no data) is null.
"""

from __future__ import annotations

from typing import Literal

import msgspec

AlertState = Literal["ok", "warn", "page"]


class Window(msgspec.Struct, kw_only=True):
    name: str  # "15m", "1h", "6h", "24h", "7d", "all", or another duration --since gave ("2h", "90m")
    start: str | None  # null for "all"
    end: str
    seconds: float | None


class Percentiles(msgspec.Struct, kw_only=True):
    requests: int
    p50: float | None = None
    p90: float | None = None
    p95: float | None = None
    p99: float | None = None
    ttft_p50: float | None = None
    ttft_p95: float | None = None
    slo_ms: float | None = None  # the SLO that applies, if any
    slo_percentile: float | None = None
    slo_breached: bool = False
    # the failed requests among `requests`: a model failing most of its calls shows in the
    # Latency pane (a steady rate is no spike, and the spike rule looks at all traffic). Added
    # after the first release: absent from older outputs (read as 0).
    errors: int = 0


class TimePoint(msgspec.Struct, kw_only=True):
    start: str
    value: float | None


class Spend(msgspec.Struct, kw_only=True):
    total_usd: float
    priced_requests: int
    unpriced_requests: int
    unpriced_models: list[str]
    by_model: dict[str, float]
    by_prompt: dict[str, float]
    top_users: dict[str, float]  # the 10 biggest spenders
    per_hour: list[TimePoint]
    # Requests whose usage an instrumentation only estimated (openlit, for a stream that did not
    # ask for usage): stored with 0 real tokens, their estimated spend counted here, never in
    # total_usd. Added after the first release: absent from older outputs (read as 0).
    estimated_requests: int = 0
    estimated_usd: float = 0.0
    estimated_by_model: dict[str, float] = msgspec.field(default_factory=dict)
    # Spend per sparkline bucket, the p95 chart's (latency.p95_per_minute): bucket_seconds each
    # (60 up to a 2h window, coarser beyond). Added after the first release: absent from older
    # outputs (read as empty).
    per_bucket: list[TimePoint] = msgspec.field(default_factory=list)
    bucket_seconds: int = 0


class Latency(msgspec.Struct, kw_only=True):
    overall: Percentiles
    by_model: dict[str, Percentiles]
    by_version: dict[str, Percentiles]  # "prompt_id@version"
    p95_per_minute: list[TimePoint]


class VersionRow(msgspec.Struct, kw_only=True):
    prompt_id: str
    prompt_version: str
    requests: int
    errors: int
    error_rate: float
    bad: int
    rated: int  # requests someone judged: labelled (good or bad), or unlabelled with feedback
    bad_rate: float | None  # bad / rated; null when nothing is rated (unrated is not good)
    p50_ms: float | None
    p95_ms: float | None
    mean_input_tokens: float
    mean_output_tokens: float
    cost_per_request_usd: float | None  # over priced requests; null when none is priced
    first_seen: str
    last_seen: str
    drifted: bool  # one version label, more than one prompt_hash
    prompt_hashes: list[str]
    is_new: bool  # first seen inside the window: a change point


class BudgetStatus(msgspec.Struct, kw_only=True):
    name: str
    period: Literal["day", "month"]
    scope: dict[str, str]  # e.g. {"model": "gpt-4o"}; empty = all traffic
    budget_usd: float
    period_start: str
    period_end: str  # the budget resets then; an exhaustion after it does not happen this period
    spent_usd: float
    remaining_usd: float
    burn_rates: dict[str, float]  # window name ("5m", "30m", "1h", "6h", ...) -> burn rate
    state: AlertState
    rules: dict[str, str]  # {"page": "14.4x over 1h and 5m", "warn": ...}: the thresholds applied
    projected_exhaustion: str | None  # when the remaining budget runs out at the current rate
    hours_to_exhaustion: float | None
    # the windows of the rule that fires at `state` (page: the page rule's long and short, not the
    # warn rule's), whose burn rates the alert quotes; [] when ok
    firing_windows: list[str] = msgspec.field(default_factory=list)


class ChangePoint(msgspec.Struct, kw_only=True):
    kind: Literal["model", "prompt_version"]
    name: str
    first_seen: str


class Alert(msgspec.Struct, kw_only=True):
    kind: Literal["budget", "slo", "error_rate"]
    severity: Literal["warn", "page"]
    subject: str
    message: str
    rule: str = ""  # the rule that fires, thresholds included ("page when burn > 14.4x over both 1h and 5m")
    figures: list[str] = msgspec.field(default_factory=list)  # the numbers that fire it, each against its threshold
    since: str | None = None  # the first minute of the current run over the rule (console.analytics.alert_onset)
    since_capped: bool = False  # every minute looked back at fired: it began at `since` or earlier
    target: str = ""  # where to look: a pane ("budget", "latency", "versions") or "filter:<requests filter>"


class Figures(msgspec.Struct, kw_only=True):
    """How the figures were computed. "rows": from every row of the window, percentiles exact.
    "rollups": the rows from exact_since on, the window before that from the store's rollup
    cells (console/analytics/rollup_report.py): counts, errors, tokens and spend still exact;
    percentiles "sketch" when any cell was read, each within relative_error of the exact one."""

    source: Literal["rows", "rollups"] = "rows"
    exact_since: str | None = None  # rollups: the rows from this moment on were read one by one
    percentiles: Literal["exact", "sketch"] = "exact"
    relative_error: float | None = None  # the bound on a sketch percentile's relative error (0.01: 1%)


class AfterNow(msgspec.Struct, kw_only=True):
    """The stored requests stamped after the window's end (`window.end`, the figures' "now"):
    in no figure of the report (every window is (start, now]). With now the wall clock, a sign
    of an app host's clock running fast, a replayed log or local time written as UTC; after an
    explicit --now (or `open --at`), simply the requests stored later. Counted in the store for
    both ways of computing the figures (rows or rollups), so they agree."""

    requests: int = 0
    newest: str | None = None  # the newest such request's ts
    seconds_ahead: float = 0.0  # how far the newest is after window.end


class Report(msgspec.Struct, kw_only=True):
    window: Window
    requests: int
    errors: int
    error_rate: float | None
    spend: Spend
    latency: Latency
    versions: list[VersionRow]
    budgets: list[BudgetStatus]
    change_points: list[ChangePoint]
    alerts: list[Alert]
    figures: Figures = msgspec.field(default_factory=Figures)
    # Added after the first release: absent from older outputs (read as 0 requests).
    after_now: AfterNow = msgspec.field(default_factory=AfterNow)
