"""How money and moments read, on screen, in reports and in files: one place, so every pane,
command and export says them the same way. Standard library only, below every other layer."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Literal

NONE = "—"


def usd(value: float | None, *, none: str = NONE) -> str:
    """Dollars as an on-call engineer reads them: cents from $1 ('$1,234.56'), and below $1 two
    significant digits ('$0.42', '$0.0042', '$0.000012') so a per-request cost never shows as $0.00."""
    if value is None:
        return none
    if value == 0:
        return "$0"
    sign = "-" if value < 0 else ""
    amount = abs(value)
    if round(amount, 2) >= 1:
        return f"{sign}${amount:,.2f}"
    amount = float(f"{amount:.2g}")  # rounded first: 0.0999 reads $0.10, not $0.100
    decimals = max(2, 1 - math.floor(math.log10(amount)))
    return f"{sign}${amount:.{decimals}f}"


def noun(count: int, singular: str) -> str:
    """The noun after a count, agreeing with it: '1 line rejected', '2 lines rejected' (ingest
    said '1 lines rejected'). Regular plurals only, which every caller's nouns are."""
    return singular if count == 1 else singular + "s"


def latency(value_ms: float | None, *, none: str = NONE) -> str:
    """A latency (logged in milliseconds) in seconds, one style everywhere, panes, compare and
    report alike (0.51s, 9.00s, 12.30s): a column never mixes 9,000 ms with 12.0s."""
    if value_ms is None:
        return none
    return f"{value_ms / 1000:,.2f}s"


def request_usd(value: float | None) -> str:
    """One request's cost, the same in the requests table and the request's detail (the table
    said $0.0117 and the detail $0.012 for one request): four decimals below $1, not two
    significant digits, so the decimal points of a right-justified column line up; a cost that
    would round to $0.0000 reads '<$.0001' (seven cells, as '$0.0117': the 80-column table's
    cost column is 7 wide), never $0.0000; cents from $1, as usd()."""
    if value is None:
        return NONE
    if 0 < value < 0.00005:
        return "<$.0001"
    return f"${value:.4f}" if round(value, 4) < 1 else usd(value)


def rfc3339(moment: float | datetime, *, timespec: Literal["auto", "seconds", "milliseconds"] = "auto") -> str:
    """Epoch seconds (or an aware datetime) -> '2026-11-20T12:00:00Z' in UTC. 'auto' shows
    milliseconds only when there are some; files with a fixed shape ask for one timespec."""
    if not isinstance(moment, datetime):
        moment = datetime.fromtimestamp(float(moment), tz=timezone.utc)
    moment = moment.astimezone(timezone.utc)
    if timespec == "auto":
        timespec = "milliseconds" if moment.microsecond else "seconds"
    return moment.isoformat(timespec=timespec).replace("+00:00", "Z")


def parse_rfc3339(text: str) -> float:
    """'2026-11-20T12:00:00Z' (or with an offset) -> epoch seconds; ValueError if not RFC 3339."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset (add 'Z' or '+hh:mm')")
    return moment.timestamp()


def short_time(stamp: str | None) -> str:
    """'2026-11-20T11:09:00Z' (any offset) -> '11-20 11:09' in UTC, for table cells; files keep RFC 3339."""
    if not stamp:
        return NONE
    return datetime.fromtimestamp(parse_rfc3339(stamp), tz=timezone.utc).strftime("%m-%d %H:%M")
