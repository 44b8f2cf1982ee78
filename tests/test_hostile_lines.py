"""Every line accounted for: the parser and the tail fed arbitrary bytes (hypothesis).

Whatever is written, nothing raises out of the tail, and every non-blank complete line is
either a record or a rejection carrying its own line number; a line split across writes at
any point is read once, whole.
"""

from __future__ import annotations

import json
import os
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.records import RecordError, parse_line, to_json
from console.sources import jsonl
from console.sources.jsonl import JsonlTail

pytestmark = pytest.mark.resilience

BASE = {
    "ts": "2025-03-01T12:00:00Z",
    "request_id": "req",
    "model": "gpt-4o-mini",
    "prompt_id": "support",
    "prompt_version": "v3",
    "input_tokens": 120,
    "output_tokens": 40,
    "latency_ms": 812.5,
    "status": "ok",
}
GOOD = json.dumps(BASE).encode()
BOM = b"\xef\xbb\xbf"


def _with(key: str, raw: str) -> bytes:
    """The good line with one value replaced by raw JSON text (possibly out of range)."""
    obj = dict(BASE)
    obj[key] = "@@"
    return json.dumps(obj).encode().replace(b'"@@"', raw.encode())


def _nested(depth: int) -> bytes:
    return _with("metadata", '{"a":' * depth + "1" + "}" * depth)


HOSTILE_LINES = [
    GOOD,
    b"\xef\xbb\xbf" + GOOD,  # a BOM
    GOOD + b"\r",  # CRLF (the \n is added by the writer)
    GOOD[:-1] + b', "model": "dup", "model": "again"}',  # duplicate keys
    GOOD[:-1] + b', "x": 1, "x": 2, "metadata": {"a": 1}, "metadata": {"b": 2}}',
    GOOD[:-1] + b', "note": "caf\xe9"}',  # invalid UTF-8 inside a string
    b"\xff\xfe" + GOOD,  # UTF-16 BOM
    GOOD.replace(b'"gpt-4o-mini"', b'"gpt\\u0000mini"'),  # escaped NUL
    GOOD.replace(b'"gpt-4o-mini"', b'"gpt\x00mini"'),  # raw NUL
    GOOD.replace(b'"gpt-4o-mini"', b'"\\ud800"'),  # lone surrogate
    _with("latency_ms", "1e400"),
    _with("cost_usd", "1e400"),
    _with("ts", "1e400"),
    _with("ts", "1e300"),
    _with("ts", "1e15"),
    _with("ts", '"9999-12-31T23:59:59-14:00"'),
    _with("ts", '"0001-01-01T00:00:00+14:00"'),
    _with("input_tokens", str(2**70)),
    _with("output_tokens", str(2**63)),
    _with("cached_input_tokens", str(2**64)),
    _with("input_tokens", "-1"),
    _with("latency_ms", "-0.0"),
    _with("status", '"maybe"'),
    _with("metadata", "[" * 10_000 + "]" * 10_000),
    _nested(5_000),
    _nested(50),
    _with("output", '"' + "x" * 200_000 + '"'),
    b"{" * 300,
    b"null",
    b"[]",
    b'"just a string"',
    b"\x00" * 10,
    b"\x1b[31m not json \x1b]52;c;aGk=\x07",
    b"\t",
    b"\x0b\x0c",
    b"",
    b"   ",
]


@st.composite
def line_bodies(draw) -> bytes:
    kind = draw(st.integers(0, 19))
    if kind < 12:
        return draw(st.sampled_from(HOSTILE_LINES))
    if kind < 19:  # arbitrary bytes, without the newline that would end the line early
        return draw(st.binary(max_size=200)).replace(b"\n", b"")
    # rare: a huge line, over or under the 1 MiB limit
    return b"a" * draw(st.sampled_from([1 << 20, (1 << 20) + 1, 3 << 20]))


def _is_blank(line: bytes) -> bool:
    return not line.strip()  # the tail skips blank lines (whitespace only, CRLF's \r too)


