"""Rollups (issue 20): cells written with the rows, sketches within their bound, and `report`
over rollups giving every exact figure exactly as `report` over the rows."""

from __future__ import annotations

import json
import random
import sqlite3
from datetime import datetime, timezone

import msgspec
import numpy as np
import pytest
from ddsketch.mapping import LogarithmicMapping

from console.analytics import sketch
from console.analytics.quantiles import percentiles_of_sorted
from console.analytics.sketch import RELATIVE_ACCURACY, Entries, SketchGroups, keys_of
from console.commands.report import make_report
from console.config import Settings
from console.demo.story import generate_history
from console.ingest import ingest_files
from console.store import Store
from console.store.evaluation import EvaluationStore
from console.store.schema_facts import CURRENT_VERSION
from tests.test_postgres import postgres_schema_url

BOUND = RELATIVE_ACCURACY * (1 + 1e-9)
QS = [0.0, 1.0, 25.0, 50.0, 90.0, 95.0, 99.0, 99.9, 100.0]
END = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
NOW = "2026-11-19T15:30:00Z"


def test_sketch_keys_are_ddsketchs():
    mapping = LogarithmicMapping(RELATIVE_ACCURACY)
    # the constants console.analytics.sketch counts with are the mapping's own
    assert (sketch.GAMMA, sketch._MULTIPLIER, sketch._MIN_POSITIVE) == (mapping.gamma, mapping._multiplier, mapping.min_possible)
    rng = np.random.default_rng(3)
    values = np.concatenate([rng.lognormal(6, 2, 20_000), rng.uniform(0.001, 5, 2_000), [1.0, 2.0, 1000.0]])
    assert keys_of(values).tolist() == [mapping.key(float(v)) for v in values]


def test_sketch_percentiles_are_within_the_bound_of_numpys_over_many_random_windows():
    rng = np.random.default_rng(20)
    worst = 0.0
    for trial in range(300):
        n = int(rng.integers(1, 5_000))
        values = rng.lognormal(rng.uniform(2, 9), rng.uniform(0.1, 2.5), n)
        values[rng.random(n) < 0.02] = 0.0  # some zero latencies
        values = np.round(values, int(rng.integers(0, 3)))  # ties, as logged milliseconds have
        # the window's sketch is the merge of sketches of random parts (minutes, hours...)
        parts = np.sort(rng.integers(0, n, int(rng.integers(0, 6))))
        pieces = [Entries.of_values(np.zeros(len(p), np.int64), p) for p in np.split(values, parts)]
        merged = SketchGroups(Entries.concat(pieces)).get(0)
        assert len(merged) == n
        exact = np.percentile(values, QS)
        approx = percentiles_of_sorted(merged, QS)
        error = np.abs(approx - exact) / np.where(exact > 0, exact, 1.0)
        assert (error <= BOUND).all(), (trial, exact, approx)
        assert (approx[exact == 0] == 0).all()
        worst = max(worst, float(error.max()))
    assert worst > RELATIVE_ACCURACY / 2, "the bound is tight enough to be seen"


# -- report over rollups vs report over rows -------------------------------------------------

PERCENTILE_KEYS = {"p50", "p90", "p95", "p99", "ttft_p50", "ttft_p95", "p50_ms", "p95_ms"}


def compare(rows, merged, path="") -> int:
    """Assert every exact figure equal, every percentile within the bound; returns how many
    percentiles were compared."""
    compared = 0
    if isinstance(rows, dict):
        assert set(rows) <= set(merged), path
        for key, value in rows.items():
            if key == "figures":
                continue
            if key == "alerts":  # their messages quote percentiles: who fires must agree
                assert [(a["kind"], a["severity"], a["subject"]) for a in value] == [
                    (a["kind"], a["severity"], a["subject"]) for a in merged[key]
                ], path
                continue
            if key in PERCENTILE_KEYS or (path.endswith("p95_per_minute]") and key == "value"):
                compared += 1
                if value is None or merged[key] is None:
                    assert value == merged[key], f"{path}.{key}"
                else:
                    assert abs(merged[key] - value) <= BOUND * abs(value), f"{path}.{key}: {value} vs {merged[key]}"
                continue
            compared += compare(value, merged[key], f"{path}.{key}")
    elif isinstance(rows, list):
        assert len(rows) == len(merged), path
        for i, (a, b) in enumerate(zip(rows, merged)):
            compared += compare(a, b, f"{path}[{i}]" if not path.endswith("p95_per_minute") else f"{path}]")
    else:
        assert rows == merged, f"{path}: {rows!r} vs {merged!r}"
    return compared


