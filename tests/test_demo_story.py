"""The demo story: reproducible records, valid schema v1, the incidents findable, the live simulator."""

from __future__ import annotations

import json
import re
import runpy
import statistics
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from console.demo import texts
from console.demo.simulate import main as simulate_main
from console.demo.story import (
    DEFAULT_END,
    INCIDENT_MODEL,
    SPIKE_USER_ID,
    LiveStory,
    dumps,
    generate_history,
    history_events,
    price_usd,
    simulate,
)
from console.records import parse_line

REPO = Path(__file__).resolve().parents[1]
TS_FORMAT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
CORE_TYPES = {"ts": str, "request_id": str, "model": str, "prompt_id": str, "prompt_version": str,
              "input_tokens": int, "output_tokens": int, "latency_ms": (int, float), "status": str}
REFUSAL_STARTS = ("I'm sorry", "I'm not able")
REGIONS = {"eu-west-1", "us-east-1", "ap-southeast-2"}
FOLLOW_UP_MESSAGES = {message for _, message, _ in texts.FOLLOW_UPS}


@pytest.fixture(scope="module")
def history() -> list[dict]:
    return list(generate_history())


def parse_ts(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def production(record: dict) -> bool:
    return record.get("environment", "production") == "production"  # production never sets it


def is_bad(record: dict) -> bool:
    """What an on-call engineer counts as a bad answer: thumbs down, truncated, or refused."""
    return (record.get("feedback") in (-1, "down") or record.get("finish_reason") == "length"
            or record.get("output", "").startswith(REFUSAL_STARTS))


def test_same_seed_gives_the_same_records_and_another_seed_does_not():
    first = [dumps(r) for r in generate_history(300, seed=3)]
    assert first == [dumps(r) for r in generate_history(300, seed=3)]
    assert first != [dumps(r) for r in generate_history(300, seed=4)]


@pytest.mark.parametrize("n", [0, 1, 777])
def test_count_order_and_span(n):
    end = datetime(2026, 1, 2, tzinfo=timezone.utc)
    records = list(generate_history(n, end=end, days=1.5))
    assert len(records) == n
    stamps = [r["ts"] for r in records]
    assert stamps == sorted(stamps)
    assert all(TS_FORMAT.match(ts) for ts in stamps)
    assert all(end - timedelta(days=1.5) <= parse_ts(ts) < end for ts in stamps)


def test_every_record_has_the_core_fields_with_the_right_types(history):
    assert len(history) == 10_000
    for record in history:
        for field, kind in CORE_TYPES.items():
            assert isinstance(record[field], kind) and not isinstance(record[field], bool), (field, record)
        assert record["status"] in ("ok", "error")
        assert record["input_tokens"] >= record.get("cached_input_tokens", 0) >= 0
        assert record["latency_ms"] >= 0
        assert isinstance(record.get("cost_usd", 0.0), float)
        assert re.fullmatch(r"req_[0-9a-f]{12}", record["request_id"])
        assert re.fullmatch(r"[0-9a-f]{32}", record.get("trace_id", "0" * 32))
        assert re.fullmatch(r"[0-9a-f]{12}", record["prompt_hash"])
        if record["status"] == "error":
            assert record["error_type"] and record["error_message"] and "output" not in record
        else:
            assert isinstance(record["output"], str) and "error_type" not in record
        assert isinstance(record["input"], str) and record["input"]
    assert len({r["request_id"] for r in history}) == len(history)


def test_numbers_have_no_long_float_tails(history):
    for record in history:
        assert re.fullmatch(r"\d+(\.\d)?", dumps(record["latency_ms"])), record["latency_ms"]
        assert isinstance(record.get("ttft_ms", 0), int)
        if "cost_usd" in record:
            assert float(f"{record['cost_usd']:.6g}") == record["cost_usd"]


def test_records_are_small_enough_for_ten_thousand_in_five_megabytes(history):
    sizes = [len(dumps(r).encode()) + 1 for r in history]
    assert sum(sizes) / len(sizes) < 495


def test_each_service_logs_what_it_knows(history):
    """The chat server, the triage worker and the handoff worker log different optional fields."""
    n = len(history)
    for r in history:
        chat, ok = r["prompt_id"] == "support-answer", r["status"] == "ok"
        assert r["region"] in REGIONS and isinstance(r["user_id"], str)  # `region` ends up in metadata
        assert r.get("environment", "staging") == "staging"
        assert r.get("finish_reason") != "stop"  # logged only when the answer did not end normally
        assert ("session_id" in r) == chat and ("ttft_ms" in r) == (chat and ok)
        assert ("cost_usd" in r) == (r["prompt_id"] == "summarize-thread" and ok)
        assert ("variant" in r) == (r["prompt_id"] == "ticket-classifier")
        assert not (chat and "cached_input_tokens" in r)  # streamed usage has no cached count
        assert "tags" not in r or (chat and set(r["tags"]) <= {"email", "vip"})
    assert 0.02 < sum("trace_id" in r for r in history) / n < 0.1  # the tracer samples 5%
    assert 0.02 < sum(r.get("environment") == "staging" for r in history) / n < 0.05
    assert any("retry_attempt" in r for r in history)  # another key outside the schema


def test_the_mix_looks_like_production(history):
    n = len(history)
    assert 0.06 < sum("feedback" in r for r in history) / n < 0.10
    assert 0.01 < sum(r["status"] == "error" for r in history) / n < 0.04
    assert {r["feedback"] for r in history if "feedback" in r} == {1, -1, "up", "down"}
    assert {r["model"] for r in history} == {"claude-sonnet-4-5", "claude-haiku-4-5", "gpt-4o", "gpt-4o-mini",
                                             "o3-mini"}
    assert {r["prompt_id"] for r in history} == {"support-answer", "ticket-classifier", "summarize-thread"}
    assert any("cached_input_tokens" in r for r in history)
    assert any("reasoning_tokens" in r for r in history if r["model"] == "o3-mini")


def test_chats_have_several_turns(history):
    chat = [r for r in history if r["prompt_id"] == "support-answer" and r["user_id"] != SPIKE_USER_ID]
    turns: dict[str, list[dict]] = {}
    for r in chat:
        turns.setdefault(r["session_id"], []).append(r)
    assert 2 < len(chat) / len(turns) < 4
    assert max(len(rs) for rs in turns.values()) <= 10
    follow_ups = [r for r in chat if r["input"] in FOLLOW_UP_MESSAGES]
    assert 0.4 < len(follow_ups) / len(chat) < 0.65
    assert all(len({r["user_id"] for r in rs}) == 1 for rs in turns.values())
    longer = [rs for rs in turns.values() if len(rs) >= 3]  # later turns carry the conversation so far
    assert longer and statistics.mean(rs[-1]["input_tokens"] - rs[0]["input_tokens"] for rs in longer) > 0


def test_costs_use_the_listed_prices():
    assert price_usd("gpt-4o", 1_000_000, 1_000_000) == pytest.approx(12.5)
    assert price_usd("claude-sonnet-4-5", 2000, 0, cached_input_tokens=1000) == pytest.approx(0.0033)


def test_support_answer_v8_rollout_raises_the_bad_rate(history):
    events = history_events()
    support = [r for r in history if r["prompt_id"] == "support-answer" and r["status"] == "ok"]
    v7 = [r for r in support if r["prompt_version"] == "v7" and production(r)]
    v8 = [r for r in support if r["prompt_version"] == "v8" and production(r)]
    rate = {name: sum(map(is_bad, rs)) / len(rs) for name, rs in (("v7", v7), ("v8", v8))}
    assert rate["v8"] > 3 * rate["v7"], rate
    thumbs_down = {name: sum(r["feedback"] in (-1, "down") for r in rs if "feedback" in r)
                   / sum("feedback" in r for r in rs) for name, rs in (("v7", v7), ("v8", v8))}
    assert thumbs_down["v8"] > 1.8 * thumbs_down["v7"], thumbs_down
    first_production_v8 = min(parse_ts(r["ts"]) for r in v8)
    assert events["v8_canary"] <= first_production_v8 < events["v8_half"]
    first_staging_v8 = min(parse_ts(r["ts"]) for r in support if r["prompt_version"] == "v8" and not production(r))
    assert events["v8_staging"] <= first_staging_v8 < events["v8_canary"]
    assert not any(r["prompt_version"] == "v7" and parse_ts(r["ts"]) >= events["v8_full"] for r in v7)


def test_latency_incident_on_one_model(history):
    events = history_events()
    start, end = events["latency_incident_start"], events["latency_incident_end"]
    during, before = [], []
    for r in history:
        if r["model"] == INCIDENT_MODEL and r["user_id"] != SPIKE_USER_ID:
            (during if start <= parse_ts(r["ts"]) < end else before).append(r)
    assert p95([r["latency_ms"] for r in during]) > 2 * p95([r["latency_ms"] for r in before])
    assert statistics.median(r["ttft_ms"] for r in during if "ttft_ms" in r) > 3 * statistics.median(
        r["ttft_ms"] for r in before if "ttft_ms" in r)
    assert any(r.get("error_type") == "APITimeoutError" for r in during)
    errors = {name: sum(r["status"] == "error" for r in rs) / len(rs) for name, rs in (("during", during),
                                                                                       ("before", before))}
    assert errors["during"] > 3 * errors["before"], errors
    others_during = [r["latency_ms"] for r in history
                     if r["model"] == "gpt-4o" and start <= parse_ts(r["ts"]) < end]
    others_before = [r["latency_ms"] for r in history
                     if r["model"] == "gpt-4o" and not start <= parse_ts(r["ts"]) < end]
    assert p95(others_during) < 1.5 * p95(others_before)
    assert p95(others_during) < p95([r["latency_ms"] for r in during]) / 2


def test_cost_spike_from_one_user(history):
    events = history_events()
    spend_per_hour: dict[str, float] = {}
    for r in history:
        if r["status"] == "ok":
            cost = r.get("cost_usd", price_usd(r["model"], r["input_tokens"], r["output_tokens"],
                                               r.get("cached_input_tokens", 0)))
            spend_per_hour[r["ts"][:13]] = spend_per_hour.get(r["ts"][:13], 0.0) + cost
    spike_hours = {events[key].strftime("%Y-%m-%dT%H") for key in ("cost_spike_start", "cost_spike_end")}
    costliest = max(spend_per_hour, key=spend_per_hour.get)
    assert costliest in spike_hours
    assert spend_per_hour[costliest] > 12 * statistics.median(spend_per_hour.values())
    spiker = [r for r in history if r["user_id"] == SPIKE_USER_ID and r["status"] == "ok"]
    assert spiker and min(r["input_tokens"] for r in spiker) > 30_000
    assert all(events["cost_spike_start"] <= parse_ts(r["ts"]) < events["cost_spike_end"] for r in spiker)


def test_one_prompt_version_drifts(history):
    hashes: dict[tuple, set] = {}
    for r in history:
        hashes.setdefault((r["prompt_id"], r["prompt_version"]), set()).add(r["prompt_hash"])
    drifted = {key for key, seen in hashes.items() if len(seen) > 1}
    assert drifted == {("summarize-thread", "v2")}
    events = history_events()
    v2 = [r for r in history if r["prompt_id"] == "summarize-thread" and r["prompt_version"] == "v2"]
    usual = statistics.mode(r["prompt_hash"] for r in v2)
    odd = [r for r in v2 if r["prompt_hash"] != usual]
    assert len(odd) > 30 and {r["region"] for r in odd} == {"eu-west-1"}
    assert all(parse_ts(r["ts"]) >= events["prompt_drift_start"] for r in odd)
    assert all("plan" in r["output"].lower() for r in odd if r["status"] == "ok")  # the edit shows


def test_some_outputs_carry_markup_escapes_and_broken_json(history):
    outputs = [r["output"] for r in history if r.get("output")]
    assert any("\x1b" in out for out in outputs)
    assert any(re.search(r"\[(bold|link=|/\]|blink)", out) for out in outputs)
    assert sum("\x1b" in out or "[/" in out or "[link=" in out for out in outputs) < 0.02 * len(outputs)
    classifier = [r["output"] for r in history if r["prompt_id"] == "ticket-classifier" and r["status"] == "ok"]
    invalid = 0
    for out in classifier:
        try:
            json.loads(out)
        except ValueError:
            invalid += 1
    assert 0 < invalid < 0.1 * len(classifier)
    assert {r.get("variant") for r in history if r["prompt_id"] == "ticket-classifier"} == {"A", "B"}


def test_live_story_cycles_through_the_incidents():
    start = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)
    story = LiveStory(seed=5, start=start)
    by_second = [(s, story.next_record(start + timedelta(seconds=s / 10))) for s in range(1800)]
    in_incident = [r["latency_ms"] for s, r in by_second if 20 <= s / 10 < 60 and r["model"] == INCIDENT_MODEL]
    calm = [r["latency_ms"] for s, r in by_second if 60 <= s / 10 < 180 and r["model"] == INCIDENT_MODEL
            and r["user_id"] != SPIKE_USER_ID]
    assert statistics.median(in_incident) > 1.5 * statistics.median(calm)
    production_v8 = {s / 10 for s, r in by_second if r["prompt_version"] == "v8" and production(r)}
    assert production_v8 and min(production_v8) >= 75 and max(production_v8) < 150
    spiker = [s / 10 for s, r in by_second if r["user_id"] == SPIKE_USER_ID]
    assert spiker and 110 <= min(spiker) and max(spiker) < 140
    assert all(TS_FORMAT.match(r["ts"]) for _, r in by_second)


