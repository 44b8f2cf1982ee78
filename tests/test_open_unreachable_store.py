"""The console (open) and serve on a PostgreSQL store they cannot reach: the reason, exit 2.

Found in the team-store trial: `llmops-console --store postgresql+psycopg://.../nosuchdb`
(a database that does not exist, a host that does not resolve, a port nobody listens on)
opened the whole dashboard at $0 with 'figures partial: catching up' and 'history loading'
that never finished; the reason was one line of the header and a toast. report, check,
ingest and labels export already stop with it (exit 2)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import console.cli
from console.cli import app
from test_postgres import POSTGRES_URL, needs_postgres


def _unreachable() -> list[tuple[str, str]]:
    if not POSTGRES_URL:
        return []
    from sqlalchemy.engine import make_url

    server = make_url(POSTGRES_URL)
    return [
        (server.set(database="llmops_no_such_database").render_as_string(hide_password=False), "does not exist"),
        (server.set(host="127.0.0.1", port=1).render_as_string(hide_password=False), "refused"),
    ]


@needs_postgres
@pytest.mark.parametrize("url, reason", _unreachable())
def test_open_on_an_unreachable_postgres_store_exits_2_saying_why(monkeypatch, url, reason):
    opened = []
    monkeypatch.setattr(console.cli, "_run_console", lambda *args, **kwargs: opened.append(args))
    result = CliRunner().invoke(app, ["open", "--store", url])
    assert result.exit_code == 2, result.output
    assert not opened  # the console was not started
    message = " ".join(result.output.split())
    assert "cannot open the store" in message and reason in message
    assert "Traceback" not in result.output


@needs_postgres
def test_open_on_a_reachable_postgres_store_starts_the_console(monkeypatch):
    opened = []
    monkeypatch.setattr(console.cli, "_run_console", lambda *args, **kwargs: opened.append(args))
    result = CliRunner().invoke(app, ["open", "--store", POSTGRES_URL])
    assert result.exit_code == 0, result.output
    assert opened and opened[0][1] == POSTGRES_URL
