"""One browser viewer's console under `llmops-console serve` (console/commands/serve.py).

textual-serve runs `python -m console.ui.served` for each browser that connects; the store,
the config and read-only come in the environment, so a store URL's password is not on a
command line `ps` shows. Nothing imports this module: it is an entry point, as cli.py is.

A spare (WARM_ENV, started by console/ui/serve_server.py before anyone connects) does
its imports first, most of a console's start, then waits for one line on stdin, the
browser's size ("120 40"), and runs; end of input before it means no viewer came."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from console.commands.errors import UsageError
from console.commands.serve import CONFIG_ENV, READ_ONLY_ENV, STORE_ENV, WARM_ENV
from console.ui.launch import run_console


def wait_for_viewer() -> tuple[str, str] | None:
    """The browser's columns and rows, read a byte at a time (what follows on stdin is the
    web driver's, and a buffered read would take it); None at end of input."""
    line = b""
    while not line.endswith(b"\n"):
        byte = os.read(0, 1)
        if not byte:
            return None
        line += byte
    columns, _, rows = line.decode("ascii", "replace").strip().partition(" ")
    return columns, rows


def main() -> None:
    if os.environ.get(WARM_ENV) == "1":
        import console.analytics.prices  # noqa: F401 (imported ahead: what the wait is for)
        import console.commands.receive  # noqa: F401
        import console.ui.app  # noqa: F401
        import textual.drivers.web_driver  # noqa: F401

        size = wait_for_viewer()
        if size is None:
            return
        os.environ["COLUMNS"], os.environ["ROWS"] = size  # the web driver's first size
    config = os.environ.get(CONFIG_ENV)
    try:
        run_console(
            [], os.environ[STORE_ENV], Path(config) if config else None, read_only=os.environ.get(READ_ONLY_ENV) == "1"
        )
    except UsageError as exc:  # textual-serve prints the viewer's stderr on the server's terminal
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
