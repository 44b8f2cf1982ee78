"""The monitoring figures (console.analytics.report) against independent computation."""

from __future__ import annotations

import json
from types import SimpleNamespace

import msgspec
import numpy as np
import pytest

from conftest import make_record
from console.analytics.budget import DAILY_PAGE, DAILY_WARN, burn_rules, period_bounds
from console.analytics.columns import Columns
from console.analytics.live import LiveWindow
from console.analytics.quantiles import SortedGroups, percentiles_of_sorted
from console.analytics.report import build_report
from console.analytics.windows import WINDOW_NAMES, next_window, window_mask
from console.config import Budget, BurnSettings, Settings, Slo
from console.formatting import parse_rfc3339, rfc3339
from console.records import parse_line

NOW = parse_rfc3339("2026-11-20T12:00:00Z")  # November has 30 days
HOUR = 3600.0


def columns_of(dicts) -> Columns:
    cols = Columns()
    cols.append([parse_line(json.dumps(d)) for d in dicts])
    return cols


def rec(ts: float, **fields) -> dict:
    return make_record(ts=ts, **fields)


def random_records(rng, n: int, start: float, end: float) -> list[dict]:
    models = ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5"]
    versions = ["v1", "v2", "v3"]
    out = []
    for _ in range(n):
        fields = dict(
            model=models[int(rng.integers(3))],
            prompt_version=versions[int(rng.integers(3))],
            latency_ms=float(np.round(rng.lognormal(7, 0.7), 1)),
            status="error" if rng.random() < 0.05 else "ok",
            input_tokens=int(rng.integers(10, 5000)),
            output_tokens=int(rng.integers(1, 800)),
            user_id=f"u{int(rng.integers(20))}",
        )
        if rng.random() < 0.7:
            fields["ttft_ms"] = float(np.round(rng.lognormal(6, 0.5), 1))
        if rng.random() < 0.8:
            fields["cost_usd"] = float(np.round(rng.uniform(0.0001, 0.05), 6))
        if rng.random() < 0.1:
            fields["feedback"] = -1
        out.append(rec(float(rng.uniform(start, end)), **fields))
    return sorted(out, key=lambda d: d["ts"])


# -- windows and percentiles --------------------------------------------------------------


def test_w_cycles_through_every_window():
    seen = ["15m"]
    while len(seen) <= len(WINDOW_NAMES):
        seen.append(next_window(seen[-1]))
    assert seen == ["15m", "1h", "6h", "24h", "7d", "all", "15m"]


def test_window_mask_keeps_start_to_now():
    cols = columns_of([rec(NOW - 3601), rec(NOW - 3600), rec(NOW - 1), rec(NOW), rec(NOW + 1)])
    assert window_mask(cols, NOW, "1h").tolist() == [False, True, True, True, False]
    assert window_mask(cols, NOW, "all").tolist() == [True, True, True, True, False]


def test_percentiles_of_sorted_are_numpys_bit_for_bit():
    rng = np.random.default_rng(3)
    for _ in range(500):
        values = np.round(rng.lognormal(6, 1, int(rng.integers(1, 200))), int(rng.integers(0, 3)))
        qs = [50, 90, 95, 99, float(rng.uniform(0, 100))]
        assert np.array_equal(percentiles_of_sorted(np.sort(values), qs), np.percentile(values, qs))


def test_sorted_groups_insert_and_remove_keep_groups_sorted():
    groups = SortedGroups()
    groups.add(np.array([0, 1, 0, 0]), np.array([5.0, 1.0, 3.0, 5.0]))
    groups.add(np.array([0, 1]), np.array([4.0, 0.5]))
    assert groups.get(0).tolist() == [3.0, 4.0, 5.0, 5.0] and groups.get(1).tolist() == [0.5, 1.0]
    groups.remove(np.array([0, 0, 1, 1]), np.array([5.0, 3.0, 1.0, 0.5]))
    assert groups.get(0).tolist() == [4.0, 5.0] and 1 not in groups.keys()


