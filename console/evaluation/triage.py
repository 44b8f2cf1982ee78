"""The triage queue and the scoring loop that fills it (no Textual: the UI's worker runs them).

The queue: requests whose lowest score is under `evaluation.queue_below` and that nobody
has labelled yet, lowest score first (newest first on ties), each with the reasons of its
low scores; then the labelled requests (newest label first), so a verdict can be seen,
changed or undone. `left` counts the unlabelled ones, all of them, not only those shown.
Provider errors (rate limits, 5xx, timeouts: console.evaluation.provider_errors) are not
scored and not in it: the queue carries them as one line per (model, error type), counted
in the figures' window (ErrorsWindow), as the panes' error rates are.

The scoring loop reads the store newest first (what arrived since it last looked, then the
backlog downwards: the queue's first entries are what happens now), keeps the sampled
requests, runs every scorer on them and writes the scores: the same code scores a backlog of
a million rows and the few that arrive each second, a chunk at a time, so its caller can
report progress and stay responsive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable

from console.analytics.windows import window_start
from console.config import Settings
from console.evaluation.provider_errors import ErrorGroup, group_errors, is_provider_error
from console.evaluation.sampling import Sampler
from console.evaluation.scorers import Scorer, ScorerFailure, build_scorers, score_record
from console.records import RequestRecord

if TYPE_CHECKING:  # the store (SQLAlchemy) stays off the path to the first screen
    from console.store.evaluation import EvaluationStore, Label

QUEUE_LIMIT = 300
LABELLED_LIMIT = 100
CHUNK = 500
FIRST_CHUNK = 100  # a scoring loop's first step: the queue's first entries come from it


@dataclass(frozen=True, slots=True)
class QueueItem:
    record: RequestRecord
    score: float | None  # the lowest score, None when unscored (labelled from elsewhere)
    scores: tuple[tuple[str, float, str], ...] = ()  # (scorer, score, reason), lowest first
    label: Label | None = None

    @property
    def request_id(self) -> str:
        return self.record.request_id

    @property
    def verdict(self) -> str | None:
        return self.label.verdict if self.label else None

    def reasons(self, below: float) -> list[str]:
        """'scorer: reason' for each score under `below` (the lowest one when none is)."""
        low = [f"{name}: {reason}" if reason else name for name, score, reason in self.scores if score < below]
        if not low and self.scores:
            name, _score, reason = self.scores[0]
            low = [f"{name}: {reason}"]
        return low


@dataclass(frozen=True, slots=True)
class ErrorsWindow:
    """The time the provider-error lines count: the figures' window (its name) ending at their
    now, so an outage's count is the one the panes' error rates show, not the store's history."""

    name: str  # "1h", "all", ...
    now: float

    @property
    def since(self) -> float | None:
        return window_start(self.now, self.name)


@dataclass(frozen=True, slots=True)
class Queue:
    items: list[QueueItem]
    left: int  # unlabelled requests under the threshold, all of them
    below: float
    provider_errors: tuple[ErrorGroup, ...] = ()  # one per (model, error type), most first
    errors_window: str | None = None  # the window the provider errors are counted in; None: all stored

    @property
    def provider_error_count(self) -> int:
        return sum(group.count for group in self.provider_errors)


def build_queue(
    evaluation: EvaluationStore, below: float, limit: int = QUEUE_LIMIT, labelled_limit: int = LABELLED_LIMIT,
    errors_window: ErrorsWindow | None = None,
) -> Queue:
    """The queue; its provider-error lines count `errors_window` (the whole store when None)."""
    low, count = evaluation.low_scored_and_count(below, limit)
    labels = evaluation.current_labels(limit=labelled_limit)
    ids = [rid for rid, _ in low] + [label.request_id for label in labels]
    records = evaluation.records(ids)
    scores = evaluation.scores_of(ids)
    # (a store scored before provider errors were left out still holds their 0.0 scores)
    items = [
        QueueItem(records[rid], score, tuple(scores.get(rid, ())))
        for rid, score in low
        if rid in records and not is_provider_error(records[rid])
    ]
    unlabelled = len(items)
    for label in labels:
        record = records.get(label.request_id)
        if record is not None:
            found = tuple(scores.get(label.request_id, ()))
            items.append(QueueItem(record, found[0][1] if found else None, found, label))
    left = count if len(low) >= limit else unlabelled
    bounds = () if errors_window is None else (errors_window.since, errors_window.now)
    errors = tuple(group_errors(evaluation.provider_error_counts(*bounds)))
    return Queue(items, left, below, errors, errors_window.name if errors_window else None)


