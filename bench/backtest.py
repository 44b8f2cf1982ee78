"""`llmops-console check --backtest 7d` over 5M requests, against a raw baseline in the same run.

    python bench/backtest.py [--records 5000000] [--keep DIR] [--rounds 3]

The store holds the rollup cells of N synthetic requests over 7 days (the sample story's
shape: five models, three prompts and their versions, 2% errors, log-normal latencies, a
cost spike and a latency incident), written with the writers' own `rollups.write_rows`; the
rows themselves are not stored, since the backtest reads only the minute cells (a budget
scoped by user would read that user's rows). With --keep DIR the store is kept and reused.

(a) baseline: numpy's GROUP BY minute over the same N rows already in memory: requests,
    errors and spend per minute (`numpy.bincount`), the floor of any one-pass evaluation;
(b) `llmops-console check --backtest 7d` as a user runs it: a fresh process, imports included,
    a daily and a monthly budget and two SLOs (so every rule kind runs).

Best of --rounds each. Prints both times, the ratio (b)/(a), and whether (b) is under 5 s
(issue 21); then in this process where (b)'s time goes: reading the minute series, evaluating.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

END = 1_795_000_000 // 3600 * 3600  # 2026-11-18 ...: a whole hour
DAYS = 7
CONFIG = """
[[budgets]]
name = "daily"
period = "day"
amount_usd = 400

[[budgets]]
name = "monthly sonnet"
period = "month"
amount_usd = 6000
model = "claude-sonnet-4-5"

[[slos]]
percentile = 95
max_ms = 9000

[[slos]]
model = "claude-sonnet-4-5"
percentile = 95
max_ms = 8000
"""
MODELS = ["claude-sonnet-4-5", "gpt-4o", "gpt-4o-mini", "o3-mini", "claude-haiku-4-5"]
PROMPTS = ["support-answer", "ticket-classifier", "summarize-thread"]
VERSIONS = ["v7", "v8", "v3", "v4", "v2"]


def synthetic(count: int, seed: int = 7):
    """N rows over the 7 days before END as numpy arrays (ts sorted)."""
    rng = np.random.default_rng(seed)
    start = END - DAYS * 86400
    ts = np.sort(rng.uniform(start, END, count))
    prompt = rng.choice(len(PROMPTS), count, p=[0.6, 0.25, 0.15])
    # each prompt on its own models and two versions (the story's routes), not every pairing
    route = rng.integers(0, 2, count)
    model = np.array([[0, 1], [2, 4], [3, 2]])[prompt, route]
    version = np.array([[0, 1], [2, 3], [4, 4]])[prompt, rng.integers(0, 2, count)]
    latency = rng.lognormal(7.5, 0.6, count)
    incident = (ts > start + 2 * 86400) & (ts < start + 2 * 86400 + 7200) & (model == 0)
    latency[incident] *= 4
    cost = rng.lognormal(-6.0, 0.8, count)
    spike = (ts > start + 4 * 86400) & (ts < start + 4 * 86400 + 3600)
    cost[spike] *= 40
    is_error = rng.random(count) < 0.02
    return ts, model, prompt, version, latency, cost, is_error


def build_store(path: Path, arrays) -> None:
    from console.analytics.rollup import RowArrays
    from console.store import Store
    from console.store import rollups

    ts, model, prompt, version, latency, cost, is_error = arrays
    store = Store(f"sqlite:///{path}")
    try:
        chunk = 250_000
        for first in range(0, len(ts), chunk):
            part = slice(first, first + chunk)
            n = len(ts[part])
            zeros = np.zeros(n, np.int64)
            rows = RowArrays(
                ts=ts[part], latency_ms=latency[part], ttft_ms=latency[part] / 4, cost_usd=cost[part],
                estimated_cost_usd=np.full(n, np.nan), is_error=is_error[part], is_bad=np.zeros(n, bool), is_rated=np.zeros(n, bool),
                tokens={name: np.full(n, 500, np.int64) for name in ("input_tokens", "output_tokens", "cached_input_tokens")},
                codes={"model": model[part], "prompt": prompt[part] * len(VERSIONS) + version[part], "prompt_id": prompt[part],
                       "prompt_hash": version[part], "environment": zeros, "user": zeros},
                names={"model": MODELS, "prompt": [f"{p}@{v}" for p in PROMPTS for v in VERSIONS], "prompt_id": PROMPTS,
                       "prompt_hash": [f"h{v}" for v in VERSIONS], "environment": [""], "user": ["u1"]},
            )  # fmt: skip
            with store.engine.begin() as conn:
                rollups.write_rows(conn, rows)
            print(f"  cells of {first + n:,} rows written", flush=True)
    finally:
        store.close()


def baseline(arrays) -> float:
    ts, model, _prompt, _version, _latency, cost, is_error = arrays
    started = time.perf_counter()
    minute = ((ts - (END - DAYS * 86400)) // 60).astype(np.int64)
    np.bincount(minute)
    np.bincount(minute, weights=is_error)
    np.bincount(minute, weights=cost)
    np.bincount(minute[model == 0], weights=cost[model == 0])
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=5_000_000)
    parser.add_argument("--keep", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-backtest-"))
    folder.mkdir(parents=True, exist_ok=True)
    store = folder / f"backtest-{args.records}.db"
    config = folder / "llmops.toml"
    config.write_text(CONFIG)
    arrays = synthetic(args.records)
    if not store.exists():
        print(f"building {store} (rollup cells of {args.records:,} requests over {DAYS} days)")
        build_store(store, arrays)
    from console.formatting import rfc3339

    now = rfc3339(END)
    command = [str(REPO / ".venv/bin/llmops-console"), "check", "--store", f"sqlite:///{store}", "--config", str(config),
               "--backtest", f"{DAYS}d", "--now", now]  # fmt: skip
    raw, whole = [], []
    for _ in range(args.rounds):
        raw.append(baseline(arrays))
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True)
        whole.append(time.perf_counter() - started)
        assert done.returncode == 0, done.stderr
    print(done.stdout.splitlines()[0])
    a, b = min(raw), min(whole)
    print(f"(a) numpy GROUP BY minute over {args.records:,} rows in memory: {a:.3f} s")
    print(f"(b) check --backtest {DAYS}d, a fresh process:                 {b:.3f} s  ({'under' if b < 5 else 'OVER'} 5 s)")
    print(f"ratio (b)/(a): {b / a:.1f}")

    from console.analytics.backtest import MINUTE, evaluate, lookback_seconds
    from console.config import load_settings
    from console.store import Store
    from console.store.minute_series import read_minute_series

    settings = load_settings(config)
    since = END - DAYS * 86400
    first = int(since - lookback_seconds(settings, "1h"))
    opened = Store(f"sqlite:///{store}")
    started = time.perf_counter()
    series = read_minute_series(opened, list(settings.budgets), first, (END - first) // MINUTE)
    read = time.perf_counter() - started
    opened.close()
    started = time.perf_counter()
    timelines = evaluate(series, settings, "1h", since, END)
    judged = time.perf_counter() - started
    print(f"in process: minute series read {read:.3f} s ({series.minutes:,} minutes), "
          f"{len(timelines)} rules evaluated {judged:.3f} s")


if __name__ == "__main__":
    main()
