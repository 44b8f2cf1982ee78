"""Labelling a response: the verdict in the store, and the regression case that goes with it.

    labeller = Labeller(EvaluationStore(store), CaseFile(writable_cases_path(settings)))
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

A kill can land between the label's commit and the case's append, or between the append
and the commit of the case id on the label. So the writes are ordered, and what a crash
leaves half-done is finished when the next Labeller starts (`recover`, run by the
constructor: the evaluation thread's start, the headless commands):

1. the label row is committed with `case_pending` set (a case is owed) when the file has
   no case for the request yet (or the undo that makes an older bad label the verdict
   again sets it on that label);
2. the case is appended to the file (atomic: the whole line or nothing);
3. the label row records the case id, and `case_pending` is cleared (one UPDATE).

A label left pending is settled by what the file holds: its case there with this label's
provenance (source: triage, same request, author, time and reason) is recorded on it; its case
absent while it is still the request's bad verdict is appended (the append had not
happened); otherwise nothing is owed and the flag is cleared. Only pending labels are
looked at: a case a person deleted from the file under a label that recorded it stays
deleted, and a case with the same id that this label did not write is never recorded as
its own.
"""

from __future__ import annotations

import dataclasses
import getpass
import os
import time
from dataclasses import dataclass
from typing import Callable, Sequence

import msgspec

from console.cases.file import CaseFile, CaseFileError
from console.cases.format import CaseError, RegressionCase
from console.config import Slo
from console.evaluation.regression_set import case_from_record, case_id_for, legacy_case_id
from console.evaluation.sampling import slo_limit_ms
from console.formatting import rfc3339
from console.store.evaluation import VERDICTS, EvaluationStore, Label


class LabelError(Exception):
    """A label that cannot be made; the message is meant for the user."""


