"""kill -9 at random points (issue 8): 23 trials over ingest, the live tail, labelling and a regression run.

Each trial starts the real thing in a subprocess, kills it with SIGKILL at a moment drawn
from a seeded generator (the same moments on every run of the suite), then checks what a
restart finds, and restarts it:

- ingest (`llmops-console ingest`, and the >32 MiB path's child writer process forced with
  parallel=True on a smaller log): the rows stored are exactly the lines up to the saved
  offset (rows and offsets commit together), none twice; a rerun stores the rest, reading
  nothing twice, and then count == distinct request ids == lines;
- the live console's tail while behind (its lines decoded and written by the decoding process
  and its writer, console/live/decode_process.py): the same, and both children die with it;
- labelling (marking requests bad: a label in the store, a case appended to the suite file):
  every label acknowledged before the kill is kept, every line of the cases file is whole
  JSON, no case is there twice and none without its label; a label the kill left without
  its case, or a case whose label lacks its id, is the one in flight and is marked pending,
  and starting a Labeller finishes it: then no label lacks its case and no case its id;
- a regression run (`llmops-console regress` against a slow command target): the run is
  never left 'running' once its process is gone; it is 'interrupted', with the counts of the
  results it stored, as soon as runs are listed or the next run starts.

The whole file takes 45-60 s on two shared cores (most of it subprocess start-up).
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import msgspec
import pytest

from conftest import REPO, line_of, make_record
from console.regression import history
from console.store import Store
from console.store.schema_facts import CURRENT_VERSION

SEED = 20261128
INGEST_TRIALS, PARALLEL_TRIALS, LABEL_TRIALS, REGRESS_TRIALS, LIVE_TRIALS = 6, 4, 6, 4, 3  # 23 in all
INGEST_LINES = 40_000  # four 10k-line transactions through the CLI; twenty 2k-line ones through
# the child writer (two in flight), as the >32 MiB path does
LABEL_REQUESTS = 150
REGRESS_CASES = 10
FIGURES: dict[str, dict] = {}  # printed at the end of each scenario (pytest -s)

pytestmark = [pytest.mark.resilience, pytest.mark.skipif(sys.platform == "win32", reason="kill -9 is POSIX")]


def env() -> dict:
    return {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200", "PYTHONUNBUFFERED": "1"}


def kill_at(process: subprocess.Popen, started: float, at: float) -> bool:
    """SIGKILL `at` s after `started`; False if it had already exited by itself."""
    while time.monotonic() - started < at:
        if process.poll() is not None:
            return False
        time.sleep(0.005)
    if process.poll() is not None:
        return False
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    return True


def wait_for_rows(db: Path, process: subprocess.Popen, table: str = "requests") -> float:
    """When the first rows of `table` were committed (or the process ended)."""
    while process.poll() is None:
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
                if conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]:
                    break
        except sqlite3.OperationalError:
            pass
        time.sleep(0.01)
    return time.monotonic()


def figure(scenario: str, **counts: int) -> None:
    tally = FIGURES.setdefault(scenario, {})
    for key, value in counts.items():
        tally[key] = tally.get(key, 0) + value


# -- ingest -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    """Two logs (read-only, shared by the trials) and each line's end offset."""
    directory = tmp_path_factory.mktemp("logs")
    made = {}
    for name, count in (("app", INGEST_LINES),):
        path = directory / f"{name}.jsonl"
        ids = [f"{name}-{i:06d}" for i in range(count)]
        data = [line_of(make_record(request_id=rid)).encode() for rid in ids]
        path.write_bytes(b"".join(data))
        ends, total = [], 0
        for line in data:
            total += len(line)
            ends.append(total)
        made[name] = (path, ids, ends)
    return made


PARALLEL_SCRIPT = """
import sys
from console import ingest
from console.store import Store
ingest.INGEST_BATCH_LINES = 2000
store = Store(sys.argv[1])
totals = ingest.ingest_files(store, [sys.argv[2]], parallel=True)
print(totals.added, flush=True)
store.close()
"""


