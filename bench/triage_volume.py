"""The triage queue on a big store: what a rebuild costs, and how much scoring the open
triage screen leaves room for.

    python bench/triage_volume.py [--rows 1000000] [--days 31,365] [--scored 0.25] [--seconds 20] [--keep DIR]

Each store (built once with --keep: bench/request_id_days.py's synthetic rows over --days
UTC days, every 50th a provider error, its newest --scored fraction scored by a heuristic
with a few distinct scores, a twentieth of them 0.0, the rest of the rows the scoring
backlog) is measured in one run:

- a queue build's reads, ms of CPU, first and then as each rebuild (best of three): ours
  (low_scored_and_count, provider_error_counts) against the baseline of the one statement
  each the queue ran before (the lowest score per request joined to its rows on the stored
  days, the distinct-request count, the error counts over the whole store);
- the backlog's scoring in --seconds by the console's evaluation thread (EvaluationFeed,
  headless) with the triage screen open (the queue rebuilt as scores arrive) against the
  same with it closed, each on a fresh copy of the store: the ratio is the share of the
  scoring the open screen leaves.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from request_id_days import build as build_requests  # noqa: E402

from console.config import EvaluationSettings, Settings  # noqa: E402
from console.store import Store  # noqa: E402
from console.store.day_dedup import days_bound  # noqa: E402
from console.store.evaluation import EvaluationStore  # noqa: E402

BELOW, LIMIT = 0.5, 300  # the queue's defaults (evaluation.queue_below, triage.QUEUE_LIMIT)
OLD_LOW = (
    "SELECT w.request_id, w.score FROM "
    "(SELECT request_id, min(score) AS score FROM scores WHERE score < :below GROUP BY request_id) w "
    "JOIN requests r ON r.request_id = w.request_id WHERE NOT EXISTS "
    "(SELECT 1 FROM labels l WHERE l.request_id = w.request_id AND l.active) AND {days} "
    "GROUP BY w.request_id, w.score ORDER BY w.score, max(r.ts) DESC LIMIT :limit"
)
OLD_COUNT = (
    "SELECT count(*) FROM (SELECT DISTINCT request_id FROM scores WHERE score < :below) w "
    "WHERE NOT EXISTS (SELECT 1 FROM labels l WHERE l.request_id = w.request_id AND l.active)"
)
OLD_ERRORS = (
    "SELECT model, error_type, count(*), max(ts) FROM requests "
    "WHERE status = 'error' AND error_type IS NOT NULL GROUP BY model, error_type"
)


def build(path: str, rows: int, days: int, scored: float) -> None:
    build_requests(path, rows, days, 500)
    first_scored = int(rows * (1 - scored))
    conn = sqlite3.connect(path)
    conn.execute("UPDATE requests SET status = 'error', error_type = 'RateLimitError' WHERE id % 50 = 0")
    conn.execute(
        "INSERT INTO scores (request_id, scorer, score, reason, created_at) SELECT request_id, 'heuristic', "
        "CASE WHEN abs(random()) % 20 = 0 THEN 0.0 WHEN abs(random()) % 10 = 0 THEN 0.3 ELSE 1.0 END, 'why', 0 "
        f"FROM requests WHERE id > {first_scored} AND status = 'ok'"
    )
    conn.execute("INSERT INTO scoring_backlog (low, high) VALUES (0, ?)", (first_scored,))
    conn.commit()
    conn.close()


def cpu_ms(call) -> float:
    began = time.process_time()
    call()
    return (time.process_time() - began) * 1000


def reads(path: str) -> dict[str, float]:
    from sqlalchemy import text

    found = {}
    with Store(f"sqlite:///{path}") as store:
        with store.engine.connect() as conn:
            params = {"below": BELOW, "limit": LIMIT}
            days = days_bound(conn, None, None, params)

            def old() -> None:
                conn.execute(text(OLD_LOW.format(days=days)), params).all()
                conn.execute(text(OLD_COUNT), params).all()
                conn.execute(text(OLD_ERRORS)).all()

            found["baseline first"] = cpu_ms(old)
            found["baseline again"] = min(cpu_ms(old) for _ in range(3))
        evaluation = EvaluationStore(store)

        def ours() -> None:
            evaluation.low_scored_and_count(BELOW, LIMIT)
            evaluation.provider_error_counts()

        found["ours first"] = cpu_ms(ours)
        found["ours again"] = min(cpu_ms(ours) for _ in range(3))
    return found


def scoring(path: str, seconds: float, watching: bool) -> int:
    """Rows the evaluation thread scores in `seconds` on a copy of the store."""
    from console.live.evaluation_feed import EvaluationFeed

    copy = f"{path}.{'open' if watching else 'closed'}.db"
    _remove(copy)
    with sqlite3.connect(path) as source, sqlite3.connect(copy) as target:
        source.backup(target)  # the store with what its WAL holds
    try:
        workdir = tempfile.mkdtemp(prefix="triage-volume-")
        settings = Settings(evaluation=EvaluationSettings(sample_rate=0.1))
        suite = os.path.join(workdir, "cases.jsonl")  # marking nothing: no case is written
        settings = msgspec.structs.replace(settings, regression=msgspec.structs.replace(settings.regression, suite=suite))
        feed = EvaluationFeed(lambda _message: None, settings, f"sqlite:///{copy}")
        stop = threading.Event()
        thread = threading.Thread(target=feed.run, args=(stop.is_set,), daemon=True)
        feed.watch_queue(watching)
        with Store(f"sqlite:///{copy}") as store:
            before = EvaluationStore(store).scoring_backlog()
        thread.start()
        time.sleep(seconds)
        stop.set()
        feed.stop()
        thread.join(30)
        with Store(f"sqlite:///{copy}") as store:
            after = EvaluationStore(store).scoring_backlog()
        shutil.rmtree(workdir, ignore_errors=True)
        return sum(high - low for low, high in before) - sum(high - low for low, high in after)
    finally:
        _remove(copy)


def _remove(path: str) -> None:
    for name in (path, f"{path}-wal", f"{path}-shm"):
        if os.path.exists(name):
            os.remove(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", default="31,365")
    parser.add_argument("--scored", type=float, default=0.25)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--keep", help="a directory to keep (and reuse) the stores in")
    args = parser.parse_args()
    directory = args.keep or tempfile.mkdtemp(prefix="triage-volume-")
    os.makedirs(directory, exist_ok=True)
    print(f"load {os.getloadavg()[0]:.1f}", flush=True)
    for days in (int(d) for d in args.days.split(",")):
        path = os.path.join(directory, f"triage-volume-{args.rows}-{days}-{args.scored}.db")
        if not os.path.exists(path):
            build(path, args.rows, days, args.scored)
        if not hasattr(EvaluationStore, "low_scored_and_count"):  # an A/B against a tree before it
            found = None
        else:
            found = reads(path)
        print(
            f"{days} days, queue reads (ms CPU): ours {found['ours first']:.0f} first, {found['ours again']:.0f} again; "
            f"baseline {found['baseline first']:.0f} / {found['baseline again']:.0f}: "
            f"{found['ours again'] / found['baseline again']:.2f}x of it",
            flush=True,
        ) if found else None
        closed = scoring(path, args.seconds, watching=False)
        opened = scoring(path, args.seconds, watching=True)
        print(
            f"{days} days, backlog scored in {args.seconds:.0f} s: screen closed {closed:,} rows, open {opened:,} "
            f"({opened / max(closed, 1):.2f} of it); load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        if not args.keep:
            os.remove(path)


if __name__ == "__main__":
    main()