@settings(max_examples=200, deadline=None)
@given(line=st.one_of(st.sampled_from(HOSTILE_LINES), st.binary(max_size=300)))
def test_parse_line_raises_only_record_errors_and_records_are_usable(line):
    try:
        record = parse_line(line)
    except RecordError:
        return
    except UnicodeDecodeError:
        return  # invalid UTF-8 inside a string: the tail turns it into a rejection
    # An accepted record is usable downstream: its time is a datetime, it encodes back.
    record.started_at
    assert parse_line(to_json(record)).request_id == record.request_id


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.data_too_large])
@given(
    bodies=st.lists(line_bodies(), min_size=1, max_size=25),
    endings=st.data(),
    cuts=st.lists(st.integers(1, 4000), min_size=1, max_size=30),
    tiny_chunks=st.booleans(),
    max_lines=st.sampled_from([1, 3, 20_000]),
    trailing=st.binary(max_size=20).map(lambda b: b.replace(b"\n", b"")),
)
def test_tail_accounts_for_every_line(bodies, endings, cuts, tiny_chunks, max_lines, trailing):
    ends = [endings.draw(st.sampled_from([b"\n", b"\r\n"])) for _ in bodies]
    data = b"".join(body + end for body, end in zip(bodies, ends)) + trailing
    complete = [body + end[:-1] for body, end in zip(bodies, ends)]  # as the tail splits them
    first = complete[0][3:] if complete[0][:3] == BOM else complete[0]  # a file's BOM is skipped
    expected = [no for no, line in enumerate([first, *complete[1:]], 1) if not _is_blank(line)]

    old_chunk = jsonl.CHUNK_BYTES
    if tiny_chunks and len(data) < 100_000:  # tiny chunks make a huge line quadratic to read
        jsonl.CHUNK_BYTES = 7
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "app.jsonl")
            open(path, "wb").close()
            tail = JsonlTail([path], max_lines=max_lines, watch=False)
            try:
                accepted, rejected = 0, []
                cut, i = 0, 0
                while cut < len(data):  # written in random pieces, read after each
                    step = cuts[i % len(cuts)] * (1 if i % 3 else 300)  # some big pieces
                    i += 1
                    with open(path, "ab") as f:
                        f.write(data[cut:cut + step])
                    cut += step
                    while True:
                        batch = tail.read_available()  # must never raise
                        accepted += len(batch.records)
                        rejected += batch.rejected
                        if not tail.has_more:
                            break
                (status,) = tail.files
            finally:
                tail.close()
    finally:
        jsonl.CHUNK_BYTES = old_chunk

    assert accepted + len(rejected) == len(expected)
    rejected_nos = [r.line_no for r in rejected]
    assert rejected_nos == sorted(rejected_nos)
    assert set(rejected_nos) <= set(expected)
    for r in rejected:  # each rejection names the line that really fails to parse
        line = complete[r.line_no - 1]
        if len(line) <= 1 << 20:
            try:
                parse_line(line)
            except Exception:  # noqa: BLE001
                pass
            else:
                raise AssertionError(f"line {r.line_no} rejected ({r.reason}) but it parses")
    assert status.lines_ok == accepted and status.lines_rejected == len(rejected)
    assert status.line_no == len(complete)
    assert status.offset == len(data) - len(trailing)


def test_out_of_range_values_and_deep_nesting_are_rejected_with_reasons():
    import pytest

    for line, reason in (
        (_with("ts", "1e300"), "years 1 to 9999"),  # accepted before: a datetime cannot hold it
        (_with("ts", '"9999-12-31T23:59:59-14:00"'), "years 1 to 9999"),
        (_with("input_tokens", str(2**70)), "input_tokens"),  # overflowed SQLite's INTEGER
        (_with("reasoning_tokens", str(2**63)), "reasoning_tokens"),
        (_nested(5_000), "nested too deeply"),  # was a RecursionError, not a RecordError
        (_with("latency_ms", "1e400"), "out of range"),
    ):
        with pytest.raises(RecordError, match=reason):
            parse_line(line)
    assert parse_line(_with("input_tokens", str(2**53 - 1))).input_tokens == 2**53 - 1


def test_a_file_named_like_a_glob_is_that_file(tmp_path):
    path = tmp_path / "app[1].jsonl"
    path.write_bytes(GOOD + b"\n")
    with JsonlTail([path], watch=False) as tail:
        assert len(tail.read_available().records) == 1


def test_a_bom_at_the_start_of_a_file_is_skipped_and_elsewhere_rejected_with_a_reason(tmp_path):
    path = tmp_path / "windows.jsonl"
    second = json.dumps({**BASE, "request_id": "req2"}).encode()
    third = json.dumps({**BASE, "request_id": "req3"}).encode()
    path.write_bytes(BOM + GOOD + b"\r\n" + BOM + second + b"\r\n" + third + b"\r\n")
    with JsonlTail([path], watch=False) as tail:
        batch = tail.read_available()
        (status,) = tail.files
    assert [r.request_id for r in batch.records] == ["req", "req3"]
    (rejected,) = batch.rejected
    assert rejected.line_no == 2 and "byte order mark (BOM)" in rejected.reason
    assert status.offset == path.stat().st_size and status.line_no == 3


def test_a_bom_split_across_writes_and_a_resume_after_it(tmp_path):
    from console.sources.base import FilePosition

    path = tmp_path / "app.jsonl"
    path.write_bytes(BOM[:2])
    with JsonlTail([path], watch=False) as tail:
        assert not tail.read_available().records
        with open(path, "ab") as f:
            f.write(BOM[2:] + GOOD + b"\n")
        assert [r.request_id for r in tail.read_available().records] == ["req"]
        (status,) = tail.files
    assert status.offset == len(BOM + GOOD) + 1
    with open(path, "ab") as f:
        f.write(json.dumps({**BASE, "request_id": "req2"}).encode() + b"\n")
    resume = FilePosition(str(path), path.stat().st_ino, status.offset, status.line_no)
    with JsonlTail([path], watch=False, positions={str(path): resume}) as tail:
        assert [r.request_id for r in tail.read_available().records] == ["req2"]
