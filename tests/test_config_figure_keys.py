"""An unknown key where ignoring it would change a figure stops every command that reads llmops.toml.

Found in a user trial: `modle = "gpt-4o"` in a [[budgets]] entry was a warning, the budget then
counted ALL traffic, and `report`'s burn figures and `check`'s budget alert were wrong with no
word but a warning line above them. Now it is the config error path (console/cli.py: `error:
<message>`, exit 2) naming the file, the entry (index and name), the key and the keys known
there, with a "did you mean". Unknown keys elsewhere ([ui], [evaluation], ...) stay warnings
(tests/test_config_warnings.py, tests/test_config_schema.py).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from conftest import REPO, make_record
from console.cli import app
from console.formatting import parse_rfc3339

runner = CliRunner()
NOW = "2026-11-20T12:00:00Z"
END = parse_rfc3339(NOW)
BUDGETS = """
[[budgets]]
name = "all traffic"
period = "month"
amount_usd = 1000

[[budgets]]
name = "gpt-4o daily"
period = "day"
amount_usd = 5
{scope} = "gpt-4o"
"""


def flat(text: str) -> str:
    return " ".join(text.split())  # Rich wraps the error line at the terminal's width


@pytest.fixture
def log(write_log):
    """An hour of traffic: gpt-4o costs 0.02 a call, claude 0.5 (a budget covering all is far off)."""
    rows = [
        make_record(ts=END - 3600 + 60 * i, model="gpt-4o" if i % 2 else "claude-sonnet-4-5",
                    cost_usd=0.02 if i % 2 else 0.5)
        for i in range(60)
    ]  # fmt: skip
    return write_log("app.jsonl", rows)


def config(tmp_path, scope: str):
    path = tmp_path / "llmops.toml"
    path.write_text(BUDGETS.format(scope=scope), encoding="utf-8")
    return path


@pytest.mark.parametrize("command", ["check", "report"])
def test_a_misspelt_budget_scope_stops_the_command_naming_file_entry_key_and_known_keys(tmp_path, log, command):
    path = config(tmp_path, "modle")
    result = runner.invoke(app, [command, str(log), "--store", str(tmp_path / "s.db"), "--now", NOW, "--config", str(path)])
    assert result.exit_code == 2, result.output
    message = flat(result.stderr)
    assert message.startswith(f"error: {path}: key 'budgets[1].modle' (the budget named 'gpt-4o daily'): unknown key"), message
    assert "(did you mean 'model'?)" in message
    assert "the keys known in a [[budgets]] entry: name, period, amount_usd, model, prompt_id, user_id, environment" in message
    assert "Traceback" not in result.output
    assert result.stdout == "", "no figure is printed from a budget that would count all traffic"


def test_the_same_config_spelt_right_works_and_the_budget_counts_only_its_model(tmp_path, log):
    path = config(tmp_path, "model")
    store = str(tmp_path / "s.db")
    result = runner.invoke(app, ["report", str(log), "--store", store, "--now", NOW, "--json", "--config", str(path)])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr
    budgets = json.loads(result.stdout.strip().splitlines()[-1])["budgets"]
    assert budgets[1]["scope"] == {"model": "gpt-4o"}
    assert budgets[1]["spent_usd"] == pytest.approx(30 * 0.02), "the gpt-4o calls only, not the claude ones"
    checked = runner.invoke(app, ["check", "--store", store, "--now", NOW, "--config", str(path)])
    assert checked.exit_code in (0, 1) and "2 budgets" in checked.stdout, checked.output


@pytest.mark.parametrize(
    ("written", "hint"),
    [("prompt", " (did you mean 'prompt_id'?)"), ("user", " (did you mean 'user_id'?)"), ("team", "")],
)
def test_the_error_suggests_the_closest_scope_key(tmp_path, log, written, hint):
    path = config(tmp_path, written)
    result = runner.invoke(app, ["check", str(log), "--store", str(tmp_path / "s.db"), "--now", NOW, "--config", str(path)])
    assert result.exit_code == 2, result.output
    message = flat(result.stderr)
    assert f"key 'budgets[1].{written}' (the budget named 'gpt-4o daily'): unknown key{hint};" in message, message
    if not hint:
        assert "did you mean" not in message


def test_a_misspelt_slo_scope_and_a_misspelt_budgets_table_stop_check(tmp_path, log):
    path = tmp_path / "llmops.toml"
    path.write_text('[[slos]]\nmax_ms = 900\nmodle = "gpt-4o"\n[[budget]]\nname = "b"\nperiod = "day"\namount_usd = 1\n')
    result = runner.invoke(app, ["check", str(log), "--store", str(tmp_path / "s.db"), "--now", NOW, "--config", str(path)])
    assert result.exit_code == 2, result.output
    message = flat(result.stderr)
    assert f"error: {path}: key 'slos[0].modle': unknown key (did you mean 'model'?)" in message, message
    assert "key 'budget': unknown key (did you mean 'budgets'?)" in message, message


def test_the_live_console_stops_before_its_screen_with_the_same_error(tmp_path):
    """`open` (and `demo`, which opens the console the same way) reads the config before Textual
    is imported: a bad one is an `error:` line and exit 2, as a wrong value is."""
    path = config(tmp_path, "modle")
    command = [sys.executable, "-c", "from console.cli import main; main()"]
    done = subprocess.run(
        [*command, "open", "--store", str(tmp_path / "s.db"), "--config", str(path)],
        capture_output=True, text=True, cwd=REPO, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "key 'budgets[1].modle' (the budget named 'gpt-4o daily'): unknown key (did you mean 'model'?)" in flat(done.stderr)
