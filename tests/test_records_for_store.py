"""`ingest`'s bulk load parses lines with records_for_store (bodies kept as JSON text): what it
hands the store must be what parse_line's record gives, line by line, for the lines real
serializers write and for hostile ones; a line it cannot take must get parse_line's answer."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import orjson
import pytest

from console.records import RecordError, parse_line
from console.records_for_store import parse_line_for_store
from console.store.rows import body_tuple, request_tuple

ROOT = Path(__file__).resolve().parent.parent

CORE = {
    "ts": "2026-10-21T12:00:00.403Z", "request_id": "req_1", "model": "gpt-4o-mini",
    "prompt_id": "ticket-classifier", "prompt_version": "v4", "input_tokens": 12,
    "output_tokens": 3, "latency_ms": 563.4, "status": "ok",
}  # fmt: skip


def _stored(parse, line: bytes):
    record = parse(line)
    return request_tuple(record), body_tuple(record)


def _answer(parse, line: bytes):
    try:
        return _stored(parse, line)
    except RecordError as exc:
        return ("RecordError", str(exc))


def _decoded(body: tuple) -> tuple:
    """A body tuple with its JSON texts decoded (input and output when they are JSON)."""
    values = list(body)
    for at, is_json in ((0, 6), (1, 7)):
        if values[is_json] and values[at] is not None:
            values[at] = orjson.loads(values[at])
    return tuple(values)


def _bench_lines(count: int) -> list[bytes]:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from ingest import full_sized
    finally:
        sys.path.remove(str(ROOT / "bench"))
    from console.demo.story import generate_history

    return [
        json.dumps(full_sized(record, i), ensure_ascii=False, separators=(",", ":")).encode()
        for i, record in enumerate(generate_history(count, days=2.0))
    ]


def test_the_bench_logs_lines_are_stored_byte_for_byte_as_parse_line_stores_them():
    lines = _bench_lines(3000)
    for line in lines:
        assert _stored(parse_line_for_store, line) == _stored(parse_line, line)


def test_the_sample_logs_get_the_same_records_and_errors_as_parse_line():
    lines = [
        line
        for path in sorted((ROOT / "sample_logs").glob("*.jsonl"))
        for line in path.read_bytes().splitlines()
        if line.strip()
    ]
    assert len(lines) > 100
    rejected = 0
    for line in lines:
        fast, strict = _answer(parse_line_for_store, line), _answer(parse_line, line)
        assert fast == strict, line[:200]
        rejected += fast[0] == "RecordError"
    assert rejected  # malformed.jsonl's lines are refused with parse_line's reasons


MESSAGES = [
    {"role": "system", "content": "Réponds en français / answer in French — «vite»"},
    {"role": "user", "content": "tab\there, newline\nthere, quote \" and backslash \\ and \x1b[31m"},
    {"role": "assistant", "content": [{"type": "text", "text": "日本語 😀"}], "weight": 1.5e-3},
]


@pytest.mark.parametrize(
    "dumps",
    [
        pytest.param(lambda v: json.dumps(v), id="json.dumps defaults (ascii escapes, spaces)"),
        pytest.param(lambda v: json.dumps(v, ensure_ascii=False), id="json.dumps utf-8 with spaces"),
        pytest.param(lambda v: json.dumps(v, ensure_ascii=False, separators=(",", ":")), id="compact"),
        pytest.param(lambda v: orjson.dumps(v).decode(), id="orjson"),
        pytest.param(lambda v: json.dumps(v).replace("/", "\\/"), id="escaped slashes (PHP)"),
        pytest.param(lambda v: json.dumps(v, indent=None, separators=(" , ", " : ")), id="spaced tokens"),
    ],
)
def test_bodies_of_every_serializer_decode_to_what_parse_line_stores(dumps):
    record = {**CORE, "input": MESSAGES, "output": {"answer": "oui / yes", "n": [1, 2]}, "region": "eu",
              "metadata": {"host": "api-0"}, "tags": ["a/b"], "feedback": "down"}  # fmt: skip
    line = dumps(record).encode()
    fast, strict = _stored(parse_line_for_store, line), _stored(parse_line, line)
    assert fast[0] == strict[0]
    assert _decoded(fast[1]) == _decoded(strict[1])
    for at in (0, 1):  # a text with escapes is orjson's re-encoding: a word is found as written
        if "\\u" in fast[1][at] or "\\/" in fast[1][at]:
            assert fast[1][at] == strict[1][at]
    if b"\\u00e9" in line or b"\\/" in line:  # "é" or "/" escaped: found by the filter as typed
        assert fast[1][0] == strict[1][0]


def test_compact_utf8_bodies_are_kept_as_the_lines_own_text():
    line = orjson.dumps({**CORE, "input": MESSAGES, "output": "plain text"})
    stored = _stored(parse_line_for_store, line)[1]
    assert stored[0] == orjson.dumps(MESSAGES).decode() and stored[6] is True
    assert stored[1] == "plain text" and stored[7] is False


HOSTILE = [
    {**CORE, "input": 5},
    {**CORE, "output": True},
    {**CORE, "input": None, "output": None},
    {**CORE, "input": "", "output": []},
    {**CORE, "input": {}},
    {**CORE, "status": "maybe"},
    {**CORE, "input_tokens": -1},
    {key: value for key, value in CORE.items() if key != "model"},
    {**CORE, "ts": "2026-10-21T12:00:00"},
    {**CORE, "feedback": 3},
    {**CORE, "tags": [1, 2]},
    {**CORE, "metadata": "not an object"},
    {**CORE, "request_id": ""},
    {**CORE, **{f"extra_key_{i}": i for i in range(40)}},  # past the keys learned: parse_line's path
    {**CORE, "metadata": {"region": "kept"}, "region": "extra"},
]


@pytest.mark.parametrize("record", HOSTILE, ids=range(len(HOSTILE)))
def test_a_hostile_line_gets_parse_lines_answer(record):
    line = json.dumps(record).encode()
    assert _answer(parse_line_for_store, line) == _answer(parse_line, line)


@pytest.mark.parametrize(
    "line",
    [
        b"",
        b"not json",
        b"[1, 2]",
        b'{"ts": 1',
        orjson.dumps({**CORE, "input": "x"})[:-1] + b', "output": "\xff\xfe"}',  # not UTF-8 in a body
        orjson.dumps({**CORE, "input": "x"})[:-1] + b', "output": ["\\ud800"]}',  # a lone surrogate
        orjson.dumps({**CORE, "input": "x" * (1024 * 1024)}),  # over the size limit
    ],
    ids=["empty", "not json", "array", "truncated", "bad utf-8", "lone surrogate", "too long"],
)
def test_broken_lines_get_parse_lines_error(line):
    strict = _answer(parse_line, line)
    assert strict[0] == "RecordError"  # whichever msgspec (0.19 raised UnicodeDecodeError for bad UTF-8)
    assert _answer(parse_line_for_store, line) == strict


def test_random_records_agree_with_parse_line():
    rng = random.Random(7)
    texts = ["", "a/b", "é", "\\", '"', "\n", "\u2028", "😀", "<script>", "\x00", "\\u0041"]
    for _ in range(500):
        body = rng.choice([
            rng.choice(texts) * rng.randint(0, 3),
            [{"role": rng.choice(["user", "system"]), "content": rng.choice(texts)}],
            {rng.choice(texts): [rng.random(), None, True, rng.choice(texts)]},
            None,
        ])  # fmt: skip
        record = {**CORE, "input": body, "output": rng.choice([body, None, "ok"])}
        if rng.random() < 0.3:
            record["retry_attempt"] = rng.randint(0, 3)
        line = (json.dumps(record, ensure_ascii=rng.random() < 0.5) if rng.random() < 0.5 else orjson.dumps(record).decode()).encode()
        fast, strict = _answer(parse_line_for_store, line), _answer(parse_line, line)
        if fast[0] == "RecordError":
            assert fast == strict
        else:
            assert fast[0] == strict[0] and _decoded(fast[1]) == _decoded(strict[1])
