"""How numbers read on screen: one place, so every pane says them the same way."""

from __future__ import annotations

from datetime import datetime, timezone


def usd(value: float | None, *, none: str = "—") -> str:
    if value is None:
        return none
    if value == 0:
        return "$0"
    if abs(value) < 0.01:
        return f"${value:.4f}"
    if abs(value) < 100:
        return f"${value:,.2f}"
    return f"${value:,.0f}"


def cost_cell(value: float | None) -> str:
    """A per-request cost in a table column: always four decimals below $1, so digits align."""
    if value is None:
        return "—"
    return f"${value:.4f}" if value < 1 else f"${value:,.2f}"


def ms(value: float | None, *, none: str = "—") -> str:
    if value is None:
        return none
    return f"{value:,.0f}ms" if value < 10_000 else f"{value / 1000:,.1f}s"


def percent(value: float | None, *, none: str = "—") -> str:
    if value is None:
        return none
    if value == 0:
        return "0%"
    return f"{value * 100:.1f}%" if value >= 0.001 else "<0.1%"


def rate(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}x"


def short_time(rfc3339: str | None) -> str:
    """'2026-11-20T11:09:00Z' -> '11-20 11:09' (UTC)."""
    if not rfc3339:
        return "—"
    when = datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).astimezone(timezone.utc)
    return when.strftime("%m-%d %H:%M")


def in_words(hours: float | None) -> str:
    if hours is None:
        return "never at this rate"
    if hours < 1:
        return f"in {hours * 60:.0f} min"
    if hours < 48:
        return f"in {hours:.1f} h"
    return f"in {hours / 24:.1f} days"
