"""The live tail behind a firehose: its lines decoded and written by the decoding process
(console/live/decode_process.py) store what `ingest` stores, report the same bad lines with
file:line, and hand the analytics window the columns the records would have made."""

from __future__ import annotations

import sqlite3
import time

import numpy as np
import pytest

from conftest import line_of, make_record
from console.analytics.columns import Columns
from console.ingest import ingest_files
from console.live import decode_process, tail
from console.live.events import IngestFailed, RecordsArrived
from console.live.ingest_thread import run_ingest
from console.live.live_writer import LiveWriter
from console.records import parse_line
from console.store import Store
from test_otlp import CHAT, span, traces

LINES = 3_000


@pytest.fixture
def small_batches(monkeypatch):
    """Batches of 200 lines: a log of a few thousand is 'behind' at once."""
    monkeypatch.setattr(tail, "LIVE_BATCH_LINES", 200)
    started = []
    original = decode_process.DecodeProcess.__init__

    def counting(self, *args, **kwargs):
        started.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(decode_process.DecodeProcess, "__init__", counting)
    return started


def a_log(write_log, extra: dict[int, str] | None = None):
    items: list[str] = []
    bad: list[int] = []
    for i in range(LINES):
        if i % 700 == 5:
            items.append("{not json\n")
            bad.append(len(items))
        elif i % 900 == 7:
            items.append("\n")  # blank: skipped, counted in line numbers
        elif extra and i in extra:
            items.append(extra[i])
        else:
            items.append(line_of(make_record(latency_ms=100.0 + i, cost_usd=None if i % 3 else 0.01)))
    return write_log("app.jsonl", items), bad


def tail_until_done(log, url: str, wanted_rows: int, wanted_rejected: int, feed=None):
    """The live console's ingest thread on the log until it stored every row."""
    added, rejected, columns = [0], [], []
    take = tail.Arrivals.take

    def post(message):
        if isinstance(message, RecordsArrived):
            added[0] += message.added
            rejected.extend(message.rejected)
        assert not isinstance(message, IngestFailed), message

    def taking(self, written):
        columns.extend(stored.columns for stored, _ in written if stored.columns is not None)
        take(self, written)

    tail.Arrivals.take = taking
    try:
        deadline = time.monotonic() + 60
        run_ingest(post, lambda: (added[0] >= wanted_rows and len(rejected) >= wanted_rejected)
                   or time.monotonic() > deadline, [str(log)], url)  # fmt: skip
    finally:
        tail.Arrivals.take = take
    return added[0], rejected, columns


def table(db, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def same_stores(live_db, ingested_db) -> None:
    request_rows = "SELECT * FROM requests ORDER BY id"
    assert table(live_db, request_rows) == table(ingested_db, request_rows)
    with Store(f"sqlite:///{live_db}") as live, Store(f"sqlite:///{ingested_db}") as ingested:
        ids = [row[0] for row in table(live_db, "SELECT request_id FROM requests")]
        from console.store.evaluation import EvaluationStore

        assert EvaluationStore(live).records(ids) == EvaluationStore(ingested).records(ids)  # bodies too
        a, b = live.load_columns(), ingested.load_columns()
        for name in ("ts", "latency_ms", "cost_usd", "input_tokens", "request_key"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    from console.store.rollups import COLUMNS, TABLE

    for kind, name in TABLE.items():  # every cell, whatever the batches were (ids are not)
        columns = ", ".join(COLUMNS[kind])
        keys = ", ".join(c for c in COLUMNS[kind] if c not in ("latency", "ttft"))
        cells = f"SELECT {columns} FROM {name} ORDER BY {keys}"
        assert table(live_db, cells) == table(ingested_db, cells)
    rejected = "SELECT source, line_no, reason, excerpt FROM rejected_lines ORDER BY line_no"
    assert table(live_db, rejected) == table(ingested_db, rejected)


def test_a_tail_behind_stores_through_the_decoding_process_what_ingest_stores(tmp_path, write_log, small_batches):
    log, bad = a_log(write_log)
    good = LINES - len(bad) - sum(1 for i in range(LINES) if i % 900 == 7 and i % 700 != 5)
    added, rejected, columns = tail_until_done(log, f"sqlite:///{tmp_path / 'live.db'}", good, len(bad))
    assert small_batches, "the decoding process was used"
    assert added == good
    assert [(r.path, r.line_no) for r in rejected] == [(str(log), n) for n in bad]
    assert all(r.reason.startswith("invalid JSON") for r in rejected)
    with Store(f"sqlite:///{tmp_path / 'ingested.db'}") as store:
        ingest_files(store, [str(log)], parallel=False)
    same_stores(tmp_path / "live.db", tmp_path / "ingested.db")

    # the columns handed to the analytics window are those its records make
    assert columns, "rows came back as columns"
    window = Columns()
    for part in columns:
        window.extend(part)
    records = [parse_line(line) for line in log.read_bytes().splitlines() if line.startswith(b'{"')]
    tail_rows = records[len(records) - len(window):]
    expected = Columns()
    expected.append(tail_rows)
    for name in ("ts", "latency_ms", "input_tokens", "request_key", "is_error"):
        np.testing.assert_array_equal(getattr(window, name), getattr(expected, name))
    for name in ("model", "prompt", "provider"):
        assert list(window.labels(name)) == list(expected.labels(name))


def test_a_span_line_in_a_jsonl_file_is_declined_and_read_by_the_tail(tmp_path, write_log, small_batches, monkeypatch):
    """An OTLP line in a JSONL file (read with the file's stream joiner) goes back to the tail,
    and every batch after it until the tail resumes the process: all stored, once, in order."""
    span_line = traces(span(**CHAT, gen_ai__usage__input_tokens=5, gen_ai__usage__output_tokens=2)) + "\n"
    log, bad = a_log(write_log, {1500: span_line})
    declined = []
    parse_here = LiveWriter._parse_here
    monkeypatch.setattr(LiveWriter, "_parse_here", lambda self, batch: (declined.append(1), parse_here(self, batch)))
    good = LINES - len(bad) - sum(1 for i in range(LINES) if i % 900 == 7 and i % 700 != 5)
    added, rejected, _ = tail_until_done(log, f"sqlite:///{tmp_path / 'live.db'}", good, len(bad))
    assert small_batches
    assert added == good
    assert [(r.path, r.line_no) for r in rejected] == [(str(log), n) for n in bad]
    with Store(f"sqlite:///{tmp_path / 'ingested.db'}") as store:
        ingest_files(store, [str(log)], parallel=False)
    same_stores(tmp_path / "live.db", tmp_path / "ingested.db")
    assert table(tmp_path / "live.db", "SELECT count(DISTINCT request_id) FROM requests") == [(good,)]
    assert declined, "the span's batch was parsed by the tail"