def test_report_percentiles_equal_numpy_over_the_window():
    rng = np.random.default_rng(7)
    dicts = random_records(rng, 3000, NOW - 3 * HOUR, NOW + 60)
    cols = columns_of(dicts)
    report = build_report(cols, NOW, "1h", Settings())
    inside = [d for d in dicts if NOW - HOUR <= d["ts"] <= NOW]
    latency = np.array([d["latency_ms"] for d in inside])
    overall = report.latency.overall
    assert report.requests == overall.requests == len(inside)
    assert [overall.p50, overall.p90, overall.p95, overall.p99] == np.percentile(latency, [50, 90, 95, 99]).tolist()
    ttft = np.array([d["ttft_ms"] for d in inside if "ttft_ms" in d])
    assert [overall.ttft_p50, overall.ttft_p95] == np.percentile(ttft, [50, 95]).tolist()
    for model, figures in report.latency.by_model.items():
        mine = [d["latency_ms"] for d in inside if d["model"] == model]
        assert figures.requests == len(mine)
        assert figures.p95 == np.percentile(mine, 95)
        assert figures.p99 == np.percentile(mine, 99)
        mine_ttft = [d["ttft_ms"] for d in inside if d["model"] == model and "ttft_ms" in d]
        assert figures.ttft_p50 == np.percentile(mine_ttft, 50)
    for key, figures in report.latency.by_version.items():
        mine = [d["latency_ms"] for d in inside if f"{d['prompt_id']}@{d['prompt_version']}" == key]
        assert figures.p50 == np.percentile(mine, 50)
    # the sparkline: a p95 per minute, each the numpy p95 of its minute
    points = report.latency.p95_per_minute
    assert len(points) == 61
    start = parse_rfc3339(points[10].start)
    minute = [d["latency_ms"] for d in inside if start <= d["ts"] < start + 60]
    assert points[10].value == (np.percentile(minute, 95) if minute else None)


def test_sparkline_stays_within_about_120_points():
    rng = np.random.default_rng(1)
    cols = columns_of(random_records(rng, 500, NOW - 30 * 86400, NOW))
    for window in WINDOW_NAMES:
        report = build_report(cols, NOW, window, Settings())
        assert 1 <= len(report.latency.p95_per_minute) <= 121, window


# -- spend -----------------------------------------------------------------------------------


def test_spend_totals_and_unpriced_models_stay_unpriced():
    cols = columns_of(
        [
            rec(NOW - 100, model="gpt-4o", cost_usd=0.25, user_id="alice", prompt_id="chat"),
            rec(NOW - 90, model="gpt-4o", cost_usd=0.5, user_id="bob", prompt_id="chat"),
            rec(NOW - 80, model="my-finetune", user_id="alice", prompt_id="summary"),
            rec(NOW - 70, model="my-finetune", user_id="bob", prompt_id="summary"),
            rec(NOW - 60, model="free-model", cost_usd=0.0, prompt_id="summary"),
        ]
    )
    spend = build_report(cols, NOW, "15m", Settings()).spend
    assert spend.total_usd == pytest.approx(0.75)
    assert (spend.priced_requests, spend.unpriced_requests) == (3, 2)
    assert spend.unpriced_models == ["my-finetune"]
    assert "my-finetune" not in spend.by_model  # never $0
    assert spend.by_model == {"gpt-4o": pytest.approx(0.75), "free-model": 0.0}
    assert spend.by_prompt == {"chat": pytest.approx(0.75), "summary": 0.0}
    assert spend.top_users == {"bob": pytest.approx(0.5), "alice": pytest.approx(0.25)}
    assert sum(point.value for point in spend.per_hour) == pytest.approx(0.75)


# -- versions, drift, change points -----------------------------------------------------


