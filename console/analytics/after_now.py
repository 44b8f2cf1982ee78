"""The requests stamped after the figures' "now": in the store, in no figure.

Every window is (now - window, now], so a request whose ts is later than now (an app host
whose clock runs fast, a log replayed with shifted times, local time written as UTC) is
counted nowhere: not in spend, percentiles or alerts. The figures keep their window (such a
row is not counted silently either); Report.after_now says how many there are and how far
ahead the newest is, and `note` is the one line `report`, `check` and the live console's
header print about it.

Pure: the caller counts (`after_now` over columns, or the store's count on its ts index,
console/store/window_report.py) and says whether now is the wall clock.
"""

from __future__ import annotations

import numpy as np

from console.analytics.report_types import AfterNow
from console.formatting import rfc3339

# On the wall clock, a request a few seconds ahead enters the window within seconds (a live
# tail of an app whose clock is a second fast): the note waits until the newest is this far
# ahead, so the header does not flicker with it. The count in Report.after_now is exact anyway.
SKEW_NOTED_S = 60.0


def after_now(count: int, newest: float | None, now: float) -> AfterNow:
    """Report.after_now from a count of requests with ts > now and the newest ts among them."""
    if count <= 0 or newest is None or newest <= now:
        return AfterNow()
    return AfterNow(requests=int(count), newest=rfc3339(newest), seconds_ahead=float(newest - now))


def after_now_of(ts: np.ndarray, now: float) -> AfterNow:
    """Report.after_now over the rows of a Columns' ts (every row held after now)."""
    later = ts > now
    count = int(np.count_nonzero(later))
    return after_now(count, float(ts[later].max()) if count else None, now)


def span(seconds: float) -> str:
    """How far ahead, to the minute past an hour: 45s, 5m 10s, 2h 03m, 3d 04h."""
    whole = max(int(seconds), 0)
    minutes, secs = divmod(whole, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def note(after: AfterNow, wall_clock: bool, short: bool = False) -> str | None:
    """The one line about them, None when there is nothing to say.

    wall_clock: now is the wall clock (no --now, `open` without --at): requests stamped later
    are a sign of clock skew, said as such once the newest is SKEW_NOTED_S ahead. After an
    explicit now (--now, --at) they are the requests stored later, said plainly: a moment in
    the past is chosen on purpose and rows after it are expected. short: the wall clock's line
    for a narrow header ("12 requests 2h 03m ahead: not counted (clock skew?)")."""
    if after.requests <= 0:
        return None
    plural, are = ("request", "is") if after.requests == 1 else ("requests", "are")
    ahead = span(after.seconds_ahead)
    if wall_clock:
        if after.seconds_ahead < SKEW_NOTED_S:
            return None
        if short:
            return f"{after.requests:,} {plural} {ahead} ahead: not counted (clock skew?)"
        return f"{after.requests:,} {plural} stamped up to {ahead} after now {are} not counted (clock skew?)"
    return f"{after.requests:,} {plural} stored after --now (the newest {ahead} later) {are} outside the window"
