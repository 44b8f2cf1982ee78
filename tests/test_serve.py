"""`llmops-console serve` without a browser: the options, who the real server lets in (HTTP
and the websocket's handshake, over real sockets), what each viewer is started with, and the
read-only console (Pilot). The browser drives it in tests/test_serve_browser.py."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import aiohttp
import psutil
import pytest
from typer.testing import CliRunner

from conftest import REPO, line_of, make_record, wait_until
from console.cli import app as cli_app
from console.commands.errors import UsageError
from console.commands.serve import (
    READ_ONLY_ENV, STORE_ENV, TOKEN_ENV, VIEWER_MODULE, is_loopback, page_url, plan_serve, viewer_command,
    viewer_environment,
)  # fmt: skip


# -- the options ---------------------------------------------------------------------------


@pytest.mark.parametrize("host, loopback", [
    ("127.0.0.1", True), ("127.0.0.2", True), ("localhost", True), ("::1", True), ("[::1]", True),
    ("0.0.0.0", False), ("::", False), ("10.1.2.3", False), ("bridge.example.com", False),
])  # fmt: skip
def test_loopback_is_127_8_and_1_and_localhost(host, loopback):
    assert is_loopback(host) is loopback


@pytest.mark.parametrize("header, name", [
    ("127.0.0.1:8000", "127.0.0.1"), ("localhost", "localhost"), ("[::1]:8000", "::1"), ("[::1]", "::1"),
    ("evil.example:80", "evil.example"),
])  # fmt: skip
def test_the_host_header_s_name(header, name):
    from console.ui.serve_server import host_name

    assert host_name(header) == name


def test_loopback_needs_no_token_and_may_label():
    plan = plan_serve("127.0.0.1", 8000, "s.db", None, None, None)
    assert plan.token is None and not plan.read_only and not plan.token_generated
    assert page_url(plan, 8000) == "http://127.0.0.1:8000/"


def test_off_loopback_a_token_is_generated_and_the_console_is_read_only():
    plan = plan_serve("0.0.0.0", 8000, "s.db", None, None, None)
    other = plan_serve("0.0.0.0", 8000, "s.db", None, None, None)
    assert plan.token_generated and plan.read_only
    assert len(plan.token) >= 32 and plan.token != other.token  # secrets.token_urlsafe, fresh each time
    assert page_url(plan, 8000).endswith(f":8000/?token={plan.token}")
    assert "0.0.0.0" not in page_url(plan, 8000)  # a wildcard is named by the host's name


def test_a_given_token_is_kept_and_read_only_can_be_chosen_either_way():
    plan = plan_serve("0.0.0.0", 8000, "s.db", None, False, "chosen")
    assert plan.token == "chosen" and not plan.token_generated and not plan.read_only
    assert plan_serve("127.0.0.1", 8000, "s.db", None, True, "x").read_only


def test_an_empty_token_or_host_is_a_usage_error():
    with pytest.raises(UsageError, match="token is empty"):
        plan_serve("127.0.0.1", 8000, "s.db", None, None, " ")
    with pytest.raises(UsageError, match="--host is empty"):
        plan_serve(" ", 8000, "s.db", None, None, None)


def test_the_viewer_command_holds_no_secret_and_the_store_goes_by_environment():
    url = "postgresql+psycopg://ops:hunter2@db.internal/llm"
    plan = plan_serve("0.0.0.0", 8000, url, None, None, "tok-1234567890")
    command = viewer_command()
    assert VIEWER_MODULE in command and "hunter2" not in command and "tok-" not in command
    environment = viewer_environment(plan)
    assert environment[STORE_ENV] == url and environment[READ_ONLY_ENV] == "1"
    assert "tok-1234567890" not in json.dumps(environment)


def test_a_taken_port_is_one_error_line(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli_app, ["serve", "--store", str(tmp_path / "s.db"), "--port", str(port)])
    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.output


# -- the real server ----------------------------------------------------------------------


@contextmanager
def serving(store: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[tuple[str, subprocess.Popen, list[str]]]:
    """`llmops-console serve --port 0` in its own process; yields the printed link, the
    process and the lines it printed (read on a thread as they come)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "serve", "--store", str(store), "--port", "0", *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=store.parent,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    lines: list[str] = []
    first: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            first.put(line)

    threading.Thread(target=read, daemon=True).start()
    try:
        try:
            line = first.get(timeout=60)
        except queue.Empty:
            raise AssertionError(f"serve printed nothing: {lines}") from None
        assert line.startswith("serving the console on "), lines
        yield line.split(" on ", 1)[1].strip(), process, lines
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise


