"""Keys 1-4 while a pane is maximized: they show the pane they name, never focus a hidden one."""

from __future__ import annotations

from console.ui.widgets.budget_pane import BudgetPane
from console.ui.widgets.latency_pane import LatencyPane
from test_panes import app, fixture_log, ready  # noqa: F401  (fixtures)


def focus_is_shown(screen) -> bool:
    maximized = screen.maximized
    return screen.focused is not None and screen.focused in list(maximized.walk_children(with_self=True))


async def test_a_pane_key_while_maximized_maximizes_that_pane(app):  # noqa: F811
    """The trial: 1, m (Requests maximized), 3, j, Enter acted on the hidden Latency table
    (footer 'c Compare', then Enter un-maximized into a model filter)."""
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        screen = app.dashboard
        await pilot.press("1", "m")
        assert screen.maximized is app.requests_view
        await pilot.press("3")
        assert isinstance(screen.maximized, LatencyPane)
        assert focus_is_shown(screen)
        await pilot.press("2")
        assert isinstance(screen.maximized, BudgetPane) and focus_is_shown(screen)
        await pilot.press("1")
        assert screen.maximized is app.requests_view and app.requests_view.has_focus
        await pilot.press("m")  # m still restores
        assert screen.maximized is None


async def test_a_pane_key_without_a_maximized_pane_maximizes_nothing(app):  # noqa: F811
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        await pilot.press("3")
        assert app.dashboard.maximized is None
        assert isinstance(app.dashboard.focused.parent, LatencyPane)
