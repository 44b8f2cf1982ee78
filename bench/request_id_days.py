"""What the joins and lookups by request_id cost as a SQLite store holds more UTC days.

A new store finds a request by request_id through UNIQUE (day, request_id)
(console/store/day_dedup.py): one seek per stored day, or per day of the window when a query
names its days. This builds synthetic stores of --rows requests spread evenly over each of
--days UTC days (the Store's schema; narrow rows inserted by SQL, ~10 s a million), --labels
labels and four times as many scores on random requests, and times (best of --rounds, in ms)
the labels' correction of compare and of the merged report over the newest 1, 7 and 30 days
and over all of them, triage's low_scored, a replay's low_scored 30 days before the newest,
EvaluationStore.records of 40 ids and Store.get.

A/B: build once with --keep, then run the same command with PYTHONPATH set to a worktree of
the tree before (`git worktree add /tmp/base HEAD~1`); report `uptime`'s load with it.
Usage: python bench/request_id_days.py [--rows 1000000] [--days 31,365] [--labels 500]
[--keep DIR] [--rounds 7]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
import time

from console.analytics.arm_spec import ArmSpec
from console.live.replay_scoring import MomentBoundEvaluation
from console.store import Store, compare_reads, rollup_reads
from console.store.evaluation import EvaluationStore

DAY = 86400
NEWEST = 1_795_000_000.0  # 2026-11-19


def build(path: str, rows: int, days: int, labels: int) -> None:
    with Store(f"sqlite:///{path}"):
        pass  # the schema, the day layout and its statistic
    start = NEWEST - days * DAY
    conn = sqlite3.connect(path)
    conn.execute(f"""INSERT INTO requests (request_id, ts, model, prompt_id, prompt_version, input_tokens,
      output_tokens, latency_ms, status, feedback, environment)
      WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {rows - 1})
      SELECT printf('req_%016x', abs(random())), {start} + i * {days * DAY / rows}, 'gpt-4o', 'p' || (i % 7), 'v1',
      100, 50, 500 + i % 900, 'ok', CASE WHEN i % 11 = 0 THEN -1 END, 'prod' FROM n""")
    conn.execute("INSERT INTO labels (request_id, verdict, author, created_at, active, case_pending) "
                 "SELECT request_id, CASE WHEN id % 3 = 0 THEN 'good' ELSE 'bad' END, 'bench', 0, 1, 0 "
                 f"FROM requests WHERE id % {rows // labels} = 0")  # fmt: skip
    conn.execute("INSERT INTO scores (request_id, scorer, score, reason, created_at) "
                 f"SELECT request_id, 'judge', (id % 10) / 10.0, 'why', 0 FROM requests WHERE id % {rows // (labels * 4)} = 0")  # fmt: skip
    conn.commit()
    conn.close()


def best(call, rounds: int) -> float:
    call()
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        call()
        times.append(time.perf_counter() - began)
    return min(times) * 1000


def measure(path: str, rounds: int) -> dict[str, float]:
    found = {}
    with Store(f"sqlite:///{path}") as store:
        reader = sqlite3.connect(path)
        newest = reader.execute("SELECT max(ts) FROM requests").fetchone()[0]
        ids = [rid for (rid,) in reader.execute("SELECT request_id FROM labels LIMIT 40")]
        evaluation = EvaluationStore(store)
        with store.engine.connect() as conn:
            for days in (1, 7, 30):
                since, before = int((newest - days * DAY) // 3600 * 3600), int(newest // 3600 * 3600)
                found[f"compare {days}d"] = best(lambda: compare_reads._label_delta(conn, ArmSpec(), since, before), rounds)
                found[f"report {days}d"] = best(lambda: rollup_reads._label_delta(reader, since, before), rounds)
            found["compare all"] = best(lambda: compare_reads._label_delta(conn, ArmSpec(), None, None), rounds)
        found["low_scored"] = best(lambda: evaluation.low_scored(0.5, 20), max(rounds // 2, 1))
        replay = MomentBoundEvaluation(evaluation, lambda: newest - 30 * DAY)
        found["replay low_scored -30d"] = best(lambda: replay.low_scored(0.5, 20), max(rounds // 2, 1))
        found["records 40"] = best(lambda: evaluation.records(ids), rounds)
        found["Store.get"] = best(lambda: store.get(ids[0]), rounds)
        reader.close()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", default="31,365")
    parser.add_argument("--labels", type=int, default=500)
    parser.add_argument("--keep", help="a directory to keep (and reuse) the stores in")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    directory = args.keep or tempfile.mkdtemp(prefix="request-id-days-")
    os.makedirs(directory, exist_ok=True)
    for days in (int(d) for d in args.days.split(",")):
        path = os.path.join(directory, f"request-id-days-{args.rows}-{days}.db")
        if not os.path.exists(path):
            build(path, args.rows, days, args.labels)
        found = measure(path, args.rounds)
        print(f"{days} days: " + " | ".join(f"{name} {ms:.1f}" for name, ms in found.items()), flush=True)
        if not args.keep:
            os.remove(path)


if __name__ == "__main__":
    main()
