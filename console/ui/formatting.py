"""How latencies, rates and durations read on screen (money and moments: console.formatting)."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text

from console.analytics.report_types import Report
from console.formatting import latency, parse_rfc3339


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


def bucket_words(seconds: float) -> str:
    """A chart's bucket as its caption says it: 'minute', '5 minutes', 'hour', '2 hours', 'day'."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return unit if count == 1 else f"{count} {unit}s"
    return f"{seconds:g} seconds"


def chart_bucket_seconds(report: Report) -> int:
    """The bucket of the report's charts (p95 and spend share it): the spend's own field, or
    for a report from before it, the spacing of the p95 points (one point: the smallest
    bucket, 60 s, as a span under it takes)."""
    if report.spend.bucket_seconds:
        return report.spend.bucket_seconds
    points = report.latency.p95_per_minute
    if len(points) >= 2:
        return round(parse_rfc3339(points[1].start) - parse_rfc3339(points[0].start))
    return 60