SETTINGS = msgspec.convert(
    {
        "budgets": [
            {"name": "daily", "period": "day", "amount_usd": 50},
            {"name": "gpt", "period": "month", "amount_usd": 1000, "model": "gpt-4o"},
            {"name": "one user", "period": "month", "amount_usd": 10, "user_id": "u_0003"},
        ],
        "slos": [{"percentile": 95, "max_ms": 60_000}],
    },
    type=Settings,
)


def _filled_store(url: str, tmp_path, labels: bool = True) -> Store:
    records = list(generate_history(6_000, days=9.0, end=END))
    log = tmp_path / "history.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    store = Store(url)
    ingest_files(store, [str(log)])
    if labels:  # labels the cells do not know of: bad by a label, and good over negative feedback
        from sqlalchemy import text

        evaluation = EvaluationStore(store)
        rng = random.Random(5)
        with store.engine.connect() as conn:
            negative = [r[0] for r in conn.execute(text("SELECT request_id FROM requests WHERE feedback < 0 LIMIT 30"))]
        assert negative
        for request_id in negative:
            evaluation.add_label(request_id, "good", author="test")
        for record in rng.sample(records[:4_000], 60):
            evaluation.add_label(record["request_id"], rng.choice(["bad", "good"]), author="test")
    return store


def _reports(url: str, since: str, now: str, settings: Settings) -> tuple[dict, dict]:
    rows = make_report([], store=url, since=since, settings=settings, now=now, exact_max_rows=10**9)
    merged = make_report([], store=url, since=since, settings=settings, now=now, exact_max_rows=0)
    assert rows.figures.source == "rows" and merged.figures.source == "rollups"
    return msgspec.to_builtins(rows), msgspec.to_builtins(merged)


def _check_windows(url: str, trials: int) -> None:
    from console.store import rollups

    rng = random.Random(11)
    sketched = 0
    read = rollups.read_cells
    days_read = []  # per window, the day cells it read: whole days come from them

    def spy(conn, kind, span, since, before):
        cells = read(conn, kind, span, since, before)
        if span == 86400:
            days_read[-1] += len(np.unique(cells.bucket))
        return cells

    rollups.read_cells = spy
    try:
        for trial in range(trials):
            since = rng.choice(["all", "7d", "7d", "24h", "6h", "1h"])
            moment = END.timestamp() - rng.uniform(0, 5 * 86400)
            now = datetime.fromtimestamp(moment, tz=timezone.utc).isoformat().replace("+00:00", "Z")
            settings = SETTINGS if trial % 3 else Settings()  # without budgets the exact tail is 75 minutes
            days_read.append(0)
            rows, merged = _reports(url, since, now, settings)
            assert rows["requests"] > 0
            compare(rows, merged)
            sketched += merged["figures"]["percentiles"] == "sketch"
            if since in ("all", "7d"):  # 9 days of history: at least 3 whole days before the tail
                assert days_read[-1] >= 3, (since, now)
    finally:
        rollups.read_cells = read
    assert sketched >= trials // 3, "most windows read cells"
    assert sum(1 for days in days_read if days) >= trials // 4, "windows over whole days read day cells"


