"""console/emit.py: the logger apps adopt: whole lines from many processes, track(), limits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import jsonschema
import pytest

from conftest import REPO
from console.emit import MAX_LINE_BYTES, RequestLogger
from console.records import parse_line

SCHEMA = json.loads((REPO / "schemas" / "request-log.v1.schema.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def lines_of(path) -> list[dict]:
    out = []
    for line in path.read_bytes().split(b"\n")[:-1]:
        record = json.loads(line)
        assert not list(VALIDATOR.iter_errors(record)), record
        parse_line(line)
        out.append(record)
    return out


def test_track_writes_one_valid_record_with_latency_usage_and_output(tmp_path):
    path = tmp_path / "logs" / "app.jsonl"  # the directory is created
    log = RequestLogger(path, environment="production", tags=["canary"])
    messages = [{"role": "user", "content": "Where is my refund?"}]
    with log.track(model="gpt-4o-mini", prompt_id="support-answer", prompt_version="v7", input=messages,
                   user_id="u-1") as call:
        call.first_token()
        call.set_usage(812, 143, cached_input_tokens=512)
        call.set_output("Within 5 days.", finish_reason="stop")
        call.set(response_model="gpt-4o-mini-2024-07-18", metadata={"region": "eu"})
    (record,) = lines_of(path)
    assert record["request_id"] == call.request_id and record["request_id"].startswith("req_")
    assert record["ts"].endswith("Z") and record["status"] == "ok"
    assert (record["input_tokens"], record["output_tokens"], record["cached_input_tokens"]) == (812, 143, 512)
    assert record["input"] == messages and record["output"] == "Within 5 days."
    assert record["environment"] == "production" and record["tags"] == ["canary"]
    assert 0 <= record["ttft_ms"] <= record["latency_ms"]
    assert record["metadata"] == {"region": "eu"} and record["user_id"] == "u-1"


def test_an_exception_in_the_block_is_logged_as_an_error_and_raised(tmp_path):
    log = RequestLogger(tmp_path / "app.jsonl")
    with pytest.raises(TimeoutError):
        with log.track(model="gpt-4o", prompt_id="p", prompt_version="v1"):
            raise TimeoutError("read timed out")
    with log.track(model="gpt-4o") as call:
        call.fail("content_filter", "blocked by the provider")
    first, second = lines_of(tmp_path / "app.jsonl")
    assert (first["status"], first["error_type"], first["error_message"]) == ("error", "TimeoutError", "read timed out")
    assert (first["input_tokens"], first["output_tokens"]) == (0, 0)
    assert (second["status"], second["error_type"]) == ("error", "content_filter")
    assert (second["prompt_id"], second["prompt_version"]) == ("unknown", "unversioned")


def test_prompt_blocks_name_the_prompt_and_content_can_be_left_out(tmp_path):
    log = RequestLogger(tmp_path / "app.jsonl", capture_content=False)
    with log.prompt("faq", "v3"):
        with log.track(model="gpt-4o", input="secret question") as call:
            call.set_output("secret answer")
    (record,) = lines_of(tmp_path / "app.jsonl")
    assert (record["prompt_id"], record["prompt_version"]) == ("faq", "v3")
    assert "input" not in record and "output" not in record


def test_a_record_too_long_for_one_line_is_cut_and_marked(tmp_path):
    log = RequestLogger(tmp_path / "app.jsonl")
    with log.track(model="gpt-4o", input="é" * MAX_LINE_BYTES) as call:
        call.set_output("x" * 2 * MAX_LINE_BYTES)
    data = (tmp_path / "app.jsonl").read_bytes()
    assert len(data) <= MAX_LINE_BYTES
    (record,) = lines_of(tmp_path / "app.jsonl")
    assert record["metadata"]["truncated"] is True and record["output"].endswith("…")


def test_a_rotated_file_is_reopened_at_its_path(tmp_path):
    path = tmp_path / "app.jsonl"
    log = RequestLogger(path)
    log.log(model="m", prompt_id="p", prompt_version="v", input_tokens=1, output_tokens=1, latency_ms=1,
            status="ok", request_id="before")
    path.rename(tmp_path / "app.jsonl.1")
    log.log(model="m", prompt_id="p", prompt_version="v", input_tokens=1, output_tokens=1, latency_ms=1,
            status="ok", request_id="after")
    assert [r["request_id"] for r in lines_of(tmp_path / "app.jsonl.1")] == ["before"]
    assert [r["request_id"] for r in lines_of(path)] == ["after"]
    log.close()
    assert log.dropped == 0


WRITER = textwrap.dedent("""
    import sys, threading
    from console.emit import RequestLogger
    path, worker = sys.argv[1], int(sys.argv[2])
    log = RequestLogger(path)
    def run(thread):
        for i in range(40):
            size = (worker * 7919 + thread * 104729 + i * 15485863) % 200_000  # 0..200 KB of text
            with log.track(model="gpt-4o", prompt_id="p", prompt_version="v1",
                           request_id=f"w{worker}-t{thread}-{i}") as call:
                call.set_output(chr(65 + worker) * size)
    threads = [threading.Thread(target=run, args=(t,)) for t in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert log.dropped == 0
""")


def test_four_processes_with_four_threads_each_write_only_whole_lines(tmp_path):
    path = tmp_path / "shared.jsonl"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(w)], env=env) for w in range(4)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    data = path.read_bytes()
    assert data.endswith(b"\n")
    ids = []
    for line in data.split(b"\n")[:-1]:
        record = parse_line(line)  # raises on a torn or interleaved line
        worker = int(record.request_id[1])
        assert set(record.output or chr(65 + worker)) == {chr(65 + worker)}, "bytes of two lines mixed"
        ids.append(record.request_id)
    assert len(ids) == len(set(ids)) == 4 * 4 * 40


def test_the_module_imports_only_the_standard_library():
    code = textwrap.dedent("""
        import sys
        before = set(sys.modules)
        import console.emit
        new = {m.split(".")[0] for m in set(sys.modules) - before}
        print(sorted(new - set(sys.stdlib_module_names) - {"console"}))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(REPO)})  # fmt: skip
    assert out.stdout.strip() == "[]"