def stored_after_kill(db: Path, ids: list[str], ends: list[int], log: Path) -> int:
    """What a restart finds: the rows are exactly the lines up to the saved offset."""
    with sqlite3.connect(db) as conn:
        stored = [row[0] for row in conn.execute("SELECT request_id FROM requests")]
        offsets = conn.execute('SELECT line_no, "offset" FROM source_offsets WHERE source = ?', (str(log),)).fetchall()
        bodies = conn.execute("SELECT count(*) FROM request_bodies").fetchone()[0]
        # bodies kept in compressed blocks (console.store.body_blocks): whole blocks, each id once
        in_blocks = conn.execute("SELECT coalesce(sum(rows), 0), count(*) FROM body_blocks").fetchone()[0]
        bodies += in_blocks
    assert len(stored) == len(set(stored)), "a request stored twice"
    line_no, offset = offsets[0] if offsets else (0, 0)
    assert sorted(stored) == ids[:line_no], "the rows and the saved offset agree: no row lost or ahead"
    assert offset == (ends[line_no - 1] if line_no else 0), "the offset is the end of a whole line"
    assert bodies == len(stored), "every row has its body (loose or in a block), none half-written"
    assert_rollups_hold_the_rows(db)
    return line_no


def assert_rollups_hold_the_rows(db: Path) -> None:
    """The rollup cells (written in the rows' transactions) count exactly the stored rows:
    none lost, none counted twice, at every span."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT count(*), coalesce(sum(input_tokens), 0) FROM requests").fetchone()
        for span in (60, 3600, 86400):
            cells = conn.execute(
                "SELECT coalesce(sum(requests), 0), coalesce(sum(input_tokens), 0) FROM rollups WHERE span = ?", (span,)
            ).fetchone()
            assert cells == rows, f"the {span} s cells count {cells}, the rows {rows}"
        totals = conn.execute("SELECT coalesce(sum(requests), 0) FROM rollup_hours").fetchone()
        assert totals[0] == rows[0], f"the hour totals count {totals[0]}, the rows {rows[0]}"
        for span in (3600, 86400):
            users = conn.execute("SELECT coalesce(sum(requests), 0) FROM rollup_users WHERE span = ?", (span,)).fetchone()
            assert users[0] == rows[0], f"the {span} s user cells"


@pytest.mark.parametrize("path_kind", ["cli", "parallel"])
def test_ingest_killed_at_random_points_resumes_with_every_line_once(tmp_path, logs, path_kind):
    from console.ingest import ingest_files

    log, ids, ends = logs["app"]
    trials = INGEST_TRIALS if path_kind == "cli" else PARALLEL_TRIALS
    rng = random.Random(SEED + (1 if path_kind == "cli" else 2))

    def started(db: Path) -> subprocess.Popen:
        url = f"sqlite:///{db}"
        Store(url).close()  # created up front: the kill lands in the ingest, not in the schema
        if path_kind == "cli":
            command = [sys.executable, "-m", "console.cli", "ingest", str(log), "--store", url]
        else:
            command = [sys.executable, "-c", PARALLEL_SCRIPT, url, str(log)]
        return subprocess.Popen(command, env=env(), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    # the kills are timed by an uninterrupted run's own moments (start, first commit, last
    # row), so they keep landing inside the ingest however fast it gets
    timing = tmp_path / f"{path_kind}-timing.db"
    began = time.monotonic()
    process = started(timing)
    first_commit = wait_for_rows(timing, process) - began
    last_row = first_commit
    while process.poll() is None:
        with sqlite3.connect(f"file:{timing}?mode=ro", uri=True, timeout=5) as conn:
            if conn.execute("SELECT count(*) FROM requests").fetchone()[0] < len(ids):
                last_row = time.monotonic() - began
        time.sleep(0.005)
    assert process.returncode == 0, process.communicate()[1]
    for trial in range(trials):
        db = tmp_path / f"{path_kind}-{trial}.db"
        url = f"sqlite:///{db}"
        process = started(db)
        if trial % 2 == 0:  # any moment from the start: before the first commit, or during one
            killed = kill_at(process, time.monotonic(), rng.uniform(0.2, 0.9) * last_row)
        else:  # a moment after its first commit: between or inside the later ones
            first = wait_for_rows(db, process)
            killed = kill_at(process, first, rng.uniform(0.0, 0.8) * max(last_row - first_commit, 0.01))
        if not killed:
            out, err = process.communicate()
            assert process.returncode == 0, err
        before = stored_after_kill(db, ids, ends, log)
        figure(f"ingest-{path_kind}", trials=1, killed=int(killed), mid_ingest=int(killed and 0 < before < len(ids)),
               rows_kept_at_kill=before)
        with Store(url) as store:  # the rerun: resumes after the saved offset
            totals = ingest_files(store, [str(log)], parallel=False)
            assert (totals.added, totals.duplicates) == (len(ids) - before, 0), "nothing read twice"
            stored = list(store.request_ids())
        assert_rollups_hold_the_rows(db)
        assert len(stored) == len(set(stored)) == len(ids), "count == distinct ids == lines"
        figure(f"ingest-{path_kind}", rows_lost=len(set(ids) - set(stored)), rows_twice=len(stored) - len(set(stored)))
    print(f"\n{path_kind} ingest kill trials: {FIGURES[f'ingest-{path_kind}']}")
    assert FIGURES[f"ingest-{path_kind}"]["mid_ingest"] >= 1, "at least one kill landed mid-ingest"


LIVE_SCRIPT = """
import sys
from console.live import decode_process, tail
from console.live.ingest_thread import run_ingest
tail.LIVE_BATCH_LINES = 2000  # behind at once: the lines go to the decoding process
started = decode_process.DecodeProcess.__init__
def announced(self, *args, **kwargs):
    started(self, *args, **kwargs)
    print("decoding process", self._process.pid, flush=True)
