"""The console under a live firehose, against this machine's raw ingest limit.

    python bench/live.py [--rates 1000,5000,20000] [--seconds 30]

A writer process appends schema v1 lines to a log at each rate for `--seconds` while the
console runs headless (App.run_test) on it. Reported per rate: append-to-store latency
(the line's ts to the moment its batch was committed and posted), append-to-visible
latency (to the moment the UI thread added it to the requests view), the event loop's lag
(a 10 ms timer's lateness), the keys' answer (every 3 s, `g` until the oldest row is
drawn, then `G` until the table follows again), whether the console kept up (everything
visible within 5 s of the writer stopping), the backlog it had and what the header said;
after the last phase, how long the backlog took to show. Then the highest sustained rate,
compared with the raw baseline (orjson + sqlite3 executemany, as in bench/ingest.py) measured in the same
run, and the peak RSS. Targets (issue 7): at 5,000 lines/s append-to-visible p99 < 500 ms
and loop lag p99 < 50 ms; highest sustained rate >= 0.7 of the raw baseline.

With --stages, each rate also prints where append-to-visible goes, as the p50 / p99 of the
time from the append to each step: committed (the tail's write returned), RecordsArrived
posted and handled on the UI thread, the pager's RequestIdsLoaded posted and handled.
The steps are timed by wrapping the console's methods here; the console has no probes.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from array import array
from pathlib import Path

import numpy as np
import orjson

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

WRITER = r"""
import json, sys, time
path, rate, seconds, start_id = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
base = {"model": "gpt-4o-mini", "provider": "openai", "prompt_id": "support-answer",
        "prompt_version": "v7", "input_tokens": 812, "output_tokens": 143, "latency_ms": 1234.5,
        "status": "ok", "input": "How do I reset my password? " * 8,
        "output": "Open Settings, then Security, then Reset password. " * 10}
# The app's own cost is not the console's: lines come from a template, not json.dumps each,
# so the writer needs a sliver of a core even at 60,000 lines/s.
head = '{"ts": '
middle = ', "request_id": "live-'
tail = '", ' + json.dumps(base)[1:] + "\n"
written, started = 0, time.monotonic()
with open(path, "a", encoding="utf-8") as out:
    while (elapsed := time.monotonic() - started) < seconds:
        due = int(rate * elapsed) - written
        if due <= 0:
            time.sleep(0.002)
            continue
        now = repr(time.time())
        first = start_id + written
        out.write("".join([head + now + middle + str(first + i) + tail for i in range(due)]))
        out.flush()
        written += due