def store_with_rows(tmp_path: Path, count: int = 5) -> Path:
    log = tmp_path / "app.jsonl"
    log.write_text("".join(line_of(make_record(output=f"early-{i:02d}")) for i in range(count)))
    store = tmp_path / "s.db"
    result = subprocess.run([sys.executable, "-m", "console.cli", "ingest", str(log), "--store", str(store)],
                            capture_output=True, text=True, cwd=REPO)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return store


async def get(url: str, **kwargs) -> tuple[int, str, dict]:
    async with aiohttp.ClientSession() as session:
        async with session.get(url, allow_redirects=False, **kwargs) as response:
            return response.status, await response.text(), dict(response.headers)


async def websocket_status(url: str, **kwargs) -> int:
    """The handshake's answer: 101 when the server upgrades, else the refusal's status."""
    async with aiohttp.ClientSession() as session:
        try:
            async with session.ws_connect(url, **kwargs) as ws:
                await ws.close()
                return 101
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status


def test_with_a_token_the_page_and_the_websocket_refuse_anyone_without_it(tmp_path):
    store = store_with_rows(tmp_path)
    with serving(store, "--token", "s3cret-token") as (link, _, lines):
        base = link.split("?")[0]
        port = base.rstrip("/").rsplit(":", 1)[1]
        assert link.endswith("/?token=s3cret-token")

        async def checks():
            status, text, _ = await get(base)
            assert status == 401 and "token is required" in text
            status, text, _ = await get(base + "?token=s3cret-tokeN")
            assert status == 403 and "wrong token" in text
            status, _, _ = await get(base + "?token=" + "é" * 12)  # not ASCII: refused, not a crash
            assert status == 403
            status, text, headers = await get(link)
            assert status == 200 and "textual-terminal" in text
            cookie = headers["Set-Cookie"]
            assert f"llmops_console_token_{port}=s3cret-token" in cookie and "HttpOnly" in cookie
            assert "SameSite=Strict" in cookie and headers["Referrer-Policy"] == "no-referrer"
            assert f'ws://127.0.0.1:{port}/ws' in text  # the page's websocket: the address the browser used
            status, _, _ = await get(base + "static/js/textual.js")
            assert status == 401  # its files too
            status, _, _ = await get(base + "static/js/textual.js", headers={"Authorization": "Bearer s3cret-token"})
            assert status == 200
            ws = base.replace("http", "ws") + "ws"
            assert await websocket_status(ws) == 401
            assert await websocket_status(ws, headers={"Cookie": f"llmops_console_token_{port}=nope"}) == 403
            good = {"Cookie": f"llmops_console_token_{port}=s3cret-token"}
            assert await websocket_status(ws, headers={**good, "Origin": "http://evil.example"}) == 403
            assert await websocket_status(ws, headers={**good, "Origin": base.rstrip("/")}) == 101

        asyncio.run(checks())
    assert not any("s3cret" in line for line in lines[1:])  # printed once, in the link


def test_on_loopback_without_a_token_only_loopback_names_are_answered(tmp_path):
    store = store_with_rows(tmp_path)
    with serving(store) as (link, _, lines):
        assert "?token" not in link and any("loopback: no token" in line for line in lines)

        async def checks():
            status, _, _ = await get(link)
            assert status == 200
            status, text, _ = await get(link, headers={"Host": "rebound.example:80"})  # DNS rebinding
            assert status == 403 and "loopback" in text
            ws = link.replace("http", "ws") + "ws"
            assert await websocket_status(ws, headers={"Origin": "http://evil.example"}) == 403

        asyncio.run(checks())


