"""What the evaluation worker posts to the UI (scoring progress, the queue, labels)."""

from __future__ import annotations

from pathlib import Path

from textual.message import Message

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # types only: the labeller pulls in the store (SQLAlchemy)
    from console.evaluation.labels import LabelOutcome
    from console.evaluation.triage import Queue


class ScoringProgress(Message):
    """How far scoring got: `done` of `total` requests looked at since the console started."""

    def __init__(self, done: int, total: int, failures: int) -> None:
        super().__init__()
        self.done = done
        self.total = total
        self.failures = failures

    @property
    def backlog(self) -> int:
        return max(self.total - self.done, 0)


class QueueReady(Message):
    """A fresh triage queue, computed off the UI thread."""

    def __init__(self, queue: Queue) -> None:
        super().__init__()
        self.queue = queue


class LabelDone(Message):
    """A label was saved (or undone), with what happened to the regression case."""

    def __init__(self, outcome: LabelOutcome) -> None:
        super().__init__()
        self.outcome = outcome


class EvaluationNotice(Message):
    """Something for the user to read: a scorer failure, a label that could not be made."""

    def __init__(self, text: str, severity: str = "information", title: str = "Evaluation") -> None:
        super().__init__()
        self.text = text
        self.severity = severity
        self.title = title


class CaseEditReady(Message):
    """The case is in a file of its own; the UI runs $EDITOR on it, then hands it back."""

    def __init__(self, case_id: str, path: Path) -> None:
        super().__init__()
        self.case_id = case_id
        self.path = path
