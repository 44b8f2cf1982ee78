"""How latencies, rates and durations read on screen (money and moments: console.formatting)."""

from __future__ import annotations

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


def rate(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}x"


def in_words(hours: float | None) -> str:
    if hours is None:
        return "never at this rate"
    if hours < 1:
        return f"in {hours * 60:.0f} min"
    if hours < 48:
        return f"in {hours:.1f} h"
    return f"in {hours / 24:.1f} days"
