"""Labels: verdicts with history, undo, notes, the cases they add, is_bad, and the export."""

from __future__ import annotations

import csv
import io
import json
import time

import jsonschema
import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import REPO, make_record
from console.analytics.live import LiveWindow
from console.analytics.report import build_report
from console.cases.file import CaseFile
from console.cli import app as cli
from console.config import Settings
from console.evaluation.export import safe_cell
from console.evaluation.labels import Labeller, LabelError
from console.evaluation.regression_set import case_id_for
from console.ingest import ingest_files
from console.store import Store
from console.store.evaluation import EvaluationStore

CASE_SCHEMA = jsonschema.Draft202012Validator(json.loads((REPO / "schemas" / "regression-case.v1.schema.json").read_text()))


@pytest.fixture
def records(write_log):
    now = time.time()
    made = [
        make_record(ts=now - 300 + i, prompt_version="v8" if i % 2 else "v7", feedback=-1 if i == 0 else None)
        for i in range(10)
    ]
    made[3]["output"] = "=HYPERLINK(\"http://evil\",\"click\")"
    made[5]["output"] = [{"role": "assistant", "content": "-2+3"}]
    return made, write_log("app.jsonl", made)


@pytest.fixture
def store(tmp_path, records):
    _, path = records
    opened = Store(f"sqlite:///{tmp_path / 'store.db'}")
    ingest_files(opened, [str(path)])
    yield opened
    opened.close()


@pytest.fixture
def labeller(store, tmp_path):
    return Labeller(EvaluationStore(store), CaseFile(tmp_path / "regression" / "cases.jsonl"), author="ana")


def case_ids(labeller) -> list[str]:
    return [case.id for case in labeller.cases.cases()]


def test_marking_bad_labels_and_adds_one_valid_case(labeller, records):
    rid = records[0][2]["request_id"]
    outcome = labeller.mark(rid, "bad", "hallucination")
    assert outcome.verdict == "bad" and outcome.case_added == case_id_for(rid)
    label = labeller.evaluation.current_label(rid)
    assert (label.verdict, label.reason, label.author, label.case_id) == ("bad", "hallucination", "ana", case_id_for(rid))
    lines = labeller.cases.path.read_text().splitlines()
    assert len(lines) == 1 and CASE_SCHEMA.is_valid(json.loads(lines[0]))
    assert json.loads(lines[0])["source"]["who"] == "ana"


def test_marking_the_same_request_twice_adds_no_second_case(labeller, records):
    rid = records[0][2]["request_id"]
    labeller.mark(rid, "bad", "hallucination")
    again = labeller.mark(rid, "bad", "unsafe")
    assert again.case_added is None
    assert case_ids(labeller) == [case_id_for(rid)]
    assert labeller.evaluation.current_label(rid).reason == "unsafe"


def test_relabel_keeps_history_and_good_removes_the_case(labeller, records):
    rid = records[0][2]["request_id"]
    labeller.mark(rid, "bad", "tone")
    outcome = labeller.mark(rid, "good")
    assert outcome.case_removed == case_id_for(rid) and case_ids(labeller) == []
    history = labeller.evaluation.history(rid)
    assert [(h.verdict, h.active) for h in history] == [("bad", True), ("good", True)]
    assert labeller.evaluation.current_verdicts() == {rid: "good"}


def test_undo_removes_the_case_it_added_and_restores_the_verdict_before(labeller, records):
    a, b = records[0][1]["request_id"], records[0][2]["request_id"]
    labeller.mark(a, "bad", "format")
    labeller.mark(b, "good")
    labeller.mark(b, "bad", "unsafe")
    assert set(case_ids(labeller)) == {case_id_for(a), case_id_for(b)}
    undone = labeller.undo()
    assert undone.undone and undone.request_id == b and undone.verdict == "good"
    assert undone.case_removed == case_id_for(b)
    assert case_ids(labeller) == [case_id_for(a)]
    labeller.undo()  # b's good label
    assert labeller.evaluation.current_label(b) is None
    labeller.undo()  # a's bad label
    assert case_ids(labeller) == [] and labeller.undo() is None
    assert [h.active for h in labeller.evaluation.history(a)] == [False]  # history kept, inactive