decode_process.DecodeProcess.__init__ = announced
run_ingest(lambda message: None, lambda: False, [sys.argv[2]], sys.argv[1])
"""


def gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.02)
    return False


def test_the_live_tail_killed_while_behind_resumes_with_every_line_once(tmp_path, logs):
    """The live console's tail behind a firehose hands its lines to the decoding process and
    its writer (console/live/decode_process.py): a kill -9 of the console leaves the lines up
    to the saved offset, both children die with it, and a restart stores the rest once."""
    from console.ingest import ingest_files

    log, ids, ends = logs["app"]
    rng = random.Random(SEED + 3)
    for trial in range(LIVE_TRIALS):
        db = tmp_path / f"live-{trial}.db"
        url = f"sqlite:///{db}"
        Store(url).close()
        process = subprocess.Popen([sys.executable, "-c", LIVE_SCRIPT, url, str(log)], env=env(), cwd=tmp_path,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
        announced = process.stdout.readline().split()
        assert announced[:2] == ["decoding", "process"], (announced, process.stderr.read() if process.poll() else "")
        first = wait_for_rows(db, process)
        killed = kill_at(process, first, rng.uniform(0.0, 0.6))
        assert killed, process.stderr.read()
        assert gone_within(int(announced[2]), 5.0), "the decoding process dies with the console"
        time.sleep(0.2)  # its writer process dies with it (PR_SET_PDEATHSIG): no commit after this
        before = stored_after_kill(db, ids, ends, log)
        figure("live", trials=1, mid_ingest=int(0 < before < len(ids)), rows_kept_at_kill=before)
        with Store(url) as store:
            totals = ingest_files(store, [str(log)], parallel=False)
            assert (totals.added, totals.duplicates) == (len(ids) - before, 0), "nothing read twice"
            stored = list(store.request_ids())
        assert_rollups_hold_the_rows(db)
        assert len(stored) == len(set(stored)) == len(ids), "count == distinct ids == lines"
    print(f"\nlive tail kill trials: {FIGURES['live']}")
    assert FIGURES["live"]["mid_ingest"] >= 1, "at least one kill landed mid-ingest"


# -- labelling --------------------------------------------------------------------------------

LABEL_SCRIPT = """
import sys
from console.cases.file import CaseFile
from console.evaluation.labels import Labeller
from console.store import Store
from console.store.evaluation import EvaluationStore
store = Store(sys.argv[1])
labeller = Labeller(EvaluationStore(store), CaseFile(sys.argv[2]), author="oncall")
for request_id in open(sys.argv[3]).read().split():
    outcome = labeller.mark(request_id, "bad", reason="hallucination")
    print(request_id, outcome.case_added or "-", flush=True)
