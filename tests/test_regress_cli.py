"""`llmops-console regress`: exit codes, JSON, storage, baselines, usage errors."""

from __future__ import annotations

import json
import re
import sys

import pytest
from typer.testing import CliRunner

from conftest import REPO
from console.cli import app
from console.regression import history
from console.store import Store

runner = CliRunner()
APP = [sys.executable, str(REPO / "tests" / "fixtures" / "regress_app.py")]


def case(case_id, asserts, **extra):
    return json.dumps({"id": case_id, "input": {"vars": {"mode": "text", "q": case_id}}, "assert": asserts, **extra})


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project: llmops.toml with a command and a replay target, a suite with a bad line."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "regression").mkdir()
    (tmp_path / "regression" / "cases.jsonl").write_text("\n".join([
        case("greets", [{"type": "contains", "value": "answer to greets"}], tags=["critical"]),
        case("typo", [{"type": "equals", "value": "answer to typo"}]),
        '{"id": "broken", "input": {}}',
        case("old", [{"type": "equals", "value": "x"}], status="archived"),
    ]) + "\n")  # fmt: skip
    (tmp_path / "good.jsonl").write_text('{"id": "greets", "output": "answer to greets"}\n{"id": "typo", "output": "answer to typo"}\n')
    (tmp_path / "worse.jsonl").write_text('{"id": "greets", "output": "answer to greets"}\n{"id": "typo", "output": "answer to tpyo"}\n')
    (tmp_path / "critical.jsonl").write_text('{"id": "greets", "output": "no"}\n{"id": "typo", "output": "answer to typo"}\n')
    (tmp_path / "llmops.toml").write_text(f"""
[regression]
default_target = "app"
concurrency = 2

[regression.targets.app]
type = "command"
argv = {json.dumps(APP)}
timeout_s = 20

[regression.targets.good]
type = "replay"
path = "good.jsonl"
""")
    return tmp_path


def regress(*args):
    return runner.invoke(app, ["regress", *args])


def test_a_passing_run_exits_0_and_is_stored(project):
    result = regress()
    assert result.exit_code == 0, result.output
    assert "gate: PASS" in result.output and "regression/cases.jsonl:3" in result.output
    # --all lists every case, latencies in seconds as the console writes them everywhere (they were '41ms')
    listed = regress("--all")
    assert re.search(r"\d\.\d\ds", listed.output) and not re.search(r"\dms\b", listed.output), listed.output
    store = Store(str(project / ".llmops" / "console.db"))
    run = history.list_runs(store)[0]
    assert (run.target, run.status, run.total, run.passed, run.suite) == ("app", "finished", 2, 2, "regression/cases.jsonl")
    assert run.summary["gate"]["passed"] is True
    assert set(history.load_results(store, run.id)) == {"greets", "typo"}
    store.close()


def test_json_output(project):
    result = regress("--json", "--target", "good", "--prompt-version", "v9", "--model", "gpt-4o")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["target"] == "good" and doc["prompt_version"] == "v9" and doc["model"] == "gpt-4o"
    assert doc["counts"]["passed"] == 2 and doc["gate"]["passed"] is True
    assert doc["comparison"]["pass_rate"]["wilson_95"][1] == 1.0
    assert [c["id"] for c in doc["cases"]] == ["greets", "typo"]
    assert doc["cases"][0]["assertions"][0]["status"] == "pass"
    assert doc["problems"][0].startswith("regression/cases.jsonl:3: input needs vars, messages or text")


def test_baseline_flow_regressions_and_the_gate(project):
    assert regress("--target", "good", "--mark-baseline").exit_code == 0
    store = Store(str(project / ".llmops" / "console.db"))
    base = history.baseline_run(store, "regression/cases.jsonl")
    assert base is not None and base.target == "good"
    # a non-critical regression: reported, but the gate passes
    worse = regress("--target", "replay:worse.jsonl", "--json")
    doc = json.loads(worse.stdout)
    assert worse.exit_code == 0 and doc["comparison"]["baseline_run_id"] == base.id
    assert doc["comparison"]["counts"]["regression"] == 1 and doc["cases"][1]["class"] == "regression"
    # ... unless the pass rate falls under the minimum
    (project / "llmops.toml").write_text((project / "llmops.toml").read_text().replace("concurrency = 2", "concurrency = 2\nmin_pass_rate = 0.9"))
    assert regress("--target", "replay:worse.jsonl").exit_code == 1
    # a critical regression fails the gate
    critical = regress("--target", "replay:critical.jsonl")
    assert critical.exit_code == 1 and "critical case(s) regressed: greets" in critical.output
    # --baseline none: no comparison, every case new; the baseline did not move
    assert '"baseline_run_id": null' in regress("--target", "good", "--baseline", "none", "--json").stdout
    assert history.baseline_run(store, "regression/cases.jsonl").id == base.id
    store.close()


def test_new_errors_fail_the_gate(project):
    (project / "errs.jsonl").write_text('{"id": "greets", "error": "overloaded"}\n{"id": "typo", "output": "answer to typo"}\n')
    result = regress("--target", "replay:errs.jsonl")
    assert result.exit_code == 1 and "1 new error(s): greets" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "nope"], "no target 'nope'"),
        (["--suite", "missing.jsonl"], "no such suite file"),
        (["--baseline", "42"], "no such run"),
        (["--baseline", "latest"], "run id or 'none'"),
        (["--target", "python:no_such_mod_q:f"], "cannot import"),
        (["--target", "replay:nothing.jsonl"], "cannot read"),
        (["--concurrency", "0"], "between 1 and 256"),
    ],
)
def test_usage_errors_exit_2(project, args, message):
    result = regress(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_config_errors_exit_2_naming_the_key(project):
    (project / "llmops.toml").write_text('[regression.targets.app]\ntype = "command"\n')
    result = regress()
    assert result.exit_code == 2 and "regression.targets.app" in result.output and "argv" in result.output
    (project / "llmops.toml").write_text('[regression]\ndefault_target = "ghost"\n')
    assert regress().exit_code == 2


def test_no_target_anywhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "llmops.toml").write_text("")
    result = regress("--suite", "x.jsonl")
    assert result.exit_code == 2 and "which target" in result.output
