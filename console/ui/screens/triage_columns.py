"""How wide the triage queue's cut columns are: why, label and prompt@version.

why comes third and is cut to what the screen leaves (WHY_MIN at 80 columns): behind the other
columns it read "erro" at 80x24. What the others take is measured on their cells: a label
("bad: hallucination") widened its column past a fixed allowance and pushed the model off the
right edge, so 'claude-sonnet-4-5' read 'claude-sonnet-4', another model's name.

Where the screen is too narrow for every column (80 columns), the model goes past the right
edge first (a key away), then the label is cut (LABEL_SQUEEZED), then the prompt id, never the
version: after 'b 6' at 80x24 the label read 'bad: too slow' and every row's prompt@version
'support-ans' (found in the user trial), so v7 and v8 read the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from rich.text import Text

COLUMNS = ("request", "score", "why", "label", "prompt@version", "model")
WHY, LABEL, PROMPT, MODEL = (COLUMNS.index(name) for name in ("why", "label", "prompt@version", "model"))
WHY_MIN, WHY_MAX, WHY_FLOOR = 24, 120, 12
LABEL_SQUEEZED = len("bad: too…")  # the verdict and the start of its reason
PROMPT_MIN = len("prompt@version")  # its header's width: a narrower cell leaves the column as wide
CELL_PADDING, SCROLLBAR = 2, 2  # a DataTable column's padding (1 each side); the vertical scrollbar


@dataclass(frozen=True)
class Widths:
    """The widths the cells are cut to; None: whole."""

    why: int = WHY_MAX
    label: int | None = None
    prompt: int | None = None


WHOLE = Widths()


def measured(rows: Sequence[tuple[str, Sequence[Text]]]) -> list[int]:
    """Each column's width as the table draws it: its widest cell or its header."""
    widths = [len(name) for name in COLUMNS]
    for _, cells in rows:
        for column, cell in enumerate(cells):
            widths[column] = max(widths[column], cell.cell_len)
    return widths


def fit_widths(screen_width: int, natural: Sequence[int]) -> Widths:
    """The cuts for a screen `screen_width` wide, given the columns' widths uncut (why cut
    to WHY_MAX)."""
    text = screen_width - SCROLLBAR - CELL_PADDING * len(COLUMNS)
    others = sum(w for column, w in enumerate(natural) if column != WHY)
    if text - others >= WHY_MIN:  # every column fits: why takes the rest
        return Widths(why=min(text - others, WHY_MAX))
    # the model past the right edge (a key away), its padding too
    text += CELL_PADDING
    others -= natural[MODEL]
    if text - others >= WHY_MIN:
        return Widths(why=min(text - others, WHY_MAX))
    label = min(natural[LABEL], LABEL_SQUEEZED)
    before_why = natural[0] + natural[1]
    prompt = min(natural[PROMPT], max(text - before_why - WHY_MIN - label, PROMPT_MIN))
    # why gives the last cells a version needs (request ids of 17 left it 23 at 80 columns)
    why = max(text - before_why - label - prompt, WHY_FLOOR)
    return Widths(why=why, label=label, prompt=prompt)


def cut(text: str, width: int | None) -> str:
    return text if width is None or len(text) <= width else text[: width - 1].rstrip() + "…"
