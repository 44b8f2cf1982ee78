"""Text in pieces that wrap only between pieces: a burn window beside its rate, a spend
beside its limit and percent. Rich wraps at any space (a no-break space included), which
put '6h' at the end of one line and its '2.2x' at the start of the next."""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.text import Text


class PieceLines:
    """`pieces` joined by `separator`, as many to a line as the width holds; a piece wider
    than the whole line is wrapped by Rich as usual (nothing else can be done with it)."""

    def __init__(self, pieces: list[Text], separator: str = "  ", style: str = "") -> None:
        self.pieces = pieces
        self.separator = separator
        self.style = style

    def lines(self, width: int) -> list[Text]:
        lines: list[Text] = []
        line: Text | None = None
        for piece in self.pieces:
            if line is not None and line.cell_len + len(self.separator) + piece.cell_len <= width:
                line.append(self.separator)
                line.append_text(piece)
                continue
            if line is not None:
                lines.append(line)
            line = Text(style=self.style)
            line.append_text(piece)
        if line is not None:
            lines.append(line)
        return lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for line in self.lines(options.max_width):
            yield line

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        widest = max((piece.cell_len for piece in self.pieces), default=0)
        whole = sum(piece.cell_len for piece in self.pieces) + len(self.separator) * max(len(self.pieces) - 1, 0)
        return Measurement(min(widest, options.max_width), min(whole, options.max_width))
