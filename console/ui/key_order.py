"""Keys are handled one at a time, in the order they were typed, by the app's one key router.

Textual hands each key to the focused widget and goes on to the next key at once; a key bound
on a screen or the app (`R`, `n`, `b`, …) only runs its action once it has bubbled back up to
the app. Typed in one burst (tmux send-keys, a fast typist, a slow SSH link flushing), the
characters after such a key were already on their way to the old screen's table when the key
opened its dialog: `R` then `staging` left the target `demo` (the characters dropped, or typed
into the suite box the dialog focuses first), `n` then `wrong answer` opened an empty note.

`KeysInOrder`, mixed into the app, holds a key (and a paste) while the one before it is still
on its way: a key is through once it has passed every widget it could bubble to and the app's
bindings have had it. When that key changed the screen, the next waits until the new screen
has been drawn once, so a dialog's own focus (`focus()` in on_mount) is in place: the keys
typed after the key that opened a text field go into that field, whichever field it is.
"""

from __future__ import annotations

from collections import deque
from functools import partial

from textual import events
from textual.app import App, ScreenStackError
from textual.dom import DOMNode
from textual.screen import Screen

# A key whose way could not be followed (a widget closed with the callback in its queue) holds
# the keys behind it at most this long (then they go on as Textual would route them).
KEY_TRANSIT_LIMIT_S = 2.0

TypedInput = events.Key | events.Paste


def kept_by(widget: DOMNode, event: TypedInput) -> bool:
    """The widget handles it and it goes no further (a character in an Input, a paste): no
    binding runs on it."""
    return isinstance(event, events.Paste) or widget.check_consume_key(event.key, event.character)


class KeysInOrder(App):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._held_input: deque[TypedInput] = deque()
        self._input_in_transit: TypedInput | None = None
        self._transit_screen: Screen | None = None  # the screen when it was routed
        self._input_watched: TypedInput | None = None

    async def on_event(self, event: events.Event) -> None:
        if not isinstance(event, (events.Key, events.Paste)):
            await super().on_event(event)
        elif not event.is_forwarded:  # from the driver
            if self._input_in_transit is None and not self._held_input:
                await self._route(event)
            else:
                self._held_input.append(event)
                self._watch_transit()
        else:  # bubbled back up: the app's bindings have it
            await super().on_event(event)
            if event is self._input_in_transit:
                await self._through(event)

    async def _route(self, event: TypedInput) -> None:
        """Textual's routing (priority bindings, else the focused widget); the next key is
        routed once this one is through."""
        try:
            screen = self.screen
            target: DOMNode = self.focused or screen
        except ScreenStackError:  # no screen yet: nothing to keep in order
            await super().on_event(event)
            return
        await super().on_event(event)
        if event.is_forwarded and kept_by(target, event):
            return  # the next key queues behind it in the same widget
        self._input_in_transit, self._transit_screen = event, screen
        # A key a widget stops never comes back up: a callback queued behind it in each widget
        # it could bubble through reaches the app after it.
        path = list(target.ancestors_with_self) if event.is_forwarded else [self]
        self._follow(path, event)

    def _follow(self, path: list[DOMNode], event: TypedInput) -> None:
        node, rest = path[0], path[1:]
        if rest:
            queued = node.call_later(self._follow, rest, event)
        else:
            queued = node.call_later(self._through, event)
        if not queued:  # the widget is closing: its queue will not answer
            self.call_later(self._through, event)

    async def _through(self, event: TypedInput) -> None:
        if self._input_in_transit is not event or self._transit_screen is None:
            return  # already through, or given up on (KEY_TRANSIT_LIMIT_S)
        if self.screen is not self._transit_screen:
            # the key opened or closed a screen: the next key waits until it is drawn (and the
            # focus its on_mount asked for is set)
            self._transit_screen = None
            self.call_after_refresh(self.call_later, self._settled, event)
            return
        await self._settled(event)

    async def _settled(self, event: TypedInput) -> None:
        if self._input_in_transit is event:
            self._input_in_transit = None
            await self._route_held()

    async def _route_held(self) -> None:
        while self._held_input and self._input_in_transit is None:
            await self._route(self._held_input.popleft())
        self._watch_transit()

    def _watch_transit(self) -> None:
        """Keys are waiting: the one on its way is given up on if it is not through in time."""
        event = self._input_in_transit
        if self._held_input and event is not None and self._input_watched is not event:
            self._input_watched = event
            # a timer's callback runs beside the app's queue: the check is queued in it
            self.set_timer(KEY_TRANSIT_LIMIT_S, partial(self.call_later, self._settled, event))