def _wait_for_lines(path: Path, count: int, timeout: float = 1.5) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            lines = path.read_text(encoding="utf-8").splitlines()
            if len(lines) >= count:
                return lines
        time.sleep(0.01)
    raise AssertionError(f"fewer than {count} lines in {path} after {timeout}s")


def test_simulate_appends_records_until_stopped(tmp_path):
    path = tmp_path / "logs" / "live.jsonl"
    stop = threading.Event()
    thread = threading.Thread(target=simulate, args=(path,), kwargs={"rate": 500.0, "stop": stop}, daemon=True)
    thread.start()
    try:
        _wait_for_lines(path, 25)
    finally:
        stop.set()
        thread.join(timeout=1)
    assert not thread.is_alive()
    size = path.stat().st_size
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) >= 25
    for line in lines:
        parse_line(line)
        assert TS_FORMAT.match(json.loads(line)["ts"])
    assert abs(parse_ts(json.loads(lines[-1])["ts"]) - datetime.now(timezone.utc)) < timedelta(seconds=10)
    time.sleep(0.05)
    assert path.stat().st_size == size  # nothing written after the stop


def test_simulate_command_line_stops_after_duration(tmp_path):
    path = tmp_path / "live.jsonl"
    assert simulate_main([str(path), "--rate", "200", "--duration", "0.2"]) == 0
    assert len(path.read_text(encoding="utf-8").splitlines()) >= 5


def test_generate_script_reproduces_the_committed_samples(tmp_path):
    generate = runpy.run_path(str(REPO / "sample_logs" / "generate.py"), run_name="generate")
    assert generate["main"](["--out", str(tmp_path)]) == 0
    committed = sorted(p.name for p in (REPO / "sample_logs").glob("*.jsonl"))
    assert committed == sorted(p.name for p in tmp_path.glob("*.jsonl"))
    for name in committed:
        assert (tmp_path / name).read_bytes() == (REPO / "sample_logs" / name).read_bytes(), name
    assert sum(path.stat().st_size for path in (REPO / "sample_logs").iterdir() if path.is_file()) < 5_000_000


def test_committed_history_is_valid_and_ends_at_the_fixed_date():
    lines = []
    for name in ("support-chat.1.jsonl", "support-chat.jsonl"):
        lines += (REPO / "sample_logs" / name).read_text(encoding="utf-8").splitlines()
    records = [parse_line(line) for line in lines]
    assert len(records) == 10_000
    assert [r.ts for r in records] == sorted(r.ts for r in records)
    assert records[-1].ts < DEFAULT_END.timestamp()
    assert all(r.metadata["region"] in REGIONS for r in records)  # a key outside the schema, kept