"""


def case_lines(path: Path) -> list[dict]:
    """Every line of the cases file, each whole JSON (a torn line fails here)."""
    data = path.read_bytes() if path.exists() else b""
    assert not data or data.endswith(b"\n"), "the last line is whole"
    return [msgspec.json.decode(line) for line in data.splitlines() if line.strip()]


def active_labels(db: Path) -> dict[str, list[tuple]]:
    """request_id -> [(verdict, case_id, case_pending)] of its active labels."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT request_id, verdict, case_id, case_pending FROM labels WHERE active").fetchall()
    found: dict[str, list[tuple]] = {}
    for request_id, verdict, case_id, pending in rows:
        found.setdefault(request_id, []).append((verdict, case_id, bool(pending)))
    return found


def half_done(labels: dict[str, list[tuple]], case_ids: list[str]) -> tuple[list[str], list[str]]:
    """(bad labels without their case, cases whose label does not record the id)."""
    from console.evaluation.regression_set import case_id_for

    without_case = [rid for rid in labels if case_id_for(rid) not in case_ids]
    unrecorded = [rid for rid in labels if case_id_for(rid) in case_ids and labels[rid][0][1] is None]
    return without_case, unrecorded


def test_labelling_killed_at_random_points_keeps_every_label_and_whole_case_lines(tmp_path):
    from console.evaluation.labels import Labeller
    from console.cases.file import CaseFile
    from console.evaluation.regression_set import case_id_for
    from console.sources.base import SourceBatch
    from console.records import parse_line
    from console.store.evaluation import EvaluationStore

    rng = random.Random(SEED + 3)
    for trial in range(LABEL_TRIALS):
        db, cases = tmp_path / f"label-{trial}.db", tmp_path / f"cases-{trial}.jsonl"
        url = f"sqlite:///{db}"
        ids = [f"lab{trial}-{i:04d}" for i in range(LABEL_REQUESTS)]
        with Store(url) as store:
            store.write(SourceBatch(records=[parse_line(json.dumps(make_record(request_id=rid))) for rid in ids]))
        cases.write_text('{"id": "hand-written", "input": {"text": "kept"}, "assert": []}\n')
        id_file = tmp_path / f"ids-{trial}.txt"
        id_file.write_text("\n".join(ids))
        process = subprocess.Popen([sys.executable, "-c", LABEL_SCRIPT, url, str(cases), str(id_file)],
                                   env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = wait_for_rows(db, process, "labels")
        # the 150 labels take ~0.45 s after the first here: a kill within 0.3 s lands among them
        killed = kill_at(process, first, rng.uniform(0.0, 0.3))
        out, err = process.communicate()
        assert killed or process.returncode == 0, err
        acknowledged = [line.split()[0] for line in out.splitlines() if line.strip()]

        labels = active_labels(db)
        lines = case_lines(cases)
        case_ids = [line["id"] for line in lines]
        assert len(case_ids) == len(set(case_ids)), "no case twice"
        assert "hand-written" in case_ids, "the lines already there are kept"
        for request_id in acknowledged:  # marked before the kill: kept, with its case
            assert [v for v, *_ in labels.get(request_id, [])] == ["bad"], request_id
            assert case_id_for(request_id) in case_ids
        orphans = [c for c in case_ids if c != "hand-written" and c.removeprefix("req-") not in labels]
        assert orphans == [], "a case only follows a committed label"
        in_flight, unrecorded = half_done(labels, case_ids)
        assert len(in_flight) + len(unrecorded) <= 1, "only the label being marked at the kill is half-done"
        pending = [rid for rid in labels if labels[rid][0][2]]
        assert set(in_flight + unrecorded) <= set(pending) and len(pending) <= 1, "a half-done label says so"
        figure("label", trials=1, killed=int(killed), labels_kept=len(labels), acknowledged=len(acknowledged),
               in_flight_without_case=len(in_flight), case_not_recorded_on_label=len(unrecorded),
               pending_at_kill=len(pending))

        with Store(url) as store:  # the restart: starting a Labeller finishes what was in flight
            labeller = Labeller(EvaluationStore(store), CaseFile(cases), author="oncall")
            assert labeller.recovered.added == tuple(case_id_for(rid) for rid in in_flight)
            assert labeller.recovered.recorded == tuple(case_id_for(rid) for rid in unrecorded)
            labels, case_ids = active_labels(db), [line["id"] for line in case_lines(cases)]
            after = half_done(labels, case_ids)
            assert after == ([], []), "after the start: no label without its case, no case without its id"
            assert not any(rows[0][2] for rows in labels.values()), "nothing left pending"
            figure("label", without_case_after_start=len(after[0]), unrecorded_after_start=len(after[1]))
            for request_id in [rid for rid in ids if rid not in labels]:
                labeller.mark(request_id, "bad", reason="hallucination")
        lines = case_lines(cases)
        case_ids = [line["id"] for line in lines]
        assert sorted(case_ids) == sorted(["hand-written", *(case_id_for(rid) for rid in ids)])
        labels = active_labels(db)
        assert set(labels) == set(ids) and all(v == "bad" for rows in labels.values() for v, *_ in rows)
        assert half_done(labels, case_ids) == ([], [])
        figure("label", labels_lost=len(set(acknowledged) - set(labels)), torn_lines=0)
    print(f"\nlabelling kill trials: {FIGURES['label']}")
    assert FIGURES["label"]["killed"] >= LABEL_TRIALS - 1


# -- a regression run -------------------------------------------------------------------------


def regress_project(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    cases = []
    for i in range(REGRESS_CASES):
        wanted = "answer" if i % 4 else "nope"  # a quarter fail
        cases.append(json.dumps({"id": f"c{i:02d}", "input": {"text": f"q{i}"},
                                 "assert": [{"type": "contains", "value": wanted}]}))
    (directory / "cases.jsonl").write_text("\n".join(cases) + "\n")
    (directory / "llmops.toml").write_text("""
[regression]
suite = "cases.jsonl"
default_target = "slow"
concurrency = 2

[regression.targets.slow]
type = "command"
argv = ["sh", "-c", "cat > /dev/null; sleep 0.2; echo answer"]
timeout_s = 20
""")


def raw_runs(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT id, status FROM regression_runs ORDER BY id").fetchall()


def stored_results(db: Path, run_id: int) -> tuple[int, int]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT count(*), count(DISTINCT case_id) FROM regression_results WHERE run_id = ?", (run_id,)
        ).fetchone()


def test_a_regression_run_killed_at_random_points_is_marked_interrupted(tmp_path):
    rng = random.Random(SEED + 4)
    for trial in range(REGRESS_TRIALS):
        project = tmp_path / f"project-{trial}"
        regress_project(project)
        db = project / "store.db"
        url = f"sqlite:///{db}"
        command = [sys.executable, "-m", "console.cli", "regress", "--store", url]
        Store(url).close()
        process = subprocess.Popen(command, cwd=project, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        first = wait_for_rows(db, process, "regression_runs")  # the run has started
        killed = kill_at(process, first, rng.uniform(0.1, 1.3))
        if not killed:
            process.communicate()
        runs = raw_runs(db)
        left_running = [run_id for run_id, status in runs if status == "running"]
        if trial != 1:  # seen by whoever lists the runs (the console's run history)
            with Store(url) as store:
                listed = history.list_runs(store)
        else:  # or marked by the next run, which then runs to the end
            rerun = subprocess.run(command, cwd=project, env=env(), capture_output=True, timeout=60)
            assert rerun.returncode in (0, 1), rerun.stderr
            with Store(url) as store:
                listed = [history.get_run(store, run_id) for run_id, _ in raw_runs(db)]
            assert listed[-1].status == "finished" and listed[-1].total == REGRESS_CASES
            listed = listed[:-1]
        assert all(run.status in ("interrupted", "finished") for run in listed), [r.status for r in listed]
        for run in listed:
            rows, distinct = stored_results(db, run.id)
            assert rows == distinct, "no result stored twice"
            if run.status == "interrupted":
                done = run.passed + run.failed + run.errored + run.skipped
                assert done == distinct and run.total == REGRESS_CASES, "its counts are what it stored"
                assert run.finished_at is not None and run.finished_at >= run.started_at
        figure("regress", trials=1, killed=int(killed), left_running=len(left_running),
               marked_interrupted=sum(run.status == "interrupted" for run in listed),
               results_kept=sum(stored_results(db, run.id)[0] for run in listed if run.status == "interrupted"))
    print(f"\nregression kill trials: {FIGURES['regress']}")
    assert FIGURES["regress"]["marked_interrupted"] >= 2, "kills landed mid-run"
    assert FIGURES["regress"]["marked_interrupted"] == FIGURES["regress"]["left_running"]


# -- run status rules, without killing anything -----------------------------------------------


def test_only_runs_whose_process_is_gone_are_marked(tmp_path, monkeypatch):
    from sqlalchemy import update

    url = f"sqlite:///{tmp_path / 'store.db'}"
    with Store(url) as store:
        mine = history.start_run(store, suite="s", target="t", total=3)  # this process: alive
        dead = history.start_run(store, suite="s", target="t", total=3)
        reused = history.start_run(store, suite="s", target="t", total=3)
        elsewhere = history.start_run(store, suite="s", target="t", total=3)
        old = history.start_run(store, suite="s", target="t", total=3)
        gone = subprocess.Popen([sys.executable, "-c", "pass"])
        gone.wait()
        parent = os.getppid()  # alive, but started before the run: a pid that was reused
        with store.engine.begin() as conn:
            runs = history.RUNS
            conn.execute(update(runs).where(runs.c.id == dead).values(pid=gone.pid))
            conn.execute(update(runs).where(runs.c.id == reused).values(pid=parent))  # started after it
            conn.execute(update(runs).where(runs.c.id == elsewhere).values(pid=gone.pid, host="another-host"))
            conn.execute(update(runs).where(runs.c.id == old).values(pid=None, host=None))  # before schema v3
        statuses = {run.id: run.status for run in history.list_runs(store)}
        assert statuses[dead] == "interrupted"
        assert statuses[mine] == statuses[elsewhere] == statuses[old] == "running"
        assert statuses[reused] == "running", "a live parent that started before the run is the same process"
        with store.engine.begin() as conn:
            conn.execute(update(runs).where(runs.c.id == reused).values(started_at=time.time() - 10**7))
        assert history.get_run(store, reused).status == "running"
        assert history.mark_abandoned(store) == [reused], "a process started after the run: its pid was reused"


def test_a_version_2_store_gets_the_run_process_columns(tmp_path):
    from sqlalchemy import inspect, text

    db = tmp_path / "v2.db"
    with Store(f"sqlite:///{db}") as store:
        history.start_run(store, suite="s", target="t", total=1)
    with sqlite3.connect(db) as conn:  # back to what version 2 made
        conn.execute("ALTER TABLE regression_runs DROP COLUMN host")
        conn.execute("ALTER TABLE regression_runs DROP COLUMN pid")
        conn.execute("DELETE FROM schema_version WHERE version >= 3")
    with Store(f"sqlite:///{db}") as store:
        columns = {c["name"] for c in inspect(store.engine).get_columns("regression_runs")}
        assert {"host", "pid"} <= columns
        with store.engine.connect() as conn:
            assert [r[0] for r in conn.execute(text("SELECT version FROM schema_version ORDER BY version"))] == list(range(2, CURRENT_VERSION + 1))
        (run,) = history.list_runs(store)
        assert (run.status, run.pid) == ("running", None), "a run from before is left alone"
