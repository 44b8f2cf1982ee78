"""`report` and `check` read a SQLite store at the current schema with plain sqlite3
(console/store/sqlite_reader.py): the same Report as through the Store (SQLAlchemy) on the
same rows, whether the exact path or the rollups' merge, and no SQLAlchemy, sqlmodel,
pydantic or Rich imported by `report --json`."""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import msgspec
import pytest
import typer

from console.commands.errors import UsageError
from console.commands.store_access import open_reader
from console.config import Settings
from console.store import Store
from console.store.locations import plain_sqlite_file
from console.store.sqlite_reader import SqliteReader
from console.store.window_report import report_from_store
from tests.test_postgres import postgres_schema_url
from tests.test_rollups import END, SETTINGS, _filled_store

REPO = Path(__file__).resolve().parents[1]


def _moments(count: int) -> list[tuple[str, float, Settings, int]]:
    rng = random.Random(17)
    found = []
    for trial in range(count):
        since = ["all", "7d", "24h", "6h", "1h"][trial % 5]
        now = END.timestamp() - rng.uniform(0, 5 * 86400)
        settings = SETTINGS if trial % 3 else Settings()
        found.append((since, now, settings, 0 if trial % 2 else 10**9))  # the merge, and every row
    return found


def _report(store, since: str, now: float, settings: Settings, limit: int) -> dict:
    return msgspec.to_builtins(report_from_store(store, now, since, settings, limit))


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory) -> str:
    tmp_path = tmp_path_factory.mktemp("reader")
    url = f"sqlite:///{tmp_path / 'store.db'}"
    _filled_store(url, tmp_path).close()  # with labels the cells do not know of
    return url


def test_the_reader_gives_the_stores_report_on_every_window(sqlite_url):
    reader = open_reader(sqlite_url, missing_hint="ingest first")
    assert isinstance(reader, SqliteReader)
    sources = set()
    with reader, Store(sqlite_url, for_reading=True) as store:
        for since, now, settings, limit in _moments(12):
            expected = _report(store, since, now, settings, limit)
            assert _report(reader, since, now, settings, limit) == expected, (since, now, limit)
            sources.add(expected["figures"]["source"])
    assert sources == {"rows", "rollups"}


def test_the_reader_on_sqlite_gives_the_report_of_the_same_rows_fed_to_postgresql(sqlite_url, tmp_path):
    with postgres_schema_url() as url:
        _filled_store(url, tmp_path).close()
        reader = open_reader(sqlite_url, missing_hint="ingest first")
        with reader, Store(url, for_reading=True) as store:
            for since, now, settings, limit in _moments(6):
                expected = _report(store, since, now, settings, limit)
                assert _report(reader, since, now, settings, limit) == expected, (since, now, limit)


def test_report_json_imports_no_sqlalchemy_pydantic_or_rich(sqlite_url, tmp_path):
    config = tmp_path / "llmops.toml"
    config.write_text('[[budgets]]\nname = "daily"\nperiod = "day"\namount_usd = 50\n\n'
                      "[[slos]]\npercentile = 95\nmax_ms = 5000\n", encoding="utf-8")  # fmt: skip
    now = "2026-11-19T10:00:00Z"
    script = (
        "import atexit, sys\n"
        "atexit.register(lambda: sys.stderr.write('MODULES ' + ' '.join(sorted(sys.modules)) + '\\n'))\n"
        "from console.cli import main\n"
        f"sys.argv = ['llmops-console', 'report', '--store', {sqlite_url!r}, '--since', 'all', '--now', {now!r},"
        f" '--config', {str(config)!r}, '--json']\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr
    modules = {name.split(".")[0] for name in done.stderr.split("MODULES ", 1)[1].split()}
    # What typer itself imports is typer's (before 0.29 it imports Rich; 0.29 pydantic, unless
    # console/cli_params.py spares it): the console's own report path adds none of these.
    typer_alone = subprocess.run([sys.executable, "-c", "import sys, typer, typer.main; print(' '.join(sys.modules))"],
                                 capture_output=True, text=True, cwd=REPO, timeout=120)  # fmt: skip
    by_typer = {name.split(".")[0] for name in typer_alone.stdout.split()}
    heavy = {"sqlalchemy", "sqlmodel", "pydantic", "rich"}
    assert not (modules - by_typer) & heavy, (modules - by_typer) & heavy
    assert not modules & {"sqlalchemy", "sqlmodel"}
    if tuple(int(part) for part in typer.__version__.split(".")[:2]) >= (0, 29):  # cli_params spares its pydantic
        assert "pydantic" not in modules
    settings = msgspec.convert({"budgets": [{"name": "daily", "period": "day", "amount_usd": 50}],
                                "slos": [{"percentile": 95, "max_ms": 5000}]}, type=Settings)  # fmt: skip
    moment = datetime(2026, 11, 19, 10, tzinfo=timezone.utc).timestamp()
    with Store(sqlite_url, for_reading=True) as store:
        assert json.loads(done.stdout) == _report(store, "all", moment, settings, 200_000)


def test_other_stores_open_as_a_store(tmp_path):
    assert plain_sqlite_file(f"sqlite:///{tmp_path}/a.db") == f"{tmp_path}/a.db"
    for url in ("sqlite://", "sqlite:///:memory:", "sqlite:///a.db?mode=ro", "sqlite+pysqlite:///a.db",
                "postgresql+psycopg://u@h/db", "sqlite:///~/a.db", "sqlite:///a%20b.db"):  # fmt: skip
        assert plain_sqlite_file(url) is None, url
    with pytest.raises(UsageError, match="no store at"):
        open_reader(f"sqlite:///{tmp_path / 'missing.db'}", missing_hint="ingest first")
    older = tmp_path / "older.db"
    Store(f"sqlite:///{older}").close()
    with sqlite3.connect(older) as conn:
        conn.execute("DELETE FROM schema_version WHERE version = (SELECT max(version) FROM schema_version)")
    assert SqliteReader.open(str(older)) is None
    opened = open_reader(f"sqlite:///{older}", missing_hint="ingest first")  # upgraded by the Store's open
    assert isinstance(opened, Store)
    opened.close()
    reopened = open_reader(f"sqlite:///{older}", missing_hint="x")
    assert isinstance(reopened, SqliteReader)
    reopened.close()
    (tmp_path / "junk.db").write_bytes(b"not a database at all" * 100)
    assert SqliteReader.open(str(tmp_path / "junk.db")) is None
