"""The scaling table: llmops-console and DuckDB on the same log, at several sizes, in one run.

    pip install duckdb   # bench-only: not a dependency of the console or its tests
    python bench/peers.py [--sizes 1000000,3000000] [--keep DIR] [--rounds 3]

For each size, bench/ingest.py's generated log (the sample story over 30 days, ~1 KB a
record; kept and reused with --keep DIR), each step a fresh process as a user runs it:

- ingest: (a) the simple raw baseline of issue 20: orjson decode + sqlite3 executemany,
  10,000 rows per transaction, a table with 12 columns (input and output as plain strings,
  chat messages JSON-encoded) and a unique request_id index; (b) `llmops-console ingest`;
  (c) DuckDB `CREATE TABLE requests AS SELECT * FROM read_json(...)`. Rows/s, store size
  (with its -wal), peak RSS.
- floors (same run): the console's decode alone and the insert alone of its request columns
  (FLOORS_SCRIPT), against DuckDB's load: what 0.5 of DuckDB asks of each half; and the
  ceiling of a block-only store (bench/ingest_ceiling.py: a narrow row a request, the rest in
  blocks), each side alone and as a pipeline on both cores. `--floors-only`: only DuckDB's
  load, the floors and the ceiling (the stores --keep DIR holds are left as they are).
- report: (b) `llmops-console report --since all --json` with a daily and a monthly budget
  and an SLO (as bench/report.py), as of the newest record; (c) DuckDB's count, errors, spend
  and p50/p95/p99 (quantile_cont) per model and per prompt version over its loaded table:
  the query alone (connected) and a fresh process (import, connect, query). Best of --rounds.

Prints one table; ratios are what to compare (the machine is shared and noisy).
"""

from __future__ import annotations

import argparse
import json
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

RAW_COLUMNS = ("request_id", "ts", "model", "prompt_id", "prompt_version", "input_tokens", "output_tokens",
               "latency_ms", "status", "cost_usd", "input", "output")  # fmt: skip
RAW_SCRIPT = """
import sqlite3, sys, time, orjson
columns = {columns!r}
conn = sqlite3.connect(sys.argv[2])
conn.execute("PRAGMA journal_mode=WAL")
conn.execute("PRAGMA synchronous=NORMAL")
conn.execute(f"CREATE TABLE requests ({{', '.join(columns)}})")
conn.execute("CREATE UNIQUE INDEX ix_request_id ON requests (request_id)")
sql = f"INSERT INTO requests VALUES ({{', '.join('?' * len(columns))}})"
def cell(value):
    return value if value is None or isinstance(value, (str, int, float)) else orjson.dumps(value).decode()
rows = []
with open(sys.argv[1], "rb") as handle:
    for line in handle:
        record = orjson.loads(line)
        rows.append(tuple(cell(record.get(c)) for c in columns))
        if len(rows) == 10_000:
            with conn:
                conn.executemany(sql, rows)
            rows = []
if rows:
    with conn:
        conn.executemany(sql, rows)
conn.close()
"""
DUCKDB_LOAD = """
import duckdb, sys
conn = duckdb.connect(sys.argv[2])
conn.execute("CREATE TABLE requests AS SELECT * FROM read_json(?, format='newline_delimited')", [sys.argv[1]])
conn.close()
"""
# What ingest cannot beat, timed in the same run (issue 20's 0.5 of DuckDB): the console's own
# decode of each line alone (parse_line), and the insert alone of the console's request
# columns (its requests table and indexes, multi-row statements, 10,000 rows a transaction),
# the rows' tuples made between the two clocks.
FLOORS_SCRIPT = """
import gc, itertools, sys, time
sys.path.insert(0, {repo!r})
from console.records import parse_line
from console.store import Store
from console.store.rows import request_tuple
from console.store.schema_facts import REQUEST_COLUMNS
from console.store.sqlite_writer import insert_values, open_sqlite_writer_connection
gc.disable()
Store("sqlite:///" + sys.argv[2]).close()
conn = open_sqlite_writer_connection(sys.argv[2])
head = f"INSERT OR IGNORE INTO requests (id, {{', '.join(REQUEST_COLUMNS)}})"
decode = insert = 0.0
next_id = 1
with open(sys.argv[1], "rb") as handle:
    while lines := list(itertools.islice(handle, 10_000)):
        start = time.perf_counter()
        records = [parse_line(line) for line in lines]
        decode += time.perf_counter() - start
        rows = [(next_id + i, *request_tuple(r)) for i, r in enumerate(records)]
        next_id += len(rows)
        start = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        insert_values(conn, head, rows)
        conn.execute("COMMIT")
        insert += time.perf_counter() - start
conn.close()
print(decode, insert)
"""
DUCKDB_QUERY = """
SELECT model, prompt_id, prompt_version, count(*), sum(CASE WHEN status = 'error' THEN 1 ELSE 0 END),
       sum(cost_usd), quantile_cont(latency_ms, 0.5), quantile_cont(latency_ms, 0.95),
       quantile_cont(latency_ms, 0.99)
FROM requests WHERE ts <= ? GROUP BY GROUPING SETS ((model), (prompt_id, prompt_version))
"""
DUCKDB_REPORT = """
import duckdb, sys, time
conn = duckdb.connect(sys.argv[1], read_only=True)
conn.execute("SET enable_progress_bar = false")  # a query over ~2 s drew a bar on stdout
start = time.perf_counter()
rows = conn.execute({query!r}, [sys.argv[2]]).fetchall()
print(time.perf_counter() - start, len(rows))
"""


