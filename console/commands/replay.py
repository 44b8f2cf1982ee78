"""`llmops-console replay --from TIME --to TIME [--speed 10]`: what the replay plays, checked
before the screen opens (a bad time or an empty period is an error line, not a screen).

TIME is an RFC 3339 moment; --from may also be a duration (30m, 2h, 1d) before --to, and
--to defaults to the store's newest request. The console itself (console/ui/replay_app.py,
started by console/ui/launch.py) plays the period: console/live/replay.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from console.commands.errors import UsageError
from console.commands.store_access import open_store
from console.config import duration_seconds
from console.formatting import parse_rfc3339, rfc3339

DURATION = re.compile(r"[0-9]+(\.[0-9]+)?[smhd]")
MAX_SPEED = 600.0


@dataclass(frozen=True)
class ReplayPlan:
    store_url: str
    start: float
    end: float
    speed: float
    requests: int  # stored requests in [start, end]


def _moment(text: str, option: str) -> float:
    try:
        return parse_rfc3339(text)
    except ValueError:
        raise UsageError(f"{option} {text!r}: use an RFC 3339 time like 2026-11-20T12:00:00Z"
                         + (", or a duration before --to like 30m or 2h" if option == "--from" else "")) from None


def plan_replay(start: str, end: str | None, speed: float, store: str | None) -> ReplayPlan:
    if not 0 < speed <= MAX_SPEED:
        raise UsageError(f"--speed {speed:g}: use a speed above 0 and at most {MAX_SPEED:g} (times the wall clock)")
    relative = DURATION.fullmatch(start or "") is not None
    start_at = None if relative else _moment(start, "--from")
    end_at = None if end is None else _moment(end, "--to")
    opened = open_store(store, missing_hint="load logs first: llmops-console ingest FILES")
    try:
        if end_at is None:
            end_at = opened.newest_ts(1)
            if end_at is None:
                raise UsageError(f"the store {opened.display_url} holds no requests to replay")
        if start_at is None:
            start_at = end_at - duration_seconds(start)
        if start_at >= end_at:
            raise UsageError(f"--from {rfc3339(start_at, timespec='seconds')} is not before --to "
                             f"{rfc3339(end_at, timespec='seconds')}")
        requests = opened.count_between(start_at, end_at + 0.001)
        if not requests:
            newest, oldest = opened.newest_ts(1), _oldest(opened)
            held = ("none" if newest is None
                    else f"{rfc3339(oldest, timespec='seconds')} to {rfc3339(newest, timespec='seconds')}")
            raise UsageError(f"no requests between {rfc3339(start_at, timespec='seconds')} and "
                             f"{rfc3339(end_at, timespec='seconds')} in {opened.display_url} (it holds {held})")
        return ReplayPlan(opened.url, start_at, end_at, float(speed), requests)
    finally:
        opened.close()


def _oldest(store) -> float:
    from sqlalchemy import text

    with store.engine.connect() as conn:
        return float(conn.execute(text("SELECT min(ts) FROM requests")).scalar_one())
