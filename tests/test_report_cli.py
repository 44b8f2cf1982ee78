"""`llmops-console report` and `check`: the same figures as build_report, and exit codes."""

from __future__ import annotations

import json

import msgspec
from typer.testing import CliRunner

from conftest import make_record
from console.analytics.report import build_report
from console.cli import app
from console.config import load_settings
from console.formatting import parse_rfc3339
from console.store import Store

runner = CliRunner()
NOW = "2026-11-20T12:00:00Z"
END = parse_rfc3339(NOW)


def records() -> list[dict]:
    rows = []
    for i in range(120):  # two hours, one request a minute
        ts = END - 7200 + 60 * i + 30
        rows.append(
            make_record(
                ts=ts,
                model="gpt-4o" if i % 3 else "claude-sonnet-4-5",
                prompt_version="v7" if i < 80 else "v8",
                prompt_hash="h7" if i < 80 else "h8",
                latency_ms=800.0 + 37 * (i % 17),
                ttft_ms=200.0 + i,
                cost_usd=0.01 * (1 + i % 5),
                user_id=f"u{i % 4}",
                status="error" if i % 25 == 0 else "ok",
            )
        )
    rows.append(make_record(ts=END - 100, model="[bold red]self-hosted[/]", latency_ms=50.0))  # unpriced
    return rows


def write_config(tmp_path, text: str):
    path = tmp_path / "llmops.toml"
    path.write_text(text, encoding="utf-8")
    return path


CALM = """
[[budgets]]
name = "monthly"
period = "month"
amount_usd = 1000

[[slos]]
percentile = 95
max_ms = 5000
"""

HOT = """
[[budgets]]
name = "tiny daily"
period = "day"
amount_usd = 0.5
"""


