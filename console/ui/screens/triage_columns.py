"""The triage queue's columns at every width: which are shown, and how wide the cut ones are.

At any width an on-call engineer must see, for each line, what it is (request id,
prompt@version), why it is in the queue (its score; on an error line, the provider error's type,
shown in the prompt@version column) and the model. The user trial at 80x24 found the model past
the right edge (the table scrolled sideways, the model nowhere on screen) and
'InternalServerErr…' for InternalServerError, read as cut. Earlier trials found a cut model
reading as another one ('claude-sonnet-4' for claude-sonnet-4-5) and a cut version ('support-ans'
for every prompt@version). So while the columns do not fit, these give way, in this order
(`fit_widths`):

1. the label column, when no line has a label (it is empty);
2. a label: its verdict and the start of its reason (LABEL_SQUEEZED);
3. why is cut, down to WHY_MIN;
4. the prompt id is cut (never the version, and the column never narrower than an error type)
   and a request id longer than REQUEST_NARROW is elided in its middle;
5. why says only which scorers judged low ('feedback', 'error'; 'provider' on an error line),
   down to WHY_FLOOR: the preview under the table says why in full for the selected line. Once
   a line is labelled, why and label share that column (WHY_LABEL): a labelled line shows its
   label, the others their brief why (a line judged needs no why, and a label just given must
   show: `b 6` moves the cursor on);
6. why is hidden, the label shown; 7. the label is hidden too;
8. past all that (a screen under ~60 columns, a model name or error type of 30 cells): the
   request id, the model and the error types are elided with … keeping what tells them apart.

At 80 columns with the demo's names it is step 5, with prompt@version and the model whole. Wide
screens show every column whole (why cut to WHY_MAX).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.text import Text

from console.ui.widgets.prompt_cell import last_cells

COLUMNS = ("request", "score", "why", "label", "prompt@version", "model")
REQUEST, SCORE, WHY, LABEL, PROMPT, MODEL = range(len(COLUMNS))
WHY_LABEL = "why/label"  # why's column with the labels in it (step 5)
WHY_MIN, WHY_MAX = 24, 120
WHY_FLOOR = len("provider")  # a brief why: the scorers' names ('feedback', 'error')
LABEL_SQUEEZED = len("bad: too…")  # the verdict and the start of its reason; WHY_LABEL's header as wide
PROMPT_MIN = len("prompt@version")  # its header's width: a narrower cell leaves the column as wide
REQUEST_NARROW = 18  # 'req_691496ed2d24' whole; a UUID's 36 characters elided in the middle (a brief why's room at 80)
REQUEST_FLOOR, MODEL_FLOOR = 12, 12  # the last resort's (step 8)
CELL_PADDING, SCROLLBAR = 2, 2  # a DataTable column's padding (1 each side); the vertical scrollbar
ELLIPSIS = "…"


@dataclass(frozen=True)
class Measure:
    """What the rows need: each column's widest cell, uncut (why cut to WHY_MAX; 0: every cell
    empty), and the narrowest the prompt@version and request columns can be without cutting a
    version, an error type or an error line's count."""

    widest: tuple[int, ...]
    prompt_floor: int = PROMPT_MIN
    request_floor: int = REQUEST_FLOOR


@dataclass(frozen=True)
class Widths:
    """The columns hidden and the widths the cells are cut to (None: whole)."""

    hidden: tuple[str, ...] = ()
    why: int = WHY_MAX
    request: int | None = None
    label: int | None = None
    prompt: int | None = None
    model: int | None = None
    label_in_why: bool = False  # step 5: a labelled line's why cell is its label

    @property
    def shown(self) -> tuple[str, ...]:
        """The columns' names (WHY_LABEL for why in step 5)."""
        names = (WHY_LABEL if name == "why" and self.label_in_why else name for name in COLUMNS)
        return tuple(name for name in names if name not in self.hidden)

    @property
    def shown_indexes(self) -> list[int]:
        """Where in a row's cells (one per COLUMNS) each shown column's cell is."""
        return [COLUMNS.index("why" if name == WHY_LABEL else name) for name in self.shown]


WHOLE = Widths()


def measured(rows: Sequence[tuple[str, Sequence[Text]]], prompt_floor: int = PROMPT_MIN,
             request_floor: int = REQUEST_FLOOR) -> Measure:  # fmt: skip
    """The rows' needs, from their cells uncut (one per COLUMNS) and the two floors."""
    widest = [0] * len(COLUMNS)
    for _, cells in rows:
        for column, cell in enumerate(cells):
            widest[column] = max(widest[column], cell.cell_len)
    return Measure(tuple(widest), prompt_floor, request_floor)


def floor_of_prompts(versions: Iterable[str], error_types: Iterable[str]) -> int:
    """The prompt@version column's narrowest: each version after '…@' and one character of its
    prompt id (prompt_ref_cell), each error type whole."""
    return max([PROMPT_MIN, *(cell_len(v) + 3 for v in versions), *(cell_len(t) for t in error_types)])


