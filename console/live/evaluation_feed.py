"""The thread that scores arriving requests, keeps the triage queue and saves labels.

It has its own store connection and does every query and write of evaluation: the UI
thread only sends requests (mark, undo, note, edit) through an inbox and draws what comes
back. A backlog is scored a chunk at a time, with progress posted at most a few times a
second and the inbox served between chunks, so a label never waits for the backlog.
The queue is only recomputed while a triage screen watches it.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from console.config import Settings
from console.live.analytics_feed import AnalyticsFeed
from console.live.events import CaseEditReady, EvaluationNotice, LabelDone, LabelFound, Post, QueueReady, ScoringProgress
from console.live.inbox import Inbox

POLL_INTERVAL = 0.3  # looking for new requests when caught up
PROGRESS_INTERVAL = 0.25
QUEUE_INTERVAL = 0.5
# While scores arrive, the open triage screen's queue is rebuilt at most every QUEUE_INTERVAL,
# or every this many times its last build took, if longer: the rebuild runs on this thread,
# between scoring steps, and on a 1M-row store a quarter scored it took ~1 s a build (the
# backlog's scoring fell from ~8,400 to ~170 rows/s while the screen was open). So the
# rebuilds take at most a fifth of the thread, whatever the store's size.
QUEUE_BUILD_SHARE = 5
# The open queue is rebuilt at least this often (seconds) when nothing else changes it: its
# provider-error lines count the figures' window, which slides, and errors are not scored
ERRORS_SLIDE = 5.0
FAILURES_SHOWN = 3  # scorer failures notified one by one; then only counted
# between two chunks of a backlog: scoring is all Python, and back to back it takes the GIL
# from the UI thread for as long as a firehose lasts (a chunk of 500 takes
# ~12 ms; with the pause a backlog is still scored at ~15,000 requests a second)
STEP_PAUSE = 0.02
# After a key or a click, a backlog's scoring waits this long: at 1M rows, `g` and `G` took
# 170-710 ms instead of 65-90 ms while a backlog was scored beside them (bench/open.py), the
# scorer taking about a fifth of the GIL (py-spy --gil). Scoring is never urgent; keys are.
QUIET_AFTER_INPUT = 1.0
# Labels other consoles give on the same store (a team store) are read this often: without it
# their verdicts never reached this console's bad rates or its triage queue
LABELS_POLL_INTERVAL = 1.0


@dataclass(frozen=True, slots=True)
class WatchQueue:
    on: bool


@dataclass(frozen=True, slots=True)
class Mark:
    request_id: str
    verdict: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class Undo:
    pass


@dataclass(frozen=True, slots=True)
class Note:
    request_id: str
    text: str


@dataclass(frozen=True, slots=True)
class LookUpLabel:
    request_id: str


@dataclass(frozen=True, slots=True)
class PrepareEdit:
    request_id: str


@dataclass(frozen=True, slots=True)
class FinishEdit:
    case_id: str
    path: Path


EvaluationCommand = WatchQueue | Mark | Undo | Note | LookUpLabel | PrepareEdit | FinishEdit


class EvaluationFeed:
    def __init__(
        self,
        post: Post,
        settings: Settings,
        store_url: str,
        analytics: AnalyticsFeed | None = None,
    ) -> None:
        self._post = post
        self.settings = settings
        self.store_url = store_url
        self.analytics = analytics
        self._inbox: Inbox[EvaluationCommand] = Inbox()
        self.watching = False
        self._queue_asked = False  # `t` pressed: the queue goes out at the next look, not after queue_wait
        self._input_at = float("-inf")  # monotonic time of the user's last key or click
        self._told_where_cases_go = False
        self._verdicts_seen: dict[str, str] = {}  # request_id -> verdict, as the store had them
        # a replay's moment (console/live/replay.py): only requests up to it are scored and queued,
        # and their scores and backlog kept in memory (console/live/replay_scoring.py)
        self.until: Callable[[], float] | None = None

    # -- called from the UI thread: never blocks ---------------------------------------------

    def watch_queue(self, on: bool) -> None:
        self.watching = on
        self._inbox.send(WatchQueue(on))

    def mark(self, request_id: str, verdict: str, reason: str | None = None) -> None:
        self._inbox.send(Mark(request_id, verdict, reason))

    def undo(self) -> None:
        self._inbox.send(Undo())

    def note(self, request_id: str, text: str) -> None:
        self._inbox.send(Note(request_id, text))

    def look_up_label(self, request_id: str) -> None:
        """The request's current label, posted as LabelFound (for the request detail)."""
        self._inbox.send(LookUpLabel(request_id))

    def prepare_edit(self, request_id: str) -> None:
        self._inbox.send(PrepareEdit(request_id))

    def finish_edit(self, case_id: str, path: Path) -> None:
        self._inbox.send(FinishEdit(case_id, path))

    def user_active(self) -> None:
        """The user pressed a key or clicked: scoring steps aside for QUIET_AFTER_INPUT."""
        self._input_at = time.monotonic()

    def stop(self) -> None:
        self._inbox.wake()

    def _quiet_left(self) -> float:
        return self._input_at + QUIET_AFTER_INPUT - time.monotonic()

    # -- the thread ------------------------------------------------------------------------------

    def run(self, is_cancelled: Callable[[], bool]) -> None:
        from console.evaluation.labels import Labeller
        from console.cases.file import CaseFile, writable_cases_path
        from console.evaluation.scorers import ScorerError, builtin_scorers
        from console.evaluation.triage import ScoringLoop
        from console.store import Store, StoreError
        from console.store.evaluation import EvaluationStore

        try:
            store = Store(self.store_url)
        except StoreError as exc:
            self._post(EvaluationNotice(f"scoring is off: {exc}", "error"))
            return
        try:
            evaluation = EvaluationStore(store)
            scored = evaluation
            if self.until is not None:
                from console.live.replay_scoring import MomentBoundEvaluation

                scored = MomentBoundEvaluation(evaluation, self.until)
            try:
                loop = ScoringLoop(scored, self.settings)
            except ScorerError as exc:
                self._post(EvaluationNotice(f"{exc}; scoring with the built-in scorers only", "error"))
                loop = ScoringLoop(scored, self.settings, builtin_scorers(self.settings))
            self.cases = CaseFile(writable_cases_path(self.settings))  # beside a promptfoo suite, never in it
            self.labeller = Labeller(
                evaluation, self.cases, slos=self.settings.slos, refusal_phrases=self.settings.evaluation.refusal_phrases
            )  # the cases' assertions follow the SLOs and the refusal phrases
            if self.labeller.recovered:  # labels a crash left half-done, finished at start
                self._post(EvaluationNotice(self.labeller.recovered.describe(), "information"))
            self._loop(is_cancelled, scored, loop)
        finally:
            store.close()

    def _loop(self, is_cancelled, evaluation, loop) -> None:
        from console.evaluation.triage import build_queue

        below = self.settings.evaluation.queue_below
        dirty = True
        last_progress = last_queue = 0.0
        queue_wait = QUEUE_INTERVAL  # between two rebuilds of the queue (QUEUE_BUILD_SHARE)
        shown_empty = True  # the triage screen still says "waiting for scores…"
        reported = (-1, -1, -1)
        self._labels_from_elsewhere(tell=False)  # what the figures were seeded with
        last_labels_poll = time.monotonic()

        def show_queue(now: float) -> None:
            nonlocal dirty, last_queue, shown_empty, queue_wait
            # the first entries go out at once; after that at most every queue_wait
            if self.watching and dirty and (shown_empty or self._queue_asked or now - last_queue >= queue_wait):
                self._queue_asked = False
                queue = build_queue(evaluation, below, errors_window=self._errors_window())
                self._post(QueueReady(queue))
                built = time.monotonic()
                queue_wait = max(QUEUE_INTERVAL, QUEUE_BUILD_SHARE * (built - now))
                dirty, last_queue = False, built
                shown_empty = not (queue.items or queue.provider_errors)

        while not is_cancelled():
            dirty |= self._serve_inbox()  # a label the user made is saved at once, quiet or not
            if self.watching and time.monotonic() - last_queue >= ERRORS_SLIDE:
                dirty = True  # the error lines' window slid, and provider errors arrive unscored
            if time.monotonic() - last_labels_poll >= LABELS_POLL_INTERVAL:
                dirty |= self._labels_from_elsewhere()
                last_labels_poll = time.monotonic()
            show_queue(time.monotonic())  # `t` pressed: the queue as it is, not after the quiet
            quiet = self._quiet_left()
            if quiet > 0 and not loop.first:  # the first (small) batch does not wait for the key that asked
                self._inbox.wait(quiet)
                continue
            step = loop.step(interrupt=self._has_mail)
            if step.scored:
                dirty = True
            first = loop.failure_count - len(step.failures)
            for failure in step.failures[: max(FAILURES_SHOWN - first, 0)]:
                self._post(EvaluationNotice(str(failure), "warning", "Scorer failed"))
            now = time.monotonic()
            state = (loop.done, loop.total, loop.failure_count)
            if state != reported and (now - last_progress >= PROGRESS_INTERVAL or not step.seen):
                self._post(ScoringProgress(*state))
                reported, last_progress = state, now
            show_queue(now)
            if not step.seen:
                timeout = POLL_INTERVAL if not (self.watching and dirty) else QUEUE_INTERVAL / 2
                self._inbox.wait(timeout)
            elif not self._has_mail():
                time.sleep(STEP_PAUSE)

    def _errors_window(self):
        """The figures' window, ending at their now, for the provider-error lines (the whole
        store without a figures feed)."""
        from console.evaluation.triage import ErrorsWindow

        analytics = self.analytics
        return None if analytics is None else ErrorsWindow(analytics.window, analytics.clock.now())

    def _has_mail(self) -> bool:
        return self._inbox.has_mail()

    def _serve_inbox(self) -> bool:
        """Run what the UI asked for; True when the queue changed."""
        changed = False
        for command in self._inbox.take_all():
            try:
                changed |= self._run(command)
            except Exception as exc:  # noqa: BLE001 (the user hears why; the thread goes on)
                text = str(exc) if _is_user_error(exc) else f"{type(exc).__name__}: {exc}"
                self._post(EvaluationNotice(text, "error"))
                changed = True
        return changed

    def _run(self, command: EvaluationCommand) -> bool:
        """One command; True when the queue changed."""
        match command:
            case WatchQueue(on):
                self._queue_asked = on
                return on
            case Mark(request_id, verdict, reason):
                self._applied(self.labeller.mark(request_id, verdict, reason))
                return True
            case Undo():
                outcome = self.labeller.undo()
                if outcome is None:
                    self._post(EvaluationNotice("nothing to undo", title="Undo"))
                    return False
                self._applied(outcome)
                return True
            case Note(request_id, text):
                self.labeller.note(request_id, text)
                self._post(EvaluationNotice(f"note saved on {request_id}", title="Note"))
                return True
            case LookUpLabel(request_id):
                self._post(LabelFound(request_id, self.labeller.evaluation.current_label(request_id)))
                return False
            case PrepareEdit(request_id):
                self._export_for_edit(request_id)
                return False
            case FinishEdit(case_id, path):
                self._apply_edit(case_id, path)
                return True
        raise ValueError(f"unknown command {command!r}")

    def _labels_from_elsewhere(self, tell: bool = True) -> bool:
        """Verdicts changed in the store since the last look (another console's labels and undos;
        this console's own are counted as seen when made): the figures follow them. True when
        any changed, so the queue is drawn again."""
        try:
            current = self.labeller.evaluation.current_verdicts()
        except Exception:  # noqa: BLE001 (the store unreachable for now: the next poll reads it again)
            return False
        seen = self._verdicts_seen
        changed: dict[str, str | None] = {rid: verdict for rid, verdict in current.items() if seen.get(rid) != verdict}
        changed.update({rid: None for rid in seen if rid not in current})
        self._verdicts_seen = current
        if not tell:
            return False
        if changed and self.analytics is not None:
            self.analytics.apply_labels(changed)
        return bool(changed)

    def _export_for_edit(self, request_id: str) -> None:
        case_id = self.labeller.case_id(request_id)
        directory = Path(tempfile.mkdtemp(prefix="llmops-case-"))
        try:
            path = self.cases.export_for_edit(case_id, directory)
        except Exception:
            shutil.rmtree(directory, ignore_errors=True)
            raise
        self._post(CaseEditReady(case_id, path))

    def _apply_edit(self, case_id: str, path: Path) -> None:
        try:
            case = self.cases.apply_edit(case_id, Path(path).read_bytes())
        finally:
            shutil.rmtree(Path(path).parent, ignore_errors=True)
        if case is None:
            self._post(EvaluationNotice(f"case {case_id} unchanged: {self.cases.path} left as it was", title="Case"))
        else:
            self._post(EvaluationNotice(f"case {case.id} saved in {self.cases.path}", title="Case"))

    def _applied(self, outcome) -> None:
        if outcome.verdict is None:  # this console's own label, not news at the next poll
            self._verdicts_seen.pop(outcome.request_id, None)
        else:
            self._verdicts_seen[outcome.request_id] = outcome.verdict
        if self.analytics is not None:
            self.analytics.apply_labels({outcome.request_id: outcome.verdict})
        self._post(LabelDone(outcome))
        if outcome.case_added and not self._told_where_cases_go:
            from console.cases.file import cases_path

            suite = cases_path(self.settings)
            if suite != self.cases.path:  # a promptfoo suite: say once where its cases went
                self._told_where_cases_go = True
                self._post(EvaluationNotice(
                    f"regression.suite {suite.name} is a promptfoo suite (YAML), so cases are not written into it: "
                    f"case {outcome.case_added} went to {self.cases.path}, which regress runs with the suite",
                    title="Cases",
                ))  # fmt: skip


def _is_user_error(exc: Exception) -> bool:
    from console.evaluation.labels import LabelError
    from console.cases.file import CaseFileError

    return isinstance(exc, (LabelError, CaseFileError))