print(written)
"""


def raw_baseline(tmp: Path, count: int = 100_000) -> float:
    """orjson + sqlite3 executemany into a bare table, 10k rows per transaction (rows/s)."""
    line = orjson.dumps({"ts": time.time(), "request_id": "x", "model": "m", "prompt_id": "p",
                         "prompt_version": "v", "input_tokens": 1, "output_tokens": 1,
                         "latency_ms": 1.0, "status": "ok", "input": "q" * 230, "output": "a" * 500})  # fmt: skip
    lines = [line] * count
    conn = sqlite3.connect(tmp / "baseline.db")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    columns = ("ts", "request_id", "model", "prompt_id", "prompt_version", "input_tokens",
               "output_tokens", "latency_ms", "status", "input", "output")  # fmt: skip
    conn.execute(f"CREATE TABLE r ({', '.join(columns)})")
    sql = f"INSERT INTO r VALUES ({', '.join('?' * len(columns))})"
    start = time.perf_counter()
    for i in range(0, count, 10_000):
        rows = [tuple(orjson.loads(raw)[c] for c in columns) for raw in lines[i : i + 10_000]]
        with conn:
            conn.executemany(sql, rows)
    return count / (time.perf_counter() - start)


class Timeline:
    """When the n-th row (in id order) reached a step: (rows so far, wall time) pairs,
    appended as the count grows (from any thread: a reader takes the common length)."""

    def __init__(self) -> None:
        self.counts: array = array("q")
        self.times: array = array("d")

    def add(self, count: int, wall: float) -> None:
        if not self.counts or count > self.counts[-1]:
            self.counts.append(count)
            self.times.append(wall)

    def reached(self, first: int, last: int) -> np.ndarray:
        """The time rows first..last-1 (0-based) reached the step; nan if they did not."""
        n = min(len(self.counts), len(self.times))
        counts, times = np.array(self.counts[:n]), np.array(self.times[:n])  # copies: the arrays may grow
        where = np.searchsorted(counts, np.arange(first + 1, last + 1), side="left")
        out = np.full(last - first, np.nan)
        hit = where < n
        out[hit] = times[where[hit]]
        return out


def percentiles(latency: np.ndarray) -> tuple[float | None, float | None]:
    latency = latency[~np.isnan(latency)]
    if not len(latency):
        return None, None
    return float(np.percentile(latency, 50)) * 1000, float(np.percentile(latency, 99)) * 1000


def lag_timer(app, lags: array, also=None):
    """A 10 ms timer on the event loop appending how late it fires to `lags` (seconds),
    calling also() at each tick."""
    expected = [time.monotonic() + 0.01]

    def tick() -> None:
        now = time.monotonic()
        lags.append(max(now - expected[0], 0.0))
        expected[0] = now + 0.01
        if also is not None:
            also()

    return app.set_interval(0.01, tick)


async def run_phase(app, pilot, log: Path, rate: int, seconds: float, start_id: int, seen: dict) -> dict:
    lags: array = array("d")
    view = app.dashboard.requests_view
    visible: Timeline = seen["visible"]
    # a row is visible once the view's row count covers it (the view reads ids and the rows
    # on screen from the store, through its pager thread)
    timer = lag_timer(app, lags, also=lambda: visible.add(view.row_count, time.time()))
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(log), str(rate), str(seconds), str(start_id)],
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    keys: dict[str, list[float]] = {"g": [], "G": []}
    next_keys = time.monotonic() + KEYS_EVERY
    while writer.poll() is None:
        await pilot.pause(0.05)
        if time.monotonic() >= next_keys:  # the UI must stay usable: keys answered meanwhile
            await press_keys(pilot, view, keys)
            next_keys = time.monotonic() + KEYS_EVERY
    written = int(writer.stdout.read().strip() or 0)
    shown = lambda: min(max(view.row_count - start_id, 0), written)  # noqa: E731
    behind_at_stop = written - shown()
    header_behind = sum(source.behind_lines for source in app.dashboard.status_header.sources)
    deadline = time.monotonic() + 5.0
    while (shown() < written or seen["ts_first"] + len(seen["ts"]) < start_id + written) and time.monotonic() < deadline:
        await pilot.pause(0.05)
    timer.stop()
    arrived = min(start_id + written, seen["ts_first"] + len(seen["ts"]))
    # a console still behind on an earlier phase has none of this phase's rows yet
    end = max(arrived, start_id)
    ts = np.array(seen["ts"][start_id - seen["ts_first"] : end - seen["ts_first"]])  # append times, in id order
    # only this phase's rows' times are kept: millions of them would weigh in the peak RSS
    del seen["ts"][: arrived - seen["ts_first"]]
    seen["ts_first"] = arrived
    steps = {name: seen[name].reached(start_id, end) - ts for name in STAGES if name in seen}
    store_p50, store_p99 = percentiles(steps["posted"])
    visible_p50, visible_p99 = percentiles(steps["visible"])
    return {
        "rate": rate,
        "written": written,
        "visible": shown(),
        "behind_at_stop": behind_at_stop,
        "header_behind": header_behind,
        "kept_up": shown() >= written,
        "store_p50": store_p50,
        "store_p99": store_p99,
        "visible_p50": visible_p50,
        "visible_p99": visible_p99,
        "lag_p99": float(np.percentile(lags, 99)) * 1000 if lags else None,
        "stages": {name: percentiles(latency) for name, latency in steps.items()},
        "keys": keys,
    }


KEYS_EVERY = 3.0  # seconds between two probes of the keys during a phase


async def press_keys(pilot, view, keys: dict[str, list[float]], timeout: float = 10.0) -> None:
    """`g` until the oldest row is drawn at the top, then `G` until the view follows the newest
    again; the seconds each took are appended to keys["g"] and keys["G"]."""

    from textual import events

    async def timed(key: str, done) -> None:
        # as the terminal driver sends a key (Pilot.press waits for the process to go idle,
        # up to a second twice, which a console under a firehose never does)
        event = events.Key(key, key)
        event.set_sender(pilot.app)
        start = time.perf_counter()
        pilot.app._driver.send_message(event)
        while not done() and time.perf_counter() - start < timeout:
            await pilot.pause(0.005)
        keys[key].append(time.perf_counter() - start if done() else float("inf"))

    await timed("g", lambda: view.cursor == 0 and view.scroll_y == 0 and view.current is not None)
    await timed("G", lambda: view.following and view.current is not None)


async def catch_up(app, pilot, written: int, most: float = 300.0) -> None:
    """After the last phase: how long the console takes to show every line written, and the
    event loop's lag meanwhile (it must stay usable while it works through a backlog)."""
    view, header = app.dashboard.requests_view, app.dashboard.status_header
    if view.row_count >= written:
        return
    behind, said = written - view.row_count, sum(s.behind_lines for s in header.sources)
    lags: array = array("d")
    timer = lag_timer(app, lags)
    start = time.monotonic()
    while view.row_count < written and time.monotonic() - start < most:
        await pilot.pause(0.1)
    took = time.monotonic() - start
    timer.stop()
    lag = float(np.percentile(lags, 99)) * 1000 if lags else float("nan")
    left = sum(s.behind_lines for s in header.sources)
    print(
        f"after the last phase: {behind:,} lines not shown yet (the header said behind ~{said:,}); "
        + (f"all shown {took:.1f} s later" if view.row_count >= written else f"still {written - view.row_count:,} after {took:.0f} s")
        + f", loop lag p99 {lag:,.0f} ms meanwhile; the header then said behind ~{left:,}"
    )


