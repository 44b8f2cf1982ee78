from __future__ import annotations

import json
import threading
import time
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

_counter = 0


def make_record(**overrides) -> dict:
    """A valid schema v1 record with unique request_id; override any field."""
    global _counter
    _counter += 1
    record = {
        "ts": f"2026-11-20T12:{_counter // 60 % 60:02d}:{_counter % 60:02d}.000Z",
        "request_id": f"req_test_{_counter:08d}",
        "model": "gpt-4o-mini",
        "provider": "openai",
        "prompt_id": "support-answer",
        "prompt_version": "v7",
        "input_tokens": 812,
        "output_tokens": 143,
        "latency_ms": 1234.5,
        "status": "ok",
        "input": "How do I reset my password?",
        "output": "Open Settings, then Security, then Reset password.",
    }
    record.update(overrides)
    return record


def line_of(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False) + "\n"


@pytest.fixture
def write_log(tmp_path):
    """Write records (dicts) or raw strings to a JSONL file in tmp_path; returns the path."""

    def _write(name: str, items, mode: str = "w") -> Path:
        path = tmp_path / name
        with path.open(mode, encoding="utf-8") as handle:
            for item in items:
                handle.write(item if isinstance(item, str) else line_of(item))
        return path

    return _write


async def wait_until(pilot, condition, timeout: float = 60.0) -> None:
    """Let the app run until `condition()` holds (workers post asynchronously), then one frame.
    The timeout is generous: it only bounds a failing test, and a loaded 2-core CI machine once
    took over 15 s to seed a dashboard that takes ~1 s when quiet."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.02)
    await pilot.pause()


@contextmanager
def local_http(handler):
    """A stub HTTP server on 127.0.0.1 (a free port) serving `handler`; yields its /v1 base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(params=["sqlite", "postgresql"])
def sqlite_and_postgres_url(tmp_path, request):
    """A fresh store URL: a SQLite file, then a PostgreSQL schema of its own (skipped without
    LLMOPS_TEST_POSTGRES_URL, as tests/test_postgres.py says)."""
    if request.param == "postgresql":
        from test_postgres import postgres_schema_url

        with postgres_schema_url() as url:
            yield url
        return
    yield f"sqlite:///{tmp_path / 'store.db'}"
