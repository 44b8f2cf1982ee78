"""A new log opened in the console: time to the triage queue's first scored entries.

    python bench/triage.py [--records 2000] [--rounds 3] [--age now|9d] [--press-after 0]

Issue 17, point 5: "scores for a new log start within 2 s" (it took ~17 s on an idle machine,
the queue saying "waiting for scores…"). Each round writes a new log of --records requests (the
demo's story, ending now, or --age 9d: nine days ago, older than every window), and opens the
real console on it in a fresh process (App.run_test, 160x48, a new store, the log tailed), `t`
pressed as soon as the app is mounted (as a user who opens the console to triage does) or
--press-after seconds later (a look at the dashboard first). From the moment the app is created
it records:

- first figures (the baseline): the first ReportReady with requests in it, the dashboard's first
  numbers, measured in the same process and run;
- first scores: the first QueueReady with entries in it (scored requests or provider-error
  lines), what the triage screen shows instead of "waiting for scores…";
- t to scores: from the key to those entries;
- how new those entries are: the newest and the oldest of them against the log's newest request
  (scoring goes newest first, so the first entries are what happens now).

The ratio first scores / first figures says whether triage waits for more than the dashboard
does. Best and median of --rounds. Target: first scores < 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def write_log(path: Path, records: int, age: str) -> float:
    """The demo's story, `records` requests over the hour before the end; returns the newest ts."""
    from console.demo.story import dumps, generate_history

    end = datetime.now(timezone.utc)
    if age != "now":
        end -= timedelta(days=float(age.rstrip("d")))
    lines = [dumps(record) for record in generate_history(records, end=end, days=1 / 24)]
    path.write_text("\n".join(lines) + "\n")
    return end.timestamp()


async def open_and_triage(log: Path, store: Path, press_after: float, timeout: float = 60.0) -> dict:
    from console.config import Settings
    from console.ui.app import ConsoleApp

    start = time.perf_counter()
    app = ConsoleApp(sources=[str(log)], store_url=f"sqlite:///{store}", settings=Settings())
    marks: dict = {}
    show_report = app.dashboard.show_report

    def timed_report(message) -> None:
        if message.report.requests and "first_figures" not in marks:
            marks["first_figures"] = time.perf_counter() - start
        show_report(message)

    show_queue = app.evaluation_ui.show_queue

    def timed_queue(ready) -> None:
        queue = ready.queue
        if (queue.items or queue.provider_errors) and "first_scores" not in marks:
            marks["first_scores"] = time.perf_counter() - start
            stamps = [item.record.ts for item in queue.items]
            if stamps:
                marks["entries_ts"] = (max(stamps), min(stamps))
            marks["entries"] = len(queue.items) + len(queue.provider_errors)
        show_queue(ready)

    app.dashboard.show_report = timed_report
    app.evaluation_ui.show_queue = timed_queue
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause(press_after)
        marks["t_pressed"] = time.perf_counter() - start
        await pilot.press("t")
        deadline = time.perf_counter() + timeout
        while not {"first_figures", "first_scores"} <= marks.keys() and time.perf_counter() < deadline:
            await pilot.pause(0.01)
    return marks


def child_main(records: int, age: str, press_after: float) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-triage-") as directory:
        workdir = Path(directory)
        newest = write_log(workdir / "new.jsonl", records, age)
        marks = asyncio.run(open_and_triage(workdir / "new.jsonl", workdir / "store.db", press_after))
    if "entries_ts" in marks:
        high, low = marks.pop("entries_ts")
        marks["newest_entry_age_s"] = newest - high
        marks["oldest_entry_age_s"] = newest - low
    if "first_scores" in marks:
        marks["t_to_scores"] = marks["first_scores"] - marks["t_pressed"]
    print(json.dumps(marks))


def one_round(records: int, age: str, press_after: float) -> dict:
    child = subprocess.run(
        [sys.executable, __file__, "--child", str(records), age, str(press_after)],
        capture_output=True, text=True, cwd=REPO,
    )  # fmt: skip
    if child.returncode != 0:
        raise SystemExit(f"the console round failed: {child.stderr[-2000:]}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--age", default="now", help="the log ends now, or N days ago (e.g. 9d)")
    parser.add_argument("--press-after", type=float, default=0.0, help="seconds after the mount to press t")
    args = parser.parse_args()
    rounds = [one_round(args.records, args.age, args.press_after) for _ in range(args.rounds)]
    for number, marks in enumerate(rounds, 1):
        print(f"round {number}: " + ", ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}"
                                              for k, v in marks.items()))  # fmt: skip
    for key in ("first_figures", "first_scores", "t_to_scores"):
        values = [m.get(key, float("inf")) for m in rounds]
        print(f"{key:>14}: best {min(values):.2f} s, median {statistics.median(values):.2f} s")
    ratios = [m.get("first_scores", float("inf")) / m["first_figures"] for m in rounds if "first_figures" in m]
    if ratios:
        print(f"first scores / first figures: median {statistics.median(ratios):.2f} (target: first scores < 2 s)")
    ages = [m["newest_entry_age_s"] for m in rounds if "newest_entry_age_s" in m]
    if ages:
        print(f"the first entries' newest request: {statistics.median(ages):.0f} s before the log's newest")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(int(sys.argv[2]), sys.argv[3], float(sys.argv[4]))
    else:
        main()
