"""Redrawing a Static without a layout of the whole screen when its height stays the same."""

from __future__ import annotations

from textual.visual import VisualType, visualize
from textual.widgets import Static


def update_in_place(static: Static, content: VisualType) -> None:
    """static.update(content), with a layout only when the content's height changes: a
    layout reflows the whole screen (~25 ms at 160x48), and the header's and the panes'
    figures change several times a second while their sizes rarely do. The height is
    measured as the widget will draw it (its markup, its width)."""
    width, height = static.content_region.width, static.content_region.height
    markup = getattr(static, "_render_markup", True)  # as Static.update will read it
    same = bool(width) and visualize(static, content, markup=markup).get_height(static.styles, width) == height
    static.update(content, layout=not same)
