"""Marking bad is crash-consistent: a process stopped between the label's commit, the case's
append and the commit of the case id leaves the label pending, and the next Labeller to start
finishes it. Each crash window is hit deterministically (SystemExit, or SIGKILL in a child)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from conftest import REPO, make_record
from console.cases.file import CaseFile
from console.evaluation.labels import Labeller
from console.evaluation.regression_set import case_id_for
from console.ingest import ingest_files
from console.store import Store
from console.store.evaluation import EvaluationStore
from console.store.schema_facts import CURRENT_VERSION


@pytest.fixture
def ids(write_log, tmp_path):
    now = time.time()
    made = [make_record(ts=now - 100 + i) for i in range(4)]
    path = write_log("app.jsonl", made)
    with Store(f"sqlite:///{tmp_path / 'store.db'}") as store:
        ingest_files(store, [str(path)])
    return [record["request_id"] for record in made]


@pytest.fixture
def url(tmp_path, ids):
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture
def cases(tmp_path):
    return CaseFile(tmp_path / "regression" / "cases.jsonl")


def start(store, cases, **kwargs) -> Labeller:
    return Labeller(EvaluationStore(store), cases, author="ana", **kwargs)


def crash(*_args, **_kwargs):
    raise SystemExit("killed here")


def state(store, request_id):
    label = EvaluationStore(store).current_label(request_id)
    return label.verdict, label.case_id, label.case_pending


def test_killed_after_the_label_commit_before_the_append(url, ids, cases, monkeypatch):
    rid = ids[0]
    with Store(url) as store:
        labeller = start(store, cases)
        with monkeypatch.context() as patched:
            patched.setattr(CaseFile, "append", crash)
            with pytest.raises(SystemExit):
                labeller.mark(rid, "bad", "hallucination")
        assert state(store, rid) == ("bad", None, True), "the label says a case is owed"
        assert case_id_for(rid) not in cases
    with Store(url) as store:
        restarted = start(store, cases)
        assert restarted.recovered.added == (case_id_for(rid),) and restarted.recovered.recorded == ()
        assert state(store, rid) == ("bad", case_id_for(rid), False)
        case = cases.get(case_id_for(rid))
        assert case.source.request_id == rid and case.source.reason == "hallucination"
        assert restarted.mark(rid, "good").case_removed == case_id_for(rid), "the label owns its case"
        assert cases.ids() == set()


def test_killed_after_the_append_before_the_case_id_commit(url, ids, cases, monkeypatch):
    rid = ids[1]
    with Store(url) as store:
        labeller = start(store, cases)
        with monkeypatch.context() as patched:
            patched.setattr(EvaluationStore, "set_case", crash)
            with pytest.raises(SystemExit):
                labeller.mark(rid, "bad", "tone")
        assert state(store, rid) == ("bad", None, True)
        assert cases.ids() == {case_id_for(rid)}
    with Store(url) as store:
        restarted = start(store, cases)
        assert restarted.recovered.recorded == (case_id_for(rid),) and restarted.recovered.added == ()
        assert state(store, rid) == ("bad", case_id_for(rid), False)
        assert cases.ids() == {case_id_for(rid)}, "nothing appended twice"
        assert restarted.mark(rid, "good").case_removed == case_id_for(rid)


def test_killed_while_undo_brings_an_older_bad_label_back(url, ids, cases, monkeypatch):
    rid = ids[2]
    with Store(url) as store:
        labeller = start(store, cases)
        labeller.mark(rid, "bad", "format")
        labeller.mark(rid, "good")
        assert cases.ids() == set()
        with monkeypatch.context() as patched:
            patched.setattr(CaseFile, "append", crash)
            with pytest.raises(SystemExit):
                labeller.undo()  # the bad label is the verdict again; its case is owed
        assert state(store, rid) == ("bad", case_id_for(rid), True)
    with Store(url) as store:
        restarted = start(store, cases)
        assert restarted.recovered.added == (case_id_for(rid),)
        assert state(store, rid) == ("bad", case_id_for(rid), False)


def test_a_case_a_person_deleted_is_not_brought_back(url, ids, cases):
    rid = ids[0]
    with Store(url) as store:
        start(store, cases).mark(rid, "bad", "tone")
        cases.remove(case_id_for(rid))  # the user edits the file: that case goes
        restarted = start(store, cases)
        assert not restarted.recovered
        assert cases.ids() == set() and state(store, rid) == ("bad", case_id_for(rid), False)


def test_a_pending_label_never_claims_a_case_it_did_not_write(url, ids, cases):
    rid, broken = ids[0], ids[1]
    cases.path.parent.mkdir(parents=True)
    cases.path.write_text(
        json.dumps({"id": case_id_for(rid), "input": {"text": "mine"}, "assert": []}) + "\n"
        + json.dumps({"id": case_id_for(broken), "input": 42}) + "\n"  # a line a person broke
    )
    before = cases.path.read_bytes()
    with Store(url) as store:
        evaluation = EvaluationStore(store)
        for request_id in (rid, broken):  # as a kill right after the label's commit leaves them
            evaluation.add_label(request_id, "bad", author="ana", case_pending=True)
        restarted = start(store, cases)
        assert not restarted.recovered
        assert state(store, rid) == state(store, broken) == ("bad", None, False)
        assert cases.path.read_bytes() == before
        restarted.mark(rid, "good")
        assert cases.path.read_bytes() == before, "a hand-written case is never removed"


def test_a_pending_label_relabelled_since_gives_its_case_up(url, ids, cases, monkeypatch):
    written, never = ids[0], ids[1]
    with Store(url) as store:
        labeller = start(store, cases)
        with monkeypatch.context() as patched:
            patched.setattr(EvaluationStore, "set_case", crash)
            with pytest.raises(SystemExit):
                labeller.mark(written, "bad", "tone")  # appended, id not recorded
        with monkeypatch.context() as patched:
            patched.setattr(CaseFile, "append", crash)
            with pytest.raises(SystemExit):
                labeller.mark(never, "bad", "tone")  # not appended
        # meanwhile another console sharing the store says both are fine
        other = start(store, cases, recover=False)
        other.evaluation.add_label(written, "good", author="bo")
        other.evaluation.add_label(never, "good", author="bo")
        restarted = start(store, cases)
        assert restarted.recovered.recorded == (case_id_for(written),)
        assert restarted.recovered.removed == (case_id_for(written),) and restarted.recovered.added == ()
        assert cases.ids() == set()
        assert EvaluationStore(store).pending_labels() == []


def test_an_unwritable_cases_file_keeps_the_case_owed_until_it_can_be_written(url, ids, cases, tmp_path):
    rid = ids[3]
    blocked = CaseFile(tmp_path / "blocked")
    blocked.path.mkdir()
    with Store(url) as store:
        outcome = start(store, blocked).mark(rid, "bad", "unsafe")
        assert outcome.case_error and state(store, rid) == ("bad", None, True)
        again = start(store, blocked)  # does not raise; says why
        assert again.recovered.errors and not again.recovered.added
        assert "could not follow" in again.recovered.describe()
        fixed = start(store, cases)
        assert fixed.recovered.added == (case_id_for(rid),)
        assert state(store, rid) == ("bad", case_id_for(rid), False)
        assert not start(store, cases).recovered, "a second start has nothing to do"


def test_marking_leaves_nothing_pending(url, ids, cases):
    with Store(url) as store:
        labeller = start(store, cases)
        labeller.mark(ids[0], "bad", "tone")
        labeller.mark(ids[0], "bad", "unsafe")  # the case is there already
        labeller.mark(ids[1], "good")
        labeller.mark(ids[2], "bad")
        labeller.undo()
        labeller.undo()
        assert EvaluationStore(store).pending_labels() == []
        assert [h.case_id for h in EvaluationStore(store).history(ids[0])] == [case_id_for(ids[0]), None]


KILL_SCRIPT = """
import os, signal, sys
from console.cases.file import CaseFile
from console.evaluation.labels import Labeller
from console.store import Store
from console.store.evaluation import EvaluationStore

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

