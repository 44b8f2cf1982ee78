"""The parser and the JSON Schema file describe the same contract."""

from __future__ import annotations

import json

import jsonschema
import pytest

from conftest import REPO, make_record
from console.records import RecordError, parse_line, text_of, to_json

SCHEMA = json.loads((REPO / "schemas" / "request-log.v1.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def test_schema_is_valid_draft_2020_12():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_every_sample_log_line_is_valid():
    files = sorted((REPO / "sample_logs").glob("*.jsonl"))
    files = [f for f in files if "malformed" not in f.name]
    assert files, "sample_logs/ has no logs"
    checked = 0
    for path in files:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                record = json.loads(line)
                errors = list(VALIDATOR.iter_errors(record))
                assert not errors, f"{path.name}:{number}: {errors[0].message}"
                parse_line(line)
                checked += 1
    assert checked >= 5000


GOOD = [
    make_record(),
    make_record(ts="2026-11-20T12:00:00+02:00"),
    make_record(ts="2026-11-20T12:00:00.123456Z"),
    make_record(ts=1763640000),
    make_record(ts=1763640000123),
    make_record(ts=1763640000.25),
    make_record(cost_usd=0.0031, ttft_ms=210.0, cached_input_tokens=512, reasoning_tokens=64),
    make_record(feedback=-1),
    make_record(feedback=0.5),
    make_record(feedback="up"),
    make_record(feedback="down"),
    make_record(input=[{"role": "user", "content": "hi"}], output={"label": "billing"}),
    make_record(tags=["vip", "eu"], metadata={"region": "eu-west-1"}),
    make_record(tenant="acme", region="eu"),
    make_record(status="error", error_type="RateLimitError", error_message="429", output=None),
    make_record(latency_ms=0, input_tokens=0, output_tokens=0),
    make_record(output="[red]x[/red]\x1b[2J"),
]

BAD = [
    make_record(input_tokens="12"),
    make_record(input_tokens=-1),
    make_record(output_tokens=1.5),
    make_record(latency_ms=-3),
    make_record(latency_ms="fast"),
    make_record(status="maybe"),
    make_record(ts="2026-11-20T12:00:00"),
    make_record(ts="yesterday"),
    make_record(ts=-5),
    make_record(request_id=""),
    make_record(model=""),
    make_record(model=None),
    make_record(feedback=2),
    make_record(feedback="meh"),
    make_record(tags="vip"),
    make_record(tags=[1, 2]),
    make_record(metadata=[1]),
    make_record(cost_usd=-0.01),
    make_record(input_tokens=True),
    *[{k: v for k, v in make_record().items() if k != field} for field in (
        "ts", "request_id", "model", "prompt_id", "prompt_version",
        "input_tokens", "output_tokens", "latency_ms", "status",
    )],
]  # fmt: skip


@pytest.mark.parametrize("record", GOOD, ids=range(len(GOOD)))
def test_schema_and_parser_accept_the_same_good_records(record):
    assert VALIDATOR.is_valid(record)
    parse_line(json.dumps(record))


@pytest.mark.parametrize("record", BAD, ids=range(len(BAD)))
def test_schema_and_parser_reject_the_same_bad_records(record):
    assert not VALIDATOR.is_valid(record)
    with pytest.raises(RecordError):
        parse_line(json.dumps(record))


@pytest.mark.parametrize("line", ["{", "[]", "42", '"text"', "", "{'a': 1}", '{"ts": 1'])
def test_lines_that_are_not_objects_are_rejected_with_a_reason(line):
    with pytest.raises(RecordError) as err:
        parse_line(line)
    assert str(err.value)


def test_missing_core_field_names_the_field():
    record = make_record()
    del record["latency_ms"]
    with pytest.raises(RecordError, match="latency_ms"):
        parse_line(json.dumps(record))


def test_wrong_type_names_the_field():
    with pytest.raises(RecordError, match="input_tokens"):
        parse_line(json.dumps(make_record(input_tokens="12")))


def test_line_over_one_mebibyte_is_rejected():
    with pytest.raises(RecordError, match="1 MiB"):
        parse_line(json.dumps(make_record(output="x" * (1024 * 1024 + 10))))


def test_timestamps_normalise_to_epoch_seconds():
    expected = 1763640000.0
    assert parse_line(json.dumps(make_record(ts="2025-11-20T12:00:00Z"))).ts == expected
    assert parse_line(json.dumps(make_record(ts="2025-11-20T14:00:00+02:00"))).ts == expected
    assert parse_line(json.dumps(make_record(ts=1763640000))).ts == expected
    assert parse_line(json.dumps(make_record(ts=1763640000000))).ts == expected


def test_unknown_keys_are_kept_in_metadata():
    record = parse_line(json.dumps(make_record(tenant="acme", metadata={"region": "eu"})))
    assert record.metadata == {"tenant": "acme", "region": "eu"}
    record = parse_line(json.dumps(make_record(tenant="acme")))
    assert record.metadata == {"tenant": "acme"}


def test_unknown_keys_are_kept_however_many_and_whatever_their_names():
    """Learned keys (one pass) and past MAX_LEARNED_KEYS (two passes) give the same records;
    a key seen once is not carried into the next line, and errors still name the field."""
    from console.records import MAX_LEARNED_KEYS, RequestRecord

    for index in range(MAX_LEARNED_KEYS + 8):
        extra = {f"key-{index}": index, "with space": [index], "class": None}
        record = parse_line(json.dumps(make_record(**extra)))
        assert type(record) is RequestRecord
        assert record.metadata == extra
        assert parse_line(json.dumps(make_record())).metadata is None
    with pytest.raises(RecordError, match="latency_ms"):
        parse_line(json.dumps(make_record(**{"key-1": 1, "latency_ms": -1})))


def test_thumbs_feedback_becomes_a_number():
    assert parse_line(json.dumps(make_record(feedback="down"))).feedback == -1.0
    assert parse_line(json.dumps(make_record(feedback="up"))).feedback == 1.0


def test_round_trip_through_to_json():
    original = parse_line(json.dumps(make_record(tenant="acme", tags=["a"])))
    again = parse_line(to_json(original))
    assert again == original


def test_chat_messages_read_as_text():
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
    assert text_of(messages) == "system: be brief\nuser: hi"
