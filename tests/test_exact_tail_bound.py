"""Issue 20: a merged report loads at most tail_max_rows of its exact tail's rows one by one
(console/store/tail_reads.py), the rest of the tail read as minute cells, and its figures stay
right: counts, errors, spend and burn rates exactly the rows', percentiles within the sketch's
bound of numpy's, the same alerts firing; at or under the bound, the very same report."""

from __future__ import annotations

import json
import random
from datetime import datetime, timezone

import msgspec
import numpy as np
import pytest

from console.analytics.aggregates import cost_nano
from console.analytics.sketch import RELATIVE_ACCURACY, keys_of, value_of
from console.analytics.tail_cells import grid_percentile_run, grid_sums
from console.commands.store_access import open_reader
from console.demo.story import generate_history
from console.ingest import ingest_files
from console.store import Store
from console.store import window_report
from console.store.window_report import report_from_store
from tests.test_postgres import postgres_schema_url
from tests.test_rollups import SETTINGS, compare

END = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
BOUND = 250  # rows loaded one by one; the tail (25 h with budgets, 75 min without) holds thousands
CLOSE = RELATIVE_ACCURACY * (1 + 1e-9)


# error bursts of 8 minutes every 4 hours (the spike fires after one), and budgets that burn
# (the story spends ~$3 a day): daily, one model's month, one user's month (SQL pieces)
BURSTS = [END.timestamp() - 2 * 3600 - k * 4 * 3600 for k in range(7)]
BURST_SECONDS = 480
TIGHT = msgspec.convert(
    {
        "budgets": [
            {"name": "daily", "period": "day", "amount_usd": 0.25},
            {"name": "gpt", "period": "month", "amount_usd": 2, "model": "gpt-4o"},
            {"name": "one user", "period": "month", "amount_usd": 0.3, "user_id": "u_e65d72"},
        ],
        "slos": [{"percentile": 95, "max_ms": 3000}],
    },
    type=type(SETTINGS),
)


def _records() -> list[dict]:
    records = list(generate_history(12_000, days=2.0, end=END, seed=3))
    for record in records:
        ts = datetime.fromisoformat(record["ts"].replace("Z", "+00:00")).timestamp()
        if any(start <= ts < start + BURST_SECONDS for start in BURSTS):
            record["status"] = "error"
    return records


def _fill(url: str, tmp_path, records: list[dict]) -> None:
    log = tmp_path / "dense.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    with Store(url) as store:
        ingest_files(store, [str(log)])


class _Counting:
    """The store, with the size of every load_columns answer kept."""

    def __init__(self, store) -> None:
        self.store, self.loads = store, []

    def load_columns(self, *args, **kwargs):
        cols = self.store.load_columns(*args, **kwargs)
        self.loads.append(len(cols))
        return cols

    def __getattr__(self, name):
        return getattr(self.store, name)


