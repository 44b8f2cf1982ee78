"""The console in a browser: from loading the page to the first request rows on it.

    python bench/serve.py [--records 5000] [--rounds 3]

A store of --records requests (the last hour, ingested first) is served by
`llmops-console serve --port 0`; headless Debian chromium (tests/test_serve_browser.py's
helpers: the terminal's rows read from xterm's buffer) loads the page in a fresh context,
timed from the navigation until a request row is on the terminal, with two marks on the
way: the page's load event and the console's first byte (textual-serve's `-first-byte`).
Each page gets a console process of its own, as each viewer does. Per round:

- a viewer who finds the spare console up (serve keeps one started ahead, its imports done;
  the bench waits SETTLE_S first), then
- a second viewer right after (the next spare starts only SPARE_AFTER_S later): a cold start.

Baseline in the same run, same store: the plain TUI, `llmops-console --store DB` in a real
terminal (tmux, 160x48), from the launch until a request row is on the screen (polled every
20 ms). Target (issue 21): the page shows its first rows within 3 s of loading. Medians.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from console.ui.serve_server import SPARE_AFTER_S  # noqa: E402

SETTLE_S = SPARE_AFTER_S + 8.0  # after a round: the next spare started and imported
MARKER = "bench-row"  # every request's output: any row drawn shows it
CONSOLE = Path(sys.executable).parent / "llmops-console"


def build_store(workdir: Path, records: int) -> Path:
    from conftest import line_of, make_record

    log = workdir / "app.jsonl"
    now = time.time()
    with log.open("w", encoding="utf-8") as handle:
        for i in range(records):
            handle.write(line_of(make_record(ts=now - 3600 + 3600 * i / records, output=f"{MARKER} {i}")))
    store = workdir / "s.db"
    subprocess.run([str(CONSOLE), "ingest", str(log), "--store", str(store)], check=True, capture_output=True)
    return store


def terminal_round(store: Path, timeout: float = 60.0) -> float:
    """The plain TUI in tmux: launch to a request row on screen."""
    session = f"llmops-serve-bench-{os.getpid()}"
    start = time.perf_counter()
    subprocess.run(["tmux", "new", "-d", "-s", session, "-x", "160", "-y", "48", f"{CONSOLE} --store {store}"], check=True)
    try:
        while time.perf_counter() - start < timeout:
            screen = subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout
            if MARKER in screen:
                return time.perf_counter() - start
            time.sleep(0.02)
        return float("inf")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


def browser_round(chromium, link: str, timeout: float = 60.0) -> dict:
    from test_serve_browser import open_page, terminal_text

    page = open_page(chromium, 1400, 900)
    marks: dict = {}
    start = time.perf_counter()
    page.once("load", lambda: marks.setdefault("load", time.perf_counter() - start))
    page.goto(link, wait_until="commit")
    try:
        while time.perf_counter() - start < timeout:
            if "first_byte" not in marks and page.evaluate("() => document.body && document.body.classList.contains('-first-byte')"):
                marks["first_byte"] = time.perf_counter() - start
            if MARKER in terminal_text(page):
                marks["rows"] = time.perf_counter() - start
                return marks
            time.sleep(0.02)
        marks["rows"] = float("inf")
        return marks
    finally:
        page.context.close()  # the websocket closes: that viewer's console quits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("tmux") is None or not Path("/usr/bin/chromium").exists():
        raise SystemExit("needs tmux and Debian's chromium (apt-get install tmux chromium)")

    from test_serve import serving
    from test_serve_browser import browser

    workdir = Path(tempfile.mkdtemp(prefix="llmops-serve-bench-"))
    store = build_store(workdir, args.records)
    print(f"store: {store} ({args.records:,} requests over the last hour); {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    tui: list[float] = []
    warm: list[dict] = []
    cold: list[dict] = []
    with serving(store) as (link, _, _), browser() as chromium:
        for _ in range(args.rounds):  # interleaved: the machine's load falls on each alike
            tui.append(terminal_round(store))
            time.sleep(SETTLE_S)  # the spare is up and has done its imports
            warm.append(browser_round(chromium, link))
            cold.append(browser_round(chromium, link))
    shutil.rmtree(workdir, ignore_errors=True)

    baseline = statistics.median(tui)
    print(f"baseline: the TUI in a terminal (tmux), launch to first rows:  {baseline:6.2f} s  "
          f"(rounds: {', '.join(f'{t:.2f}' for t in tui)})")  # fmt: skip
    for name, runs in (("a viewer (the spare console)", warm), ("a second viewer at once (cold)", cold)):
        rows = statistics.median(run["rows"] for run in runs)
        load = statistics.median(run.get("load", float("nan")) for run in runs)
        first = statistics.median(run.get("first_byte", float("nan")) for run in runs)
        each = ", ".join(f"{run['rows']:.2f}" for run in runs)
        print(f"{name + ', navigation to first rows:':<62} {rows:6.2f} s  ({rows / baseline:.2f}x the TUI; "
              f"page load {load:.2f} s, first byte {first:.2f} s; rounds: "
              f"{each})  "
              f"{'OK' if rows < 3.0 else 'OVER'} (target < 3 s)")  # fmt: skip


if __name__ == "__main__":
    main()
