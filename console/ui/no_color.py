"""NO_COLOR: the screen in greys, with what the colours stressed still stressed.

Textual draws NO_COLOR through its Monochrome filter, which greys a colour by its luminance:
red text became #363636 on a near-black background, so the console's alarms (the '✗ SLO' and
'! bad' lines, a breaching model's row, error rows, the budget's run-out line) were the faintest
text on the screen while calm text stayed bright. Here a foreground is greyed by its brightest
channel (HSV value) instead: greys stay as they were, any saturated colour reads bright. Bold,
the words and the symbols beside each colour (README: every coloured state has one) carry the
rest. Backgrounds are greyed as Textual greys them.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

from rich.segment import Segment
from rich.style import Style
from textual.color import Color
from textual.filter import LineFilter, Monochrome


@lru_cache(1024)
def legible_style(style: Style) -> Style:
    foreground = None
    if style.color is not None:
        red, green, blue, alpha, *_ = Color.from_rich_color(style.color)
        value = max(red, green, blue)
        foreground = Color(value, value, value, alpha).rich_color
    background = None if style.bgcolor is None else Color.from_rich_color(style.bgcolor).monochrome.rich_color
    return style + Style.from_color(foreground, background)


class LegibleMonochrome(Monochrome):
    """Monochrome with foregrounds greyed by their brightest channel."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        return [Segment(text, None if style is None else legible_style(style), None) for text, style, _ in segments]


LEGIBLE = LegibleMonochrome()


def legible_filters(filters: Sequence[LineFilter]) -> list[LineFilter]:
    """The app's line filters with Textual's NO_COLOR Monochrome replaced (others kept)."""
    return [LEGIBLE if type(line_filter) is Monochrome and line_filter.enabled else line_filter for line_filter in filters]
