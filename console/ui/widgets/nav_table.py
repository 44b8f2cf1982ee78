"""A DataTable with the console's keys: j/k move, g/G go to the first and last row.

Every table of the console is one (directly, or through DiffTable), so the keys that move in
the requests view move in Versions, Latency, the prompts screen, the runs history and the
rejected lines too (only the arrows did).
"""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import DataTable


class NavTable(DataTable):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="table.down"),
        Binding("k", "cursor_up", "Up", show=False, id="table.up"),
        Binding("g", "scroll_top", "Top", show=False, id="table.top"),
        Binding("G", "scroll_bottom", "Bottom", show=False, id="table.bottom"),
    ]
