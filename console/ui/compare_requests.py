"""The compare screen opens at the key and fills in when the analytics thread has compared.

It used to be pushed only once the analytics thread posted CompareReady: the first `c` or `C`
of a session imports scipy there (0.6 s on a quiet machine, 2.4-4 s on a loaded two-core one,
py-spy: `_scipy_stats` under `comparison_ready`), and all that time the dashboard stayed as it
was, the key seemingly lost. Now the key opens a CompareScreen saying what it compares,
"(loading)", and sends the request with a token once that screen is drawn; the CompareReady
that says the token back fills that screen, or is dropped when the user has left it (Esc
while it loaded). The UI thread never waits for the comparison.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from console.sanitize import one_line
from console.ui.screens.compare import CompareScreen

if TYPE_CHECKING:
    from textual.app import App
    from textual.screen import Screen

    from console.live.analytics_feed import AnalyticsFeed
    from console.live.events import CompareReady


def arm_label(spec: str) -> str:
    """What an arm's spec reads as on screen ('prompt=support-answer@v7' -> 'support-answer@v7'),
    as the comparison will label it; the spec itself when it does not parse (the comparison
    then says why)."""
    from console.analytics.arm_spec import parse_arm_spec

    try:
        return one_line(parse_arm_spec(spec).label)
    except ValueError:
        return one_line(spec)


class CompareRequests:
    """The app's comparisons: each opened at once, loading, and filled when it is ready."""

    def __init__(self, app: App, feed: AnalyticsFeed) -> None:
        self.app = app
        self.feed = feed
        self._tokens = itertools.count(1)

    def arms(self, a: str, b: str, title: str = "", replacing: Screen | None = None) -> CompareScreen:
        """Arm A against arm B over the panes' window. replacing: the compare screen whose
        place it takes (its a, b or x), else it opens over the current screen."""
        label_a, label_b = arm_label(a), arm_label(b)
        screen = self._open(
            f"A: {label_a}  vs  B: {label_b}",
            f"comparing {label_b} with {label_a} over the {self.feed.window} window", replacing,
        )  # fmt: skip
        # sent once the screen is drawn: the thread's work (scipy's first import holds the GIL
        # in long stretches) starts after the first frame, not during it
        screen.call_after_refresh(self.feed.request_compare, a, b, title, screen.token)
        return screen

    def change(self, kind: str, name: str, swapped: bool = False, replacing: Screen | None = None) -> CompareScreen:
        """Before/after the first appearance of a model or prompt version ('id@version');
        swapped: the same two arms over the same rows, after as A (the screen's x)."""
        shown = one_line(name)
        order = "after and before" if swapped else "before and after"
        screen = self._open(f"{order.replace(' and ', '/')} {shown}", f"comparing {order} {shown} first appeared",
                            replacing, before_after=(kind, name, swapped))  # fmt: skip
        screen.call_after_refresh(self.feed.request_change_compare, kind, name, screen.token, swapped)
        return screen

    def _open(
        self, asked: str, asking: str, replacing: Screen | None = None,
        before_after: tuple[str, str, bool] | None = None,
    ) -> CompareScreen:
        screen = CompareScreen(asked=asked, asking=asking, token=next(self._tokens), before_after=before_after)
        if replacing is not None and self.app.screen is replacing:
            self.app.switch_screen(screen)
        else:
            self.app.push_screen(screen)
        return screen

    async def arrived(self, ready: CompareReady) -> None:
        """A comparison from the analytics thread: into the screen waiting for it."""
        if not ready.token:  # asked without a screen (none does today): one opens now
            if ready.error:
                self.app.notify(ready.error, title="Compare", severity="error", markup=False)
            else:
                self.app.push_screen(CompareScreen(ready.comparison, ready.prompt_diff, scope=ready.scope))
            return
        for screen in self.app.screen_stack:
            if isinstance(screen, CompareScreen) and screen.token == ready.token and screen.loading:
                await screen.show(ready)
                return
        # the user left the screen before the comparison came: nothing to show it on
