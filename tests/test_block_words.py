"""The `/` filter's text words over the history of a store with body blocks, read a block at a
time (console.store.block_words, word_history) instead of `body_has` a row at a time: the same
rows in the same order as the row-at-a-time filter, in steps that report their progress."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.analytics.filters import parse_filter
from console.ingest import ingest_files
from console.records import parse_line
from console.sources.base import SourceBatch
from console.store import Store, block_words
from console.store.block_words import _rules_out
from console.store.pages import RequestPages
from tests.conftest import line_of, make_record

START = datetime(2026, 11, 20, tzinfo=timezone.utc)


def _record(name: str, i: int, seconds: int) -> dict:
    ts = (START + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")
    record = make_record(request_id=f"{name}-{i:05d}", ts=ts, output=f"answer {i} about the {name} plan",
                         status="error" if i % 7 == 0 else "ok")  # fmt: skip
    if i % 7 == 0:
        record["error_message"] = f"Upstream timeout {i}"
        record["error_type"] = "RateLimitError" if i % 2 else "Timeout"
    if i % 5 == 0:
        record["output"] = f"The REFUND is due ({i})"
    if i % 11 == 0:  # the Kelvin sign lowers to an ASCII "k"
        record["output"] = "\u212aELVINZ scale"
    if i % 13 == 0:  # a dotted capital I lowers to "i" and a combining dot
        record["output"] = "QX\u0130 and CAFÉ"
    if i % 3 == 0:  # chat messages: stored as JSON text
        record["input"] = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": f"q{i} Zebra"}]
    return record


@pytest.fixture
def store_with_blocks(tmp_path, write_log, monkeypatch):
    """Loose rows before and after a bulk load, gathered into a block whose id range spans the
    bulk's blocks (blocks overlap), then loose rows again; bulk and tail interleaved in time."""
    monkeypatch.setattr("console.store.sqlite_writer.COMPACT_AT", 100)
    db = tmp_path / "store.db"
    store = Store(f"sqlite:///{db}")
    tail = [_record("tail", i, 2 * 50 * i + 1) for i in range(130)]
    for record in tail[:60]:
        store.write(SourceBatch(records=[parse_line(line_of(record))]))
    ingest_files(store, [str(write_log("bulk.jsonl", [_record("bulk", i, 2 * i) for i in range(3_000)]))])
    for start in range(60, 130, 10):
        store.write(SourceBatch(records=[parse_line(line_of(r)) for r in tail[start : start + 10]]))
    with sqlite3.connect(db) as conn:
        spans = conn.execute("SELECT first_id, last_id FROM body_blocks ORDER BY first_id").fetchall()
        loose = conn.execute("SELECT count(*) FROM request_bodies").fetchone()[0]
    assert any(last - first >= 3_000 for first, last in spans) and 0 < loose < 100, (spans, loose)
    yield store
    store.close()


def _whole_history(pages: RequestPages, text: str, limit: int) -> tuple[list[int], int]:
    """The history read step by step as the pager does (newest first); and how many steps."""
    where = pages.compile(parse_filter(text), indexed=True)
    top, before, shown, steps = pages.max_id(), None, [], 0
    while True:
        ids, ts, before = pages.history_keys(where, top, before, limit)
        assert list(ts) == sorted(ts)
        shown = ids.tolist() + shown
        steps += 1
        if before is None:
            return shown, steps


def _expected(store: Store, pages: RequestPages, text: str) -> list[int]:
    """The rows the row-at-a-time filter (`body_has`) finds, oldest first by (ts, id)."""
    ids = pages.keys(pages.compile(parse_filter(text), indexed=True), 0)[0].tolist()
    with sqlite3.connect(store.sqlite_path) as conn:
        ts = dict(conn.execute(f"SELECT id, ts FROM requests WHERE id IN ({','.join(map(str, ids)) or 0})"))
    return sorted(ids, key=lambda i: (ts[i], i))


@pytest.mark.parametrize(
    "text",
    [
        "refund", "zebra", "kelvinz", "qxi", "café", "timeout", "ratelimit", "bulk-0004", "tail plan",
        "-refund", "refund -zebra", "status:error timeout", "model:gpt refund", "zzz-nowhere", "crème",
    ],
)  # fmt: skip
def test_words_over_blocks_find_what_the_row_at_a_time_filter_finds(store_with_blocks, text, monkeypatch):
    monkeypatch.setattr("console.store.word_history.FIRST_CANDIDATES", 16)
    monkeypatch.setattr("console.store.word_history.SCAN_ROWS", 500)
    pages = RequestPages(store_with_blocks.engine)
    expected = _expected(store_with_blocks, pages, text)
    assert pages.compile(parse_filter(text), indexed=True).words, "the scan looks in the blocks itself"
    for limit in (7, 100, 10_000):
        assert _whole_history(pages, text, limit)[0] == expected, (text, limit)


