"""The compare screen's statistics (scipy.stats) are imported by the analytics thread once the
whole history's figures are drawn, not when the user first presses c (found in the 1M-row user
trial: the first compare took 3.4 s, 2.5 s of it the import). In a process of its own: the
test session has scipy imported already."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent(
    """
    import json, sys, threading, time
    sys.path.insert(0, {tests!r})
    from conftest import make_record
    from console.analytics.columns import Columns
    from console.config import Settings
    from console.live.analytics_feed import AnalyticsFeed
    from console.records import parse_line

    cols = Columns()
    cols.append([parse_line(json.dumps(make_record(request_id=f"r{{i}}", ts=1795170000.0 + i))) for i in range(50)])
    posted = []
    feed = AnalyticsFeed(posted.append, Settings())
    stop = threading.Event()
    thread = threading.Thread(target=feed.run, args=(stop.is_set,), daemon=True)
    thread.start()
    assert "scipy.stats" not in sys.modules, "imported before the figures"
    feed.seed(cols, {{}}, partial={partial})
    if {complete}:  # the rest of the history (none older here), as the console's loader sends it
        while not posted:
            time.sleep(0.05)
        posted.clear()
        feed.complete_history(Columns(), {{}})
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not posted:
        time.sleep(0.05)
    deadline = time.monotonic() + {linger}  # the import follows the figures' post
    while time.monotonic() < deadline and "scipy.stats" not in sys.modules:
        time.sleep(0.05)
    print(bool(posted), "scipy.stats" in sys.modules)
    stop.set()
    """
)


def _run(partial: bool, complete: bool = False) -> list[str]:
    code = SCRIPT.format(tests=str(ROOT / "tests"), partial=partial, complete=complete,
                         linger=2 if partial and not complete else 10)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_the_compare_statistics_are_imported_once_the_figures_are_whole():
    assert _run(partial=False) == ["True", "True"]


def test_not_while_the_history_is_still_loading():
    posted, imported = _run(partial=True)
    assert posted == "True" and imported == "False"


def test_nor_later_than_the_history_s_end_where_the_figures_stand():
    """Logs that ended (the clock anchored at their last record): the figures after the whole
    history are not posted again, the feed has nothing to do, and imports then."""
    assert _run(partial=True, complete=True)[1] == "True"