GENERATE = """
import sys
sys.path.insert(0, "bench")
from pathlib import Path
from ingest import generate
generate(Path(sys.argv[1]), int(sys.argv[2]))
"""


def run(command: list[str]) -> tuple[float, float, str]:
    """(seconds, peak RSS MB, stdout) of a child process (its own rusage, os.wait4)."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
    out, err = child.stdout.read(), child.stderr.read()  # type: ignore[union-attr]
    _pid, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command[:4])} failed: {err.decode()[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024, out.decode()


def size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 1e6


def remove(path: Path) -> None:
    for found in path.parent.glob(path.name + "*"):
        found.unlink()


def measure(
    workdir: Path, records: int, rounds: int, reports_only: bool = False, floors_only: bool = False, ceiling: bool = True
) -> dict:
    log = workdir / f"requests-{records}.jsonl"
    if not log.exists():  # in a child: a child's peak RSS starts from its parent's size at fork
        print(f"generating {records:,} records into {log} ...", flush=True)
        subprocess.run([sys.executable, "-c", GENERATE, str(log), str(records)], check=True, cwd=REPO)
    found = {"records": records, "log_mb": log.stat().st_size / 1e6}
    raw, store, duck = workdir / f"raw-{records}.db", workdir / f"store-{records}.db", workdir / f"duck-{records}.duckdb"
    python = sys.executable
    if reports_only:  # the stores a previous run kept in --keep DIR
        if not (store.exists() and duck.exists()):
            raise SystemExit(f"--reports-only needs {store} and {duck} from a run with --keep")
        found.update(ours_mb=size_mb(store), duck_mb=size_mb(duck))
        return _reports(found, workdir, store, duck, rounds)
    if floors_only:  # DuckDB's load into a store of its own: the --keep stores stay as they are
        duck = workdir / f"duck-floors-{records}.duckdb"
    for path in (duck,) if floors_only else (raw, store, duck):
        remove(path)
    print(f"{records:,}: ingest ...", flush=True)
    if not floors_only:
        found["raw_s"], found["raw_rss"], _ = run([python, "-c", RAW_SCRIPT.format(columns=RAW_COLUMNS), str(log), str(raw)])
        found["raw_mb"] = size_mb(raw)
        remove(raw)
        found["ours_s"], found["ours_rss"], _ = run([python, "-m", "console.cli", "ingest", str(log), "--store", f"sqlite:///{store}"])
        found["ours_mb"] = size_mb(store)
    found["duck_s"], found["duck_rss"], _ = run([python, "-c", DUCKDB_LOAD, str(log), str(duck)])
    found["duck_mb"] = size_mb(duck)
    if floors_only:
        remove(duck)
    floor_store = workdir / f"floors-{records}.db"
    remove(floor_store)
    _, _, out = run([python, "-c", FLOORS_SCRIPT.format(repo=str(REPO)), str(log), str(floor_store)])
    remove(floor_store)
    found["decode_s"], found["insert_s"] = (float(value) for value in out.split())
    n = records
    ours = "" if floors_only else f"; console ingest {n / found['ours_s']:,.0f} rows/s ({found['duck_s'] / found['ours_s']:.2f})"
    print(
        f"    floors: DuckDB's load {n / found['duck_s']:,.0f} rows/s; the console's decode alone "
        f"{n / found['decode_s']:,.0f} rows/s ({n / found['decode_s'] / (n / found['duck_s']):.2f} of DuckDB's load), "
        f"the insert alone of its request columns {n / found['insert_s']:,.0f} rows/s "
        f"({found['duck_s'] / found['insert_s']:.2f}){ours}",
        flush=True,
    )
    if ceiling:  # several passes over the log: minutes at 10M
        _, _, out = run([python, str(REPO / "bench" / "ingest_ceiling.py"), str(log), str(workdir)])
        found["ceiling"] = json.loads(out)
        print(ceiling_lines(found["ceiling"], found["duck_s"], n), flush=True)
    if floors_only:
        return found
    return _reports(found, workdir, store, duck, rounds)


def ceiling_lines(ceiling: dict, duck_s: float, n: int) -> str:
    """bench/ingest_ceiling.py's results as rows/s and ratios to DuckDB's load, with each
    stage's us a row."""
    def rate(seconds: float, rows: int) -> str:
        return f"{rows / seconds:,.0f} rows/s ({rows / seconds / (n / duck_s):.2f})"

    narrow, bare, stages = ceiling["narrow"], ceiling["narrow_no_ts_index"], ceiling["stages"]
    stage_list = lambda spent: ", ".join(f"{name} {us:.1f}" for name, us in spent.items())  # noqa: E731
    lines = [
        "    block-only ceiling (bench/ingest_ceiling.py; rows/s and their ratio to DuckDB's load):",
        f"      (a) narrow insert alone (id, request_id unique, ts indexed): {rate(narrow['seconds'], narrow['rows'])}; "
        f"without the ts index {rate(bare['seconds'], bare['rows'])}; request_key (int64) unique instead "
        f"{rate(ceiling['narrow_int_key']['seconds'], bare['rows'])}; no unique index "
        f"{rate(ceiling['narrow_no_unique']['seconds'], bare['rows'])}; unique (ts, request_id) instead of both "
        f"{rate(ceiling['narrow_ts_request']['seconds'], bare['rows'])}",
        f"      each side alone: decoding process {rate(stages['decode_s'], stages['rows'])}, "
        f"writer process {rate(stages['write_s'], stages['rows'])} (process start-up included)",
        f"        decoder us/row: {stage_list(stages['decoder'])}",
        f"        writer us/row: {stage_list(stages['writer'])}",
    ]
    for key, label in (("pipeline", "(b) one decoding process + writer"), ("split", "(c) two decoding processes + writer")):
        found = ceiling[key]
        lines.append(f"      {label}, end to end: {rate(found['seconds'], found['rows'])}")
        for i, decoder in enumerate(found["decoders"]):
            lines.append(f"        decoder {i} us/row (of all rows): {stage_list(decoder)}")
        lines.append(f"        writer us/row: {stage_list(found['writer'])}")
    return "\n".join(lines)