def fit_widths(screen_width: int, measure: Measure) -> Widths:
    """The columns shown and their cuts on a screen `screen_width` wide (the steps above)."""
    room = screen_width - SCROLLBAR
    natural = [max(cell_len(name), widest) for name, widest in zip(COLUMNS, measure.widest)]

    def left(hidden: tuple[str, ...], request: int, label: int, prompt: int, model: int = natural[MODEL]) -> int:
        """The cells left for why's text (for nothing, when why is hidden)."""
        widths = (request, natural[SCORE], 0, label, prompt, model)
        return room - sum(w + CELL_PADDING for name, w in zip(COLUMNS, widths) if name not in hidden)

    def cuts(request: int, prompt: int, model: int = natural[MODEL]) -> dict[str, int | None]:
        return {"request": _cut_to(request, natural[REQUEST]), "prompt": _cut_to(prompt, natural[PROMPT]),
                "model": _cut_to(model, natural[MODEL])}  # fmt: skip

    request, label, prompt = natural[REQUEST], natural[LABEL], natural[PROMPT]
    why = left((), request, label, prompt)
    if why >= WHY_MIN:  # every column whole: why takes the rest
        return Widths(why=min(why, WHY_MAX))
    labelled = measure.widest[LABEL] > 0
    empty_label = () if labelled else ("label",)  # 1.
    label = min(label, LABEL_SQUEEZED)  # 2.
    cut_label = _cut_to(label, natural[LABEL])
    why = left(empty_label, request, label, prompt)
    if why >= WHY_MIN:  # 3.
        return Widths(hidden=empty_label, why=min(why, WHY_MAX), label=cut_label)
    prompt_floor = min(prompt, measure.prompt_floor)
    request_floor = max(measure.request_floor, REQUEST_FLOOR)  # an elided id keeps its ends: one row each
    request_cut = min(request, max(REQUEST_NARROW, request_floor))
    spare = left(empty_label, request_cut, label, prompt_floor) - WHY_MIN  # 4.
    if spare >= 0:
        (prompt, request), spare = _grown(spare, (prompt_floor, natural[PROMPT]), (request_cut, natural[REQUEST]))
        return Widths(hidden=empty_label, why=WHY_MIN + spare, label=cut_label, **cuts(request, prompt))
    brief = LABEL_SQUEEZED if labelled else WHY_FLOOR  # 5. (WHY_LABEL's header is LABEL_SQUEEZED wide)
    spare = left(("label",), request_cut, 0, prompt_floor) - brief
    if spare >= 0:
        # given back: the prompt id first, then the brief why's room, then a long request id's middle
        (prompt, why, request), spare = _grown(spare, (prompt_floor, natural[PROMPT]), (brief, WHY_MIN - 1),
                                               (request_cut, natural[REQUEST]))  # fmt: skip
        why += spare
        return Widths(hidden=("label",), why=why, label=_cut_to(why, natural[LABEL]) if labelled else None,
                      label_in_why=labelled, **cuts(request, prompt))  # fmt: skip
    for hidden in (("why", *empty_label), ("why", "label")):  # 6., 7.
        spare = left(hidden, request_cut, label, prompt_floor)
        if spare >= 0:
            (prompt, request), _ = _grown(spare, (prompt_floor, natural[PROMPT]), (request_cut, natural[REQUEST]))
            return Widths(hidden=hidden, why=0, label=None if "label" in hidden else cut_label,
                          **cuts(request, prompt))  # fmt: skip
    # 8. the last resort: the request id, then the model, then the error types elided
    hidden = ("why", "label")
    over = -left(hidden, request_cut, label, prompt_floor)
    request, model, prompt = _shrunk(over, (request_cut, min(request_cut, request_floor)),
                                     (natural[MODEL], min(natural[MODEL], MODEL_FLOOR)), (prompt_floor, PROMPT_MIN))  # fmt: skip
    return Widths(hidden=hidden, why=0, **cuts(request, prompt, model))


def _cut_to(width: int, natural: int) -> int | None:
    return width if width < natural else None


def _grown(spare: int, *columns: tuple[int, int]) -> tuple[list[int], int]:
    """(width, natural) pairs widened back toward natural from `spare` cells, in order; and what is left."""
    widths = []
    for width, natural in columns:
        more = max(min(spare, natural - width), 0)
        widths.append(width + more)
        spare -= more
    return widths, spare


def _shrunk(over: int, *columns: tuple[int, int]) -> list[int]:
    """(width, floor) pairs narrowed toward floor by `over` cells in all, in order."""
    widths = []
    for width, floor in columns:
        less = max(min(over, width - floor), 0)
        widths.append(width - less)
        over -= less
    return widths


# -- the cells, cut ----------------------------------------------------------------------------


def cut(text: str, width: int | None) -> str:
    """`text` in `width` terminal cells, its end replaced by … when cut (None: whole)."""
    if width is None or cell_len(text) <= width:
        return text
    return set_cell_size(text, max(width - 1, 0)).rstrip() + ELLIPSIS


def why_cell(reasons: str, brief: str, width: int) -> str:
    """The reasons whole if they fit; narrower than WHY_MIN, the brief (the scorers' names)."""
    if cell_len(reasons) <= width:
        return reasons
    return cut(brief if width < WHY_MIN else reasons, width)


def elided(text: str, width: int | None) -> str:
    """`text` in `width` cells with its middle elided: a model's family and its version
    ('claude-…nnet-4-5'), a request id's prefix and its unique end."""
    if width is None or cell_len(text) <= width:
        return text
    if width < 3:
        return cut(text, width)
    tail = (width - 1) // 2 + (width - 1) % 2  # the end tells models and request ids apart: its share first
    return set_cell_size(text, width - 1 - tail).rstrip() + ELLIPSIS + last_cells(text, tail)


def error_type_cell(error_type: str, width: int | None) -> str:
    """An error type whole, or (it cannot fit) its module path left out ('…RateLimitError' for
    'openai.RateLimitError'), then its end cut ('InternalServ…'): what tells error types apart
    is the name's start, as 'Error' ends most of them."""
    if width is None or cell_len(error_type) <= width:
        return error_type
    name = error_type.rsplit(".", 1)[-1]
    if name != error_type and cell_len(name) < width:
        return ELLIPSIS + name
    return cut(name, width)