@dataclass(slots=True)
class StepResult:
    seen: int = 0  # requests looked at
    scored: int = 0  # of them, sampled and scored
    failures: list[ScorerFailure] = field(default_factory=list)


def merge_ranges(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """(low, high] id ranges made disjoint (overlapping or touching ones joined), highest first."""
    merged: list[tuple[int, int]] = []
    for low, high in sorted((r for r in ranges if r[1] > r[0]), reverse=True, key=lambda r: r[1]):
        if merged and high >= merged[-1][0]:
            merged[-1] = (min(low, merged[-1][0]), merged[-1][1])
        else:
            merged.append((low, high))
    return merged


class ScoringLoop:
    """Scores what the store holds and what arrives, newest first, a chunk per `step()`.

    What is left is a list of row-id ranges (low, high], highest first: at start, the rows
    after the newest scored request, and whatever an earlier console left unscored (the
    store's scoring_backlog). Each step takes the rows that arrived since as a range on top,
    then scores the highest range downwards and saves what is left with the scores. The
    first step is FIRST_CHUNK rows, so the triage queue's first entries are the newest
    requests' and come at once; a console closed mid-backlog leaves the rest to the next.
    """

    def __init__(self, evaluation: EvaluationStore, settings: Settings, scorers: list[Scorer] | None = None) -> None:
        self.evaluation = evaluation
        self.sampler = Sampler(settings.evaluation, settings.slos)
        self.scorers = scorers if scorers is not None else build_scorers(settings)
        self.top = evaluation.newest_id()
        scored_through = evaluation.scored_through()
        self._saved = evaluation.scoring_backlog()  # as the store holds it
        self.ranges = merge_ranges([*self._saved, (scored_through, self.top)])
        self.left = sum(evaluation.count_between(low, high) for low, high in self.ranges)
        self.done = 0
        self.total = self.left  # the backlog at start; grows with arrivals
        self.failure_count = 0
        self.first = True

    @property
    def backlog(self) -> int:
        return max(self.total - self.done, 0)

    def _take_arrivals(self) -> None:
        newest = self.evaluation.newest_id()
        if newest > self.top:
            self.left += self.evaluation.count_between(self.top, newest)
            self.ranges = merge_ranges([(self.top, newest), *self.ranges])
            self.top = newest
            self.total = self.done + self.left

    def step(self, limit: int = CHUNK, interrupt: Callable[[], bool] | None = None) -> StepResult:
        """Score the next chunk, newest first. `interrupt()` is asked after each scored
        request: when it says so the step ends there (what was scored is kept), so a slow
        scorer such as the judge never holds up whoever is waiting for the thread."""
        self._take_arrivals()
        if self.first:
            limit = min(limit, FIRST_CHUNK)
        result = StepResult()
        rows = []
        while self.ranges and not rows:
            low, high = self.ranges[0]
            rows = self.evaluation.requests_down_from(high, low, limit)
            if not rows:  # nothing left in it (ids are not always contiguous)
                self.ranges.pop(0)
        if not rows:  # caught up
            if self._saved:
                self.evaluation.save_scoring_backlog([])
                self._saved = []
            self.total, self.left = self.done, 0
            return result
        self.first = False
        sampled = {row.request_id for row in rows if self.sampler(row)}
        records = self.evaluation.records([row.request_id for row in rows if row.request_id in sampled])
        written = []
        for row in rows:
            result.seen += 1
            record = records.get(row.request_id)
            if record is None or is_provider_error(record):  # counted per model and type, not judged
                continue
            outcome = score_record(record, self.scorers)
            result.failures.extend(outcome.failures)
            written.extend((row.request_id, s.scorer, s.score, s.reason) for s in outcome.scores)
            result.scored += 1
            if interrupt is not None and interrupt():
                break
        below = rows[result.seen - 1].id - 1  # the range goes on under the last row looked at
        if below > low and not (result.seen == len(rows) < limit):
            self.ranges[0] = (low, below)
        else:
            self.ranges.pop(0)
        self.evaluation.write_scores(written, backlog=self.ranges)
        self._saved = list(self.ranges)
        self.done += result.seen
        self.left = max(self.left - result.seen, 0)
        self.total = max(self.total, self.done)
        self.failure_count += len(result.failures)
        return result

    def run_backlog(self, on_progress=None) -> int:
        """Score everything not scored yet (headless use); returns how many were scored."""
        scored = 0
        while True:
            step = self.step()
            scored += step.scored
            if on_progress is not None:
                on_progress(self.done, self.total, step)
            if not step.seen:
                return scored