def _reports(found: dict, workdir: Path, store: Path, duck: Path, rounds: int) -> dict:
    import report as report_bench

    records, python = found["records"], sys.executable
    config = workdir / "peers.toml"
    config.write_text(report_bench.CONFIG, encoding="utf-8")
    with sqlite3.connect(store) as conn:
        newest = conn.execute("SELECT max(ts) FROM requests").fetchone()[0]
    from console.formatting import rfc3339

    now = rfc3339(newest)
    report = [python, "-m", "console.cli", "report", "--store", f"sqlite:///{store}", "--since", "all",
              "--now", now, "--config", str(config), "--json"]  # fmt: skip
    duck_report = [python, "-c", DUCKDB_REPORT.format(query=DUCKDB_QUERY), str(duck), now.replace("Z", "+00:00")]
    # the console's bytecode, as an installed package has it (pip compiles at install): with
    # PYTHONDONTWRITEBYTECODE set, every report would compile its ~40 modules from source
    subprocess.run([python, "-m", "compileall", "-q", str(REPO / "console")], check=True, stdout=subprocess.DEVNULL)
    best = {"report_s": float("inf"), "duck_query_s": float("inf"), "duck_process_s": float("inf")}
    found["report_rss"] = found["duck_report_rss"] = 0.0
    print(f"{records:,}: report ...", flush=True)
    for _ in range(rounds):
        seconds, rss, out = run(report)
        best["report_s"] = min(best["report_s"], seconds)
        found["report_rss"] = max(found["report_rss"], rss)
        found["figures"] = out[out.rfind('"figures"') :].strip()[:160]
        seconds, rss, out = run(duck_report)
        best["duck_process_s"] = min(best["duck_process_s"], seconds)
        best["duck_query_s"] = min(best["duck_query_s"], float(out.split()[-2]))  # "seconds rows", last
        found["duck_report_rss"] = max(found["duck_report_rss"], rss)
    found.update(best)
    return found


