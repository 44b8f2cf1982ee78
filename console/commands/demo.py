"""`llmops-console demo`: a simulated support-chat app writing a live log, and the console on it.

The console itself is started by the caller (console/cli.py: nothing below the CLI imports
the UI), given the log files, the store URL and the llmops.toml to use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from console.commands.errors import UsageError
from console.demo.run import DemoDataMissing, plan_demo, start_simulator
from console.store.locations import DEFAULT_STORE_PATH

OpenConsole = Callable[[list[str], str, Path], None]


def run_demo(*, rate: float, workdir: Path | None, config: Path | None, open_console: OpenConsole) -> None:
    """Seed the demo's history and start the simulator; open_console blocks until the console quits."""
    try:
        plan = plan_demo(workdir, rate=rate)
    except DemoDataMissing as exc:
        raise UsageError(str(exc)) from None
    plan.live_log.touch()
    stop = start_simulator(plan, rate)
    try:
        sources = [str(p) for p in plan.history] + [str(plan.live_log)]
        open_console(sources, plan.store_url, config or plan.config)
    finally:
        stop.set()
    print(f"demo files kept in {plan.workdir}; in that directory, `llmops-console report`, `regress`,")
    print(f"`labels export` and `open` use its store ({DEFAULT_STORE_PATH}) and llmops.toml")
