"""`llmops-console demo`: a simulated support-chat app writing a live log, and the console on it.

The console itself is started by the caller (console/cli.py: nothing below the CLI imports
the UI), given the log files, the store URL and the llmops.toml to use.
"""

from __future__ import annotations

import shutil
import signal
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from console.commands.errors import UsageError
from console.demo.run import DemoDataMissing, plan_demo, start_simulator
from console.store.locations import DEFAULT_STORE_PATH

OpenConsole = Callable[[list[str], str, Path], None]


def run_demo(
    *, rate: float, workdir: Path | None, config: Path | None, open_console: OpenConsole,
    exit_now: Callable[[int], None] | None = None,
) -> None:
    """The demo in `workdir`, whose files are kept; without one, in a temporary directory that
    is removed when the demo ends, however it ends (quit, Ctrl+C, an error): a demo run again
    and again used to leave a /tmp/llmops-demo-* of 50-70 MB behind each time. exit_now (the
    CLI's os._exit): how a demo ended by a signal whose way out is stuck ends (EndedBySignal)."""
    if workdir is not None:
        _run_in(workdir, rate, config, open_console)
        print(f"demo files kept in {workdir}; in that directory, `llmops-console report`, `regress`,")
        print(f"`labels export` and `open` use its store ({DEFAULT_STORE_PATH}) and llmops.toml")
        return
    with tempfile.TemporaryDirectory(prefix="llmops-demo-") as scratch, _hangup_ends_the_demo(Path(scratch), exit_now):
        _run_in(Path(scratch), rate, config, open_console)
    print("demo files removed; `llmops-console demo --workdir DIR` keeps them in DIR:")
    print("there, `report`, `regress`, `labels export` and `open` use its store")
    print(f"({DEFAULT_STORE_PATH}) and llmops.toml")


# A closed SSH session or terminal sends SIGHUP, `kill` and a service manager SIGTERM: by
# default either ends the process at once and the directory was left behind (67-92 MB each).
_ENDING_SIGNALS = tuple(getattr(signal, name) for name in ("SIGHUP", "SIGTERM") if hasattr(signal, name))


class EndedBySignal(SystemExit):
    """The demo ended by SIGHUP or SIGTERM, its directory removed on the way out. The caller
    ends the process at once (console/cli.py: os._exit): the terminal may be gone, and a thread
    left reading it (Textual's input thread, whose app was stopped by the exception rather
    than by its own shutdown) kept the process alive after the directory was removed, spinning
    on the closed terminal: one such process a killed tmux session, each at 10-17% of a core."""


# How long the way out may take after SIGHUP or SIGTERM before the process ends without it:
# with the terminal gone, Textual's shutdown can wait for ever to write the screen's last
# escape codes to it (py-spy: the main thread in its writer's Queue.put).
STUCK_EXIT_AFTER_S = 5.0


def _exit_if_stuck(scratch: Path, code: int, exit_now: Callable[[int], None]) -> None:
    time.sleep(STUCK_EXIT_AFTER_S)
    for _ in range(20):  # a thread or the writer process may still add a file while it goes
        shutil.rmtree(scratch, ignore_errors=True)
        if not scratch.exists():
            break
        time.sleep(0.05)
    exit_now(code)


@contextmanager
def _hangup_ends_the_demo(scratch: Path, exit_now: Callable[[int], None] | None) -> Iterator[None]:
    """While the demo runs, SIGHUP and SIGTERM end it as an exception does (SystemExit), so the
    console's threads stop, the terminal is given back if it is still there, and the temporary
    directory is removed on the way out; with exit_now, a way out still stuck after
    STUCK_EXIT_AFTER_S removes the directory and ends the process."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def end(signum: int, _frame) -> None:
        if exit_now is not None:
            threading.Thread(target=_exit_if_stuck, args=(scratch, 128 + signum, exit_now),
                             name="demo-exit-if-stuck", daemon=True).start()
        raise EndedBySignal(128 + signum)

    previous = {number: signal.signal(number, end) for number in _ENDING_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _run_in(workdir: Path, rate: float, config: Path | None, open_console: OpenConsole) -> None:
    """Seed the demo's history and start the simulator; open_console blocks until the console
    quits and its threads (and so its decoding and writer processes) have stopped."""
    try:
        plan = plan_demo(workdir, rate=rate)
    except DemoDataMissing as exc:
        raise UsageError(str(exc)) from None
    plan.live_log.touch()
    stop_simulator = start_simulator(plan, rate)
    try:
        sources = [str(p) for p in plan.history] + [str(plan.live_log)]
        open_console(sources, plan.store_url, config or plan.config)
    finally:
        stop_simulator()  # joined: it appends to a file in the directory about to be removed