def take_arrivals(ts: array) -> None:
    """The append time of every row the tail stored, in id order, as it hands them on (from
    records, or from the columns its decoding process made of the rows it stored)."""
    from console.live import tail

    take = tail.Arrivals.take

    def timed_take(self, written) -> None:
        for stored, result in written:
            if stored.columns is not None:
                ts.extend(stored.columns.ts)
            else:
                ts.extend(r.ts for r in result.new_records(stored.records))
        take(self, written)

    tail.Arrivals.take = timed_take


STAGES = ("committed", "posted", "handled", "ids posted", "ids handled", "visible")


def time_stages(seen: dict) -> None:
    """Wrap the tail's writes and the view's handler to time each step (--stages)."""
    from console.live import live_writer
    from console.ui.widgets.requests_view import RequestsView

    committed = seen["committed"] = Timeline()
    total = [0]

    inside = [False]  # write() calls flush(): its batches are counted once, by the outer call

    def stamped(method):
        def write(self, *args, **kwargs):
            if inside[0]:
                return method(self, *args, **kwargs)
            inside[0] = True
            try:
                written = method(self, *args, **kwargs)
            finally:
                inside[0] = False
            if written:
                total[0] += sum(result.added for _, result in written)
                committed.add(total[0], time.time())
            return written

        return write

    live_writer.LiveWriter.write = stamped(live_writer.LiveWriter.write)
    live_writer.LiveWriter.flush = stamped(live_writer.LiveWriter.flush)
    ids_posted, ids_handled = seen["ids posted"], seen["ids handled"] = Timeline(), Timeline()
    handle = RequestsView.on_request_ids_loaded

    def on_request_ids_loaded(self, message) -> None:
        handle(self, message)
        if message.event.at_end:
            wall, now = time.time(), time.monotonic()
            ids_posted.add(self.row_count, wall - (now - message.time))  # message.time: monotonic, at creation
            ids_handled.add(self.row_count, wall)

    RequestsView.on_request_ids_loaded = on_request_ids_loaded


