"""`report`'s text at a terminal's width, as a new user runs it: 80 columns, sample-like logs."""

from __future__ import annotations

from typer.testing import CliRunner

from conftest import make_record
from console.cli import app
from console.formatting import parse_rfc3339

runner = CliRunner()
NOW = "2026-11-20T12:00:00Z"
END = parse_rfc3339(NOW)


def drifted_rows() -> list[dict]:
    """v2 logged with two template hashes (its label reused for a changed text), beside v1."""
    rows = []
    for i in range(60):
        version, digest = ("v1", "1cea4499c84a") if i < 20 else ("v2", "b96565231855" if i % 2 else "4c5a14240f52")
        rows.append(make_record(ts=END - 3000 + 40 * i, prompt_id="summarize-thread", prompt_version=version,
                                prompt_hash=digest, latency_ms=900.0 + i, cost_usd=0.0036))  # fmt: skip
        # the sample logs' widest row: the longest name and a five-digit $/req
        rows.append(make_record(ts=END - 3000 + 40 * i + 5, prompt_id="ticket-classifier", prompt_version="v3",
                                latency_ms=11570.0, cost_usd=0.00028))  # fmt: skip
    return rows


def report_text(tmp_path, write_log, rows, *args: str, columns: int = 80) -> str:
    log = write_log("app.jsonl", rows)
    result = runner.invoke(
        app, ["report", str(log), "--store", str(tmp_path / "db.sqlite"), *args], env={"COLUMNS": str(columns)}
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def test_a_drifted_version_reads_whole_at_80_columns(tmp_path, write_log):
    """The versions table's flags column was folded at 80 columns into one character a line:
    '…', '…', '≠', '…' under the row, the hashes unreadable."""
    out = report_text(tmp_path, write_log, drifted_rows(), "--since", "1h", "--now", NOW)
    versions = out.split("Prompt versions")[1].split("Budgets")[0]
    lines = versions.splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert not [line for line in lines if line.strip() in {"…", "≠"}]
    row = next(line for line in lines if line.startswith("summarize-thread@v2"))
    assert "$0.0036" in row and "…" not in row  # every figure of the row whole
    drift = " ".join(line.strip() for line in versions.split("drifted: ")[1].splitlines()[:5])
    # no registry here: both logged hashes, most requests first (a tie: by name), no '≠'
    # between them (it read as "logged the first, not the second"); then what drift is
    assert drift.startswith("summarize-thread@v2 ran more than one text: logged prompt hashes "
                            "4c5a14240f52, b96565231855 (most requests first) drift: the app logged more than one "
                            "prompt_hash under one version")  # fmt: skip


def test_a_drift_reads_logged_then_registry_in_the_versions_section_and_the_registry_footer(
    tmp_path, write_log, monkeypatch
):
    """Found in a user trial: the Versions section said 'logged with b96565231855 ≠
    4c5a14240f52', the registry's hash first as if it were the logged one, while the footer
    said 'logged 4c5a14240f52, registry b96565231855'. Both now say logged X, registry Y."""
    rows = [make_record(ts=END - 3000 + 40 * i, prompt_id="summarize-thread", prompt_version="v2",
                        prompt_hash="4c5a14240f52" if i % 4 == 0 else "b96565231855") for i in range(60)]  # fmt: skip
    monkeypatch.chdir(tmp_path)
    log = write_log("app.jsonl", rows)
    assert runner.invoke(app, ["init", "--from-logs", str(log)]).exit_code == 0  # registers b965…, the most logged
    out = report_text(tmp_path, write_log, rows, "--since", "1h", "--now", NOW, columns=200)
    lines = out.splitlines()
    # what drift means and what to do: '(the registry's logged too)' said neither (a user trial)
    assert ("drifted: summarize-thread@v2 ran a text that is not the registry's v2: logged 4c5a14240f52, "
            "registry b96565231855; other requests logged b96565231855") in lines  # fmt: skip
    explained = " ".join(out.split("\n  drift: ")[1].split("\n\n")[0].split())  # wrapped at 200
    assert "prompt_hash that is not the hash of the registry's text for that version" in explained
    assert "give the new text its own version" in explained
    assert ("DRIFT summarize-thread@v2: logged 4c5a14240f52, registry b96565231855 "
            "(the version label was reused for a changed text)") in lines  # fmt: skip


def test_a_window_after_the_logs_end_says_where_they_end_and_the_now_that_shows_them(tmp_path, write_log):
    """`report` over last week's logs (the sample logs end 2026-11-20) printed empty tables
    and nothing else: 0 requests, as if nothing had been ingested."""
    out = report_text(tmp_path, write_log, drifted_rows())  # the clock's 24h, long after END
    assert "0 requests" in out
    hint = out.split("add --now ")[1].split()[0]
    assert parse_rfc3339(hint) > END - 3000 + 40 * 59  # after the newest row: it is inside the window
    again = runner.invoke(app, ["report", "--store", str(tmp_path / "db.sqlite"), "--now", hint],
                          env={"COLUMNS": "80"})  # fmt: skip
    assert again.exit_code == 0 and "120 requests" in again.stdout and "add --now" not in again.stdout


def test_long_names_are_whole_at_200_columns_and_folded_not_cut_at_80(tmp_path, write_log):
    # Latency, Spend and Versions cut every name at 30 characters with … at any width
    # (max_width=30): two versions of a long prompt id read alike
    long_id = "customer-support-escalation-summarizer"
    rows = [make_record(ts=END - 600 + i, prompt_id=long_id, prompt_version=f"v{10 + i % 2}", cost_usd=0.001)
            for i in range(20)]
    wide = report_text(tmp_path, write_log, rows, "--since", "1h", "--now", NOW, columns=200)
    for name in (f"{long_id}@v10", f"{long_id}@v11", f"prompt {long_id}"):
        assert name in wide
    assert "…" not in wide.split("Budgets")[0]
    narrow = report_text(tmp_path, write_log, rows, "--since", "1h", "--now", NOW, columns=80)
    tables = narrow.split("Budgets")[0]
    assert "…" not in tables and all(len(line) <= 80 for line in tables.splitlines())
    assert f"{long_id}@v10" in tables and f"{long_id}@v11" in tables  # as wide as the figures leave