def test_report_over_rollups_equals_report_over_rows_on_every_exact_figure(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    _filled_store(url, tmp_path).close()
    _check_windows(url, 24)


def test_a_store_from_before_rollups_gets_them_built_once_on_open(tmp_path):
    db = tmp_path / "store.db"
    url = f"sqlite:///{db}"
    _filled_store(url, tmp_path, labels=False).close()
    query = "SELECT span, bucket, model, prompt_id, prompt_version, requests, cost_nano, latency FROM rollups ORDER BY 1, 2, 3, 4, 5, is_error, prompt_hash, environment"
    with sqlite3.connect(db) as conn:
        written = conn.execute(query).fetchall()
        users = conn.execute("SELECT bucket, user_id, cost_nano FROM rollup_users ORDER BY 1, 2").fetchall()
        conn.execute("DROP TABLE rollups")
        conn.execute("DROP TABLE rollup_users")
        conn.execute("DELETE FROM schema_version WHERE version >= 7")
    Store(url).close()
    with sqlite3.connect(db) as conn:
        assert conn.execute(query).fetchall() == written
        assert conn.execute("SELECT bucket, user_id, cost_nano FROM rollup_users ORDER BY 1, 2").fetchall() == users
        assert conn.execute("SELECT max(version) FROM schema_version").fetchone()[0] == CURRENT_VERSION


DAY_CELLS = (
    "SELECT span, bucket, model, prompt_id, prompt_version, prompt_hash, environment, is_error, requests, bad, "
    "input_tokens, output_tokens, cached_input_tokens, priced, cost_nano, estimated, estimated_cost_nano, min_ts, "
    "max_ts, latency, ttft FROM rollups WHERE span = 86400 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8"
)
HOUR_TOTALS = "SELECT bucket, requests, errors, priced, cost_nano, min_ts, max_ts, latency FROM rollup_hours ORDER BY 1"


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_store_from_before_day_cells_gets_them_built_from_its_hour_cells(tmp_path, backend):
    """Schema 9 on a store of schema 8 (hour cells, no day cells nor hour totals): the day
    cells and hour totals built from the hour cells are those the writes made, byte for byte,
    and the merge of the hour cells; the reports are the same."""
    from sqlalchemy import text

    def check(url: str) -> None:
        _filled_store(url, tmp_path, labels=False).close()
        with Store(url) as store, store.engine.begin() as conn:
            written = [tuple(r) for r in conn.execute(text(DAY_CELLS))], [tuple(r) for r in conn.execute(text(HOUR_TOTALS))]
            assert len(written[0]) > 9 and len(written[1]) >= 9 * 24
            before = msgspec.to_builtins(make_report([], store=url, since="7d", settings=SETTINGS, now=NOW, exact_max_rows=0))
            conn.execute(text("DELETE FROM rollups WHERE span = 86400"))  # schema 8's shape
            conn.execute(text("DROP TABLE rollup_hours"))
            conn.execute(text("DROP INDEX ix_rollup_users_days"))
            conn.execute(text("DELETE FROM schema_version WHERE version >= 9"))
        with Store(url) as store, store.engine.connect() as conn:
            assert [tuple(r) for r in conn.execute(text(DAY_CELLS))] == written[0]
            assert [tuple(r) for r in conn.execute(text(HOUR_TOTALS))] == written[1]
            assert conn.execute(text("SELECT max(version) FROM schema_version")).scalar() == CURRENT_VERSION
            assert_coarse_cells_merge_hours(conn)
        after = msgspec.to_builtins(make_report([], store=url, since="7d", settings=SETTINGS, now=NOW, exact_max_rows=0))
        assert after == before and after["figures"]["source"] == "rollups"

    if backend == "sqlite":
        check(f"sqlite:///{tmp_path / 'store.db'}")
    else:
        with postgres_schema_url() as url:
            check(url)


def test_postgres_report_over_rollups_equals_report_over_rows(tmp_path):
    with postgres_schema_url() as url:
        _filled_store(url, tmp_path).close()
        _check_windows(url, 9)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_cells_sum_to_the_rows_after_repeated_and_out_of_order_writes(tmp_path, backend, write_log):
    from tests.conftest import make_record

    def run(url: str) -> None:
        rng = random.Random(7)
        records = [make_record(ts=f"2026-11-20T{rng.randrange(10, 14)}:{rng.randrange(60):02d}:{rng.randrange(60):02d}Z",
                               cost_usd=rng.choice([None, 0.001, 0.0123]), user_id=rng.choice([None, "a", "b"]))
                   for _ in range(900)]  # fmt: skip
        with Store(url) as store:
            for chunk in range(0, 900, 97):  # several batches, each touching old buckets again
                log = write_log(f"part{chunk}.jsonl", records[chunk : chunk + 97] + records[:5])
                ingest_files(store, [str(log)])
            assert_cells_match_rows(store)

    if backend == "sqlite":
        run(f"sqlite:///{tmp_path / 'store.db'}")
    else:
        with postgres_schema_url() as url:
            run(url)


def assert_cells_match_rows(store: Store) -> None:
    """Every span's cells hold exactly the stored rows' counts, tokens and spend."""
    from sqlalchemy import text

    with store.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT model, count(*), sum(input_tokens), sum(CASE WHEN status = 'error' THEN 1 ELSE 0 END) "
            "FROM requests GROUP BY model ORDER BY model"
        )).all()  # fmt: skip
        spend = store.spend_nano_between(0, 1e12)
        for span in (60, 3600):
            cells = conn.execute(text(
                "SELECT model, sum(requests), sum(input_tokens), sum(requests * is_error) FROM rollups "
                "WHERE span = :span GROUP BY model ORDER BY model"
            ), {"span": span}).all()  # fmt: skip
            assert [tuple(int(v) if not isinstance(v, str) else v for v in c) for c in cells] == [tuple(r) for r in rows]
            assert conn.execute(text("SELECT sum(cost_nano) FROM rollups WHERE span = :s"), {"s": span}).scalar() == spend
        for span in (3600, 86400):
            users = conn.execute(text("SELECT sum(cost_nano), sum(requests) FROM rollup_users WHERE span = :s"), {"s": span}).one()
            assert tuple(users) == (spend, sum(r[1] for r in rows))
        totals = conn.execute(text("SELECT sum(requests), sum(errors), sum(cost_nano) FROM rollup_hours")).one()
        assert tuple(totals) == (sum(r[1] for r in rows), sum(r[3] for r in rows), spend)
        assert_coarse_cells_merge_hours(conn)


