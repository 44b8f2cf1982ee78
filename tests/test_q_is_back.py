"""`q` is Back on every screen pushed over the dashboard; only the dashboard's q quits.

A user trial: `q` on a finished regression run's screen quit the whole console (in the demo that
also deleted the store and labels), while on every other pushed screen q is Back.
"""

from __future__ import annotations

import importlib
import pkgutil

from textual.binding import Binding
from textual.screen import ModalScreen, Screen

import console.ui.screens
from console.ui.app import ConsoleApp
from console.ui.screens.dashboard import DashboardScreen
from console.ui.screens.help import HelpScreen
from console.ui.screens.regress import RegressRunScreen
from console.ui.screens.sections import SectionsScreen
from test_regress_key import demo_suite
from test_regress_ui import screen_text
from test_ui import wait_until


def console_screens() -> list[type[Screen]]:
    """Every Screen class the console defines (each module of console/ui/screens, the replay's)."""
    for module in pkgutil.iter_modules(console.ui.screens.__path__):
        importlib.import_module(f"console.ui.screens.{module.name}")
    importlib.import_module("console.ui.replay_app")
    found, todo = [], list(Screen.__subclasses__())
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        if cls.__module__.startswith("console.ui.") and cls is not SectionsScreen:  # a base, never pushed
            found.append(cls)
    return found


def own_q_actions(cls: type[Screen]) -> list[str]:
    """The actions the screen's own bindings (its classes' BINDINGS) give q."""
    actions = []
    for klass in cls.__mro__:
        for binding in vars(klass).get("BINDINGS", []):
            if isinstance(binding, Binding) and "q" in [key.strip() for key in binding.key.split(",")]:
                actions.append(binding.action)
    return actions


def test_no_pushed_screen_lets_q_reach_the_apps_quit():
    # a modal screen ends Textual's binding chain (the app's q is not reached); any other screen
    # needs its own q, else the app's Quit answers it
    screens = console_screens()
    assert RegressRunScreen in screens and HelpScreen in screens  # the walk found the screens
    falls_through = [cls.__qualname__ for cls in screens
                     if not issubclass(cls, DashboardScreen) and not issubclass(cls, ModalScreen) and not own_q_actions(cls)]  # fmt: skip
    assert falls_through == []
    quits = [cls.__qualname__ for cls in screens if any("quit" in action for action in own_q_actions(cls))]
    assert quits == []


async def test_q_on_a_finished_run_goes_back_to_the_dashboard(tmp_path):
    settings = demo_suite(tmp_path)
    app = ConsoleApp(sources=[], store_url=str(tmp_path / "s.db"), settings=settings)
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.press("R", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, RegressRunScreen))
        screen = app.screen
        await wait_until(pilot, lambda: screen._finished_drawn, timeout=30)
        await wait_until(pilot, lambda: "Quit" not in screen_text(app))  # the footer said 'q Quit' here
        await pilot.press("q")
        await wait_until(pilot, lambda: app.screen is app.dashboard)
        assert app.is_running and app.return_code is None


async def test_q_while_the_run_goes_on_is_back_and_the_run_continues(tmp_path):
    settings = demo_suite(tmp_path)
    app = ConsoleApp(sources=[], store_url=str(tmp_path / "s.db"), settings=settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("R", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, RegressRunScreen))
        session = app.screen.session
        await pilot.press("q")
        await wait_until(pilot, lambda: app.screen is app.dashboard)
        assert app.is_running
        await wait_until(pilot, lambda: session.done.is_set(), timeout=30)
        assert session.snapshot().counts.done == 3  # not stopped: the run went on behind the dashboard


async def test_the_help_lists_q_as_the_run_screens_back_and_quit_on_the_dashboard_only(tmp_path):
    app = ConsoleApp(sources=[], store_url=str(tmp_path / "s.db"))
    scopes = app.binding_scopes()
    run = [b for where, bindings in scopes if where == "regression run" for b in bindings if b.id and "back" in b.id]
    assert run and all("q" in b.key.split(",") for b in run)
    assert [where for where, bindings in scopes for b in bindings if b.action == "quit"] == ["dashboard"]
