"""kill -9 while a Logfire stream's opening waits for its end (issue 18, point 2).

The opening waits (StreamJoiner) until the log at the stream's end arrives, lines later.
`ingest --follow` commits the rows it has with the file's offset; held in memory only, a
waiting opening was lost by a kill once that offset went past it, and the restart stored the
end alone (latency the reading time only). It is kept in the store's stream_openings in the
transaction that moves the offset past it, and the restart takes it back from there.

Each trial runs the real `llmops-console ingest --follow` in a subprocess on the Logfire trace
(one span a line), kills it with SIGKILL, appends the rest of the trace and runs `ingest`
again; the store must then hold exactly what one reading of the whole trace gives. The first
trial kills it while an opening is known to wait; the others at moments drawn from a seeded
generator while the trace is being written line by line.
"""

from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from conftest import REPO
from console.ingest import ingest_files
from console.sources.detect import LogTail
from console.sources.otel.logfire import StreamJoiner
from console.sources.otlp import parse_traces_line
from console.store import Store
from test_faults_kill import assert_rollups_hold_the_rows, env, kill_at, wait_for_rows
from test_otel_conventions import one_span_a_line

LOGFIRE = REPO / "sample_logs" / "otel" / "logfire" / "logfire.otlp.jsonl"
SEED = 20261206
RANDOM_TRIALS = 3
BAD_LINE = "{not json\n"

pytestmark = [pytest.mark.resilience, pytest.mark.skipif(sys.platform == "win32", reason="kill -9 is POSIX")]


def summary(records) -> list[tuple]:
    return sorted((r.request_id, round(r.ts, 6), round(r.latency_ms, 3), r.input_tokens, r.output_tokens)
                  for r in records)  # fmt: skip


def complete_before(lines: list[str], k: int) -> tuple[int, int]:
    """(records the first k lines give, openings still waiting after them)."""
    joiner = StreamJoiner()
    count = sum(len(parse_traces_line(line, joiner=joiner).records) for line in lines[:k])
    return count, len(joiner.pending)


def rejected(db) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM rejected_lines").fetchone()[0]


def waiting_openings(db) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM stream_openings").fetchone()[0]


def stored_rows(db) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM requests").fetchone()[0]


def saved_offset(db, log) -> int:
    with sqlite3.connect(db) as conn:
        row = conn.execute('SELECT "offset" FROM source_offsets WHERE source = ?', (str(log),)).fetchone()
    return row[0] if row else 0


def test_a_waiting_stream_opening_is_neither_lost_nor_doubled_by_a_kill(tmp_path):
    lines = [line + "\n" for line in one_span_a_line(LOGFIRE)]
    whole = tmp_path / "whole.jsonl"
    whole.write_text("".join(lines), encoding="utf-8")
    with LogTail([whole], watch=False) as tail:
        expected = summary(tail.read_available().records)
    assert len(expected) == 30
    waiting_cuts = [k for k in range(1, len(lines)) if complete_before(lines, k)[1]]
    rng = random.Random(SEED)
    kept_waiting = 0
    for trial in range(1 + RANDOM_TRIALS):
        log, db = tmp_path / f"trace-{trial}.jsonl", tmp_path / f"store-{trial}.db"
        url = f"sqlite:///{db}"
        Store(url).close()
        command = [sys.executable, "-m", "console.cli", "ingest", "--follow", str(log), "--store", url]
        if trial == 0:  # the kill lands while an opening is known to wait for its end
            cut = rng.choice(waiting_cuts)
            log.write_text("".join(lines[:cut]) + BAD_LINE, encoding="utf-8")  # a rejection after the opening
            rows, waiting = complete_before(lines, cut)
            process = subprocess.Popen(command, env=env(), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            deadline = time.monotonic() + 30
            while stored_rows(db) < rows and time.monotonic() < deadline and process.poll() is None:
                time.sleep(0.02)
            while rejected(db) < 1 and time.monotonic() < deadline and process.poll() is None:
                time.sleep(0.02)
            assert stored_rows(db) == rows, process.stderr.read1().decode() if process.poll() is not None else ""
            time.sleep(0.2)  # it would have written more by now, if it were going to
            assert kill_at(process, time.monotonic(), 0.0)
            assert stored_rows(db) == rows
            assert saved_offset(db, log) == len("".join(lines[:cut]) + BAD_LINE), "read to the end"
            assert waiting_openings(db) == waiting, "kept aside in the store"
            kept_waiting += 1
        else:  # a moment drawn at random while the app writes its trace, a span every 15 ms
            log.write_text("", encoding="utf-8")
            process = subprocess.Popen(command, env=env(), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

            def write_slowly(path=log):
                with path.open("a", encoding="utf-8") as handle:
                    for line in lines:
                        handle.write(line)
                        handle.flush()
                        time.sleep(0.015)

            writer = threading.Thread(target=write_slowly)
            writer.start()
            started = wait_for_rows(db, process)
            assert kill_at(process, started, rng.uniform(0.0, 0.5)), "ingest --follow never ends by itself"
            writer.join()
        with Store(url) as store:  # the restart, after the app wrote the rest
            if trial == 0:
                with log.open("a", encoding="utf-8") as handle:
                    handle.write("".join(lines[cut:]))
            ingest_files(store, [str(log)], parallel=False)
            records = store.recent(1000)
        assert summary(records) == expected, f"trial {trial}: every request once, each stream joined"
        assert not [r for r in records if "otel.logfire_stream" in r.metadata], f"trial {trial}: a half stored alone"
        assert_rollups_hold_the_rows(db)
        assert waiting_openings(db) == 0
        assert rejected(db) == (trial == 0), "the line rejected before the kill is reported once"
    assert kept_waiting == 1