def test_version_rows_drift_and_change_points():
    cols = columns_of(
        [
            rec(NOW - 5 * HOUR, prompt_version="v1", prompt_hash="aaa", model="gpt-4o"),
            rec(NOW - 50 * 60, prompt_version="v1", prompt_hash="aaa", cost_usd=0.25, input_tokens=100, output_tokens=10),
            rec(NOW - 40 * 60, prompt_version="v1", prompt_hash="aaa", status="error", input_tokens=300, output_tokens=30),
            rec(NOW - 30 * 60, prompt_version="v2", prompt_hash="bbb", model="claude-haiku-4-5", feedback=-1),
            rec(NOW - 20 * 60, prompt_version="v2", prompt_hash="ccc", cost_usd=0.5, latency_ms=100.0),
            rec(NOW - 10 * 60, prompt_version="v3", prompt_hash="ddd"),
            rec(NOW - 5 * 60, prompt_version="v3"),  # no hash: not a second template
        ]
    )
    report = build_report(cols, NOW, "1h", Settings())
    rows = {row.prompt_version: row for row in report.versions}
    assert [row.prompt_version for row in report.versions] == ["v3", "v2", "v1"]  # newest first
    v1, v2, v3 = rows["v1"], rows["v2"], rows["v3"]
    assert (v1.requests, v1.errors, v1.error_rate) == (2, 1, 0.5)
    assert (v1.mean_input_tokens, v1.mean_output_tokens) == (200.0, 20.0)
    assert v1.cost_per_request_usd == pytest.approx(0.25)  # over the one priced request
    assert v1.first_seen == rfc3339(NOW - 5 * HOUR) and not v1.is_new  # first seen before the window
    assert v1.last_seen == rfc3339(NOW - 40 * 60)
    # bad over the rated: v2's second request has no feedback, and no rating is not a good one
    assert (v2.bad, v2.rated, v2.bad_rate, v2.is_new) == (1, 1, 1.0, True)
    assert (v1.bad, v1.rated, v1.bad_rate) == (0, 0, None) and (v3.rated, v3.bad_rate) == (0, None)
    assert v2.drifted and sorted(v2.prompt_hashes) == ["bbb", "ccc"]
    assert not v3.drifted and v3.prompt_hashes == ["ddd"]
    assert not v1.drifted
    assert v2.p50_ms == np.percentile([1234.5, 100.0], 50)
    kinds = [(point.kind, point.name) for point in report.change_points]
    assert kinds == [
        ("prompt_version", "support-answer@v3"),
        ("model", "claude-haiku-4-5"),  # same time as v2: models first
        ("prompt_version", "support-answer@v2"),
        ("model", "gpt-4o-mini"),
        ("model", "gpt-4o"),
        ("prompt_version", "support-answer@v1"),
    ]


# -- budgets ---------------------------------------------------------------------------------


def hourly_spend(total: float, hours: float = 1.0, rows_per_hour: int = 60) -> list[dict]:
    """`total` USD spread evenly over the last `hours`, one row a minute (at :30)."""
    count = int(hours * rows_per_hour)
    step = hours * HOUR / count
    return [rec(NOW - hours * HOUR + step * i + step / 2, cost_usd=total / count) for i in range(count)]


def test_monthly_burn_rate_and_exhaustion_by_hand():
    # $3000 a month, November (30 days): $100/day = $4.1667/h. $60 in the last hour:
    # burn(1h) = 60 / 4.1667 = 14.4; 5 of the 60 rows fall in the last 5m: burn(5m) = 14.4.
    settings = Settings(budgets=[Budget(name="all", period="month", amount_usd=3000)])
    report = build_report(columns_of(hourly_spend(60.0)), NOW, "1h", settings)
    budget = report.budgets[0]
    rate_per_hour = 3000 / (30 * 24)
    assert budget.burn_rates["1h"] == pytest.approx(60 / rate_per_hour) == pytest.approx(14.4)
    assert budget.burn_rates["5m"] == pytest.approx(14.4)
    assert budget.burn_rates["30m"] == pytest.approx(14.4)
    assert budget.burn_rates["6h"] == pytest.approx(14.4 / 6)
    assert budget.burn_rates["24h"] == pytest.approx(14.4 / 24)
    assert list(budget.burn_rates) == ["5m", "30m", "1h", "6h", "24h"]
    assert (budget.spent_usd, budget.remaining_usd) == (pytest.approx(60.0), pytest.approx(2940.0))
    # remaining $2940 at $60/h: 49 hours
    assert budget.hours_to_exhaustion == pytest.approx(49.0)
    assert budget.projected_exhaustion == rfc3339(NOW + 49 * HOUR)
    assert budget.period_start == "2026-11-01T00:00:00Z" and budget.period_end == "2026-12-01T00:00:00Z"
    # 14.4 does not exceed 14.4; a little more does, over both windows: page
    assert budget.state in ("ok", "page")
    hotter = build_report(columns_of(hourly_spend(61.0)), NOW, "1h", settings)
    assert hotter.budgets[0].state == "page"
    assert [(a.kind, a.severity, a.subject) for a in hotter.alerts] == [("budget", "page", "all")]


