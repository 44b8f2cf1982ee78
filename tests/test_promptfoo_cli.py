"""promptfoo from the command line: `regress export --format promptfoo` writes our cases as a
promptfooconfig.yaml that `regress --suite` runs as the same cases; `regress` on a promptfoo
suite names the tests it did not run (with the reason) and the suite's notes, in print and in
--json; and real public promptfoo configs (tests/fixtures/promptfoo/*/, from promptfoo's
examples) run as they are."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from conftest import REPO
from console.cli import app

runner = CliRunner()
FIXTURES = REPO / "tests" / "fixtures" / "promptfoo"
ECHO = "def echo(case):\n    return case['input'].get('text') or ''\n"  # promptfoo's echo provider, as a target


def invoke(*args):
    return runner.invoke(app, list(args))


@pytest.fixture
def project(tmp_path, monkeypatch):
    """Cases of every input shape, a replay target answering them, an echo python target."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "regression").mkdir()
    cases = [
        {"id": "greets", "input": {"vars": {"q": "hello"}}, "assert": [{"type": "contains", "value": "hello"}],
         "tags": ["critical"], "source": {"kind": "triage", "request_id": "req_1", "who": "ana"}},
        {"id": "capital", "input": {"text": "Capital of France?"}, "assert": [], "expected_output": "Paris"},
        {"id": "chat", "input": {"messages": [{"role": "user", "content": "2+2?"}]},
         "assert": [{"type": "regex", "value": "^\\d+$"}, {"type": "not-is-refusal"}], "threshold": 0.5},
        {"id": "old", "input": {"text": "x"}, "assert": [{"type": "equals", "value": "x"}], "status": "archived"},
    ]  # fmt: skip
    (tmp_path / "regression" / "cases.jsonl").write_text("\n".join(json.dumps(c) for c in cases) + "\n")
    (tmp_path / "answers.jsonl").write_text(
        '{"id": "greets", "output": "hello there"}\n{"id": "capital", "output": "Lyon"}\n{"id": "chat", "output": "4"}\n'
    )
    (tmp_path / "echo_target.py").write_text(ECHO)
    (tmp_path / "llmops.toml").write_text('[regression.targets.replay]\ntype = "replay"\npath = "answers.jsonl"\n')
    return tmp_path


def outcomes(result) -> dict[str, str]:
    return {c["id"]: c["status"] for c in json.loads(result.stdout)["cases"]}


def test_export_then_regress_on_the_export_runs_the_same_cases(project):
    exported = invoke("regress", "export", "--format", "promptfoo", "-o", "promptfooconfig.yaml")
    assert exported.exit_code == 0, exported.output
    assert "exported 3 case(s)" in exported.stderr and "1 archived case(s) left out" in exported.stderr
    config = yaml.safe_load((project / "promptfooconfig.yaml").read_text())
    assert config["prompts"] == ["{{ llmops_input }}"] and config["providers"] == ["echo"]
    assert [t["description"] for t in config["tests"]] == ["greets", "capital", "chat"]
    assert config["tests"][0]["metadata"]["llmops"]["source"]["request_id"] == "req_1"  # provenance kept

    ours = invoke("regress", "--json", "--baseline", "none")
    theirs = invoke("regress", "--suite", "promptfooconfig.yaml", "--json", "--baseline", "none")
    assert ours.exit_code == theirs.exit_code == 0, theirs.output
    assert outcomes(ours) == outcomes(theirs) == {"greets": "pass", "capital": "fail", "chat": "pass"}
    doc = json.loads(theirs.stdout)
    assert doc["suite"] == "promptfooconfig.yaml" and doc["not_run"] == [] and doc["suite_notes"] == []


def test_export_to_stdout_with_providers_and_from_a_given_suite(project):
    (project / "other.jsonl").write_text('{"id": "one", "input": {"text": "hi"}, "assert": [{"type": "icontains", "value": "HI"}]}\n')
    result = invoke("regress", "export", "--format", "promptfoo", "--suite", "other.jsonl",
                    "--provider", "openai:gpt-4o-mini", "--provider", "file://app.py")  # fmt: skip
    assert result.exit_code == 0, result.output
    config = yaml.safe_load(result.stdout)
    assert config["providers"] == ["openai:gpt-4o-mini", "file://app.py"]
    assert config["tests"][0]["assert"] == [{"type": "icontains", "value": "HI"}]


