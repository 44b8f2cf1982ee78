"""Every command-line option is validated (issue 8): a bad value exits 2 with a message that
names the option, what was expected and what was given, and never a traceback."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

import console.cli
from console.cli import app
from console.store import Store

pytestmark = pytest.mark.resilience

runner = CliRunner()


@pytest.fixture(autouse=True)
def no_tui(monkeypatch):
    """A validation that let a bad value through must fail the test, not open the TUI."""

    def refuse(*args, **kwargs):
        raise AssertionError("the console was started: the option was not validated")

    monkeypatch.setattr(console.cli, "_run_console", refuse)


def flat(text: str) -> str:
    """The message without the error panel's box and line wrapping."""
    return re.sub(r"\s+", " ", re.sub(r"[│╭╮╰╯─]", " ", text)).strip()


def bad_cases(tmp_path):
    a_file = tmp_path / "a file.txt"
    a_file.write_text("not a directory\n")
    store = str(tmp_path / "s.db")
    cases_dir = tmp_path / "cases dir"
    cases_dir.mkdir(exist_ok=True)
    cases = {
        "report --since": (["report", "--since", "2x", "--store", store], "--since", "15m, 1h", "'2x'"),
        "report --now": (["report", "--now", "yesterday", "--store", store], "--now", "RFC 3339", "'yesterday'"),
        "check --since": (["check", "--since", "90 minutes", "--store", store], "--since", "15m, 1h", "'90 minutes'"),
        "check --now": (["check", "--now", "2026-13-01T00:00:00Z", "--store", store], "--now", "RFC 3339", "2026-13-01"),
        "compare --since": (
            ["compare", "--a", "model=a", "--b", "model=b", "--since", "forever", "--store", store],
            "--since", "15m, 1h", "'forever'",
        ),
        "compare --a": (["compare", "--a", "bogus", "--b", "model=b", "--store", store], "--a", "key=value", "'bogus'"),
        "ingest --format": (["ingest", "--format", "xml", str(a_file)], "--format", "'jsonl'", "'xml'"),
        "ingest --store unsupported": (
            ["ingest", "--store", "nosuchdb://x", str(a_file)], "nosuchdb", "sqlite:///PATH", "'nosuchdb://x'"
        ),
        "ingest --store empty": (["ingest", "--store", "", str(a_file)], "--store", "SQLAlchemy URL", "empty string"),
        "ingest --store under a file": (
            ["ingest", "--store", str(a_file / "s.db"), str(a_file)], "store", "directory", str(a_file)
        ),
        "open --store bad port": (["open", "--store", "postgresql://h:port/db"], "store URL", "int()", "'port'"),
        "ingest --store bad port": (["ingest", "--store", "postgresql://h:port/db", str(a_file)], "store URL", "int()", "'port'"),
        "labels --store unsupported": (["labels", "export", "--store", "nosuchdb://x"], "nosuchdb", "sqlite:///", "nosuchdb://x"),
        "labels --format": (["labels", "export", "--format", "xml", "--store", store], "--format", "jsonl or csv", "'xml'"),
        "labels --verdict": (["labels", "export", "--verdict", "meh", "--store", store], "--verdict", "bad or good", "'meh'"),
        "labels --output": (  # a store that exists (made by the test): labels export refuses a missing one first
            ["labels", "export", "--output", str(tmp_path / "no dir" / "out.jsonl"), "--store", str(tmp_path / "existing.db")],
            "--output", "directory that exists", "no dir",
        ),
        "regress --concurrency": (["regress", "--concurrency", "0"], "--concurrency", "between 1 and 256", "got 0"),
        "regress --concurrency too many": (["regress", "--concurrency", "1000"], "--concurrency", "between 1 and 256", "got 1000"),
        "regress --suite missing": (
            ["regress", "--suite", str(tmp_path / "none.jsonl"), "--target", "replay:x.jsonl", "--store", store],
            "none.jsonl", "suite file", "none.jsonl",
        ),
        "regress --suite a directory": (
            ["regress", "--suite", str(cases_dir), "--target", "replay:x.jsonl", "--store", store],
            "cases dir", "suite file", "directory",
        ),
        "regress --target unknown": (["regress", "--target", "nosuch", "--store", store], "target", "targets", "'nosuch'"),
        "regress --target python bad": (
            ["regress", "--suite", str(a_file), "--target", "python:bad", "--store", store],
            "target", "'module:function'", "'bad'",
        ),
        "regress --baseline": (
            ["regress", "--suite", str(a_file), "--target", f"replay:{a_file}", "--baseline", "zzz", "--store", store],
            "--baseline", "run id or 'none'", "'zzz'",
        ),
        "demo --rate": (["demo", "--rate", "0"], "--rate", "> 0", "got 0"),
        "demo --rate negative": (["demo", "--rate", "-3"], "--rate", "> 0", "got -3"),
        "--config missing": (["report", "--config", str(tmp_path / "none.toml"), "--store", store], "none.toml", "no such config file", "none.toml"),
        "--config a directory": (["report", "--config", str(tmp_path), "--store", store], str(tmp_path), "llmops.toml", "directory"),
    }
    return cases


def _ids():
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        return list(bad_cases(Path(tmp)))


@pytest.mark.parametrize("name", _ids())
def test_a_bad_option_exits_2_naming_the_option_expected_and_got(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    args, option, expected, got = bad_cases(tmp_path)[name]
    if name == "labels --output":
        Store(f"sqlite:///{tmp_path / 'existing.db'}").close()
    result = runner.invoke(app, args)
    message = flat(result.output)
    assert result.exit_code == 2, (result.exit_code, message, result.exception)
    assert "Traceback" not in result.output
    for part in (option, expected, got):
        assert part in message, f"{part!r} not in {message!r}"


def test_a_non_integer_concurrency_names_the_option():
    result = runner.invoke(app, ["regress", "--concurrency", "many"])
    assert result.exit_code == 2
    assert "'--concurrency'" in flat(result.output) and "integer" in flat(result.output)


def test_config_warnings_go_to_stderr_and_the_command_runs(tmp_path, write_log):
    from conftest import make_record

    config = tmp_path / "llmops.toml"
    config.write_text("[ui]\nringsize = 10\n")
    log = write_log("app.jsonl", [make_record()])
    result = runner.invoke(app, ["ingest", str(log), "--store", str(tmp_path / "s.db"), "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "1 row added" in result.stdout
    warning = flat(result.stderr)
    assert f"warning: {config}: unknown key 'ui.ringsize' ignored (did you mean 'ui.ring_size'?)" in warning


def test_help_texts_show_the_config_tables_they_name():
    """Help names llmops.toml tables in brackets; Rich markup used to swallow them ("llmops.toml's , else")."""
    ingest_help = runner.invoke(app, ["ingest", "--help"])
    prompts_help = runner.invoke(app, ["prompts", "--help"])
    assert ingest_help.exit_code == 0 and prompts_help.exit_code == 0
    assert "llmops.toml's [prices]" in " ".join(ingest_help.output.split())
    assert "([prompts] path)" in prompts_help.output
