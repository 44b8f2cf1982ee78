"""A user trial's command line findings: one --since syntax for report, check and compare;
compare's identical arms and empty window; report's registry line over an empty window; the
demo's --config help."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from conftest import make_record
from console.cli import app
from console.commands.compare import parse_since
from console.commands.report import check_since
from console.formatting import parse_rfc3339

runner = CliRunner()
NOW = "2026-11-20T12:00:00Z"
END = parse_rfc3339(NOW)


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def stored(tmp_path, write_log):
    """Three hours of requests ending at NOW (one a minute, two models), ingested."""
    rows = [make_record(ts=END - 60 * i - 30, model="gpt-4o" if i % 2 else "gpt-4o-mini") for i in range(180)]
    log = write_log("app.jsonl", rows)
    store = str(tmp_path / "db.sqlite")
    assert runner.invoke(app, ["ingest", str(log), "--store", store]).exit_code == 0
    return store


def test_report_and_check_take_the_durations_compare_takes(stored):
    """`compare --since 2h` worked, `report --since 2h` and `check --since 2h` exited 2."""
    report = runner.invoke(app, ["report", "--store", stored, "--since", "2h", "--now", NOW, "--json"])
    assert report.exit_code == 0, report.output
    window = json.loads(report.stdout)["window"]
    assert (window["name"], window["seconds"], json.loads(report.stdout)["requests"]) == ("2h", 7200.0, 120)
    assert window["start"] == "2026-11-20T10:00:00Z"
    check = runner.invoke(app, ["check", "--store", stored, "--since", "90m", "--now", NOW])
    assert check.exit_code == 0 and "ok: no alert over 90m (90 requests" in check.stdout
    backtest = runner.invoke(app, ["check", "--store", stored, "--since", "2h", "--now", NOW, "--backtest", "1h"])
    assert backtest.exit_code == 0, backtest.output
    for command in ("report", "check", "compare"):
        args = ["--a", "model=gpt-4o", "--b", "model=gpt-4o-mini"] if command == "compare" else []
        bad = runner.invoke(app, [command, "--store", stored, "--since", "2x", *args])
        assert bad.exit_code == 2
        assert "--since '2x': use 15m, 1h, 6h, 24h, 7d, all, or any duration such as 2h, 90m or 3d" in flat(bad.output)


def test_one_window_parser_for_every_command():
    from console.analytics.windows import UnknownWindow, next_window, parse_window, window_seconds

    assert parse_window(" 2H ") == check_since("2H") == "2h"
    assert [window_seconds(name) for name in ("15m", "2h", "90s", "1.5d", "1w", "all")] == [
        900.0, 7200.0, 90.0, 129600.0, 604800.0, None,
    ]
    assert parse_since("2h", now=10_000.0) == 10_000.0 - 7200
    for wrong in ("0h", "2x", "h", "-1h", "1e3h", ""):
        with pytest.raises(UnknownWindow):
            parse_window(wrong)
    # the console's `w` key after a window only the command line names: the next longer one
    assert (next_window("2h"), next_window("24h"), next_window("30d")) == ("6h", "7d", "all")


def test_compare_says_when_both_arms_are_the_same_rows(stored):
    """Both arms model=gpt-4o: four 'no significant difference (p = 1.00)' lines, as if two
    things had been compared."""
    result = runner.invoke(app, ["compare", "--store", stored, "--a", "model=gpt-4o", "--b", "model=gpt-4o"])
    assert result.exit_code == 0, result.output
    out = flat(result.stdout)
    assert "• both arms are the same 90 requests: nothing to compare" in out
    assert "no significant difference" not in out
    as_json = json.loads(runner.invoke(app, ["compare", "--store", stored, "--a", "model=gpt-4o",
                                             "--b", "model=gpt-4o", "--json"]).stdout)  # fmt: skip
    assert as_json["verdict"] == ["both arms are the same 90 requests: nothing to compare"]
    # different arms still get their tests
    other = runner.invoke(app, ["compare", "--store", stored, "--a", "model=gpt-4o", "--b", "model=gpt-4o-mini"])
    assert "no significant difference" in flat(other.stdout) and "same" not in other.stdout


def test_compare_over_an_empty_window_says_where_the_requests_end(stored):
    """The logs end 2026-11-20: `compare --since 24h` on the clock listed 'models: none' per arm."""
    result = runner.invoke(app, ["compare", "--store", stored, "--since", "24h",
                                 "--a", "model=gpt-4o", "--b", "model=gpt-4o-mini"])  # fmt: skip
    assert result.exit_code == 0, result.output
    err = flat(result.stderr)
    assert "no request in the last 24h; the newest stored is 2026-11-20T11:59:30Z: add --since all" in err
    assert "models: none" not in err


def test_report_over_an_empty_window_does_not_claim_the_registry_is_clean(tmp_path, write_log, monkeypatch):
    """ingest said 'unregistered: support-answer@v9', then report (its 24h window empty on the
    clock) said 'every logged version is registered, no drift': true of no version at all."""
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["init"]).exit_code == 0
    log = write_log("app.jsonl", [make_record(ts=END - 60 * i, prompt_version="v9") for i in range(5)])
    ingested = runner.invoke(app, ["ingest", str(log)])
    assert "support-answer@v9" in flat(ingested.stdout)
    empty = runner.invoke(app, ["report"])
    assert empty.exit_code == 0, empty.output
    out = flat(empty.stdout)
    assert "Prompt registry: no logged version in the window to check (--since all checks every stored version)" in out
    assert "every logged version is registered" not in out
    everything = flat(runner.invoke(app, ["report", "--since", "all"]).stdout)
    assert "unregistered (seen in logs, not in the registry): support-answer@v9" in everything


def test_demo_help_names_the_config_the_demo_uses():
    """It said '(default: ./llmops.toml, then the user config dir)': the demo uses the
    llmops.toml it writes in its own directory."""
    result = runner.invoke(app, ["demo", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    out = flat(result.output)
    # the option's metavar is '<path>' with the click we pin and 'PATH' with the lowest we claim
    assert "llmops.toml to use instead of the demo's own (written in its directory)." in out
    assert re.search(r"--config (<path>|PATH) llmops\.toml to use instead", out)
    assert "./llmops.toml" not in out
