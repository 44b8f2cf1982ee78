"""The console app's evaluation side: the scoring thread, `t`, and what the thread sends.

Mixed into ConsoleApp, which creates `self.evaluation` (an EvaluationFeed) and calls
`start_evaluation()` on mount. Messages from the thread land here and are handed to the
triage screen when one is open; labels and errors are also notified.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess

from textual.app import SuspendNotSupported
from textual.worker import get_current_worker

from console.evaluation.triage import Queue
from console.ui.messages import CaseEditReady, EvaluationNotice, LabelDone, QueueReady, ScoringProgress
from console.live.evaluation_feed import EvaluationFeed
from console.ui.screens.triage import TriageScreen

BACKLOG_NOTICE = 5000  # a backlog this large is announced once


class EvaluationMixin:
    evaluation: EvaluationFeed
    triage_queue: Queue | None = None
    scoring_progress: tuple[int, int, int] | None = None

    def start_evaluation(self) -> None:
        if getattr(self, "_evaluation_started", False):
            return
        self._evaluation_started = True
        self.run_worker(  # type: ignore[attr-defined]
            self._evaluation_thread, thread=True, exclusive=True, name="evaluation", group="evaluation"
        )

    def _evaluation_thread(self) -> None:
        worker = get_current_worker()
        self.evaluation.run(lambda: worker.is_cancelled)

    def _triage_screens(self) -> list[TriageScreen]:
        return [screen for screen in self.screen_stack if isinstance(screen, TriageScreen)]  # type: ignore[attr-defined]

    def action_triage(self) -> None:
        if not isinstance(self.screen, TriageScreen):  # type: ignore[attr-defined]
            self.push_screen(TriageScreen())  # type: ignore[attr-defined]

    # -- from the evaluation thread -------------------------------------------------------------

    def on_queue_ready(self, message: QueueReady) -> None:
        self.triage_queue = message.event.queue
        for screen in self._triage_screens():
            screen.show_queue(message.event.queue)

    def on_scoring_progress(self, message: ScoringProgress) -> None:
        progress = message.event
        if self.scoring_progress is None and progress.backlog >= BACKLOG_NOTICE:
            self.notify(  # type: ignore[attr-defined]
                f"scoring a backlog of {progress.backlog:,} requests in the background; t shows the progress",
                title="Evaluation", markup=False,
            )  # fmt: skip
        self.scoring_progress = (progress.done, progress.total, progress.failures)
        for screen in self._triage_screens():
            screen.show_progress(*self.scoring_progress)

    def on_label_done(self, message: LabelDone) -> None:
        outcome = message.event.outcome
        reason = outcome.label.reason if outcome.label and not outcome.undone else None
        for screen in self._triage_screens():
            screen.label_done(outcome.request_id, outcome.verdict, reason, outcome.undone)
        severity = "error" if outcome.case_error else "information"
        self.notify(outcome.describe(), title="Label", severity=severity, timeout=4, markup=False)  # type: ignore[attr-defined]

    def on_evaluation_notice(self, message: EvaluationNotice) -> None:
        notice = message.event
        self.notify(notice.text, title=notice.title, severity=notice.severity, timeout=8, markup=False)  # type: ignore[attr-defined]

    def on_case_edit_ready(self, message: CaseEditReady) -> None:
        """Hand the terminal to $VISUAL / $EDITOR on the case, then give the result back."""
        editor = shlex.split(os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi")
        ready = message.event
        command = [*editor, str(ready.path)]
        try:
            try:
                with self.suspend():  # type: ignore[attr-defined]
                    code = subprocess.call(command)
            except SuspendNotSupported:  # headless (tests) or a web driver: run it as is
                code = subprocess.call(command, stdin=subprocess.DEVNULL)
        except OSError as exc:
            self.notify(f"cannot run {editor[0]}: {exc}", title="Edit case", severity="error", markup=False)  # type: ignore[attr-defined]
            return
        if code != 0:
            shutil.rmtree(ready.path.parent, ignore_errors=True)
            self.notify(f"{editor[0]} exited with {code}; the case is unchanged", title="Edit case", severity="warning", markup=False)  # type: ignore[attr-defined]
            return
        self.evaluation.finish_edit(ready.case_id, ready.path)