def test_each_viewer_gets_its_own_console_without_the_token_and_none_outlives_the_server(tmp_path):
    """Two websockets, two console processes (the first the spare started ahead); their
    command lines and environments hold neither the token nor --token's variable; SIGTERM
    ends them with the server, the next spare too."""
    store = store_with_rows(tmp_path)
    with serving(store, env={TOKEN_ENV: "env-token-abc"}) as (link, process, _):
        assert link.endswith("?token=env-token-abc")
        port = link.split("?")[0].rstrip("/").rsplit(":", 1)[1]
        ws = f"ws://127.0.0.1:{port}/ws?width=120&height=40"
        cookie = {"Cookie": f"llmops_console_token_{port}=env-token-abc"}

        async def two_viewers() -> list[psutil.Process]:
            async with aiohttp.ClientSession() as session:
                async with session.ws_connect(ws, headers=cookie) as one, session.ws_connect(ws, headers=cookie) as two:
                    for viewer in (one, two):  # each draws a screen of its own
                        received = b""
                        while b"stored" not in received:
                            message = await asyncio.wait_for(viewer.receive(), 60)
                            assert message.type == aiohttp.WSMsgType.BINARY, message
                            received += message.data
                    deadline = time.monotonic() + 60
                    while True:  # theirs, and the next spare, started a few seconds after one was taken
                        children = psutil.Process(process.pid).children(recursive=True)
                        viewers = [c for c in children if VIEWER_MODULE in " ".join(c.cmdline())]
                        if len(viewers) == 3 or time.monotonic() > deadline:
                            break
                        await asyncio.sleep(0.2)
                    assert len(viewers) == 3
                    for viewer in viewers:
                        assert "env-token-abc" not in " ".join(viewer.cmdline())
                        assert TOKEN_ENV not in viewer.environ() and viewer.environ()[STORE_ENV] == str(store)
                    return children

        children = asyncio.run(two_viewers())
    gone, alive = psutil.wait_procs(children, timeout=20)
    assert not alive, [c.cmdline() for c in alive]


def test_off_loopback_the_token_is_printed_once(tmp_path):
    """--host 0.0.0.0 is refused by nothing here, so the CLI's plan is checked, not bound."""
    plan = plan_serve("0.0.0.0", 0, str(tmp_path / "s.db"), None, None, None)
    from console.commands.serve import banner

    text = "\n".join(banner(plan, 8123, "s.db"))
    assert text.count(plan.token) == 1 and "read-only" in text and "token generated" in text


# -- the read-only console (what the viewer runs with READ_ONLY_ENV=1) ----------------------


async def test_a_read_only_console_hides_labelling_and_regression_runs(tmp_path):
    from console.config import EvaluationSettings, Settings
    from console.ui.app import ConsoleApp
    from console.ui.read_only import WRITING_ACTIONS
    from console.ui.screens.help import HelpScreen
    from console.ui.screens.regress_launch import RegressLaunchModal
    from console.ui.screens.triage import TriageScreen

    now = time.time()
    log = tmp_path / "app.jsonl"
    log.write_text("".join(line_of(make_record(ts=now - 60 + i, status="error", error_type="BadRequestError",
                                               output=None)) for i in range(3)))  # fmt: skip
    settings = Settings(evaluation=EvaluationSettings(sample_rate=1.0))
    app = ConsoleApp(sources=[str(log)], store_url=f"sqlite:///{tmp_path / 's.db'}", settings=settings, read_only=True)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_until(pilot, lambda: app.dashboard.report is not None and app.dashboard.report.requests == 3)
        assert "read-only" in str(app.status_header.render())
        keys = {active.binding.action for active in app.screen.active_bindings.values()}
        assert "regress" not in keys and "help" in keys  # the footer draws these
        await pilot.press("R")
        await pilot.pause()
        assert not isinstance(app.screen, RegressLaunchModal)
        app.action_regress()  # as the Versions pane's and the prompts screen's R call it
        await pilot.pause()
        assert not isinstance(app.screen, RegressLaunchModal)
        assert any("read-only" in str(n.message) for n in app._notifications)
        await pilot.press("t")
        await wait_until(pilot, lambda: isinstance(app.screen, TriageScreen))
        screen = app.screen
        await wait_until(pilot, lambda: screen.queue is not None and len(screen.items) == 3)
        shown = {b.binding.action for b in screen.active_bindings.values()}
        assert not shown & WRITING_ACTIONS, shown & WRITING_ACTIONS
        assert "app.pop_screen" in shown
        await pilot.press("b", "o")
        await pilot.pause(0.3)
        assert app.screen is screen  # no reason dialog
        assert not any(n.title == "Label" for n in app._notifications)  # nothing sent to the scoring thread
        await pilot.press("escape", "question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        ids = {b.id for _, bindings in app.screen.scopes for b in bindings}
        assert "app.help" in ids and "dashboard.filter" in ids
        assert not ids & {"triage.bad", "triage.good", "app.regress", "versions.regress", "prompts.regress"}


async def test_a_writable_console_keeps_its_keys(tmp_path):
    from console.ui.app import ConsoleApp
    from console.ui.screens.regress_launch import RegressLaunchModal

    app = ConsoleApp(sources=[], store_url=f"sqlite:///{tmp_path / 's.db'}")
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert "read-only" not in str(app.status_header.render())
        await pilot.press("R")
        await wait_until(pilot, lambda: isinstance(app.screen, RegressLaunchModal))