@pytest.mark.parametrize(("args", "message"), [
    # typer/click word a one-choice error differently by version ('is not one of', 'is not')
    (["regress", "export", "--format", "csv"], "'csv' is not"),
    (["regress", "export", "--format", "promptfoo", "--suite", "missing.jsonl"], "no such suite file"),
    (["regress", "export", "--format", "promptfoo", "-o", "regression/cases.jsonl"], "that is the suite being exported"),
    (["regress", "export", "--format", "promptfoo", "-o", "no/such/dir/x.yaml"], "cannot write there"),
    (["regress", "--target", "replay", "export", "--format", "promptfoo"], "its options go after it"),
    (["regress", "exports"], "No such command 'exports'"),
])  # fmt: skip
def test_export_usage_errors_exit_2_and_write_nothing(project, args, message):
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert (project / "regression" / "cases.jsonl").read_text().count("\n") == 4  # the suite untouched


def test_regress_without_a_sub_command_runs_as_before(project):
    result = invoke("regress", "--target", "replay", "--all")
    assert result.exit_code == 0, result.output
    assert "gate: PASS" in result.output and "capital" in result.output
    assert "Commands" in invoke("regress", "--help").output and "export" in invoke("regress", "--help").output


def test_a_promptfoo_suite_report_names_the_tests_not_run_and_the_suite_notes(project):
    suite = str(FIXTURES / "promptfooconfig.yaml")
    printed = invoke("regress", "--suite", suite, "--target", "python:echo_target:echo", "--baseline", "none")
    assert printed.exit_code in (0, 1), printed.output
    text = " ".join(printed.output.split())
    assert "promptfoo test not run:" in text and "'bye': javascript assertion (no JavaScript runs here)" in text
    assert "'with its own provider': the test names its own provider" in text
    assert "skipped malformed case" not in text  # a test read as written is not a malformed line
    assert "suite: redteam: not run here" in text and "suite: 2 providers" in text
    assert "4 promptfoo test(s) were not run" in text

    as_json = invoke("regress", "--suite", suite, "--target", "python:echo_target:echo", "--json", "--baseline", "none")
    doc = json.loads(as_json.stdout)
    not_run = {entry["test"].split("'")[1]: entry["reason"] for entry in doc["not_run"]}
    assert set(not_run) == {"with its own provider", "transformed", "factual", "bye"}
    assert "factuality" in not_run["factual"] and all(e["file"].endswith("promptfooconfig.yaml") for e in doc["not_run"])
    assert any(n.startswith("redteam") for n in doc["suite_notes"]) and len(doc["problems"]) == 4


def test_a_real_promptfoo_config_with_defaulttest_and_csv_tests_runs(project):
    """promptfoo's examples/eval-customer-support-rubric: tests from file://tests.csv (vars,
    __description, __threshold, __metadata), a file:// prompt, defaultTest with five llm-rubric
    assertions and a grader provider. Without a judge every rubric is skipped, never passed,
    except where the CSV's threshold 0 lets any score pass (as in promptfoo)."""
    suite = str(FIXTURES / "customer-support-rubric" / "promptfooconfig.yaml")
    result = invoke("regress", "--suite", suite, "--target", "python:echo_target:echo", "--json", "--baseline", "none")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["counts"] == {"total": 8, "passed": 3, "failed": 0, "errored": 0, "skipped": 5}
    refund = next(c for c in doc["cases"] if c["id"] == "1-es-refund-ticket-answered-in-spanish")
    assert refund["output"].startswith("Hola, lamento el doble cobro")  # {{reply}} rendered from the CSV row
    assert [a["status"] for a in refund["assertions"]] == ["skipped"] * 5
    assert doc["not_run"] == [] and doc["suite_notes"] == ["defaultTest options.provider (a grader) ignored: our LLM judge grades"]


def test_a_real_promptfoo_config_reports_its_unmappable_parts_per_test(project):
    """promptfoo's examples/simple-test: two prompts from one file, `body: Yes` (a string in
    promptfoo's YAML 1.2), javascript in one test (listed, not run), a $ref assertion template."""
    suite = str(FIXTURES / "simple-test" / "promptfooconfig.yaml")
    result = invoke("regress", "--suite", suite, "--target", "python:echo_target:echo", "--json", "--baseline", "none")
    doc = json.loads(result.stdout)
    assert doc["not_run"] == [{"file": suite, "test": "tests[4] 'Check for semantic similarity'",
                               "reason": "javascript assertion (no JavaScript runs here)"}]  # fmt: skip
    outputs = {c["id"]: c["output"] for c in doc["cases"]}
    assert outputs["1-check-for-exact-match@file-prompts-txt-1"] == "Rephrase this from English to Pirate: Yes"
    assert outputs["1-check-for-exact-match@file-prompts-txt-2"] == "Pretend you're a pirate and speak these words: Yes"
    pirate = next(c for c in doc["cases"] if c["id"] == "5-use-llm-to-evaluate-output@file-prompts-txt-1")
    assert [(a["type"], a["status"]) for a in pirate["assertions"]] == [("llm-rubric", "skipped"), ("icontains", "fail")]
    assert doc["counts"]["total"] == 8 and result.exit_code == 0