async def main(rates: list[int], seconds: float, stages: bool = False) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="llmops-live-"))
    try:  # a full run leaves a 5 GB log and a 5 GB store
        await run(tmp, rates, seconds, stages)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


async def run(tmp: Path, rates: list[int], seconds: float, stages: bool) -> None:
    from console.ui.app import ConsoleApp

    baseline = raw_baseline(tmp)
    print(f"raw baseline (orjson + sqlite3 executemany): {baseline:,.0f} rows/s")
    log = tmp / "live.jsonl"
    log.touch()
    # arrays of doubles, not lists of floats: millions of samples would weigh in the peak RSS
    seen: dict = {"ts": array("d"), "ts_first": 0, "posted": Timeline(), "handled": Timeline(), "visible": Timeline()}
    if stages:
        time_stages(seen)
    app = ConsoleApp(sources=[str(log)], store_url=str(tmp / "console.db"))
    async with app.run_test(size=(160, 48)) as pilot:
        dashboard = app.dashboard
        show = dashboard.show_arrivals
        arrived = [dashboard.requests_view.row_count]

        def timed_show(message) -> None:
            show(message)
            arrived[0] += message.added
            seen["posted"].add(arrived[0], message.posted_at)
            seen["handled"].add(arrived[0], time.time())

        dashboard.show_arrivals = timed_show
        take_arrivals(seen["ts"])
        dashboard.requests_view.focus()  # g and G are the table's keys
        await pilot.pause(0.5)
        results, start_id = [], 0
        for rate in rates:
            result = await run_phase(app, pilot, log, rate, seconds, start_id, seen)
            start_id += result["written"]
            results.append(result)
            fmt = lambda v: "—" if v is None else f"{v:,.0f}"  # noqa: E731
            print(
                f"{rate:>6,} lines/s: wrote {result['written']:,}, visible {result['visible']:,}; "
                f"append→store p50 {fmt(result['store_p50'])} / p99 {fmt(result['store_p99'])} ms; "
                f"append→visible p50 {fmt(result['visible_p50'])} / p99 {fmt(result['visible_p99'])} ms; "
                f"loop lag p99 {fmt(result['lag_p99'])} ms; "
                + ("kept up" if result["kept_up"] else f"BEHIND by {result['written'] - result['visible']:,} lines")
                + f" (behind by {result['behind_at_stop']:,} when the writer stopped; "
                + f"the header said behind ~{result['header_behind']:,} lines)"
            )
            if result["keys"]["g"]:
                print("        keys meanwhile: " + "; ".join(
                    f"{key} p50 {np.median(times) * 1000:,.0f} / max {max(times) * 1000:,.0f} ms"
                    for key, times in result["keys"].items()
                ) + f" ({len(result['keys']['g'])} of each)")  # fmt: skip
            if stages:
                print("        append→ " + "; ".join(
                    f"{name} {fmt(p50)} / {fmt(p99)}" for name, (p50, p99) in result["stages"].items()
                ) + " ms (p50 / p99)")  # fmt: skip
        await catch_up(app, pilot, start_id)
    sustained = max((r["rate"] for r in results if r["kept_up"]), default=0)
    print(f"highest sustained rate: {sustained:,} lines/s = {sustained / baseline:.2f} of the raw baseline (target >= 0.70)")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", default="1000,5000,20000,25000,30000,40000,50000")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--stages", action="store_true", help="also print where append-to-visible goes")
    args = parser.parse_args()
    asyncio.run(main([int(r) for r in args.rates.split(",")], args.seconds, args.stages))