def test_a_spike_that_ended_does_not_page():
    # $100 between 60 and 10 minutes ago, nothing since: the 1h window burns, the 5m does not
    settings = Settings(budgets=[Budget(name="all", period="month", amount_usd=3000)])
    rows = [rec(NOW - 3500 + 60 * i, cost_usd=2.0) for i in range(50)]
    budget = build_report(columns_of(rows), NOW, "1h", settings).budgets[0]
    assert budget.burn_rates["1h"] > 14.4 and budget.burn_rates["5m"] == 0
    assert budget.state == "ok"


def test_daily_budgets_page_within_two_hours_and_warn_within_six():
    daily = Settings(budgets=[Budget(name="day", period="day", amount_usd=24)])  # $1/h
    monthly = Settings(budgets=[Budget(name="month", period="month", amount_usd=24 * 30)])  # also $1/h
    # 13x for the last hour: a day's budget gone in under 2 h -> page (12x); the monthly pair (14.4x) holds
    burst = columns_of(hourly_spend(13.0, hours=1.0))
    day = build_report(burst, NOW, "1h", daily).budgets[0]
    assert day.burn_rates["1h"] == pytest.approx(13.0) and day.state == "page"
    assert day.rules == {"page": "12x over 1h and 5m", "warn": "4x over 6h and 30m"}
    month = build_report(burst, NOW, "1h", monthly).budgets[0]
    assert month.burn_rates["1h"] == pytest.approx(13.0) and month.state == "ok"
    # 5x for six hours: gone within 6 h -> warn (4x), not page
    steady = build_report(columns_of(hourly_spend(30.0, hours=6.0)), NOW, "1h", daily)
    budget = steady.budgets[0]
    assert budget.burn_rates["6h"] == pytest.approx(5.0) and budget.burn_rates["30m"] == pytest.approx(5.0)
    assert budget.state == "warn"
    assert steady.alerts[0].severity == "warn" and steady.alerts[0].kind == "budget"
    # the day started at midnight: $24 spent of $24 (6 h at $5/h is $30: exhausted)
    assert budget.spent_usd == pytest.approx(30.0)
    assert (budget.remaining_usd, budget.hours_to_exhaustion) == (0.0, 0.0)


def test_daily_rules_come_from_burn_daily_when_configured():
    budget = Budget(name="day", period="day", amount_usd=10)
    assert burn_rules(budget, BurnSettings()) == (DAILY_PAGE, DAILY_WARN)
    custom = SimpleNamespace(page=DAILY_WARN, warn=DAILY_PAGE)
    configured = SimpleNamespace(page=BurnSettings().page, warn=BurnSettings().warn, daily=custom)
    assert burn_rules(budget, configured) == (DAILY_WARN, DAILY_PAGE)
    monthly = Budget(name="m", period="month", amount_usd=10)
    assert burn_rules(monthly, configured) == (BurnSettings().page, BurnSettings().warn)


