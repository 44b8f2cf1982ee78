"""Analytics over a 1,000,000-record window against the raw numpy limit, measured in the same run.

    python bench/analytics.py [--records 1000000] [--batch 1000] [--window 1h]

The window holds --records rows spread evenly over it (1M in an hour is ~280 requests/s),
with 5 models, 12 prompt versions, 2,000 users, 70% of rows with a TTFT, 85% priced, two
budgets and two SLOs.

(a) baseline: one `numpy.percentile(latencies, [50, 90, 95, 99])` over the 1M latencies
    (the four figures the latency pane shows; one call; a single-q call is printed too);
(b) incremental: a batch of --batch new records arrives (LiveWindow.append, i.e.
    Columns.append) and the aggregates are brought up to date (LiveWindow.update), the
    window sliding by the batch's duration so as many old rows leave: every sorted latency
    group, counter, drift table and sparkline bucket is updated (target < 2x (a));
(c) the report from the kept aggregates (LiveWindow.report after the update): what a pane
    redraw costs;
(d) a full `build_report` from scratch over the 1M rows (what `report` does once).

Prints each time (best of several runs; (b) is the median over consecutive batches) and its
ratio to (a). Timings are never assertions in the test suite.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from console.analytics.columns import Columns, prompt_key  # noqa: E402
from console.analytics.live import LiveWindow  # noqa: E402
from console.analytics.report import build_report  # noqa: E402
from console.analytics.windows import WINDOWS  # noqa: E402
from console.config import Budget, Settings, Slo  # noqa: E402
from console.formatting import parse_rfc3339  # noqa: E402
from console.records import RequestRecord  # noqa: E402

NOW = parse_rfc3339("2026-11-20T12:00:00Z")
MODELS = ["claude-sonnet-4-5", "gpt-4o", "gpt-4o-mini", "claude-haiku-4-5", "o3-mini"]
PROMPTS = [("support-answer", f"v{v}") for v in (6, 7, 8)] + [("ticket-classifier", f"v{v}") for v in (3, 4)]
PROMPTS += [("summarize-thread", f"v{v}") for v in (1, 2)] + [(f"tool-{i}", "v1") for i in range(5)]
USERS = 2000
SETTINGS = Settings(
    budgets=[
        Budget(name="all traffic", period="month", amount_usd=3000),
        Budget(name="sonnet daily", period="day", amount_usd=100, model="claude-sonnet-4-5"),
    ],
    slos=[Slo(max_ms=2500, percentile=95), Slo(max_ms=6000, percentile=99, model="o3-mini")],
)


def random_fields(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    cost = np.round(rng.lognormal(-6, 1.0, n), 8)
    cost[rng.random(n) < 0.15] = np.nan
    ttft = np.round(rng.lognormal(6.3, 0.5, n), 1)
    ttft[rng.random(n) < 0.3] = np.nan
    feedback = np.full(n, np.nan)
    rated = rng.random(n) < 0.08
    feedback[rated] = np.where(rng.random(int(rated.sum())) < 0.2, -1.0, 1.0)
    return {
        "latency_ms": np.round(rng.lognormal(7.2, 0.7, n), 1),
        "ttft_ms": ttft,
        "cost_usd": cost,
        "feedback": feedback,
        "input_tokens": rng.integers(50, 8000, n),
        "output_tokens": rng.integers(1, 900, n),
        "cached_input_tokens": np.zeros(n, np.int64),
        "is_error": rng.random(n) < 0.02,
        "model": rng.integers(0, len(MODELS), n),
        "prompt": rng.integers(0, len(PROMPTS), n),
        "user": rng.integers(0, USERS, n),
        "hash_flip": rng.random(n) < 0.01,
    }


def filled_columns(rng: np.random.Generator, ts: np.ndarray) -> Columns:
    """A Columns of len(ts) rows written straight into its arrays (generating a million
    RequestRecords would take longer than everything measured here)."""
    n = len(ts)
    fields = random_fields(rng, n)
    cols = Columns(n)
    for name in MODELS:
        cols.categories["model"].code(name)
    for prompt_id, version in PROMPTS:
        cols.categories["prompt"].code(prompt_key(prompt_id, version))
        cols.categories["prompt_id"].code(prompt_id)
        cols.categories["prompt_hash"].code(f"{prompt_id}-{version}")
    for prompt_id, version in PROMPTS:
        cols.categories["prompt_hash"].code(f"{prompt_id}-{version}-edited")
    for user in range(USERS):
        cols.categories["user"].code(f"u_{user:05d}")
    cols.categories["environment"].code(None)
    cols.categories["provider"].code(None)
    prompt_ids = np.array([cols.categories["prompt_id"].codes[p] for p, _ in PROMPTS])
    cols._reserve(n)
    floats, ints, cats, bools = cols._floats, cols._ints, cols._cats, cols._bools
    floats["ts"][:n] = ts
    for name in ("latency_ms", "ttft_ms", "cost_usd", "feedback"):
        floats[name][:n] = fields[name]
    for name in ("input_tokens", "output_tokens", "cached_input_tokens"):
        ints[name][:n] = fields[name]
    cats["model"][:n] = fields["model"]
    cats["prompt"][:n] = fields["prompt"]
    cats["prompt_id"][:n] = prompt_ids[fields["prompt"]]
    cats["user"][:n] = fields["user"]
    cats["prompt_hash"][:n] = fields["prompt"] + np.where(fields["hash_flip"], len(PROMPTS), 0)
    cats["environment"][:n] = 0
    cats["provider"][:n] = 0
    bools["is_error"][:n] = fields["is_error"]
    bools["is_bad"][:n] = fields["feedback"] < 0
    bools["is_rated"][:n] = ~np.isnan(fields["feedback"])
    cols._size = n
    for code, name in enumerate(MODELS):
        cols.first_seen["model"][name] = float(ts[0]) + code
    for code, (prompt_id, version) in enumerate(PROMPTS):
        cols.first_seen["prompt"][prompt_key(prompt_id, version)] = float(ts[0]) + code
    return cols


def new_records(rng: np.random.Generator, ts: np.ndarray) -> list[RequestRecord]:
    fields = random_fields(rng, len(ts))
    records = []
    for i in range(len(ts)):
        prompt_id, version = PROMPTS[int(fields["prompt"][i])]
        cost, ttft, feedback = fields["cost_usd"][i], fields["ttft_ms"][i], fields["feedback"][i]
        records.append(
            RequestRecord(
                ts=float(ts[i]), request_id=f"r{i}", model=MODELS[int(fields["model"][i])],
                prompt_id=prompt_id, prompt_version=version,
                input_tokens=int(fields["input_tokens"][i]), output_tokens=int(fields["output_tokens"][i]),
                latency_ms=float(fields["latency_ms"][i]), status="error" if fields["is_error"][i] else "ok",
                cost_usd=None if np.isnan(cost) else float(cost), ttft_ms=None if np.isnan(ttft) else float(ttft),
                feedback=None if np.isnan(feedback) else float(feedback),
                user_id=f"u_{int(fields['user'][i]):05d}", prompt_hash=f"{prompt_id}-{version}",
            )
        )  # fmt: skip
    return records


def best(function, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--window", default="1h", choices=[w for w, s in WINDOWS.items() if s is not None])
    args = parser.parse_args()

    rng = np.random.default_rng(42)
    span = WINDOWS[args.window]
    ts = np.sort(rng.uniform(NOW - span, NOW, args.records))
    started = time.perf_counter()
    cols = filled_columns(rng, ts)
    step = span * args.batch / args.records  # the time a batch takes to arrive at this rate
    batches = [
        new_records(rng, np.sort(rng.uniform(NOW + k * step, NOW + (k + 1) * step, args.batch)))
        for k in range(args.batches)
    ]
    print(f"{len(cols):,} records in a {args.window} window; batches of {args.batch:,} every {step:.2f} s "
          f"(setup {time.perf_counter() - started:.1f} s)")  # fmt: skip

    latencies = cols.latency_ms.copy()
    raw = best(lambda: np.percentile(latencies, [50, 90, 95, 99]), 7)
    raw_one = best(lambda: np.percentile(latencies, 95), 7)

    full = best(lambda: build_report(cols, NOW, args.window, SETTINGS), 3)

    live = LiveWindow(SETTINGS, args.window, cols=cols)
    first = time.perf_counter()
    live.update(NOW)
    first = time.perf_counter() - first
    updates, appends, redraws = [], [], []
    for k, batch in enumerate(batches):
        now = NOW + (k + 1) * step
        start = time.perf_counter()
        live.append(batch)
        appended = time.perf_counter()
        live.update(now)
        updates.append(time.perf_counter() - start)
        appends.append(appended - start)
        redraws.append(best(lambda: live.report(now), 1))
    final = live.report(NOW + len(batches) * step)
    fresh = build_report(live.cols, NOW + len(batches) * step, args.window, SETTINGS)
    same = final == fresh

    update, append, redraw = statistics.median(updates), statistics.median(appends), statistics.median(redraws)
    rows = [
        ("(a) numpy.percentile, 4 q, 1M latencies (baseline)", raw),
        ("    numpy.percentile, 1 q (for reference)", raw_one),
        (f"(b) incremental update, {args.batch:,} new records (median)", update),
        ("      of which Columns.append", append),
        ("(c) report from the kept aggregates (a pane redraw)", redraw),
        ("(d) full build_report from scratch", full),
        ("    first LiveWindow.update (builds the aggregates)", first),
    ]
    for label, seconds in rows:
        print(f"{label:<58} {seconds * 1000:8.1f} ms  {seconds / raw:6.2f}x (a)")
    print(f"incremental report equals a fresh build_report: {same}")
    arrivals = 5000 / args.batch  # batches a second at 5,000 records/s
    busy = arrivals * update + 4 * redraw
    print(f"5,000 records/s and 4 redraws/s cost {busy * 1000:.0f} ms of CPU per second ({busy:.0%} of a core)")
    print(f"target (b) < 2x (a): {'met' if update < 2 * raw else 'NOT met'} ({update / raw:.2f}x)")


if __name__ == "__main__":
    main()
