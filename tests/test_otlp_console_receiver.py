"""The console receiving OTLP/HTTP (`--otlp HOST:PORT`): spans the SDK exporter posts reach
the requests view and the panes like tailed lines, beside the files it tails."""

from __future__ import annotations

import asyncio
import html
import re
import time

from typer.testing import CliRunner

from conftest import make_record, wait_until
from console.analytics.prices import Pricer
from console.cli import app
from console.commands.config_access import load_config
from console.commands.errors import UsageError
from console.commands.receive import open_receiver
from console.commands.receiver_process import ReceiverProcess
from console.config import Settings
from console.formatting import rfc3339
from console.live.otlp_inbox import OtlpInbox
from console.live.otlp_receiver import OtlpReceiver
from console.ui.app import ConsoleApp

from test_otlp_receiver import send_spans

runner = CliRunner()


async def test_spans_posted_to_the_console_appear_beside_the_tailed_lines(tmp_path, write_log):
    log = write_log("app.jsonl", [make_record(request_id="from-jsonl-1", ts=rfc3339(time.time()))])
    inbox = OtlpInbox()
    with OtlpReceiver(inbox, "127.0.0.1", 0) as receiver:
        console = ConsoleApp(sources=[str(log)], store_url=f"sqlite:///{tmp_path / 'store.db'}", otlp_inbox=inbox,
                             pricer=Pricer({}), otlp_notice=f"apps set OTEL_EXPORTER_OTLP_ENDPOINT={receiver.endpoint}")  # fmt: skip
        async with console.run_test(size=(160, 40)) as pilot:
            await wait_until(pilot, lambda: len(console.requests_view.rows) == 1)
            await asyncio.to_thread(send_spans, receiver.endpoint, 4, model="gpt-4o")
            await wait_until(pilot, lambda: len(console.requests_view.rows) == 5)
            assert {r.request_id for r in console.requests_view.rows} >= {f"chatcmpl-gpt-4o-{i}" for i in range(4)}
            report = lambda: console.dashboard.report  # noqa: E731 - the panes' figures
            await wait_until(pilot, lambda: report() is not None and report().requests == 5)
            assert "gpt-4o" in report().spend.by_model and report().latency.by_model["gpt-4o"].requests == 4
            notices = [n.message for n in console._notifications]
            assert any(receiver.endpoint in message for message in notices)


async def test_with_no_files_the_console_receives_only(tmp_path):
    """--otlp without files: the received spans are the tail (the store is not followed)."""
    config = tmp_path / "llmops.toml"
    config.write_text('[otel]\nprompt_version_keys = ["app.release"]\n')
    settings = load_config(config)
    receiver, inbox = open_receiver("127.0.0.1", 0, None, settings)  # as `--otlp` opens it (cli.py)
    with receiver:
        console = ConsoleApp(sources=[], store_url=f"sqlite:///{tmp_path / 'store.db'}", otlp_inbox=inbox,
                             settings=settings)  # fmt: skip
        async with console.run_test(size=(160, 40)) as pilot:
            await pilot.pause(0.1)
            await asyncio.to_thread(send_spans, receiver.endpoint, 2)
            await wait_until(pilot, lambda: len(console.requests_view.rows) == 2)
            # [otel] applies to received spans too: gen_ai.prompt.version is not read any more
            assert {r.prompt_ref for r in console.requests_view.rows} == {"answer@unversioned"}


def test_open_takes_otlp_and_serves_while_the_console_runs(tmp_path, monkeypatch):
    started = []

    def run(self):
        started.append((self.otlp_inbox, self.otlp_notice))

    monkeypatch.setattr(ConsoleApp, "run", run)
    store = f"sqlite:///{tmp_path / 'db.sqlite'}"
    result = runner.invoke(app, ["--otlp", "127.0.0.1:0", "--store", store])
    assert result.exit_code == 0, result.output
    ((receiver, notice),) = started  # the receiver is a child process writing to the store
    assert isinstance(receiver, ReceiverProcess) and not receiver.running  # stopped once the console quit
    assert notice.startswith("apps set OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:")
    bad = runner.invoke(app, ["--otlp", "127.0.0.1:http", "--store", store])
    assert bad.exit_code == 2 and "expected HOST:PORT" in bad.output



async def test_the_header_says_the_console_receives(tmp_path):
    receiver, inbox = open_receiver("127.0.0.1", 0, None, Settings())
    with receiver:
        console = ConsoleApp(sources=[], store_url=f"sqlite:///{tmp_path / 'store.db'}", otlp_inbox=inbox)
        async with console.run_test(size=(160, 40)) as pilot:
            await pilot.pause(0.2)
            screen = re.sub(r"<[^>]+>", "", html.unescape(console.export_screenshot())).replace("\xa0", " ")
    assert "receiving OTLP/HTTP" in screen and "store only" not in screen


async def test_the_receiver_in_a_child_process_shows_spans_beside_the_tailed_lines(tmp_path, write_log):
    """As `--otlp` runs it (console/ui/launch.py): the receiver decodes and writes in a child
    process, the console follows the store; tailed lines and received spans both appear, once."""
    log = write_log("app.jsonl", [make_record(request_id="from-jsonl-1", ts=rfc3339(time.time()))])
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    receiver = ReceiverProcess("127.0.0.1", 0, None, store_url, None)
    try:
        console = ConsoleApp(sources=[str(log)], store_url=store_url, otlp_inbox=receiver, pricer=Pricer({}))
        async with console.run_test(size=(160, 40)) as pilot:
            await wait_until(pilot, lambda: len(console.requests_view.rows) == 1)
            await asyncio.to_thread(send_spans, receiver.endpoint, 4, model="gpt-4o")
            await wait_until(pilot, lambda: len(console.requests_view.rows) == 5)
            write_log("app.jsonl", [make_record(request_id="from-jsonl-2", ts=rfc3339(time.time()))], "a")
            await wait_until(pilot, lambda: len(console.requests_view.rows) == 6)
            report = lambda: console.dashboard.report  # noqa: E731 - the panes' figures
            await wait_until(pilot, lambda: report() is not None and report().requests == 6)  # each row counted once
            assert report().latency.by_model["gpt-4o"].requests == 4
    finally:
        receiver.close()
    assert not receiver.running


def test_a_taken_port_stops_the_child_with_the_reason(tmp_path):
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    first = ReceiverProcess("127.0.0.1", 0, None, store_url, None)
    try:
        port = int(first.endpoint.rsplit(":", 1)[1])
        try:
            ReceiverProcess("127.0.0.1", port, None, store_url, None)
        except UsageError as exc:
            assert f"cannot receive OTLP on 127.0.0.1:{port}" in str(exc)
        else:
            raise AssertionError("a second receiver bound a taken port")
    finally:
        first.close()


def test_a_receiver_process_that_dies_is_said(tmp_path):
    receiver = ReceiverProcess("127.0.0.1", 0, None, f"sqlite:///{tmp_path / 'store.db'}", None)
    told = []
    receiver.on_stop(told.append)
    receiver._process.kill()  # as the OOM killer would
    deadline = time.monotonic() + 10
    while not told and time.monotonic() < deadline:
        time.sleep(0.05)
    receiver.close()
    assert len(told) == 1 and told[0].startswith("the OTLP receiver stopped (exit -9)")