def test_undoing_a_good_relabel_brings_the_case_back(labeller, records):
    rid = records[0][4]["request_id"]
    labeller.mark(rid, "bad", "wrong answer")
    labeller.mark(rid, "good")
    assert case_ids(labeller) == []
    outcome = labeller.undo()
    assert outcome.verdict == "bad" and outcome.case_added == case_id_for(rid)
    assert case_ids(labeller) == [case_id_for(rid)]


def test_a_hand_written_case_is_never_removed_from_here(labeller, records):
    rid = records[0][6]["request_id"]
    labeller.cases.path.parent.mkdir(parents=True)
    labeller.cases.path.write_text(json.dumps({"id": case_id_for(rid), "input": {"text": "mine"}, "assert": []}) + "\n")
    assert labeller.mark(rid, "bad", "tone").case_added is None
    labeller.undo()
    assert case_ids(labeller) == [case_id_for(rid)]


def test_a_note_goes_on_the_label_and_its_case(labeller, records):
    rid = records[0][7]["request_id"]
    with pytest.raises(LabelError, match="first"):
        labeller.note(rid, "no label yet")
    labeller.mark(rid, "bad", "hallucination")
    labeller.note(rid, "the refund policy is 30 days")
    assert labeller.evaluation.current_label(rid).note == "the refund policy is 30 days"
    assert labeller.cases.get(case_id_for(rid)).source.note == "the refund policy is 30 days"


def test_unknown_requests_and_verdicts_are_refused(labeller):
    with pytest.raises(LabelError, match="no request"):
        labeller.mark("req_nope", "bad")
    with pytest.raises(LabelError, match="bad or good"):
        labeller.mark("req_nope", "meh")


def test_labels_never_touch_the_source_log(labeller, records):
    made, path = records
    before = path.read_bytes()
    labeller.mark(made[0]["request_id"], "bad", "unsafe")
    labeller.undo()
    assert path.read_bytes() == before


def test_labels_replace_feedback_as_the_bad_signal(labeller, store, records):
    made, _ = records
    assert store.load_columns().is_bad.tolist() == [True] + [False] * 9  # feedback -1 on the first
    labeller.mark(made[0]["request_id"], "good")  # thumbs down, but a person says it is fine
    labeller.mark(made[1]["request_id"], "bad", "unsafe")
    labeller.mark(made[2]["request_id"], "bad", "tone")
    assert store.load_columns().is_bad.tolist() == [False, True, True] + [False] * 7
    labeller.undo()
    labeller.undo()
    labeller.undo()
    assert store.load_columns().is_bad.tolist() == [True] + [False] * 9


def test_bad_label_rate_per_version_in_the_report(labeller, store, records):
    """The bad rate is over the rated requests (a label, or feedback): the unrated are no
    evidence either way, and a version nobody rated has no bad rate (None), not 0%."""
    made, _ = records

    def rates() -> dict:
        report = build_report(store.load_columns(), time.time(), "1h", Settings())
        return {v.prompt_version: (v.bad, v.rated, v.bad_rate) for v in report.versions}

    assert rates() == {"v7": (1, 1, 1.0), "v8": (0, 0, None)}  # only the first (v7) has feedback
    for record in made[1:6:2]:  # three v8 requests
        labeller.mark(record["request_id"], "bad", "hallucination")
    for record in made[7:10:2]:  # two more
        labeller.mark(record["request_id"], "good")
    labeller.mark(made[2]["request_id"], "good")  # a v7 request without feedback: now rated
    assert rates() == {"v7": (1, 2, pytest.approx(1 / 2)), "v8": (3, 5, pytest.approx(3 / 5))}
    labeller.undo()  # its label removed: unrated again
    assert rates()["v7"] == (1, 1, 1.0)


def test_live_window_follows_labels_like_a_fresh_build(store, records):
    made, _ = records
    now = time.time()
    live = LiveWindow(Settings(), "1h", cols=store.load_columns())
    live.update(now)
    # made[3]: good on a row without feedback changes no bad count, only rates it
    verdicts = {made[1]["request_id"]: "bad", made[0]["request_id"]: "good", made[3]["request_id"]: "good",
                "req_unknown": "bad"}  # fmt: skip
    assert live.apply_verdicts(verdicts) == 3
    incremental = live.report(now)
    fresh = build_report(live.cols, now, "1h", Settings())
    assert incremental == fresh
    assert incremental.versions[0].bad + incremental.versions[1].bad == 1
    assert sorted(v.rated for v in incremental.versions) == [1, 2]  # v7: made[0]; v8: made[1], made[3]
    undone = {made[1]["request_id"]: None, made[0]["request_id"]: None, made[3]["request_id"]: None}
    assert live.apply_verdicts(undone) == 3
    assert live.cols.is_bad.tolist() == [True] + [False] * 9
    assert live.cols.is_rated.tolist() == [True] + [False] * 9
    assert live.report(now) == build_report(live.cols, now, "1h", Settings())


