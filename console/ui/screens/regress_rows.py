"""The run screen's table of cases: its columns, a case's cells, and the why fitted to the width.

The why (the first reason a case did not pass) is the one long column. Left to the DataTable it
ran past the screen's edge and was cut there mid-word, with nothing to say it went on
('not-finish-reaso' at 80 columns); here it is given the cells the other columns leave, and a
longer one ends in '…', measured in terminal cells so a CJK reason fits too. Enter on the case
shows it whole (ui/screens/regress_case.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.text import Text

from console.regression.results import CaseResult
from console.sanitize import one_line
from console.ui.formatting import ms
from console.ui.screens.regress_case import STATUS_STYLE

COLUMNS = (("status", "status"), ("case", "case"), ("vs", "vs baseline"), ("passes", "passes"), ("score", "score"),
           ("latency", "latency"), ("why", "why"))  # fmt: skip
WHY = "why"
WHY_MIN = 8  # cells: with less room than this (a very long case id) the table scrolls sideways instead
WHY_UNFITTED = 200  # characters of a why before the table is laid out (fitted on the next tick)


def case_cells(result: CaseResult, vs: Text | None, why_width: int | None) -> list[Text | str]:
    """A case's row: status, case, vs baseline (empty until the run ends), passes, score,
    latency, and the why fitted to `why_width` cells (None: before the layout, the why as is)."""
    attempt = result.shown
    return [
        Text(result.status, style=STATUS_STYLE.get(result.status, "")),
        Text(one_line(result.case_id)),
        vs if vs is not None else Text(""),
        f"{result.passes}/{len(result.attempts)}",
        "—" if attempt is None or attempt.score is None else f"{attempt.score:.2f}",
        ms(result.latency_ms),  # seconds, as every latency on screen
        fit_why(result.why, why_width),
    ]


def fit_why(why: str, width: int | None) -> Text:
    """The why on one line in at most `width` terminal cells, ending in '…' when cut."""
    if width is None:
        return Text(one_line(why[:WHY_UNFITTED]))
    text = Text(one_line(why), no_wrap=True, overflow="ellipsis")
    text.truncate(width, overflow="ellipsis")
    return text


def widest(rows: Sequence[Sequence[Text | str]], widths: Sequence[int] | None = None) -> list[int]:
    """The widest cell (or label) in cells of each column before the why, over `rows` and the
    `widths` found before (rows come a few at a time while the run goes on)."""
    found = list(widths) if widths is not None else [cell_len(label) for _, label in COLUMNS[:-1]]
    for cells in rows:
        for index, cell in enumerate(cells[: len(found)]):
            found[index] = max(found[index], cell_len(cell.plain if isinstance(cell, Text) else cell))
    return found


def why_room(table_width: int, widths: Sequence[int], padding: int) -> int | None:
    """The cells left for the why in a table `table_width` wide, beside columns of `widths`
    (each drawn with `padding` on both sides); None before the layout."""
    if table_width <= 0:
        return None
    others = sum(width + 2 * padding for width in widths)
    return max(WHY_MIN, table_width - others - 2 * padding)
