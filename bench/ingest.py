"""Ingest throughput against the raw limit of this machine, measured in the same run.

    python bench/ingest.py [--records 1000000] [--keep DIR]

(a) baseline: read the file, orjson-decode every line, sqlite3 executemany into a bare
    table with the same columns, 10,000 rows per transaction (WAL, synchronous=NORMAL);
(b) `llmops-console ingest FILE --store sqlite:///...` into a fresh store, as a user runs it.

Prints both rates, the ratio (b)/(a) (target >= 0.7) and the peak RSS of (b) (target < 300 MB).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

COLUMNS = (
    "ts", "request_id", "model", "prompt_id", "prompt_version", "input_tokens",
    "output_tokens", "latency_ms", "status", "cost_usd", "provider", "response_model",
    "ttft_ms", "cached_input_tokens", "reasoning_tokens", "finish_reason", "error_type",
    "error_message", "input", "output", "user_id", "session_id", "trace_id", "feedback",
    "prompt_hash", "variant", "environment", "tags", "metadata",
)  # fmt: skip
BATCH = 10_000


SYSTEM_PROMPT = (
    "You are Acme Helpdesk's support assistant. Answer in the customer's language, in at most "
    "four sentences, using only the help-centre articles provided. Never promise refunds or "
    "dates; hand over to a human agent when the customer is angry or asks for one. Format "
    "settings paths in bold, like **Settings → Security**."
)


def full_sized(record: dict, index: int) -> dict:
    """The sample records are slimmed to fit the repository; apps that log everything write
    about 1 KB a request: the chat messages with the system prompt, provider, trace ids."""
    from console.demo.story import MODELS

    model = MODELS.get(record["model"])
    if model is not None:
        record["provider"] = model.provider
    if isinstance(record.get("input"), str):
        record["input"] = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": record["input"]},
        ]
    record.setdefault("trace_id", f"{index:032x}")
    record.setdefault("metadata", {"app_version": "2.15.0", "host": f"api-{index % 7}"})
    return record


def generate(path: Path, count: int) -> None:
    from console.demo.story import generate_history

    with path.open("w", encoding="utf-8") as out:
        for index, record in enumerate(generate_history(count, days=30.0)):
            out.write(json.dumps(full_sized(record, index), ensure_ascii=False, separators=(",", ":")) + "\n")


def _cell(value):
    if value is None or isinstance(value, (str, int, float)):
        return value
    return orjson.dumps(value).decode()


def baseline(path: Path, db: Path) -> float:
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(f"CREATE TABLE requests ({', '.join(COLUMNS)})")
    sql = f"INSERT INTO requests VALUES ({', '.join('?' * len(COLUMNS))})"
    start = time.perf_counter()
    rows = []
    with path.open("rb") as handle:
        for line in handle:
            record = orjson.loads(line)
            rows.append(tuple(_cell(record.get(c)) for c in COLUMNS))
            if len(rows) == BATCH:
                with conn:
                    conn.executemany(sql, rows)
                rows = []
    if rows:
        with conn:
            conn.executemany(sql, rows)
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def console_ingest(path: Path, db: Path) -> tuple[float, float, str]:
    command = [sys.executable, "-m", "console.cli", "ingest", str(path), "--store", f"sqlite:///{db}"]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"ingest failed ({done.returncode}): {done.stderr}")
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return elapsed, peak_mb, done.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="reuse/keep the generated log in this directory")
    args = parser.parse_args()

    workdir = args.keep or Path(tempfile.mkdtemp(prefix="llmops-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / f"requests-{args.records}.jsonl"
    if not log.exists():
        print(f"generating {args.records:,} records into {log} ...", flush=True)
        generate(log, args.records)
    size_mb = log.stat().st_size / 1e6
    print(f"log: {args.records:,} records, {size_mb:,.0f} MB ({size_mb * 1e6 / args.records:,.0f} bytes/record)")

    for name in ("baseline.db", "store.db"):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{workdir / name}{suffix}").unlink(missing_ok=True)

    base_s = baseline(log, workdir / "baseline.db")
    base_rate = args.records / base_s
    print(f"(a) raw baseline, orjson + sqlite3 executemany: {base_s:6.2f} s  {base_rate:>9,.0f} rows/s")

    ours_s, peak_mb, summary = console_ingest(log, workdir / "store.db")
    ours_rate = args.records / ours_s
    print(f"(b) llmops-console ingest:                      {ours_s:6.2f} s  {ours_rate:>9,.0f} rows/s")
    print(f"    {summary}")
    ratio = ours_rate / base_rate
    print(f"ratio (b)/(a): {ratio:.2f}  (target >= 0.70)  {'OK' if ratio >= 0.7 else 'BELOW TARGET'}")
    print(f"peak RSS of (b): {peak_mb:,.0f} MB  (target < 300 MB)  {'OK' if peak_mb < 300 else 'OVER TARGET'}")
    if not args.keep:
        for child in workdir.iterdir():
            child.unlink()
        os.rmdir(workdir)


if __name__ == "__main__":
    main()