@dataclass(frozen=True, slots=True)
class Recovery:
    """What starting a Labeller finished of the labelling a crash interrupted."""

    added: tuple[str, ...] = ()  # cases appended for bad labels that were owed one
    recorded: tuple[str, ...] = ()  # cases in the file now recorded on the label that wrote them
    removed: tuple[str, ...] = ()  # cases of labels that are no longer the verdict
    errors: tuple[str, ...] = ()  # the cases file could not follow (retried on the next start)

    def __bool__(self) -> bool:
        return bool(self.added or self.recorded or self.removed or self.errors)

    def describe(self) -> str:
        parts = []
        if self.added:
            parts.append(f"{len(self.added)} case(s) appended for labels a crash interrupted")
        if self.recorded:
            parts.append(f"{len(self.recorded)} case(s) recorded on their labels")
        if self.removed:
            parts.append(f"{len(self.removed)} case(s) removed")
        if self.errors:
            parts.append("the cases file could not follow: " + "; ".join(self.errors))
        return ", ".join(parts)


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
        recover: bool = True,
        slos: Sequence[Slo] = (),
        refusal_phrases: Sequence[str] = (),
    ) -> None:
        """slos and refusal_phrases (llmops.toml's) shape the assertions of the cases written."""
        self.evaluation = evaluation
        self.slos = tuple(slos)
        self.refusal_phrases = tuple(refusal_phrases)
        self.cases = cases
        self.author = author or default_author()
        self.clock = clock
        self._made: list[int] = []  # label ids made in this session, for undo
        self.recovered = self.recover() if recover else Recovery()

    def recover(self) -> Recovery:
        """Finish the labels a crash left with their case pending (see the module docstring)."""
        pending = self.evaluation.pending_labels()
        if not pending:
            return Recovery()
        added, recorded, removed, errors = [], [], [], []
        try:
            in_file = self.cases.ids()
        except OSError as exc:
            return Recovery(errors=(f"{self.cases.path}: {exc.strerror or exc}",))
        for label in pending:
            case_id = next((c for c in _case_ids(label.request_id) if c in in_file), case_id_for(label.request_id))
            try:
                if case_id in in_file:
                    if self._settle(label, case_id):
                        recorded.append(case_id)
                else:
                    current = self.evaluation.current_label(label.request_id)
                    if current is None or current.id != label.id or current.verdict != "bad":
                        self.evaluation.set_case_pending(label.id, False)  # no longer owed
            except OSError as exc:  # left pending: tried again on the next start
                errors.append(f"{self.cases.path}: {exc.strerror or exc}")
                continue
            case_added, case_removed, error = self._reconcile_safely(label.request_id)
            added += [case_added] if case_added else []
            removed += [case_removed] if case_removed else []
            errors += [error] if error else []
        return Recovery(tuple(added), tuple(recorded), tuple(removed), tuple(dict.fromkeys(errors)))

    @property
    def can_undo(self) -> bool:
        return bool(self._made)

    def mark(self, request_id: str, verdict: str, reason: str | None = None, note: str | None = None) -> LabelOutcome:
        if verdict not in VERDICTS:
            raise LabelError(f"a verdict is bad or good, not {verdict!r}")
        if not self.evaluation.records([request_id]):
            raise LabelError(f"no request {request_id} in the store")
        label = self.evaluation.add_label(
            request_id, verdict, author=self.author, reason=reason, note=note, created_at=self.clock(),
            case_pending=verdict == "bad" and not self._has_case(request_id),
        )  # fmt: skip
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
            kept = f": “{note.strip()[:200]}”" if note.strip() else ""
            raise LabelError(f"{request_id} has no label, so the note was not kept{kept}; mark it bad (b) or good (o) first")
        text = note.strip() or None
        self.evaluation.set_note(current.id, text)
        case_id = self.case_id(request_id)
        if current.verdict == "bad" and self.evaluation.added_case(request_id):
            case = self.cases.get(case_id)
            if case is not None and case.source is not None:
                source = msgspec.structs.replace(case.source, note=text)
                self.cases.replace(case_id, msgspec.structs.replace(case, source=source))
        return dataclasses.replace(current, note=text)

    def case_id(self, request_id: str) -> str:
        """The request's case id: the one in the file (a case made before ids stopped reading
        'req-req_…' keeps its id), else the one a new case gets."""
        for case_id in _case_ids(request_id):
            if case_id in self.cases:
                return case_id
        return case_id_for(request_id)

    def _reconcile_safely(self, request_id: str) -> tuple[str | None, str | None, str | None]:
        try:
            return (*self._reconcile(request_id), None)
        except CaseFileError as exc:
            return None, None, str(exc)
        except OSError as exc:
            return None, None, f"{self.cases.path}: {exc.strerror or exc}"

    def _has_case(self, request_id: str) -> bool:
        try:
            return any(case_id in self.cases for case_id in _case_ids(request_id))
        except OSError:  # unreadable: a case may be owed (the append will say why it cannot)
            return False

    def _settle(self, label: Label, case_id: str) -> bool:
        """A pending label whose case id is in the file: record it if the label wrote that
        case (True), else clear the flag (someone else's case has the id)."""
        try:
            case = self.cases.get(case_id)
        except CaseError:  # a line a person broke: not provably ours
            case = None
        if case is not None and _written_by(case, label):
            self.evaluation.set_case(label.id, case_id)
            return True
        self.evaluation.set_case_pending(label.id, False)
        return False

    def _reconcile(self, request_id: str) -> tuple[str | None, str | None]:
        """Make the cases file agree with the current verdict; returns (added, removed)."""
        current = self.evaluation.current_label(request_id)
        case_id = self.case_id(request_id)
        if current is not None and current.verdict == "bad":
            if case_id in self.cases:
                if current.case_pending:  # there already: recorded only if this label wrote it
                    self._settle(current, case_id)
                return None, None
            record = self.evaluation.records([request_id]).get(request_id)
            if record is None:
                if current.case_pending:
                    self.evaluation.set_case_pending(current.id, False)
                return None, None
            case = case_from_record(
                record, reason=current.reason, note=current.note, who=current.author, when=current.created_at,
                slo_ms=slo_limit_ms(self.slos, record.model), refusal_phrases=self.refusal_phrases,
            )  # fmt: skip
            if not current.case_pending:  # (undo made an older bad label the verdict again)
                self.evaluation.set_case_pending(current.id, True)
            if self.cases.append(case):
                self.evaluation.set_case(current.id, case_id)
                return case_id, None
            self.evaluation.set_case_pending(current.id, False)  # another writer's case got there first
            return None, None
        if self.evaluation.added_case(request_id) and self.cases.remove(case_id):
            return None, case_id
        return None, None


def _case_ids(request_id: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys((case_id_for(request_id), legacy_case_id(request_id))))


def _written_by(case: RegressionCase, label: Label) -> bool:
    """Whether the case is the one `label` appended: made in triage from the same request,
    by the same author, at the label's time (to the second), for the same reason (what
    case_from_record writes)."""
    source = case.source
    return (
        source is not None
        and source.kind == "triage"
        and source.request_id == label.request_id
        and source.who == label.author
        and source.when == rfc3339(label.created_at, timespec="seconds")
        and source.reason == label.reason
    )
