"""The live console's view of alert delivery: how many messages `check --notify` (from cron,
say) has not delivered yet, read from the store every POLL_S seconds (console.notify.state).

The console does not post alerts itself: `check` is the one sender, so a console left open
never sends a second copy of a message; it shows what is stuck, on the header.
"""

from __future__ import annotations

import time
from typing import Callable

from console.live.events import NotifyPending, Post

FIRST_S = 3.0  # the ingest thread opens (and creates) the store first
POLL_S = 30.0
STEP_S = 0.2


def undelivered(engine, urls: list[str] | None) -> NotifyPending:
    from console.notify import pending_failures

    stuck = pending_failures(engine, urls)
    if not stuck:
        return NotifyPending(0, None)
    newest = stuck[-1]
    return NotifyPending(len(stuck), f"{newest.host}: {newest.last_error or 'waiting'}")


def watch_notify(post: Post, should_stop: Callable[[], bool], store_url: str, urls: list[str] | None) -> None:
    """Post a NotifyPending whenever the count or the newest error changes, until should_stop()."""
    from console.store.engine import create_store_engine

    engine = None
    shown: NotifyPending | None = None
    wait = FIRST_S
    try:
        while True:
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                if should_stop():
                    return
                time.sleep(STEP_S)
            wait = POLL_S
            try:
                engine = engine or create_store_engine(store_url)
                found = undelivered(engine, urls)
            except Exception:  # noqa: BLE001 (a store that cannot be read now is the ingest thread's to report)
                continue
            if found != shown:
                post(found)
                shown = found
    finally:
        if engine is not None:
            engine.dispose()
