"""`llmops-console report` on a large store, against the raw SQL aggregate measured in the same run.

    python bench/report.py [--records 1000000] [--keep DIR] [--since all,7d,24h] [--rounds 3]

The store is bench/ingest.py's: its generated log (the sample story over 30 days, ~1 KB a
record) ingested with `llmops-console ingest`; with --keep DIR both are kept and reused
(DIR/requests-N.jsonl, DIR/store-N.db), so only the first run pays the ~1-2 min to build it.

For each --since window, as of the newest record (--now), with a config holding a daily
and a monthly budget and an SLO (so the budget and SLO paths run too):

(a) baseline: raw sqlite3, the equivalent single aggregate query over the same rows
    SELECT model, count(*), sum(status='error'), sum(cost_usd), sum(input_tokens),
           sum(output_tokens) FROM requests WHERE ts >= ? GROUP BY model
    (the rows `report` loads: since the older of the window's start and the budgets' period
    starts; "all" has no bound);
(b) `llmops-console report --json` as a user runs it: a fresh process, imports included.

Best of --rounds each, interleaved. Prints both times, the ratio (b)/(a), whether (b) is
under 3 s (issue 7), and the peak RSS of (b) (target < 500 MB). Then, in this process,
where (b)'s time goes: Store.load_columns and build_report.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

CONFIG = """
[[budgets]]
name = "daily"
period = "day"
amount_usd = 50

[[budgets]]
name = "monthly"
period = "month"
amount_usd = 1000

[[slos]]
percentile = 95
max_ms = 5000
"""

BASELINE_SQL = (
    "SELECT model, count(*), sum(status = 'error'), sum(cost_usd), sum(input_tokens), sum(output_tokens) "
    "FROM requests WHERE ts >= ? GROUP BY model"
)


def build_store(workdir: Path, records: int) -> Path:
    """bench/ingest.py's log, ingested by `llmops-console ingest` (both reused when present)."""
    import ingest as ingest_bench

    log = workdir / f"requests-{records}.jsonl"
    store = workdir / f"store-{records}.db"
    if not log.exists():
        print(f"generating {records:,} records into {log} ...", flush=True)
        ingest_bench.generate(log, records)
    if not store.exists():
        print(f"ingesting {log} into {store} ...", flush=True)
        elapsed, _peak, summary = ingest_bench.console_ingest(log, store)
        print(f"    {summary} in {elapsed:.1f} s", flush=True)
    return store


def child_peak_rss(command: list[str]) -> tuple[float, float, str]:
    """As run_child, with the peak RSS read from the child's own rusage (os.wait4)."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
    out = child.stdout.read()  # type: ignore[union-attr]
    err = child.stderr.read()  # type: ignore[union-attr]
    _pid, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({child.returncode}): {err.decode()[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024, out.decode()


def baseline(db: Path, since: float | None) -> tuple[float, list]:
    conn = sqlite3.connect(db)
    start = time.perf_counter()
    rows = conn.execute(BASELINE_SQL, (since if since is not None else float("-inf"),)).fetchall()
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="reuse/keep the generated log and store in this directory")
    parser.add_argument("--since", default="all,7d,24h", help="comma-separated report windows")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from console.analytics.report import build_report
    from console.formatting import rfc3339
    from console.commands.report import load_since
    from console.config import load_settings
    from console.store import Store

    workdir = args.keep or Path(tempfile.mkdtemp(prefix="llmops-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    db = build_store(workdir, args.records)
    config = workdir / "report-bench.toml"
    config.write_text(CONFIG, encoding="utf-8")
    settings = load_settings(config)
    with sqlite3.connect(db) as conn:
        newest, total = conn.execute("SELECT max(ts), count(*) FROM requests").fetchone()
    now = rfc3339(newest)
    print(f"store: {db} ({total:,} requests, {db.stat().st_size / 1e6:,.0f} MB), report as of {now}")

    windows = args.since.split(",")
    # The CLI runs first: a child's peak RSS counts the parent's size at fork, so this process
    # stays small until they are done.
    for window in windows:
        since = load_since(newest, window, settings)
        command = [sys.executable, "-m", "console.cli", "report", "--store", f"sqlite:///{db}",
                   "--since", window, "--now", now, "--config", str(config), "--json"]  # fmt: skip
        base_best = ours_best = float("inf")
        peak = 0.0
        for _ in range(args.rounds):
            base_s, rows = baseline(db, since)
            base_best = min(base_best, base_s)
            ours_s, peak_mb, _out = child_peak_rss(command)
            ours_best, peak = min(ours_best, ours_s), max(peak, peak_mb)
        loaded = sum(row[1] for row in rows)
        print(f"\n--since {window}: {loaded:,} rows loaded (since {'the start' if since is None else rfc3339(since)})")
        print(f"(a) raw SQL aggregate (sqlite3 GROUP BY model): {base_best:6.3f} s")
        print(f"(b) llmops-console report --json:                {ours_best:6.3f} s  "
              f"{'OK' if ours_best < 3.0 else 'OVER'} (target < 3 s)")  # fmt: skip
        print(f"ratio (b)/(a): {ours_best / base_best:.2f}x")
        print(f"peak RSS of (b): {peak:,.0f} MB  (target < 500 MB)  {'OK' if peak < 500 else 'OVER TARGET'}")

    print("\nin-process, where (b)'s time goes (best of --rounds):")
    for window in windows:
        since = load_since(newest, window, settings)
        timings: dict[str, float] = {}
        with Store(f"sqlite:///{db}") as store:
            for _ in range(args.rounds):
                for blocks, processes in ((False, 1), (False, 2), (True, 1)):
                    start = time.perf_counter()
                    cols = store.load_columns(since, processes=processes, blocks=blocks)
                    key = ("load_columns from the column blocks" if blocks else
                           f"from the rows, {processes} process{'es' if processes > 1 else ''}")  # fmt: skip
                    timings[key] = min(timings.get(key, float("inf")), time.perf_counter() - start)
                start = time.perf_counter()
                build_report(cols, newest, window, settings)
                timings["build_report"] = min(timings.get("build_report", float("inf")), time.perf_counter() - start)
                del cols
        print(f"    --since {window}: " + ", ".join(f"{name} {value:.3f} s" for name, value in timings.items()))

    if not args.keep:
        for child in workdir.iterdir():
            child.unlink()
        os.rmdir(workdir)


if __name__ == "__main__":
    main()