def assert_coarse_cells_merge_hours(conn) -> None:
    """The day cells and hour totals hold exactly the merge of the hour cells (sums, first and
    last ts, sketches entry by entry): one per day and key, one per hour."""
    from console.analytics.rollup import DAY, HOUR, REQUESTS, TOTALS, totals
    from console.store import rollups

    raw = conn.connection.dbapi_connection if conn.dialect.name == "sqlite" else conn
    hours = rollups.read_cells(raw, REQUESTS, HOUR, None, None)
    pairs = [(hours.coarser(DAY), rollups.read_cells(raw, REQUESTS, DAY, None, None)),
             (totals(hours), rollups.read_cells(raw, TOTALS, HOUR, None, None))]  # fmt: skip
    for expected, stored in pairs:
        assert len(stored) == len(expected) > 0

        def keyed(cells):
            dims = [cells.labels(dim) for dim in cells.kind.dims] + [cells.codes[f] for f in cells.kind.flags]
            keys = list(zip(cells.bucket.tolist(), *(d.tolist() for d in dims)))
            entries = [cells.sketches[name] for name in cells.kind.sketches]
            return {
                key: (
                    tuple(int(cells.sums[name][i]) for name in cells.kind.sums), cells.min_ts[i], cells.max_ts[i],
                    [sorted(zip(e.keys[e.groups == i].tolist(), e.counts[e.groups == i].tolist())) for e in entries],
                )
                for i, key in enumerate(keys)
            }  # fmt: skip

        assert keyed(stored) == keyed(expected)


