"""An Input whose editing keys keep their place among the characters typed after them.

Textual's Input inserts a printable character in its own key handler, but a bound key
(ctrl+u, backspace, ctrl+w, …) bubbles up to the app before its action runs, so under fast
typing the next characters land first and the action then removes them: `/`, ctrl+u and
`version:v8` typed in one burst left the filter `rsion:v8` or empty (Textualize/textual#6605;
the fix there, PR #6631, is not released). Here the Input's own non-priority bindings run
inline, in the order the keys came.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input


class OrderedInput(Input):
    async def _on_key(self, event: events.Key) -> None:
        bindings = [b for b in self._bindings.key_to_bindings.get(event.key, ()) if not b.priority]
        if bindings and not event.is_printable:
            event.stop()
            event.prevent_default()
            self._restart_blink()
            await self.run_action(bindings[0].action)
            return
        await super()._on_key(event)
