"""The console replaying a stored period (`llmops-console replay`, console/live/replay.py):
the live console's app with the replay driver in place of the ingest thread, the timeline
under the header, and the replay's keys on the dashboard (space, [ ], + -)."""

from __future__ import annotations

from typing import Iterable

from textual.app import SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import get_current_worker

from console.live.replay import STEP_SECONDS, ReplayDriver
from console.ui.app import ConsoleApp, mask_password
from console.ui.messages import poster
from console.ui.screens.dashboard import DashboardScreen
from console.ui.widgets.replay_timeline import ReplayTimeline, clock_text, day_text

REPLAY_BINDINGS = [
    Binding("space", "replay_pause", "Pause/resume", id="replay.pause"),
    Binding("left_square_bracket", f"replay_step({-STEP_SECONDS})", "−1 min", id="replay.back"),
    Binding("right_square_bracket", f"replay_step({STEP_SECONDS})", "+1 min", id="replay.forward"),
    Binding("plus", "replay_speed(1)", "Faster", id="replay.faster"),
    Binding("minus", "replay_speed(-1)", "Slower", id="replay.slower"),
]
LABELS_ARE_REAL = "Labels you make during a replay are real labels: saved to the store and the regression cases as always."


class ReplayDashboard(DashboardScreen):
    """The dashboard, its space key pausing the replay (the table follows the replay's clock)."""

    BINDINGS = REPLAY_BINDINGS

    def __init__(self, store_url: str, capacity: int, driver: ReplayDriver) -> None:
        super().__init__(store_url, [], capacity)
        self.driver = driver

    def on_mount(self) -> None:  # after compose; Textual runs DashboardScreen.on_mount too
        self.status_header.undelivered_today = True  # `check --notify`'s failures are today's, not the moment's
        self.mount(ReplayTimeline(self.driver, id="replay-timeline"), after=self.status_header)

    def show_history(self, loaded) -> None:
        if self.ready:  # the table starts now: it shows the rows up to the replay's moment only
            self.requests_view.until = self.driver.feed.clock.now
        super().show_history(loaded)

    @property
    def timeline(self) -> ReplayTimeline:
        return self.query_one(ReplayTimeline)

    def show_arrivals(self, arrived) -> None:
        super().show_arrivals(arrived)
        self.status_header.stored = self.driver.state().rows  # a step back lowers it too

    def action_replay_pause(self) -> None:
        paused = self.driver.toggle_pause()
        if not paused and self.driver.state().moment == self.driver.start:
            self.restart_table()  # started over from the beginning
        self.timeline.poll()

    def action_replay_step(self, seconds: float) -> None:
        if self.driver.step(seconds):
            self.restart_table()
        self.timeline.poll()

    def action_replay_speed(self, direction: int) -> None:
        speed = self.driver.faster() if direction > 0 else self.driver.slower()
        self.timeline.poll()
        self.notify(f"{speed:g}x", title="Replay speed", timeout=1.5, markup=False)

    def restart_table(self) -> None:
        """The moment went back: the table starts over with the rows up to it."""
        view = self.requests_view
        view.set_filter(view._filter)
        self.status_header.stored = self.driver.state().rows
        self.status_header.redraw()


class ReplayApp(ConsoleApp):
    def __init__(self, store_url: str, start: float, end: float, speed: float = 10.0, **kwargs) -> None:
        super().__init__(sources=[], store_url=store_url, **kwargs)
        self.driver = ReplayDriver(poster(self), self.feed, store_url, start, end, speed)
        self.dashboard = ReplayDashboard(mask_password(store_url), self.capacity, self.driver)
        self.driver.committed = self.dashboard.rows_committed
        self.evaluation.until = self.feed.clock.now  # `t` scores and queues requests up to the moment only
        self.sub_title = f"replay {day_text(start)} {clock_text(start)} → {clock_text(end)} UTC"

    def on_mount(self) -> None:  # Textual runs ConsoleApp.on_mount (the workers) after this one
        self.notify(LABELS_ARE_REAL, title="Replay", timeout=8, markup=False)

    def start_evaluation(self) -> None:
        """Not on its own: scoring the store's backlog would take turns with the replay on the
        GIL (a 100k-row store: the loop lag's p50 went from 1 to 19 ms); `t` starts it."""

    def action_triage(self) -> None:
        self.evaluation_ui.start()
        self.evaluation_ui.open_triage()

    def _ingest(self) -> None:
        """The replay driver stands in for the ingest thread: nothing tails, nothing writes."""
        worker = get_current_worker()
        self.driver.run(lambda: worker.is_cancelled)

    @classmethod
    def binding_scopes(cls):
        return [("replay", REPLAY_BINDINGS), *super().binding_scopes()]

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        dashboard = self.dashboard
        yield SystemCommand("Replay: pause / resume", "Stop or restart the replay's clock", dashboard.action_replay_pause)
        yield SystemCommand("Replay: a minute back", "The figures and the table as of a minute earlier",
                            lambda: dashboard.action_replay_step(-STEP_SECONDS))
        yield SystemCommand("Replay: a minute forward", "Skip a minute ahead",
                            lambda: dashboard.action_replay_step(STEP_SECONDS))
        yield SystemCommand("Replay: faster", "The next speed up", lambda: dashboard.action_replay_speed(1))
        yield SystemCommand("Replay: slower", "The next speed down", lambda: dashboard.action_replay_speed(-1))