def _moment(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat()


def _numpy_figures(records: list[dict], start: float | None, now: float) -> dict:
    ts = np.array([r["ts"] for r in records], np.float64) if isinstance(records[0]["ts"], float) else None
    if ts is None:
        ts = np.array([datetime.fromisoformat(r["ts"].replace("Z", "+00:00")).timestamp() for r in records])
    keep = (ts <= now) & (ts >= (-np.inf if start is None else start))
    chosen = [r for r, k in zip(records, keep.tolist()) if k]
    latency = np.array([r["latency_ms"] for r in chosen if r.get("latency_ms") is not None], np.float64)
    cost = np.array([np.nan if r.get("cost_usd") is None else r["cost_usd"] for r in chosen], np.float64)
    return {"requests": len(chosen), "errors": sum(r.get("status") == "error" for r in chosen),
            "spend_nano": int(cost_nano(cost)[1].sum()), "latency": latency}  # fmt: skip


def _near_a_threshold(alert: dict) -> bool:
    """An SLO alert whose percentile is within the sketch's bound of the SLO or of twice it:
    a sketch may then put it on the other side (the report says its percentiles are sketches)."""
    value, limit = (float(text.split()[1].removesuffix("s").replace(",", "")) for text in alert["figures"][0].split(" vs "))
    return any(abs(value - line) <= 0.011 * line for line in (limit, 2 * limit))


def _alerts_agree(exact: dict, bounded: dict, merged: dict) -> None:
    def who(report, skip=()):
        return [(a["kind"], a["severity"], a["subject"]) for a in report["alerts"] if (a["kind"], a["subject"]) not in skip]

    unsure = {(a["kind"], a["subject"]) for r in (exact, bounded) for a in r["alerts"] if a["kind"] == "slo" and _near_a_threshold(a)}
    assert sorted(who(exact, unsure)) == sorted(who(bounded, unsure))
    assert who(bounded, unsure) == who(merged, unsure)


def _check(store, records: list[dict], trials: int, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    newest = END.timestamp()
    seen = {"bounded": 0, "user burns": 0}
    for trial in range(trials):
        window = rng.choice(["15m", "1h", "6h", "24h", "7d", "all"])
        now = newest - rng.uniform(0, 30 * 3600)
        if trial % 3 == 1:  # just after a burst's start: the spike fires
            now = rng.choice(BURSTS) + rng.uniform(240, BURST_SECONDS)
        settings = (SETTINGS, TIGHT, TIGHT)[trial % 3] if trial % 4 else type(SETTINGS)(slos=TIGHT.slos)
        counting = _Counting(store)
        bounded = msgspec.to_builtins(report_from_store(counting, now, window, settings, exact_max_rows=0, tail_max_rows=BOUND))
        exact = msgspec.to_builtins(report_from_store(store, now, window, settings, exact_max_rows=10**9))
        merged = msgspec.to_builtins(report_from_store(store, now, window, settings, exact_max_rows=0, tail_max_rows=10**9))
        assert max(counting.loads) <= BOUND, (window, now, counting.loads)
        # every count, error, token, spend, burn rate equal to the rows'; percentiles within 1%;
        # the same alerts, in the order the unbounded merge gives (codes by first appearance)
        _alerts_agree(exact, bounded, merged)
        compare({**exact, "alerts": []}, {**bounded, "alerts": []})
        seen["bounded"] += bounded["figures"]["exact_since"] != exact["figures"]["exact_since"] and bounded["figures"]["source"] == "rollups"
        for alert in bounded["alerts"]:
            seen[alert["kind"]] = seen.get(alert["kind"], 0) + 1
        seen["user burns"] += any(b["burn_rates"]["1h"] > 0 for b in bounded["budgets"] if b["name"] == "one user")
        # and against numpy over the records themselves
        start = None if window == "all" else now - {"15m": 900, "1h": 3600, "6h": 21600, "24h": 86400, "7d": 604800}[window]
        truth = _numpy_figures(records, start, now)
        assert (bounded["requests"], bounded["errors"]) == (truth["requests"], truth["errors"])
        if len(truth["latency"]):
            for q, key in ((50, "p50"), (95, "p95"), (99, "p99")):
                value = float(np.percentile(truth["latency"], q))
                assert abs(bounded["latency"]["overall"][key] - value) <= CLOSE * value, (window, q)
    return seen


@pytest.fixture(scope="module")
def dense(tmp_path_factory):
    records = _records()
    path = tmp_path_factory.mktemp("tail") / "store.db"
    _fill(f"sqlite:///{path}", path.parent, records)
    return f"sqlite:///{path}", records


def test_the_bounded_tail_reports_the_rows_figures_loading_at_most_the_bound(dense):
    url, records = dense
    reader = open_reader(url, missing_hint="")  # what `report` reads a SQLite file with
    try:
        seen = _check(reader, records, 30, seed=1)
    finally:
        reader.close()
    assert seen["bounded"] >= 20, "most trials read the tail as cells"
    assert seen.get("budget", 0) and seen.get("error_rate", 0) and seen.get("slo", 0), seen
    assert seen["user burns"] >= 3, seen


def test_the_bounded_tail_on_postgres(tmp_path):
    records = _records()
    with postgres_schema_url() as url:
        _fill(url, tmp_path, records)
        with Store(url) as store:
            seen = _check(store, records, 8, seed=2)
    assert seen["bounded"] >= 5


def test_a_tail_under_the_bound_gives_the_same_report(dense, monkeypatch):
    url, _records_ = dense
    reader = open_reader(url, missing_hint="")
    try:
        now = END.timestamp() - 5000.5
        unbounded = msgspec.json.encode(report_from_store(reader, now, "6h", SETTINGS, exact_max_rows=0, tail_max_rows=10**9))
        rows = reader.count_between(now - 30 * 3600, None)
        monkeypatch.setattr(window_report, "TAIL_MAX_ROWS", rows)  # the default, read at each call
        assert msgspec.json.encode(report_from_store(reader, now, "6h", SETTINGS, exact_max_rows=0)) == unbounded
        monkeypatch.setattr(window_report, "TAIL_MAX_ROWS", BOUND)
        assert msgspec.json.encode(report_from_store(reader, now, "6h", SETTINGS, exact_max_rows=0)) != unbounded
    finally:
        reader.close()


def test_grid_sums_and_sketch_percentiles_over_minutes_are_the_brute_force_ones():
    rng = np.random.default_rng(4)
    minute = np.sort(rng.integers(0, 400, 5_000)) * 60
    values = rng.lognormal(7, 1, len(minute))
    ends = 60.0 * np.arange(30, 401, dtype=np.float64)
    sums = grid_sums(minute, values, ends, 900.0)
    for end, got in zip(ends.tolist(), sums.tolist()):
        assert got == pytest.approx(values[(minute >= end - 900) & (minute < end)].sum())
    keys = keys_of(values)
    limit = float(np.percentile(values, 60))
    over = grid_percentile_run(minute, keys, np.ones(len(keys), np.int64), ends, 900.0, 95.0, limit)
    expected = []
    for end in ends.tolist():
        inside = np.sort(value_of(keys[(minute >= end - 900) & (minute < end)]))
        expected.append(bool(len(inside)) and float(np.percentile(inside, 95)) > limit)
    # a trailing run: the last ends agree, up to the first end that is not over
    run = len(expected) - (expected[::-1].index(False) if False in expected else len(expected))
    assert over.tolist()[run:] == expected[run:] and not over[:run].any()


@pytest.mark.parametrize("cut", [False, True])
def test_a_user_budgets_pieces_sum_to_its_spend(dense, cut):
    """With or without edges inside the stretch (a GROUP BY without a piece term too)."""
    from console.store.tail_reads import user_pieces

    url, _records_ = dense
    reader = open_reader(url, missing_hint="")
    try:
        since, until = END.timestamp() - 6 * 3600, END.timestamp() - 600
        edges = [since + 1234.5, until - 77.25] if cut else []
        with reader.read_connection() as conn:
            pieces = user_pieces(conn, TIGHT, since, until, edges)["one user"]
        scope = {"user_id": "u_e65d72"}
        assert int(pieces.cost.sum()) == reader.spend_nano_between(since, until, scope) > 0
        assert (np.diff(pieces.ts) >= 0).all() and (pieces.minute == (pieces.ts // 60 * 60).astype(np.int64)).all()
        for edge in edges:  # every piece on one side of each edge: the sum from it is exact
            after = int(pieces.cost[pieces.ts >= edge].sum())
            assert after == reader.spend_nano_between(edge, until, scope)
    finally:
        reader.close()