def test_report_json_equals_build_report(tmp_path, write_log):
    log = write_log("app.jsonl", records())
    config = write_config(tmp_path, CALM)
    store = str(tmp_path / "db.sqlite")
    args = ["report", str(log), "--store", store, "--since", "1h", "--json", "--now", NOW, "--config", str(config)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    printed = result.stdout.strip().splitlines()[-1]
    with Store(store) as opened:
        cols = opened.load_columns()
    expected = build_report(cols, END, "1h", load_settings(config))
    assert printed.encode() == msgspec.json.encode(expected)
    data = json.loads(printed)
    assert data["window"]["name"] == "1h" and data["requests"] == 61
    assert data["spend"]["unpriced_models"] == ["[bold red]self-hosted[/]"]
    assert {"p50", "p90", "p95", "p99", "ttft_p50", "ttft_p95"} <= set(data["latency"]["overall"])
    assert data["budgets"][0]["burn_rates"].keys() >= {"5m", "1h", "6h"}
    assert [v["prompt_version"] for v in data["versions"]] == ["v8", "v7"]
    # the same store again, without sources: the same report
    again = runner.invoke(app, args[:1] + args[2:])
    assert again.exit_code == 0 and again.stdout.strip().splitlines()[-1] == printed


def test_report_tables_show_the_figures_and_print_log_strings_literally(tmp_path, write_log):
    log = write_log("app.jsonl", records())
    config = write_config(tmp_path, CALM)
    result = runner.invoke(
        app, ["report", str(log), "--store", str(tmp_path / "db.sqlite"), "--now", NOW, "--config", str(config)]
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    for heading in ("Latency (s)", "Spend", "Prompt versions", "Budgets", "Burn rates", "Alerts: none"):
        assert heading in out
    assert "support-answer@v8" in out and "gpt-4o" in out
    latency = out.split("Latency (s)")[1].split("Spend")[0]
    # each row names its model (a shadowed name once printed them blank), seconds like the panes
    assert any(line.startswith("all traffic") for line in latency.splitlines())
    assert any(line.startswith("gpt-4o") for line in latency.splitlines())
    assert "✓ ≤5s" in latency  # the SLO as the Latency pane writes it: the mark, then the threshold
    assert "[bold red]self-hosted[/]" in out  # shown as written, never parsed as markup
    assert "unpriced" in out


def test_check_exit_codes(tmp_path, write_log):
    log = write_log("app.jsonl", records())
    store = str(tmp_path / "db.sqlite")
    calm = write_config(tmp_path, CALM)
    ok = runner.invoke(app, ["check", str(log), "--store", store, "--now", NOW, "--config", str(calm)])
    assert ok.exit_code == 0, ok.output
    assert "ok: no alert" in ok.stdout

    hot = tmp_path / "hot.toml"
    hot.write_text(HOT, encoding="utf-8")
    fired = runner.invoke(app, ["check", "--store", store, "--now", NOW, "--config", str(hot)])
    assert fired.exit_code == 1, fired.output
    assert "PAGE" in fired.stdout and "tiny daily" in fired.stdout
    as_json = runner.invoke(app, ["check", "--store", store, "--now", NOW, "--config", str(hot), "--json"])
    assert as_json.exit_code == 1 and json.loads(as_json.stdout)["alerts"][0]["kind"] == "budget"


def test_check_over_a_window_with_no_request_says_where_the_requests_end(tmp_path, write_log):
    """From cron, 'ok' over an empty window is also what a log pipeline that stopped looks
    like: check says where the stored requests end; the exit code stays 0 (no alert fires)."""
    log = write_log("app.jsonl", records())
    store = str(tmp_path / "db.sqlite")
    calm = write_config(tmp_path, CALM)
    quiet = runner.invoke(app, ["check", str(log), "--store", store, "--config", str(calm)])  # the clock: no --now
    assert quiet.exit_code == 0, quiet.output
    assert "ok: no alert over 1h (0 requests, 1 budget, 1 SLO)" in quiet.stdout
    assert "the newest stored is 2026-11-20T11:59:30Z" in quiet.stdout
    assert "add --now 2026-11-20T11:59:31Z" in quiet.stdout
    hinted = runner.invoke(app, ["check", "--store", store, "--config", str(calm), "--now", "2026-11-20T11:59:31Z"])
    assert hinted.exit_code == 0 and "(61 requests, 1 budget, 1 SLO)" in hinted.stdout
    assert "newest stored" not in hinted.stdout


def test_usage_and_config_errors_exit_2(tmp_path, write_log):
    log = write_log("app.jsonl", records()[:5])
    store = str(tmp_path / "db.sqlite")
    cases = [
        ["check", str(log), "--store", store, "--since", "2x"],
        ["report", str(log), "--store", store, "--now", "yesterday"],
        ["check", str(tmp_path / "missing.jsonl"), "--store", store],
        ["check", "--store", str(tmp_path / "none.sqlite")],
    ]
    for args in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
    bad = tmp_path / "bad.toml"
    bad.write_text('[[budgets]]\nname = "x"\nperiod = "week"\namount_usd = 5\n', encoding="utf-8")
    result = runner.invoke(app, ["check", str(log), "--store", store, "--config", str(bad)])
    assert result.exit_code == 2 and "period" in result.output


def test_report_says_no_bad_rate_for_a_version_nobody_rated(tmp_path, write_log):
    """Found in the demo's user trial: versions without feedback or labels read "0.0%" bad.
    Now "—" and rated 0 (JSON: bad_rate null), the rated column where the terminal has room,
    and a line under the table saying what "—" means at 80 columns."""
    rows = records()
    for i, row in enumerate(rows[:80]):  # v7: every request rated, every 10th thumbs down
        row["feedback"] = -1 if i % 10 == 0 else 1
    log = write_log("app.jsonl", rows)
    store = str(tmp_path / "db.sqlite")
    args = ["report", str(log), "--store", store, "--since", "6h", "--now", NOW]
    data = json.loads(runner.invoke(app, [*args, "--json"]).stdout.strip().splitlines()[-1])
    versions = {v["prompt_version"]: (v["bad"], v["rated"], v["bad_rate"]) for v in data["versions"]}
    assert versions == {"v7": (8, 80, 0.1), "v8": (0, 0, None)}
    for columns, rated_column in (("80", False), ("120", True)):
        out = runner.invoke(app, args[:1] + args[2:], env={"COLUMNS": columns}).stdout
        table = out.split("Prompt versions")[1].split("Budgets")[0]
        lines = {line.split()[0]: line.split() for line in table.splitlines() if line.startswith("support-answer@")}
        assert ("rated" in table.splitlines()[1]) is rated_column, (columns, table)
        assert lines["support-answer@v7"][3] == "10.0%" and lines["support-answer@v8"][3] == "—", table
        if rated_column:
            assert (lines["support-answer@v7"][4], lines["support-answer@v8"][4]) == ("80", "0")
        assert "no response rated (no feedback, no label), no bad rate: support-answer@v8" in " ".join(table.split())
        assert max(len(line) for line in table.splitlines()) <= int(columns)