def test_report_and_check_read_the_rollups_above_the_limit_and_say_so(tmp_path, write_log, monkeypatch):
    from typer.testing import CliRunner

    from console.cli import app
    from tests.conftest import make_record

    end = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc).timestamp()
    rng = random.Random(3)
    log = write_log("app.jsonl", [
        make_record(ts=end - 3 * 86400 + 97 * i, latency_ms=rng.lognormvariate(7, 0.6), cost_usd=0.002,
                    model=rng.choice(["gpt-4o", "claude-sonnet-4-5"]), status="error" if i % 31 == 0 else "ok")
        for i in range(2_600)
    ])  # fmt: skip
    store = f"sqlite:///{tmp_path / 'store.db'}"
    runner = CliRunner()
    command = ["--store", store, "--since", "all", "--now", "2026-11-20T12:00:00Z"]
    assert runner.invoke(app, ["ingest", str(log), "--store", store]).exit_code == 0
    rows = json.loads(runner.invoke(app, ["report", *command, "--json"]).stdout)
    monkeypatch.setattr("console.commands.report.EXACT_MAX_ROWS", 100)
    merged = json.loads(runner.invoke(app, ["report", *command, "--json"]).stdout)
    assert rows["figures"] == {"source": "rows", "exact_since": None, "percentiles": "exact", "relative_error": None}
    assert merged["figures"]["source"] == "rollups" and merged["figures"]["percentiles"] == "sketch"
    assert merged["figures"]["relative_error"] == RELATIVE_ACCURACY
    assert compare(rows, merged) > 10
    text = runner.invoke(app, ["report", *command]).stdout
    assert "the window before from rollups" in " ".join(text.split())
    checked = runner.invoke(app, ["check", *command, "--json"])
    assert checked.exit_code in (0, 1) and "alerts" in json.loads(checked.stdout)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_minutes_past_the_horizon_are_pruned_and_every_report_stays_the_same(tmp_path, backend, monkeypatch):
    """A store keeping minute cells for 2 days (of 9) gives the same merged reports, byte for
    byte, as one keeping them all: the older minutes are read from their rows."""
    from console.store import rollups

    full_url = f"sqlite:///{tmp_path / 'full.db'}"
    _filled_store(full_url, tmp_path, labels=False).close()
    monkeypatch.setattr(rollups, "MINUTE_CELLS_KEPT_S", 2 * 86400)

    def check(url: str) -> None:
        _filled_store(url, tmp_path, labels=False).close()
        with Store(url) as store, store.engine.connect() as conn:
            db = rollups.Db(conn)
            newest = db.rows("SELECT max(bucket) FROM rollups WHERE span = 60")[0][0]
            kept_from = rollups.minutes_complete_from(conn)
            horizon = (newest - 2 * 86400) // 86400 * 86400  # whole days
            assert horizon <= kept_from < horizon + 3600
            hours = db.rows("SELECT count(*), sum(requests) FROM rollups WHERE span = 3600")[0]
            minutes = db.rows("SELECT sum(requests) FROM rollups WHERE span = 60")[0][0]
            assert 0 < minutes < hours[1]
        with Store(full_url) as store, store.engine.connect() as conn:
            assert rollups.Db(conn).rows("SELECT count(*), sum(requests) FROM rollups WHERE span = 3600")[0] == hours
        rng = random.Random(3)
        for trial in range(10):
            since = ["24h", "6h", "1h", "all", "7d"][trial % 5]
            moment = END.timestamp() - rng.uniform(0, 7 * 86400)
            now = datetime.fromtimestamp(moment, tz=timezone.utc).isoformat().replace("+00:00", "Z")
            settings = SETTINGS if trial % 2 else Settings()
            merged = [
                msgspec.to_builtins(make_report([], store=u, since=since, settings=settings, now=now, exact_max_rows=0))
                for u in (full_url, url)
            ]
            assert merged[0]["figures"]["source"] == "rollups"
            assert merged[0] == merged[1], (since, now)

    if backend == "sqlite":
        check(f"sqlite:///{tmp_path / 'pruned.db'}")
    else:
        with postgres_schema_url() as url:
            check(url)