def report_table(results: list[dict]) -> str:
    lines = [
        "| rows | `report --since all`: console (fresh process) / DuckDB query / DuckDB fresh process | console vs DuckDB query, vs its process | peak RSS report: console / DuckDB |",
        "|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['records']:,} | {r['report_s']:.2f} / {r['duck_query_s']:.2f} / {r['duck_process_s']:.2f} s "
            f"| {r['report_s'] / r['duck_query_s']:.1f}x, {r['report_s'] / r['duck_process_s']:.1f}x "
            f"| {r['report_rss']:,.0f} / {r['duck_report_rss']:,.0f} MB |"
        )
    return "\n".join(lines)


def table(results: list[dict]) -> str:
    lines = [
        "| rows | log | ingest: raw baseline / console / DuckDB (rows/s) | console vs raw, vs DuckDB | store: console / DuckDB (MB, of the log) | peak RSS ingest: console / DuckDB | `report --since all`: console (fresh process) / DuckDB query / DuckDB fresh process | console vs DuckDB query, vs its process | peak RSS report: console / DuckDB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        n = r["records"]
        rates = [n / r["raw_s"], n / r["ours_s"], n / r["duck_s"]]
        lines.append(
            f"| {n:,} | {r['log_mb']:,.0f} MB | {rates[0]:,.0f} / {rates[1]:,.0f} / {rates[2]:,.0f} "
            f"| {rates[1] / rates[0]:.2f}, {rates[1] / rates[2]:.2f} "
            f"| {r['ours_mb']:,.0f} ({r['ours_mb'] / r['log_mb']:.2f}) / {r['duck_mb']:,.0f} ({r['duck_mb'] / r['log_mb']:.2f}) "
            f"| {r['ours_rss']:,.0f} / {r['duck_rss']:,.0f} MB "
            f"| {r['report_s']:.2f} / {r['duck_query_s']:.2f} / {r['duck_process_s']:.2f} s "
            f"| {r['report_s'] / r['duck_query_s']:.1f}x, {r['report_s'] / r['duck_process_s']:.1f}x "
            f"| {r['report_rss']:,.0f} / {r['duck_report_rss']:,.0f} MB |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000000,3000000")
    parser.add_argument("--keep", type=Path, help="reuse/keep the generated logs in this directory")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reports-only", action="store_true", help="only the reports, on the stores --keep DIR holds")
    parser.add_argument("--floors-only", action="store_true",
                        help="only DuckDB's load, the floors and the block-only ceiling (bench/ingest_ceiling.py)")
    parser.add_argument("--no-ceiling", action="store_true", help="skip the block-only ceiling (bench/ingest_ceiling.py)")
    args = parser.parse_args()
    try:
        import duckdb  # noqa: F401
    except ImportError:
        raise SystemExit("bench/peers.py needs DuckDB: pip install duckdb (bench-only)") from None
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="llmops-peers-"))
    workdir.mkdir(parents=True, exist_ok=True)
    results = []
    show = report_table if args.reports_only else table
    for size in (int(s) for s in args.sizes.split(",")):
        if args.floors_only:
            measure(workdir, size, args.rounds, floors_only=True, ceiling=not args.no_ceiling)
            continue
        results.append(measure(workdir, size, args.rounds, args.reports_only, ceiling=not args.no_ceiling))
        print(show(results[-1:]), flush=True)
        print(f"    console report's figures: {results[-1]['figures']}", flush=True)
    if results:
        print("\n" + show(results))


if __name__ == "__main__":
    main()