def test_scope_baseline_and_no_recent_spend():
    rows = [
        rec(NOW - 2 * HOUR, cost_usd=3.0, model="gpt-4o"),
        rec(NOW - 2 * HOUR, cost_usd=5.0, model="claude-sonnet-4-5"),
        rec(NOW - 2 * HOUR, model="gpt-4o"),  # unpriced: not spend
    ]
    settings = Settings(
        budgets=[
            Budget(name="gpt", period="day", amount_usd=100, model="gpt-4o"),
            Budget(name="nobody", period="month", amount_usd=100, user_id="ghost"),
        ]
    )
    report = build_report(columns_of(rows), NOW, "1h", settings, baseline_spend={"gpt": 10.0})
    gpt, nobody = report.budgets
    assert gpt.scope == {"model": "gpt-4o"}
    assert gpt.spent_usd == pytest.approx(13.0)  # $10 before the loaded rows + $3
    assert gpt.burn_rates["1h"] == 0 and gpt.projected_exhaustion is None and gpt.hours_to_exhaustion is None
    assert gpt.burn_rates["6h"] == pytest.approx((3.0 / 6) / (100 / 24))
    assert nobody.spent_usd == 0 and nobody.state == "ok"


def test_budgets_do_not_depend_on_row_order():
    settings = Settings(budgets=[Budget(name="d", period="day", amount_usd=24, model="gpt-4o-mini")])
    rows = hourly_spend(13.0, hours=3.0) + [rec(NOW - 50, cost_usd=1.0, model="gpt-4o")]
    shuffled = [rows[i] for i in np.random.default_rng(2).permutation(len(rows))]
    ordered = build_report(columns_of(rows), NOW, "1h", settings).budgets
    assert build_report(columns_of(shuffled), NOW, "1h", settings).budgets == ordered
    assert ordered[0].spent_usd == pytest.approx(13.0) and ordered[0].burn_rates["6h"] == pytest.approx(13.0 / 6)


def test_month_periods_follow_the_calendar():
    assert period_bounds(parse_rfc3339("2027-02-10T05:00:00Z"), "month") == (
        parse_rfc3339("2027-02-01T00:00:00Z"),
        parse_rfc3339("2027-03-01T00:00:00Z"),
    )
    assert period_bounds(parse_rfc3339("2026-12-31T23:59:00Z"), "month")[1] == parse_rfc3339("2027-01-01T00:00:00Z")
    assert period_bounds(NOW, "day") == (parse_rfc3339("2026-11-20T00:00:00Z"), parse_rfc3339("2026-11-21T00:00:00Z"))


# -- SLOs and error spikes -----------------------------------------------------------------


def test_slo_breaches_overall_and_per_model():
    rows = [rec(NOW - 60 - i, model="fast", latency_ms=100.0 + i) for i in range(50)]
    rows += [rec(NOW - 60 - i, model="slow", latency_ms=3000.0 + i) for i in range(50)]
    settings = Settings(slos=[Slo(max_ms=2000, percentile=95), Slo(max_ms=5000, percentile=99, model="slow")])
    report = build_report(columns_of(rows), NOW, "15m", settings)
    latency = report.latency
    assert latency.overall.slo_breached and latency.overall.slo_ms == 2000
    assert not latency.by_model["fast"].slo_breached and latency.by_model["fast"].slo_ms == 2000
    # slow has its own SLO (p99 <= 5000): judged by it, not by the general one
    assert latency.by_model["slow"].slo_ms == 5000 and not latency.by_model["slow"].slo_breached
    assert [(a.kind, a.subject, a.severity) for a in report.alerts] == [("slo", "all traffic", "warn")]
    strict = Settings(slos=[Slo(max_ms=1000, percentile=50, model="slow")])
    alerts = build_report(columns_of(rows), NOW, "15m", strict).alerts
    assert [(a.subject, a.severity) for a in alerts] == [("slow", "page")]  # 3025 ms > 2 x 1000