owner = {"append": CaseFile, "set_case": EvaluationStore}[sys.argv[4]]
setattr(owner, sys.argv[4], die)
store = Store(sys.argv[1])
Labeller(EvaluationStore(store), CaseFile(sys.argv[2]), author="ana").mark(sys.argv[3], "bad", reason="unsafe")
"""


@pytest.mark.skipif(sys.platform == "win32", reason="kill -9 is POSIX")
@pytest.mark.parametrize(("step", "appended"), [("append", False), ("set_case", True)])
def test_sigkill_between_the_steps_is_finished_by_the_next_start(url, ids, cases, tmp_path, step, appended):
    rid = ids[0]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.run([sys.executable, "-c", KILL_SCRIPT, url, str(cases.path), rid, step],
                           env=env, capture_output=True, timeout=60)  # fmt: skip
    assert child.returncode == -signal.SIGKILL, child.stderr
    with sqlite3.connect(tmp_path / "store.db") as conn:
        assert conn.execute("SELECT verdict, case_id, case_pending FROM labels").fetchall() == [("bad", None, 1)]
    assert (case_id_for(rid) in cases) is appended
    with Store(url) as store:
        restarted = start(store, cases)
        assert (restarted.recovered.recorded if appended else restarted.recovered.added) == (case_id_for(rid),)
        assert state(store, rid) == ("bad", case_id_for(rid), False)
        assert cases.ids() == {case_id_for(rid)}


def test_a_version_3_store_gets_the_pending_column(tmp_path, url, ids, cases):
    from sqlalchemy import inspect, text

    with Store(url) as store:
        start(store, cases).mark(ids[0], "bad", "tone")
    with sqlite3.connect(tmp_path / "store.db") as conn:  # back to what version 3 made
        conn.execute("ALTER TABLE labels DROP COLUMN case_pending")
        conn.execute("DELETE FROM schema_version WHERE version >= 4")
    with Store(url) as store:
        assert "case_pending" in {c["name"] for c in inspect(store.engine).get_columns("labels")}
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT max(version) FROM schema_version")).scalar() == CURRENT_VERSION
        assert state(store, ids[0]) == ("bad", case_id_for(ids[0]), False), "labels from before: not pending"
        assert not start(store, cases).recovered
