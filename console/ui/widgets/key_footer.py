"""The footer's keys shown whole: those that do not fit are left out, never cut.

Textual's Footer clips its row at the command-palette key, so at 80 columns the last key read
'm▏' or 'R Run the▏' (a user trial: a key cut mid-phrase reads as another key). Keys come in
Textual's order (the focused widget's first, then the screen's, then the app's), so the ones
left out are the least specific; `?` lists them all.
"""

from __future__ import annotations

from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class KeyFooter(Footer):
    def on_resize(self) -> None:
        self.call_after_refresh(self._leave_out_overflow)

    async def recompose(self) -> None:
        await super().recompose()
        self.call_after_refresh(self._leave_out_overflow)

    def _leave_out_overflow(self) -> None:
        keys = list(self.query_children(FooterKey))
        palette = [key for key in keys if key.has_class("-command-palette")]
        room = self.size.width - sum(self._width(key) for key in palette)
        used, fits = 0, True
        for key in keys:
            if key in palette:
                continue
            used += self._width(key)
            fits = fits and used <= room
            if key.display != fits:
                key.display = fits

    def _width(self, key: FooterKey) -> int:
        """The cells a key takes when shown (its size while hidden is nothing)."""
        content = key.get_content_width(self.size, self.app.size)
        return content + key.styles.gutter.width + key.styles.margin.width
