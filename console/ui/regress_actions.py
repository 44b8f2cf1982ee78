"""The console app's side of the regression suite: `R` opens the running suite or asks what to
run (console/ui/screens/regress_launch.py), the run the dialog's choice starts, and the run's
line on the header. ConsoleApp takes these as a mixin: the `R` binding (app.regress), the
Versions pane, the prompts screen and the run screen's offer (regress_next.py) call them on
the app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from console.ui.read_only import READ_ONLY_NOTE
from console.ui.screens.regress import RegressRunScreen
from console.ui.screens.regress_launch import LaunchChoice, RegressLaunchModal
from console.ui.screens.regress_next import ask_for_run, run_again

if TYPE_CHECKING:
    from console.config import Settings
    from console.regression.session import RunSession
    from console.ui.screens.dashboard import DashboardScreen


class RegressionSuiteActions:
    """Mixed into ConsoleApp (a Textual App), whose __init__ sets these."""

    read_only: bool
    settings: Settings
    store_url: str
    dashboard: DashboardScreen
    regress_session: RunSession | None

    def action_regress(self, prompt_version: str | None = None, prompt_id: str | None = None) -> None:
        """Open the running suite, or ask what to run (defaults from [regression]).

        From a Versions row, the version is filled in: the candidate to try, unless the row is
        of a prompt the suite does not run (prompt_id; said so). On a finished run's screen, the
        dialog starts from that run's suite, target and version.
        """
        if self.read_only:  # called from a pane or screen: their own check hides their key
            self.notify(READ_ONLY_NOTE, title="Regression suite", markup=False)
            return
        session = self.regress_session
        if session is not None and not session.done.is_set():
            if not isinstance(self.screen, RegressRunScreen):
                self.push_screen(RegressRunScreen(session))
            return
        if isinstance(self.screen, RegressLaunchModal):
            return
        if isinstance(self.screen, RegressRunScreen):
            again = run_again(self.screen.session, self.settings)
            if again is not None:
                ask_for_run(self, again, self.launch_regress)
            return
        config = self.settings.regression
        if prompt_version and prompt_id:
            from console.regression.plan import suite_prompt_ids

            prompts = suite_prompt_ids(self.settings)
            if prompts and prompt_id not in prompts:  # e.g. ticket-classifier@v3 for support-answer cases
                self.notify(f"{prompt_id}@{prompt_version} is not a prompt this suite runs ({', '.join(sorted(prompts))}):"
                            " the version to try is left empty", title="Regression suite", severity="warning",
                            markup=False, timeout=8)  # fmt: skip
                prompt_version = None
        self.push_screen(
            RegressLaunchModal(config.default_target, str(config.suite), prompt_version, self.check_launch),
            self.launch_regress,
        )

    def check_launch(self, choice: LaunchChoice) -> None:
        """PlanError (naming the field) for a choice the run would refuse; in the dialog's thread
        worker, as it reads the suite, the registry and the store."""
        from console.regression.execute import check_plan

        check_plan(self._plan(choice), self.store_url)

    def _plan(self, choice: LaunchChoice):
        from console.regression.plan import make_plan

        return make_plan(self.settings, target=choice.target, baseline=choice.baseline,
                         prompt_version=choice.prompt_version, suite=choice.suite)  # fmt: skip

    def launch_regress(self, choice: LaunchChoice | None) -> None:
        """Start a run; it takes the place of a finished run's screen (Esc goes where that one went)."""
        if choice is None:
            return
        from console.regression.plan import PlanError

        try:
            plan = self._plan(choice)
        except PlanError as exc:
            self.notify(exc.dialog_text(), title="Regression suite", severity="error", markup=False, timeout=8)
            return
        screen = RegressRunScreen.start(plan, self.store_url)
        self.regress_session = screen.session
        if isinstance(self.screen, RegressRunScreen):
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def _regress_status(self) -> None:
        session = self.regress_session
        if session is None or not self.dashboard.query("#status"):
            return  # nothing to show, or the dashboard is not composed yet
        header = self.dashboard.status_header
        line = session.status_line() if session is not None else None
        if line != header.regress_line:
            header.regress_line = line
            header.redraw()
