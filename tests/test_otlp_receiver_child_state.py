"""The console's receiver child (`--otlp`, commands/receiver_process.py) reports its state:
a store that refuses its writes (here a SQLite store whose write lock another connection
holds) is said on the console's header while it lasts, with the exports answered 503
meanwhile, and cleared once the store takes the spans; nothing is lost or stored twice."""

from __future__ import annotations

import asyncio
import http.client
import sqlite3
import time
from urllib.parse import urlsplit

import pytest

from conftest import wait_until
from console.commands.receiver_process import ReceiverProcess
from console.live.events import ReceiverState
from console.store import Store
from console.ui.app import ConsoleApp

from test_faults_ingest import header_text
from test_otlp_receiver import OPENAI_V2

pytestmark = pytest.mark.resilience

# the child's SQLite lock wait and its exports' wait for a commit, shortened (30 s and 10 s)
FAST = {"lock_wait_s": 0.05, "ack_wait_s": 0.5}


def post(endpoint: str, body: bytes, content_type: str = "application/json") -> tuple[int, str]:
    address = urlsplit(endpoint)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    connection.request("POST", "/v1/traces", body, {"Content-Type": content_type})
    response = connection.getresponse()
    answer = response.status, response.read().decode("utf-8", "replace")
    connection.close()
    return answer


def hold_the_lock(path) -> sqlite3.Connection:
    """Another process's view of it: a connection holding the write lock."""
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    other.execute("BEGIN IMMEDIATE")
    return other


def request_ids(path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("SELECT request_id FROM requests")]


def wait_for(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def export() -> bytes:
    """The real openai-v2 trace's first export (OTLP/JSON)."""
    return OPENAI_V2.read_bytes().splitlines()[0]


def test_the_child_reports_a_locked_store_and_its_end(tmp_path):
    path = tmp_path / "store.db"
    Store(f"sqlite:///{path}").close()
    body = export()
    receiver = ReceiverProcess("127.0.0.1", 0, None, f"sqlite:///{path}", None, FAST)
    states: list[ReceiverState] = []
    receiver.on_state(states.append)
    try:
        assert post(receiver.endpoint, b"[]")[0] == 400  # refused for good: counted apart
        other = hold_the_lock(path)
        try:
            status, text = post(receiver.endpoint, body)  # waits ack_wait_s for a commit that cannot come
            assert status == 503 and "store has not taken" in text
            wait_for(lambda: receiver.state.trouble is not None and receiver.state.busy >= 1)
            trouble = receiver.state.trouble
            assert "cannot write to the store" in trouble and "locked" in trouble, trouble
            assert request_ids(path) == []
        finally:
            other.execute("ROLLBACK")
            other.close()
        wait_for(lambda: receiver.state.trouble is None)  # the retried batch went through
        assert post(receiver.endpoint, body)[0] == 200  # the app resends it: not doubled
        stored = request_ids(path)
        assert stored and len(stored) == len(set(stored))
        wait_for(lambda: receiver.state.added == len(stored))
        last = receiver.state
        assert last.trouble is None and last.busy >= 1 and last.refused == 1 and last.rejected == 0
    finally:
        receiver.close()
    troubled = [state for state in states if state.trouble]
    assert troubled and states[0] == ReceiverState(None)  # on_state heard the last state at once
    cleared = states.index(troubled[-1]) + 1
    assert any(state.trouble is None for state in states[cleared:]), "the end of the trouble was said"


async def test_the_console_header_says_the_receivers_store_trouble_until_it_passes(tmp_path):
    path = tmp_path / "store.db"
    store_url = f"sqlite:///{path}"
    Store(store_url).close()
    body = export()
    receiver = ReceiverProcess("127.0.0.1", 0, None, store_url, None, FAST)
    try:
        console = ConsoleApp(sources=[], store_url=store_url, otlp_inbox=receiver)
        async with console.run_test(size=(200, 40)) as pilot:
            await pilot.pause(0.2)
            assert "OTLP receiver paused" not in header_text(console)
            other = hold_the_lock(path)
            try:
                status, _ = await asyncio.to_thread(post, receiver.endpoint, body)
                assert status == 503
                await wait_until(pilot, lambda: "OTLP receiver paused" in header_text(console)
                                 and "answered 503" in header_text(console), timeout=30)  # fmt: skip
                header = header_text(console)
                assert "locked" in header and "ingest stopped" not in header, header
            finally:
                other.execute("ROLLBACK")
                other.close()
            await wait_until(pilot, lambda: "OTLP receiver paused" not in header_text(console), timeout=30)
            assert (await asyncio.to_thread(post, receiver.endpoint, body))[0] == 200
            stored = request_ids(path)
            await wait_until(pilot, lambda: len(console.requests_view.rows) == len(stored) > 0, timeout=30)
            assert "answered 503" in header_text(console)  # the count stays: apps were told to resend
    finally:
        receiver.close()
