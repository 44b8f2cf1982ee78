"""How latencies, rates and durations read on screen (money and moments: console.formatting)."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text

from console.formatting import latency


def ms(value: float | None, *, none: str = "—") -> str:
    """A latency in milliseconds shown in seconds (console.formatting.latency: 0.51s, 9.00s)."""
    return latency(value, none=none)


def percent(value: float | None, *, none: str = "—") -> str:
    if value is None:
        return none
    if value == 0:
        return "0%"
    return f"{value * 100:.1f}%" if value >= 0.001 else "<0.1%"


# An error rate this high is marked: "!" beside the red (it reads without colour too) in the
# Versions and Latency panes, and such a version takes the summary's third line ("! err")
HIGH_ERROR_RATE = 0.05


def error_rate_text(rate: float) -> Text:
    """A pane's error-rate cell: the percentage, marked when at HIGH_ERROR_RATE or above."""
    high = rate >= HIGH_ERROR_RATE
    return Text(percent(rate) + (" !" if high else ""), justify="right", style="red" if high else "")


def rate(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}x"



def moment_text(moment: float, now: float) -> str:
    """A moment near now as the requests table writes times (UTC, 19:15:55), with its day
    (12-06 19:15:55) when it is not now's UTC day."""
    at = datetime.fromtimestamp(moment, tz=UTC)
    same_day = at.date() == datetime.fromtimestamp(now, tz=UTC).date()
    return at.strftime("%H:%M:%S" if same_day else "%m-%d %H:%M:%S") + " UTC"
