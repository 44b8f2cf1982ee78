"""`llmops-console serve`: the live console in a browser, for the people on an incident bridge.

textual-serve runs one command per browser connection, so each viewer gets a console of their
own (their own screen, filter and cursor) following the same store; something else writes it
(`ingest --follow`, `receive`, a console tailing the logs). The viewer's command is
`python -m console.ui.served`, given the store, the config and read-only in its environment,
so neither a store URL's password nor the token ever shows in `ps`: the token stays in this
process, which checks it on the page and on the websocket (console/ui/serve_server.py, which
runs the server: textual-serve is Textual's, so it lives in the UI layer).

Loopback needs no token (the server then answers loopback Host names only, against DNS
rebinding); any other address requires one, generated and printed when not given, and is
read-only unless --writable.
"""

from __future__ import annotations

import ipaddress
import secrets
import shlex
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from console.commands.errors import UsageError

# The viewer's environment (console/ui/served.py reads it).
STORE_ENV = "LLMOPS_SERVE_STORE"
CONFIG_ENV = "LLMOPS_SERVE_CONFIG"
READ_ONLY_ENV = "LLMOPS_SERVE_READ_ONLY"
TOKEN_ENV = "LLMOPS_SERVE_TOKEN"  # --token's variable: this process's alone, never a viewer's
VIEWER_MODULE = "console.ui.served"
WARM_ENV = "LLMOPS_SERVE_WARM"  # a spare viewer: imports first, then waits for a browser's size
TOKEN_BYTES = 24  # secrets.token_urlsafe: 32 characters


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or the name localhost; a wildcard (0.0.0.0, ::) or any other name is not."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ServePlan:
    host: str
    port: int
    store_url: str
    config: Path | None
    read_only: bool
    token: str | None  # None: loopback without a token
    token_generated: bool = False


def plan_serve(
    host: str, port: int, store_url: str, config: Path | None, read_only: bool | None, token: str | None
) -> ServePlan:
    """The options checked: a token off loopback (generated when not given), read-only off
    loopback unless asked otherwise."""
    if not host.strip():
        raise UsageError("--host is empty: give an address to listen on (127.0.0.1 for this machine only)")
    if token is not None and not token.strip():
        raise UsageError(f"the token is empty (--token or ${TOKEN_ENV}): give one, or leave both unset")
    loopback = is_loopback(host)
    generated = token is None and not loopback
    if generated:
        token = secrets.token_urlsafe(TOKEN_BYTES)
    return ServePlan(
        host=host, port=port, store_url=store_url, config=config.resolve() if config else None,
        read_only=(not loopback) if read_only is None else read_only, token=token, token_generated=generated,
    )  # fmt: skip


def viewer_command() -> str:
    """The shell command textual-serve starts for each browser (no secret in it); exec: the
    console is the process textual-serve holds, not a shell in between."""
    return "exec " + shlex.join([sys.executable, "-m", VIEWER_MODULE])


def viewer_environment(plan: ServePlan) -> dict[str, str]:
    environment = {STORE_ENV: plan.store_url, READ_ONLY_ENV: "1" if plan.read_only else "0"}
    if plan.config is not None:
        environment[CONFIG_ENV] = str(plan.config)
    return environment


def page_url(plan: ServePlan, port: int) -> str:
    """The link to share: a wildcard address is named by this machine's host name."""
    host = plan.host.strip("[]")
    if host in ("0.0.0.0", "::", ""):
        host = socket.gethostname()
    shown = f"[{host}]" if ":" in host else host
    query = f"?token={plan.token}" if plan.token else ""
    return f"http://{shown}:{port}/{query}"


def banner(plan: ServePlan, port: int, store_shown: str) -> list[str]:
    lines = [f"serving the console on {page_url(plan, port)}",
             f"  each browser that opens it gets its own live console on {store_shown}"]  # fmt: skip
    if plan.read_only:
        lines.append("  read-only: labelling and regression runs are off (--writable turns them on)")
    else:
        lines.append("  labelling and regression runs are on (--read-only turns them off)")
    if plan.token_generated:
        lines.append(f"  token generated (not loopback); to choose one: --token or ${TOKEN_ENV}")
    elif plan.token is None:
        lines.append("  loopback: no token; this machine only")
    lines.append("Ctrl+C stops the server and every viewer's console")
    return lines
