"""A replay at 10x on a big store, against the live console at the same row rate, in one run.

    python bench/replay.py [--records 1000000] [--hours 2] [--speed 10] [--seconds 60] [--keep DIR]

The store: --records requests of the demo's story over --hours hours (console.demo.story's
generate_history, ingested with `llmops-console ingest`; with --keep DIR both are kept and
reused). The replay plays the second half of it (--from the middle --to the newest request),
so the 1h window is full from the first moment: every figure then comes from the store's
rollups merged with the recent rows (above EXACT_MAX_ROWS), recomputed as the clock moves.

For --seconds each, headless (App.run_test, 160x48), the event loop's lag (bench/live.py's
10 ms timer):

(a) baseline: the live console tailing a log a writer process appends to at the replay's row
    rate (records / hours / 3600 x speed; bench/live.py's writer), into a fresh store;
(b) the replay (console/ui/replay_app.py) at --speed, with [ and ] pressed every 10 s (a step
    back rebuilds the window's aggregates and restarts the requests table).

Prints each one's loop lag p50 / p99 / max, the rows the replay played, and (b)'s p99 against
the target (issue 21: < 50 ms) and against (a)'s.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
import time
from array import array
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from live import WRITER, lag_timer  # noqa: E402 (bench/live.py's writer and lag timer)

END = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
TARGET_P99_MS = 50.0


def build_store(workdir: Path, records: int, hours: float) -> Path:
    """The demo story's records over `hours`, ingested (both kept in workdir and reused)."""
    from console.demo.story import dumps, generate_history

    log = workdir / f"replay-{records}-{hours:g}h.jsonl"
    store = workdir / f"replay-{records}-{hours:g}h.db"
    if not log.exists():
        print(f"generating {records:,} records over {hours:g} h into {log} ...", flush=True)
        with log.open("w", encoding="utf-8") as out:
            for record in generate_history(records, end=END, days=hours / 24):
                out.write(dumps(record) + "\n")
    if not store.exists():
        print(f"ingesting {log} into {store} ...", flush=True)
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "console.cli", "ingest", str(log), "--store", f"sqlite:///{store}"],
                              capture_output=True, text=True, cwd=REPO)  # fmt: skip
        if done.returncode != 0:
            raise SystemExit(f"ingest failed ({done.returncode}): {done.stderr}")
        print(f"    {done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ''} in "
              f"{time.perf_counter() - started:.0f} s", flush=True)
    return store


def lag_figures(lags: array) -> tuple[float, float, float]:
    values = np.frombuffer(lags, dtype=np.float64) * 1000 if len(lags) else np.zeros(1)
    return float(np.percentile(values, 50)), float(np.percentile(values, 99)), float(values.max())


async def live_baseline(tmp: Path, rate: float, seconds: float) -> array:
    """The live console tailing a log written at `rate` lines/s for `seconds`."""
    from console.ui.app import ConsoleApp

    log = tmp / "live.jsonl"
    log.touch()
    lags: array = array("d")
    app = ConsoleApp(sources=[str(log)], store_url=f"sqlite:///{tmp / 'live.db'}")
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause(1.0)  # started: the lag is measured while rows arrive
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(log), str(rate), str(seconds), "0"],
                                  stdout=subprocess.PIPE, text=True)  # fmt: skip
        timer = lag_timer(app, lags)
        await asyncio.sleep(seconds)
        timer.stop()
        writer.wait()
    return lags


async def replay_run(store: Path, start: float, end: float, speed: float, seconds: float) -> tuple[array, int, float]:
    """The replay for `seconds` after its first figures: (lags, rows played, replayed seconds)."""
    from console.ui.replay_app import ReplayApp

    lags: array = array("d")
    app = ReplayApp(f"sqlite:///{store}", start, end, speed)
    app.driver.toggle_pause()  # started once the seed is in, so the lag covers the playing only
    async with app.run_test(size=(160, 48)) as pilot:
        for _ in range(1200):
            if app.driver.state().ready and app.dashboard.report is not None:
                break
            await pilot.pause(0.05)
        first = app.driver.state()
        await pilot.press("space")
        timer = lag_timer(app, lags)
        began = time.monotonic()
        while time.monotonic() - began < seconds:
            await asyncio.sleep(min(10.0, seconds - (time.monotonic() - began)))
            if time.monotonic() - began < seconds - 1:
                await pilot.press("left_square_bracket")
                await asyncio.sleep(0.5)
                await pilot.press("right_square_bracket")
        timer.stop()
        last = app.driver.state()
    return lags, last.rows - first.rows, last.moment - first.moment


async def main(records: int, hours: float, speed: float, seconds: float, keep: Path | None) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="llmops-replay-"))
    workdir = keep or tmp
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        store = build_store(workdir, records, hours)
        end = END.timestamp()
        start = (END - timedelta(hours=hours / 2)).timestamp()
        rate = records / (hours * 3600) * speed
        print(f"(a) the live console tailing a log at {rate:,.0f} rows/s for {seconds:g} s ...", flush=True)
        base_p50, base_p99, base_max = lag_figures(await live_baseline(tmp, rate, seconds))
        print(f"    loop lag p50 {base_p50:.1f} / p99 {base_p99:.1f} / max {base_max:.0f} ms", flush=True)
        print(f"(b) replay of the last {hours / 2:g} h of {records:,} requests over {hours:g} h at {speed:g}x "
              f"for {seconds:g} s ...", flush=True)  # fmt: skip
        lags, played, replayed = await replay_run(store, start, end, speed, seconds)
        p50, p99, most = lag_figures(lags)
        print(f"    played {played:,} rows ({replayed / 60:.1f} replayed minutes, {played / seconds:,.0f} rows/s); "
              f"loop lag p50 {p50:.1f} / p99 {p99:.1f} / max {most:.0f} ms")
        verdict = "under" if p99 < TARGET_P99_MS else "OVER"
        print(f"replay loop lag p99 {p99:.1f} ms: {verdict} the {TARGET_P99_MS:g} ms target; "
              f"{p99 / max(base_p99, 0.1):.2f}x the live console's at the same row rate")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--hours", type=float, default=2.0)
    parser.add_argument("--speed", type=float, default=10.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--keep", type=Path, default=None, help="keep the log and store here and reuse them")
    args = parser.parse_args()
    asyncio.run(main(args.records, args.hours, args.speed, args.seconds, args.keep))
