"""Labelling a response: the verdict in the store, and the regression case that goes with it.

    labeller = Labeller(EvaluationStore(store), CaseFile(cases_path(settings)))
    outcome = labeller.mark("req_1", "bad", reason="hallucination")   # a case is appended
    labeller.undo()                                                  # the label and its case go

The cases file follows the current verdict of each request this console labelled:

- the verdict becomes bad and the file has no case for the request: one is appended, and
  the label row records its id (marking the same request again adds nothing);
- the verdict stops being bad (relabelled good, or undone) and a label of this store had
  added the case: the case is removed. A case someone wrote by hand, or another
  console added, is never removed from here.

Relabelling adds a row (history is kept); undo deactivates the last label made in this
session, and the label before it is the verdict again. The author is $USER.
"""

from __future__ import annotations

import dataclasses
import getpass
import os
import time
from dataclasses import dataclass
from typing import Callable

import msgspec

from console.evaluation.regression_set import CaseFile, CaseFileError, case_from_record, case_id_for
from console.store.evaluation import VERDICTS, EvaluationStore, Label


class LabelError(Exception):
    """A label that cannot be made; the message is meant for the user."""


@dataclass(frozen=True, slots=True)
class LabelOutcome:
    request_id: str
    verdict: str | None  # the request's verdict after the change (None: unlabelled)
    label: Label | None  # the label made, or undone
    case_added: str | None = None
    case_removed: str | None = None
    undone: bool = False
    case_error: str | None = None  # the label is saved, but the cases file could not follow

    def describe(self) -> str:
        if self.undone:
            what = f"undid {self.label.verdict if self.label else 'label'} on {self.request_id}"
            what += f"; now {self.verdict}" if self.verdict else "; now unlabelled"
        else:
            reason = f" ({self.label.reason})" if self.label and self.label.reason else ""
            what = f"{self.request_id} marked {self.verdict}{reason}"
        if self.case_added:
            what += f"; case {self.case_added} added"
        if self.case_removed:
            what += f"; case {self.case_removed} removed"
        if self.case_error:
            what += f"; the cases file was not changed: {self.case_error}"
        return what


def default_author() -> str:
    try:
        return os.environ.get("USER") or getpass.getuser() or "unknown"
    except Exception:  # noqa: BLE001 (no passwd entry in some containers)
        return "unknown"


class Labeller:
    def __init__(
        self,
        evaluation: EvaluationStore,
        cases: CaseFile,
        author: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.evaluation = evaluation
        self.cases = cases
        self.author = author or default_author()
        self.clock = clock
        self._made: list[int] = []  # label ids made in this session, for undo

    @property
    def can_undo(self) -> bool:
        return bool(self._made)

    def mark(self, request_id: str, verdict: str, reason: str | None = None, note: str | None = None) -> LabelOutcome:
        if verdict not in VERDICTS:
            raise LabelError(f"a verdict is bad or good, not {verdict!r}")
        if not self.evaluation.records([request_id]):
            raise LabelError(f"no request {request_id} in the store")
        label = self.evaluation.add_label(
            request_id, verdict, author=self.author, reason=reason, note=note, created_at=self.clock()
        )
        self._made.append(label.id)
        added, removed, error = self._reconcile_safely(request_id)
        return LabelOutcome(request_id, verdict, label, added, removed, case_error=error)

    def undo(self) -> LabelOutcome | None:
        """Undo the last label made in this session; None when there is none."""
        while self._made:
            label = self.evaluation.label(self._made.pop())
            if label is None or not label.active:
                continue
            self.evaluation.deactivate(label.id)
            added, removed, error = self._reconcile_safely(label.request_id)
            current = self.evaluation.current_label(label.request_id)
            return LabelOutcome(
                label.request_id, current.verdict if current else None, label, added, removed, True, error
            )
        return None

    def note(self, request_id: str, note: str) -> Label:
        """Set the note of the request's current label (and of the case it added)."""
        current = self.evaluation.current_label(request_id)
        if current is None:
            raise LabelError("mark the request bad or good first; the note goes with the label")
        text = note.strip() or None
        self.evaluation.set_note(current.id, text)
        case_id = case_id_for(request_id)
        if current.verdict == "bad" and self.evaluation.added_case(request_id):
            case = self.cases.get(case_id)
            if case is not None and case.source is not None:
                source = msgspec.structs.replace(case.source, note=text)
                self.cases.replace(case_id, msgspec.structs.replace(case, source=source))
        return dataclasses.replace(current, note=text)

    def _reconcile_safely(self, request_id: str) -> tuple[str | None, str | None, str | None]:
        try:
            return (*self._reconcile(request_id), None)
        except CaseFileError as exc:
            return None, None, str(exc)
        except OSError as exc:
            return None, None, f"{self.cases.path}: {exc.strerror or exc}"

    def _reconcile(self, request_id: str) -> tuple[str | None, str | None]:
        """Make the cases file agree with the current verdict; returns (added, removed)."""
        current = self.evaluation.current_label(request_id)
        case_id = case_id_for(request_id)
        if current is not None and current.verdict == "bad":
            if case_id in self.cases:
                return None, None
            record = self.evaluation.records([request_id]).get(request_id)
            if record is None:
                return None, None
            case = case_from_record(
                record, reason=current.reason, note=current.note, who=current.author, when=current.created_at
            )
            if self.cases.append(case):
                self.evaluation.set_case(current.id, case_id)
                return case_id, None
            return None, None
        if self.evaluation.added_case(request_id) and self.cases.remove(case_id):
            return None, case_id
        return None, None
