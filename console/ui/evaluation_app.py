"""The console app's evaluation side: the scoring thread, `t`, and what the thread sends.

ConsoleApp owns one EvaluationUI (beside its EvaluationFeed) and hands it the scoring
thread's events from its message handlers; they go on to the triage screen when one is
open, and labels and errors are also notified.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess

from textual.app import App, SuspendNotSupported
from textual.worker import get_current_worker

from console.evaluation.triage import Queue
from console.live.evaluation_feed import EvaluationFeed
from console.live.events import CaseEditReady, EvaluationNotice, LabelDone, LabelFound, QueueReady, ScoringProgress
from console.ui.screens.labelled_detail import LabelledDetailScreen
from console.ui.screens.triage import TriageScreen

BACKLOG_NOTICE = 5000  # a backlog this large is announced once


class EvaluationUI:
    def __init__(self, app: App, feed: EvaluationFeed) -> None:
        self.app = app
        self.feed = feed
        self.triage_queue: Queue | None = None
        self.scoring_progress: tuple[int, int, int] | None = None
        self._started = False

    def start(self) -> None:
        """Start the scoring thread (once)."""
        if self._started:
            return
        self._started = True
        self.app.run_worker(self._thread, thread=True, exclusive=True, name="evaluation", group="evaluation")

    def _thread(self) -> None:
        worker = get_current_worker()
        self.feed.run(lambda: worker.is_cancelled)

    def _triage_screens(self) -> list[TriageScreen]:
        return [screen for screen in self.app.screen_stack if isinstance(screen, TriageScreen)]

    def open_triage(self) -> None:
        if not isinstance(self.app.screen, TriageScreen):
            self.app.push_screen(TriageScreen())

    # -- from the evaluation thread -------------------------------------------------------------

    def show_queue(self, ready: QueueReady) -> None:
        self.triage_queue = ready.queue
        for screen in self._triage_screens():
            screen.show_queue(ready.queue)

    def show_progress(self, progress: ScoringProgress) -> None:
        if self.scoring_progress is None and progress.backlog >= BACKLOG_NOTICE:
            self.app.notify(
                f"scoring a backlog of {progress.backlog:,} requests in the background; t shows the progress",
                title="Evaluation", markup=False,
            )  # fmt: skip
        self.scoring_progress = (progress.done, progress.total, progress.failures)
        for screen in self._triage_screens():
            screen.show_progress(*self.scoring_progress)

    def label_done(self, done: LabelDone) -> None:
        outcome = done.outcome
        reason = outcome.label.reason if outcome.label and not outcome.undone else None
        for screen in self._triage_screens():
            screen.label_done(outcome.request_id, outcome.verdict, reason, outcome.undone)
        for detail in self._details(outcome.request_id):
            detail.label_done(outcome)
        severity = "error" if outcome.case_error else "information"
        self.app.notify(outcome.describe(), title="Label", severity=severity, timeout=4, markup=False)

    def label_found(self, found: LabelFound) -> None:
        for detail in self._details(found.request_id):
            detail.show_label(found.label)

    def _details(self, request_id: str) -> list[LabelledDetailScreen]:
        """The open request details of this request (one, or a stack of them)."""
        return [screen for screen in self.app.screen_stack
                if isinstance(screen, LabelledDetailScreen) and screen.record.request_id == request_id]

    def notice(self, notice: EvaluationNotice) -> None:
        self.app.notify(notice.text, title=notice.title, severity=notice.severity, timeout=8, markup=False)

    def edit_case(self, ready: CaseEditReady) -> None:
        """Hand the terminal to $VISUAL / $EDITOR on the case, then give the result back."""
        editor = shlex.split(os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi")
        command = [*editor, str(ready.path)]
        try:
            try:
                with self.app.suspend():
                    code = subprocess.call(command)
            except SuspendNotSupported:  # headless (tests) or a web driver: run it as is
                code = subprocess.call(command, stdin=subprocess.DEVNULL)
        except OSError as exc:
            self.app.notify(f"cannot run {editor[0]}: {exc}", title="Edit case", severity="error", markup=False)
            return
        if code != 0:
            shutil.rmtree(ready.path.parent, ignore_errors=True)
            self.app.notify(
                f"{editor[0]} exited with {code}; the case is unchanged", title="Edit case", severity="warning", markup=False
            )
            return
        self.feed.finish_edit(ready.case_id, ready.path)
