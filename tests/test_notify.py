"""`check --notify` and [[notify]]: one 'firing' and one 'resolved' message per episode across
check runs, against a local HTTP server, including one that fails and then recovers."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler

import pytest
from typer.testing import CliRunner

from conftest import local_http, make_record
from console.cli import app
from console.formatting import parse_rfc3339, rfc3339
from console.notify import delivery, pending_failures
from console.store import Store

runner = CliRunner()
START = parse_rfc3339("2026-11-20T09:00:00Z")
SLO = '[[slos]]\nmodel = "<!channel> gpt-4o"\npercentile = 95\nmax_ms = 1000\n'


class Webhook:
    """What the server was sent, and how it answers: `failing` requests get a 500."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.failing = 0
        self.accepted: list[dict] = []
        self.refused = 0

    def handler(self):
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with hook.lock:
                    refuse = hook.failing > 0
                    if refuse:
                        hook.failing -= 1
                        hook.refused += 1
                    else:
                        hook.accepted.append(body)
                self.send_response(500 if refuse else 200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        return Handler


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    monkeypatch.setattr(delivery, "FIRST_S", 0.01)
    monkeypatch.setattr(delivery, "MOST_S", 0.02)


@pytest.fixture
def store_url(tmp_path, write_log):
    """Three hours, a request every 30 s; slow (3 s) from 60 to 80 minutes in."""
    records = []
    for i in range(360):
        minute = i / 2
        slow = 60 <= minute < 80
        records.append(make_record(ts=rfc3339(START + 30 * i + 5), model="<!channel> gpt-4o", latency_ms=3000.0 if slow else 200.0))
    path = write_log("app.jsonl", records)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    result = runner.invoke(app, ["ingest", "--store", url, str(path)])
    assert result.exit_code == 0, result.output
    return url


def _check(url: str, config, minute: int, *extra: str):
    return runner.invoke(app, ["check", "--store", url, "--config", str(config), "--since", "15m",
                               "--now", rfc3339(START + 60 * minute), *extra])  # fmt: skip


def test_one_firing_and_one_resolved_across_runs_through_a_failing_then_recovering_webhook(tmp_path, store_url):
    config = tmp_path / "llmops.toml"
    config.write_text(SLO)
    hook = Webhook()
    with local_http(hook.handler()) as base:
        url = base + "/hook"
        hook.failing = 1000  # down
        first = _check(store_url, config, 70, "--notify", url)
        assert first.exit_code == 3, first.output  # a delivery failed: not lost, said so
        assert "NOT delivered" in first.stderr and "HTTP 500" in first.stderr and "posts it again" in first.stderr
        assert "PAGE  slo" in first.stdout
        second = _check(store_url, config, 72, "--notify", url)
        assert second.exit_code == 3
        store = Store(store_url)
        try:
            failures = pending_failures(store.engine, [url])
            assert [(f.event, f.alert_key) for f in failures] == [("firing", "slo:<!channel> gpt-4o")]  # one, not two
        finally:
            store.close()
        assert hook.refused == 2 * delivery.TRIES
        hook.failing = 1  # recovers after one more refusal: the retry within the run delivers it
        third = _check(store_url, config, 75, "--notify", url)
        assert third.exit_code == 1, third.output  # the alert fires; its message went through
        assert "notify 127.0.0.1: firing slo:<!channel> gpt-4o posted" in third.stdout
        assert _check(store_url, config, 78, "--notify", url).exit_code == 1  # still firing: nothing new
        cleared = _check(store_url, config, 110, "--notify", url)
        assert cleared.exit_code == 0, cleared.output
        assert _check(store_url, config, 115, "--notify", url).exit_code == 0
    assert [body["event"] for body in hook.accepted] == ["firing", "resolved"]
    firing, resolved = hook.accepted
    assert firing["severity"] == "page" and firing["kind"] == "slo" and firing["subject"] == "<!channel> gpt-4o"
    assert firing["at"] == rfc3339(START + 70 * 60, timespec="seconds")  # the episode's first run, not its delivery
    assert resolved["started"] == firing["at"] and resolved["at"] == rfc3339(START + 110 * 60, timespec="seconds")
    store = Store(store_url)
    try:
        assert pending_failures(store.engine) == []
    finally:
        store.close()


def test_slack_format_and_severities_from_the_config(tmp_path, store_url):
    hook = Webhook()
    with local_http(hook.handler()) as base:
        config = tmp_path / "llmops.toml"
        config.write_text(SLO + f'[[notify]]\nurl = "{base}/slack"\nformat = "slack"\n'
                          f'[[notify]]\nurl = "{base}/warn-only"\nseverities = ["warn"]\n')  # fmt: skip
        assert _check(store_url, config, 70).exit_code == 1
        assert _check(store_url, config, 110).exit_code == 0
    assert len(hook.accepted) == 2  # the page went to the slack hook only, firing and resolved
    firing, resolved = hook.accepted
    assert isinstance(firing["text"], str) and "PAGE slo" in firing["text"]
    assert [block["type"] for block in firing["blocks"]] == ["section", "context"]
    section = firing["blocks"][0]["text"]
    assert section["type"] == "mrkdwn" and section["text"].startswith(":rotating_light: *PAGE* slo")
    assert "<!channel>" not in json.dumps(firing) and "&lt;!channel&gt; gpt-4o" in section["text"]  # a logged name cannot ping
    assert all(element["type"] == "mrkdwn" for element in firing["blocks"][1]["elements"])
    assert resolved["text"].startswith("RESOLVED slo &lt;!channel&gt; gpt-4o")
    assert resolved["blocks"][0]["text"]["text"].startswith(":white_check_mark: *RESOLVED*")


def test_bad_notify_settings_name_the_key(tmp_path, store_url):
    config = tmp_path / "llmops.toml"
    config.write_text('[[notify]]\nurl = "hooks.example.com/x"\n')
    result = _check(store_url, config, 70)
    assert result.exit_code == 2
    said = " ".join(result.output.split())  # the console wraps long lines
    assert "key 'notify[0].url': Expected an http:// or https:// URL" in said
    config.write_text(SLO)
    result = _check(store_url, config, 70, "--notify", "not a url")
    assert result.exit_code == 2 and "--notify 'not a url'" in " ".join(result.output.split())


async def test_the_console_header_shows_undelivered_messages(tmp_path, store_url, monkeypatch):
    """A webhook that is down when check runs: the live console reads the pending message from
    the store and its header says so; nothing is posted by the console itself."""
    from conftest import wait_until
    from console.config import load_settings
    from console.live import notify_watch
    from console.ui.app import ConsoleApp

    monkeypatch.setattr(notify_watch, "FIRST_S", 0.0)
    config = tmp_path / "llmops.toml"
    config.write_text(SLO)
    hook = Webhook()
    hook.failing = 1000
    with local_http(hook.handler()) as base:
        assert _check(store_url, config, 70, "--notify", base + "/hook").exit_code == 3
    app = ConsoleApp(sources=[], store_url=store_url, settings=load_settings(config))
    async with app.run_test(size=(160, 48)) as pilot:
        header = app.dashboard.status_header
        await wait_until(pilot, lambda: header.undelivered is not None)
        text = " ".join(header.render_line(y).text.strip() for y in range(header.size.height))
        assert "1 alert message not delivered (127.0.0.1: HTTP 500" in text


class SlowWebhook(Webhook):
    """Answers each post after `delay_s`, so two runs overlap while one of them posts."""

    def __init__(self, delay_s: float) -> None:
        super().__init__()
        self.delay_s = delay_s

    def handler(self):
        base, delay = super().handler(), self.delay_s

        class Slow(base):
            def do_POST(self):  # noqa: N802
                import time

                time.sleep(delay)
                super().do_POST()

        return Slow


def _two_runs_at_once(url: str, hook_url: str) -> list:
    """Two check runs (each its own Store, as two cron hosts) delivering the same alerts at once."""
    from console.analytics.report_types import Alert
    from console.config import NotifyTarget

    alerts = [Alert(kind="slo", severity="page", subject=f"model-{i}", message="p95 over") for i in range(3)]
    target = NotifyTarget(url=hook_url)
    start, results = threading.Barrier(2), []

    def run() -> None:
        store = Store(url)
        try:
            start.wait()
            results.append(delivery.deliver_alerts(store, [target], alerts, START))
        finally:
            store.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_two_checks_at_once_post_each_message_once(tmp_path, backend):
    """Cron on two hosts, or a slow run overlapping the next: the webhook's lease lets one run
    open the episodes and post them; the other leaves the webhook to it and fails nothing."""
    from contextlib import nullcontext

    from test_postgres import postgres_schema_url

    context = postgres_schema_url() if backend == "postgres" else nullcontext(f"sqlite:///{tmp_path / 's.db'}")
    with context as url:
        Store(url).close()  # the schema, before two runs race to make it
        hook = SlowWebhook(delay_s=0.2)
        with local_http(hook.handler()) as base:
            results = _two_runs_at_once(url, base + "/hook")
            assert len(results) == 2
            assert sorted(body["subject"] for body in hook.accepted) == ["model-0", "model-1", "model-2"]  # once each
            posted, left = sorted(results, key=lambda d: len(d.busy))
            assert [o.delivered for o in posted.outcomes] == [True] * 3 and not posted.failed
            assert left.outcomes == [] and left.busy == ["127.0.0.1"] and not left.failed
            assert left.lines() == [f"notify 127.0.0.1: {delivery.BUSY}"]
            # The lease went with the run: the next runs post nothing new, and fail nothing.
            again = _two_runs_at_once(url, base + "/hook")
            assert len(hook.accepted) == 3 and not any(d.failed for d in again)


def test_a_lease_left_by_a_killed_run_is_taken_over_once_expired(tmp_path):
    from console.notify import state

    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    try:
        state.ensure_table(store.engine)
        assert state.take_lease(store.engine, "t", "dead-run", 0.05)
        assert not state.take_lease(store.engine, "t", "next-run", 60)  # still held
        assert state.take_lease(store.engine, "t", "dead-run", 0.05)  # its holder renews it
        import time

        time.sleep(0.1)
        assert state.take_lease(store.engine, "t", "next-run", 60)  # expired: taken over
        assert not state.take_lease(store.engine, "t", "dead-run", 60)
        state.release_lease(store.engine, "t", "dead-run")  # not its lease any more: nothing released
        assert not state.take_lease(store.engine, "t", "third-run", 60)
        state.release_lease(store.engine, "t", "next-run")
        assert state.take_lease(store.engine, "t", "third-run", 60)
    finally:
        store.close()


def test_first_runs_racing_to_make_the_notice_tables_all_succeed(tmp_path):
    """Two tables made one after the other: a run that loses the first table's race must not
    give up while the winner is still making the second (seen as a flaky CI failure)."""
    from sqlalchemy import create_engine, inspect

    from console.notify import state

    for trial in range(30):
        engine = create_engine(f"sqlite:///{tmp_path / f'race-{trial}.db'}")
        barrier = threading.Barrier(4)
        errors: list[BaseException] = []

        def make() -> None:
            barrier.wait()
            try:
                state.ensure_table(engine)
            except BaseException as error:  # noqa: BLE001 (the test reports any)
                errors.append(error)

        threads = [threading.Thread(target=make) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        with engine.connect() as conn:
            assert {"alert_notices", "notify_leases"} <= set(inspect(conn).get_table_names())
        engine.dispose()
