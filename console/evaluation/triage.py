"""The triage queue and the scoring loop that fills it (no Textual: the UI's worker runs them).

The queue: requests whose lowest score is under `evaluation.queue_below` and that nobody
has labelled yet, lowest score first (newest first on ties), each with the reasons of its
low scores; then the labelled requests (newest label first), so a verdict can be seen,
changed or undone. `left` counts the unlabelled ones, all of them, not only those shown.
Provider errors (rate limits, 5xx, timeouts: console.evaluation.provider_errors) are not
scored and not in it: the queue carries them as one line per (model, error type).

The scoring loop reads the store in id order from where scoring last stopped (the newest
request that has scores), keeps the sampled requests, runs every scorer on them and writes
the scores: the same code scores a backlog of a million rows and the few that arrive each
second, a chunk at a time, so its caller can report progress and stay responsive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

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
class Queue:
    items: list[QueueItem]
    left: int  # unlabelled requests under the threshold, all of them
    below: float
    provider_errors: tuple[ErrorGroup, ...] = ()  # one per (model, error type), most first

    @property
    def provider_error_count(self) -> int:
        return sum(group.count for group in self.provider_errors)


def build_queue(
    evaluation: EvaluationStore, below: float, limit: int = QUEUE_LIMIT, labelled_limit: int = LABELLED_LIMIT
) -> Queue:
    from console.store.error_groups import error_counts

    low = evaluation.low_scored(below, limit)
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
    left = evaluation.count_low_unlabelled(below) if len(low) >= limit else unlabelled
    return Queue(items, left, below, tuple(group_errors(error_counts(evaluation.engine))))


@dataclass(slots=True)
class StepResult:
    seen: int = 0  # requests looked at
    scored: int = 0  # of them, sampled and scored
    failures: list[ScorerFailure] = field(default_factory=list)


class ScoringLoop:
    """Scores what arrives in the store, a chunk per `step()`."""

    def __init__(self, evaluation: EvaluationStore, settings: Settings, scorers: list[Scorer] | None = None) -> None:
        self.evaluation = evaluation
        self.sampler = Sampler(settings.evaluation, settings.slos)
        self.scorers = scorers if scorers is not None else build_scorers(settings)
        self.after_id = evaluation.scored_through()
        self.done = 0
        self.total = evaluation.count_after(self.after_id)  # the backlog at start; grows with arrivals
        self.failure_count = 0

    @property
    def backlog(self) -> int:
        return max(self.total - self.done, 0)

    def step(self, limit: int = CHUNK, interrupt: Callable[[], bool] | None = None) -> StepResult:
        """Score the next chunk. `interrupt()` is asked after each scored request: when it
        says so the step ends there (what was scored is kept), so a slow scorer such as the
        judge never holds up whoever is waiting for the thread."""
        rows = self.evaluation.requests_after(self.after_id, limit)
        result = StepResult()
        if not rows:
            self.total = self.done  # caught up
            return result
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
        self.evaluation.write_scores(written)
        self.after_id = rows[result.seen - 1].id
        self.done += result.seen
        self.total = max(self.total, self.done)
        self.failure_count += len(result.failures)
        return result

    def run_backlog(self, on_progress=None) -> int:
        """Score everything not scored yet (headless use); returns how many were scored."""
        scored = 0
        self.total = self.done + self.evaluation.count_after(self.after_id)
        while True:
            step = self.step()
            scored += step.scored
            if on_progress is not None:
                on_progress(self.done, self.total, step)
            if not step.seen:
                return scored

    def note_arrivals(self) -> None:
        """Recount what is left after after_id (call now and then: arrivals grow the total)."""
        self.total = self.done + self.evaluation.count_after(self.after_id)
