"""`llmops-console serve` in a real browser: Debian's chromium, headless, driven by Playwright's
client (its own browsers are never downloaded). .ci/run installs chromium; without it the test
is skipped and says why.

The page is textual-serve's: xterm.js draws the console on a canvas, so the text is read from
xterm's own buffer (`terminal.buffer.active`, its public API). textual.js keeps its terminal
in a closure; the test's copy of the script hands it to `window.__terminals` (one line,
patched as the browser fetches it; the patch fails loudly if textual-serve's script changes).
bench/serve.py uses the same helpers to time the first rows."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from conftest import REPO, line_of, make_record
from test_serve import serving

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
TERMINAL_NEEDLE = "const t=new w(e,{ping:r});"  # textual.js: the page's terminal, made at load
TERMINAL_ROWS_JS = """() => {
    const held = window.__terminals && window.__terminals[0];
    if (!held) return null;
    const terminal = held.terminal, buffer = terminal.buffer.active, rows = [];
    for (let y = 0; y < terminal.rows; y++) {
        const line = buffer.getLine(buffer.viewportY + y);
        rows.push(line ? line.translateToString(true) : "");
    }
    return rows.join("\\n");
}"""

needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="no chromium here (apt-get install chromium; .ci/run installs it)"
)


@contextmanager
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


def open_page(chromium, width: int = 1400, height: int = 900):
    """A fresh page (its own cookies) whose textual.js hands its terminal to the test."""
    context = chromium.new_context(viewport={"width": width, "height": height})
    page = context.new_page()

    def expose_terminal(route) -> None:
        response = route.fetch()
        script = response.text()
        if TERMINAL_NEEDLE not in script:
            route.abort()
            raise AssertionError("textual-serve's textual.js changed: update TERMINAL_NEEDLE")
        exposed = TERMINAL_NEEDLE + "(window.__terminals=window.__terminals||[]).push(t);"
        route.fulfill(response=response, body=script.replace(TERMINAL_NEEDLE, exposed))

    page.route("**/static/js/textual.js", expose_terminal)
    return page


def terminal_text(page) -> str:
    """The rows the terminal shows now ('' before the console's first byte)."""
    return page.evaluate(TERMINAL_ROWS_JS) or ""


def wait_for_text(page, *words: str, absent: str | None = None, timeout: float = 60.0) -> str:
    """The terminal's rows once every word is on them (and `absent` is not)."""
    deadline = time.monotonic() + timeout
    while True:
        text = terminal_text(page)
        if all(word in text for word in words) and (absent is None or absent not in text):
            return text
        if time.monotonic() > deadline:
            raise AssertionError(f"{words} not on the page's terminal after {timeout:.0f} s:\n{text}")
        time.sleep(0.05)


@contextmanager
def growing_store(tmp_path: Path, early: int = 20) -> Iterator[tuple[Path, callable]]:
    """A store an `ingest --follow` fills from a log; yields the store and append(prefix, n),
    which writes n more records whose outputs read '<prefix>-NN'."""
    log = tmp_path / "app.jsonl"
    store = tmp_path / "s.db"
    log.write_text("".join(line_of(make_record(ts=time.time() - 300 + i, output=f"early-{i:02d}")) for i in range(early)))
    ingest = subprocess.Popen([sys.executable, "-m", "console.cli", "ingest", "--follow", str(log), "--store", str(store)],
                              cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    lock = threading.Lock()

    def append(prefix: str, count: int) -> None:
        with lock, log.open("a", encoding="utf-8") as handle:
            for i in range(count):
                handle.write(line_of(make_record(ts=time.time(), output=f"{prefix}-{i:02d}")))

    try:
        deadline = time.monotonic() + 60
        while not _stored(store, early):
            assert ingest.poll() is None, ingest.stderr.read().decode()
            assert time.monotonic() < deadline, "ingest --follow did not store the log"
            time.sleep(0.1)
        yield store, append
    finally:
        ingest.terminate()
        ingest.wait(30)


def _stored(store: Path, count: int) -> bool:
    import sqlite3

    if not store.exists():
        return False
    try:
        with sqlite3.connect(store) as conn:
            return conn.execute("SELECT count(*) FROM requests").fetchone()[0] >= count
    except sqlite3.Error:  # the tables are not there yet
        return False


@needs_chromium
def test_a_browser_gets_the_live_console_and_a_page_without_the_token_is_refused(tmp_path):
    with growing_store(tmp_path) as (store, append), serving(store, "--token", "bridge-token", "--read-only") as (link, _, _):
        base = link.split("?")[0]
        with browser() as chromium:
            stranger = open_page(chromium)
            refused = stranger.goto(base)
            assert refused.status == 401 and "token is required" in stranger.content()
            refused = stranger.goto(base + "?token=guess")
            assert refused.status == 403 and "wrong token" in stranger.content()
            assert terminal_text(stranger) == ""  # no console was started for it

            page = open_page(chromium)
            assert page.goto(link).status == 200
            screen = wait_for_text(page, "early-", "stored")  # the requests table's rows
            assert "read-only" in screen  # the header says so
            append("late", 3)  # the log grows: the viewer's console follows the store
            wait_for_text(page, "late-0")

            page.click("#terminal")  # xterm takes keys once focused
            page.keyboard.press("?")
            help_screen = wait_for_text(page, "requests.open", "triage.open")  # binding ids: the help
            assert "triage.bad" not in help_screen  # read-only: no labelling keys listed
            page.keyboard.press("Escape")  # alone: ESC and a key soon after read as alt+key
            # The help's own rows gone means the ESC was read alone: a "/" sent while it still
            # waited would arrive as alt+/ and the typed "late-01" as keys ("a": alerts).
            wait_for_text(page, "early-", absent="triage.open")
            page.keyboard.press("/")
            page.keyboard.type("late-01")
            page.keyboard.press("Enter")
            wait_for_text(page, "late-01", absent="early-")  # the filter leaves one row
            assert "late-02" not in terminal_text(page)
