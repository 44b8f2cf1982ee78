"""Triage with a promptfoo suite (regression.suite = "promptfooconfig.yaml"): a case line is
never written into the YAML. Cases marked bad go to `<stem>.cases.jsonl` beside it, which
`regress` runs with the suite; a CaseFile on the YAML itself refuses with a message naming
that file, and the label keeps its case owed (not lost)."""

from __future__ import annotations

import json
import shutil
import time

import pytest

from conftest import REPO, line_of, make_record
from console.cases.file import CaseFile, CaseFileError, cases_beside, writable_cases_path
from console.config import EvaluationSettings, RegressionSettings, Settings
from console.evaluation.labels import Labeller
from console.ingest import ingest_files
from console.regression.suite import load_suite
from console.store import Store
from console.store.evaluation import EvaluationStore
from console.ui.app import ConsoleApp
from console.ui.screens.labelling import ReasonModal
from console.ui.screens.triage import TriageScreen
from test_ui import wait_until

FIXTURES = REPO / "tests" / "fixtures" / "promptfoo"


@pytest.fixture
def suite(tmp_path):
    """A copy of the customer-support-rubric example (promptfoo's own) as the project's suite."""
    directory = tmp_path / "repo"
    shutil.copytree(FIXTURES / "customer-support-rubric", directory)
    return directory / "promptfooconfig.yaml"


def test_the_cases_of_a_promptfoo_suite_go_beside_it(suite):
    assert cases_beside(suite) == suite.with_name("promptfooconfig.cases.jsonl")
    assert cases_beside(suite.with_name("cases.jsonl")) == suite.with_name("cases.jsonl")
    settings = Settings(regression=RegressionSettings(suite=str(suite)))
    assert writable_cases_path(settings) == suite.with_name("promptfooconfig.cases.jsonl")


def test_a_case_file_on_the_yaml_refuses_every_write_and_names_where_cases_go(suite):
    before = suite.read_bytes()
    yaml_file = CaseFile(suite)
    case = load_suite(suite).cases[0]
    for write in (lambda: yaml_file.append(case), lambda: yaml_file.remove(case.id), lambda: yaml_file.replace(case.id, case)):
        with pytest.raises(CaseFileError) as err:
            write()
        assert "is a promptfoo suite (YAML)" in str(err.value) and "promptfooconfig.cases.jsonl" in str(err.value)
    assert suite.read_bytes() == before


def test_a_label_made_against_the_yaml_keeps_its_case_owed(suite, tmp_path):
    record = make_record()
    log = tmp_path / "app.jsonl"
    log.write_text(line_of(record))
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    try:
        ingest_files(store, [str(log)])
        evaluation = EvaluationStore(store)
        outcome = Labeller(evaluation, CaseFile(suite), author="ana").mark(record["request_id"], "bad", "tone")
        assert outcome.case_added is None and "promptfooconfig.cases.jsonl" in outcome.case_error
        assert "the cases file was not changed" in outcome.describe()
        assert [label.request_id for label in evaluation.pending_labels()] == [record["request_id"]]
        # pointed at the right file, the next start settles it: the case is written beside the suite
        recovered = Labeller(evaluation, CaseFile(cases_beside(suite)), author="ana").recovered
        assert recovered.added == (record["request_id"],)  # req_…: the id as logged (issue 17)
    finally:
        store.close()


def test_regress_reads_the_cases_beside_a_promptfoo_suite(suite):
    beside = cases_beside(suite)
    beside.write_text(json.dumps({"id": "req-1", "input": {"text": "hi"}, "assert": [{"type": "icontains", "value": "hi"}]})
                      + "\n" + json.dumps({"id": "1-es-refund-ticket-answered-in-spanish", "input": {"text": "x"}, "assert": []})
                      + "\n{broken\n")  # fmt: skip
    loaded = load_suite(suite)
    assert [c.id for c in loaded.cases][-1] == "req-1" and len(loaded.cases) == 9
    problems = [str(p) for p in loaded.problems]
    assert any("duplicate id: a promptfoo test has it" in p for p in problems)
    assert any(":3:" in p and "promptfooconfig.cases.jsonl" in p for p in problems)  # the bad line, by number


async def test_triage_with_a_promptfoo_suite_writes_beside_it_and_says_so(suite, tmp_path, monkeypatch):
    monkeypatch.setenv("USER", "oncall-ana")
    now = time.time()
    log = tmp_path / "app.jsonl"
    log.write_text("".join(line_of(make_record(ts=now - 60 + i, status="error", error_type="BadRequestError", output=None))
                           for i in range(3)))  # fmt: skip
    before = suite.read_bytes()
    settings = Settings(evaluation=EvaluationSettings(sample_rate=1.0), regression=RegressionSettings(suite=str(suite)))
    app = ConsoleApp(sources=[str(log)], store_url=f"sqlite:///{tmp_path / 's.db'}", settings=settings)
    beside = cases_beside(suite)
    async with app.run_test(size=(200, 60)) as pilot:
        await wait_until(pilot, lambda: app.dashboard.report is not None and app.dashboard.report.requests == 3)
        await pilot.press("t")
        await wait_until(pilot, lambda: isinstance(app.screen, TriageScreen))
        screen = app.screen
        await wait_until(pilot, lambda: screen.queue is not None and len(screen.items) == 3)
        await pilot.press("b")
        await wait_until(pilot, lambda: isinstance(app.screen, ReasonModal))
        await pilot.press("1")
        await wait_until(pilot, lambda: beside.exists() and beside.read_text().count("\n") == 1)
        messages = lambda: [str(n.message) for n in app._notifications]  # noqa: E731
        await wait_until(pilot, lambda: any("is a promptfoo suite (YAML)" in m for m in messages()))
        told = next(m for m in messages() if "is a promptfoo suite" in m)
        assert str(beside) in told and "regress runs with the suite" in told
        assert suite.read_bytes() == before  # the YAML is untouched
    case = json.loads(beside.read_text())
    assert case["source"]["kind"] == "triage" and case["source"]["reason"] == "wrong answer"
    assert case["id"] in load_suite(suite).by_id()  # and regress runs it with the promptfoo tests