def test_columns_find_rows_by_request_id_after_eviction(store, records):
    made, _ = records
    cols = store.load_columns()
    cols.evict_before(float(cols.ts[4]))
    assert len(cols) == 6
    rows = cols.apply_verdicts({made[7]["request_id"]: "bad", made[2]["request_id"]: "bad"})
    assert rows.tolist() == [3]
    assert np.flatnonzero(cols.is_bad).tolist() == [3]


# -- labels export -----------------------------------------------------------------------------


def test_export_jsonl_current_verdicts(labeller, store, records):
    made, _ = records
    labeller.mark(made[1]["request_id"], "bad", "unsafe")
    labeller.mark(made[1]["request_id"], "good")
    labeller.mark(made[2]["request_id"], "bad", "tone")
    labeller.note(made[2]["request_id"], "rude")
    result = CliRunner().invoke(cli, ["labels", "export", "--store", store.url])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["request_id"], r["verdict"]) for r in rows] == [(made[1]["request_id"], "good"), (made[2]["request_id"], "bad")]
    assert rows[1]["reason"] == "tone" and rows[1]["note"] == "rude" and rows[1]["author"] == "ana"
    assert rows[1]["prompt_version"] == "v7" and rows[1]["model"] == "gpt-4o-mini"
    assert rows[1]["labelled_at"].endswith("Z") and rows[1]["ts"].endswith("Z")
    bad = CliRunner().invoke(cli, ["labels", "export", "--store", store.url, "--verdict", "bad"])
    assert [json.loads(line)["request_id"] for line in bad.stdout.splitlines()] == [made[2]["request_id"]]
    history = CliRunner().invoke(cli, ["labels", "export", "--store", store.url, "--history"])
    assert [json.loads(line)["active"] for line in history.stdout.splitlines()] == [True, True, True]


def test_export_csv_defuses_formulas(labeller, store, records, tmp_path):
    made, _ = records
    labeller.mark(made[3]["request_id"], "bad", "unsafe")
    labeller.mark(made[5]["request_id"], "bad", "format")
    labeller.note(made[5]["request_id"], "@SUM(A1:A9)")
    out = tmp_path / "labels.csv"
    result = CliRunner().invoke(cli, ["labels", "export", "--store", store.url, "--format", "csv", "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert rows[0]["output"] == "'=HYPERLINK(\"http://evil\",\"click\")"
    assert rows[1]["note"] == "'@SUM(A1:A9)"
    assert json.loads(rows[1]["output"][1:] if rows[1]["output"].startswith("'") else rows[1]["output"])
    assert rows[0]["verdict"] == "bad" and rows[0]["active"] == "true"


@pytest.mark.parametrize(("value", "cell"), [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@x", "'@x"), ("\tx", "'\tx"), ("ok", "ok"), (None, ""),
    (0.5, "0.5"), (True, "true"),
])  # fmt: skip
def test_safe_cell(value, cell):
    assert safe_cell(value) == cell


def test_export_usage_errors_exit_2(store):
    assert CliRunner().invoke(cli, ["labels", "export", "--store", store.url, "--verdict", "meh"]).exit_code == 2
    assert CliRunner().invoke(cli, ["labels", "export", "--store", store.url, "--format", "xml"]).exit_code == 2


def test_a_cases_file_that_cannot_be_written_does_not_lose_the_label(store, records, tmp_path):
    blocked = tmp_path / "blocked"
    blocked.mkdir()  # a directory where the cases file should be
    labeller = Labeller(EvaluationStore(store), CaseFile(blocked), author="ana")
    rid = records[0][1]["request_id"]
    outcome = labeller.mark(rid, "bad", "unsafe")
    assert outcome.case_error and outcome.case_added is None
    assert "not changed" in outcome.describe()
    assert labeller.evaluation.current_verdicts() == {rid: "bad"}