def test_the_characters_that_lower_to_ascii_are_found(store_with_blocks):
    """A block's bytes rule a word out only when no text could hold it once lowered."""
    pages = RequestPages(store_with_blocks.engine)
    for text, holds in (("kelvinz", lambda i: i % 11 == 0 and i % 13), ("qxi", lambda i: i % 13 == 0)):
        found = {r.request_id for r in pages.records(_whole_history(pages, text, 1_000)[0]).values()}
        assert found == {f"{n}-{i:05d}" for n, count in (("bulk", 3_000), ("tail", 130)) for i in range(count) if holds(i)}


def test_a_rare_word_is_scanned_in_steps_that_say_how_far_they_got(store_with_blocks, monkeypatch):
    """A step reads at most SCAN_ROWS rows, so a word found nowhere reports progress instead of
    holding the pager until the whole history was read (10M rows: a minute)."""
    monkeypatch.setattr("console.store.word_history.SCAN_ROWS", 400)
    pages = RequestPages(store_with_blocks.engine)
    where = pages.compile(parse_filter("zzz-nowhere"), indexed=True)
    ids, _, before = pages.history_keys(where, pages.max_id(), None, 2_000)
    assert len(ids) == 0 and before is not None
    shown, steps = _whole_history(pages, "zzz-nowhere", 2_000)
    assert shown == [] and steps == int(np.ceil(3_130 / 400))


def test_loose_body_lowering_runs_on_loose_rows_only(tmp_path, write_log, monkeypatch):
    """text_lower is a call into Python: made for every row (AND does not stop SQLite from
    evaluating its other side) it cost a second a million rows; CASE keeps it to loose bodies."""
    import console.store.engine as engine

    calls = []
    real = engine._text_lower
    monkeypatch.setattr(engine, "_text_lower", lambda value: calls.append(value) or real(value))
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        ingest_files(store, [str(write_log("bulk.jsonl", [_record("bulk", i, 2 * i) for i in range(3_000)]))])
        for i in range(5):
            store.write(SourceBatch(records=[parse_line(line_of(_record("tail", i, 7_000 + i)))]))
        pages = RequestPages(store.engine)
        assert len(_whole_history(pages, "zzz-nowhere", 2_000)[0]) == 0
        assert 0 < len(calls) <= 3 * 5, len(calls)
    finally:
        store.close()


_TRICKY = "aAkKiIsSzZ\u212a\u212b\u0130\u0131\u0307éÉåÅßẞΣσςΟοΔδǄǅǆ日本 "


@settings(max_examples=400, deadline=None)
@given(text=st.text(alphabet=_TRICKY, min_size=1, max_size=12), data=st.data())
def test_the_bytes_never_rule_out_a_text_that_holds_the_word(text, data):
    """A block's bytes may rule a word out only if no text in it holds the word once lowered
    (any script: the characters that lower into ASCII, İ's two characters, the final sigma)."""
    lowered = text.lower()
    start = data.draw(st.integers(0, len(lowered) - 1))
    word = lowered[start : data.draw(st.integers(start + 1, len(lowered)))]
    if word.strip():
        assert not _rules_out(text.encode(), word), (text, word)


def test_a_word_in_another_script_is_ruled_out_by_the_bytes():
    """A non-ASCII word found nowhere is ruled out block by block without decoding any text (it
    was searched text by text: ~7 s at a million rows against ~2.6 s for an ASCII word)."""
    block = "Das Café schließt um 18 Uhr. ΟΔΟΣ".encode()
    for absent in ("cafés", "straße", "οδα", "日本"):
        assert _rules_out(block, absent), absent
    for present in ("café", "schließt", "οδος", "das caf"):
        assert not _rules_out(block, present), present


def test_a_non_ascii_word_found_nowhere_decodes_no_block(store_with_blocks, monkeypatch):
    decoded = []
    real = block_words.decode_raw
    monkeypatch.setattr(block_words, "decode_raw", lambda raw: decoded.append(1) or real(raw))
    pages = RequestPages(store_with_blocks.engine)
    assert _whole_history(pages, "crème", 1_000)[0] == []
    assert decoded == []
    assert len(_whole_history(pages, "café", 1_000)[0]) > 0 and decoded