def test_error_rate_spike():
    calm = [rec(NOW - 3000 + i * 10, status="error" if i % 50 == 0 else "ok") for i in range(250)]
    spike = [rec(NOW - 250 + i * 10, status="error" if i < 12 else "ok") for i in range(20)]
    alerts = build_report(columns_of(calm + spike), NOW, "1h", Settings()).alerts
    # the spike, and its one model failing 17 of 270 calls over the window (6.3%: a failing model)
    assert [(a.kind, a.subject, a.severity) for a in alerts] == [
        ("error_rate", "all traffic", "warn"), ("error_rate", "gpt-4o-mini", "warn")
    ]
    few = [rec(NOW - 250 + i * 10, status="error" if i < 5 else "ok") for i in range(20)]
    assert build_report(columns_of(calm + few), NOW, "1h", Settings()).alerts == []  # < 10 errors


# -- the live window ------------------------------------------------------------------------


def encoded(report) -> bytes:
    return msgspec.json.encode(report)


@pytest.mark.parametrize("window", ["15m", "1h", "all"])
def test_live_window_equals_a_fresh_build(window):
    rng = np.random.default_rng(11)
    settings = Settings(
        budgets=[Budget(name="all", period="day", amount_usd=5)], slos=[Slo(max_ms=2000, percentile=95)]
    )
    dicts = random_records(rng, 4000, NOW - 4 * HOUR, NOW)
    # a few rows arrive late or stamped ahead of the clock
    for d in dicts[::97]:
        d["ts"] += float(rng.uniform(-600, 120))
    records = [parse_line(json.dumps(d)) for d in dicts]
    live = LiveWindow(settings, window)
    cursor, now = 0, NOW - 3 * HOUR
    while cursor < len(records):
        batch = [r for r in records[cursor:] if r.ts <= now + 60][:300] or records[cursor : cursor + 1]
        live.append(batch)
        cursor += len(batch)
        now += 240
        report = live.report(now)
        fresh = build_report(live.cols, now, window, settings)
        assert encoded(report) == encoded(fresh), now
    assert encoded(live.report(now + 900)) == encoded(build_report(live.cols, now + 900, window, settings))


def test_live_window_survives_window_changes_and_eviction():
    rng = np.random.default_rng(5)
    settings = Settings()
    live = LiveWindow(settings, "1h")
    live.append([parse_line(json.dumps(d)) for d in random_records(rng, 2000, NOW - 3 * HOUR, NOW)])
    assert encoded(live.report(NOW)) == encoded(build_report(live.cols, NOW, "1h", settings))
    live.set_window(next_window(live.window))
    assert live.window == "6h"
    assert encoded(live.report(NOW)) == encoded(build_report(live.cols, NOW, "6h", settings))
    live.set_window("1h")
    live.report(NOW)
    assert live.evict_before(NOW - 2 * HOUR) > 0  # outside the window: kept incrementally
    assert encoded(live.report(NOW + 60)) == encoded(build_report(live.cols, NOW + 60, "1h", settings))
    assert live.evict_before(NOW - 30 * 60) > 0  # inside the window: taken out of the aggregates
    assert encoded(live.report(NOW + 120)) == encoded(build_report(live.cols, NOW + 120, "1h", settings))
    kept = live._aggregates
    assert live.evict_before(NOW - 20 * 60) > 0 and live.report(NOW + 180) is not None
    assert live._aggregates is kept  # no rebuild
    assert encoded(live.report(NOW + 180)) == encoded(build_report(live.cols, NOW + 180, "1h", settings))
    assert live.report(NOW - 600).window.end == rfc3339(NOW - 600)  # the clock went back: rebuilt


def test_empty_columns_give_an_empty_report():
    report = build_report(Columns(), NOW, "1h", Settings(budgets=[Budget(name="b", period="day", amount_usd=1)]))
    assert (report.requests, report.error_rate, report.latency.overall.p95) == (0, None, None)
    assert report.versions == [] and report.alerts == [] and report.budgets[0].spent_usd == 0
    assert build_report(Columns(), NOW, "all", Settings()).latency.p95_per_minute == []
