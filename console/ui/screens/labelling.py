"""Label keys shared by the triage queue and the request detail: b, o, n, u, e.

`b` asks for a reason with a digit (a small modal: 1-9 picks, Enter saves without a
reason, Esc cancels), so a bad label with its reason is two keystrokes. `o` marks good at
once. The work (store, cases file, analytics) happens on the evaluation thread; the screens
only send the request through `app.evaluation`.
"""

from __future__ import annotations

from typing import Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from console.records import RequestRecord
from console.sanitize import one_line
from console.ui.read_only import HidesWritingActions

LABEL_BINDINGS = [
    Binding("b", "mark_bad", "Bad", id="triage.bad"),  # short: the footer fits 80 columns
    Binding("o", "mark_good", "Good", id="triage.good"),
    Binding("n", "note", "Note", id="triage.note"),
    Binding("u", "undo_label", "Undo", id="triage.undo"),
    Binding("e", "edit_case", "Edit case", id="triage.edit_case"),
]


class ReasonModal(ModalScreen[str | None]):
    """Why it is bad: a digit picks a reason; Enter: no reason; Esc: do not label."""

    BINDINGS = [
        Binding("enter", "pick(0)", "Bad, no reason (a digit picks one)", id="reason.none"),
        Binding("escape", "cancel", "Cancel", id="reason.cancel"),
    ]

    DEFAULT_CSS = """
    ReasonModal { align: center middle; }
    ReasonModal > Vertical {
        width: 46; height: auto; border: thick $error; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, reasons: Sequence[str], request_id: str) -> None:
        super().__init__()
        self.reasons = list(reasons)[:9]
        self.request_id = request_id

    def compose(self) -> ComposeResult:
        lines = Text(f"Mark {one_line(self.request_id)} bad: why?\n", style="bold")
        for number, reason in enumerate(self.reasons, 1):
            lines.append(f"  {number}", style="bold yellow")
            lines.append(f"  {one_line(reason)}\n")
        lines.append("  enter: no reason · esc: cancel", style="dim")
        with Vertical():
            yield Static(lines, id="reason-list")

    def on_key(self, event) -> None:
        """The digits pick from the list on screen (they are the list's own keys)."""
        if event.character and event.character in "123456789" and len(event.character) == 1:
            event.stop()
            self.action_pick(int(event.character))

    def action_pick(self, number: int) -> None:
        if number == 0:
            self.dismiss("")
        elif number <= len(self.reasons):
            self.dismiss(self.reasons[number - 1])

    def action_cancel(self) -> None:
        self.dismiss(None)


class NoteModal(ModalScreen[str | None]):
    """The note field. `about` adds to its heading which request it is (the one just labelled);
    `refusal` says why a note cannot be kept there: the field opens anyway, so what is typed
    after `n` goes into it and never runs as keys (o marking good, e opening an editor)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="note.cancel")]

    DEFAULT_CSS = """
    NoteModal { align: center middle; }
    NoteModal > Vertical { width: 80; height: auto; border: thick $accent; background: $surface; padding: 0 1; }
    """

    def __init__(
        self, request_id: str | None, current: str | None = None, *, about: str = "", refusal: str | None = None
    ) -> None:
        super().__init__()
        self.request_id = request_id
        self.current = current
        self.about = about
        self.refusal = refusal

    def compose(self) -> ComposeResult:
        on = f" on {one_line(self.request_id)}" if self.request_id else ""
        with Vertical():
            if self.refusal is None:
                heading = f"Note{on}{one_line(self.about)} (enter saves, esc cancels)"
                yield Static(Text(heading, style="bold"), id="note-heading")
            else:
                yield Static(Text(f"No note can be kept{on}", style="bold"), id="note-heading")
                yield Static(Text(one_line(self.refusal) + " (esc closes)", style="yellow"), id="note-refusal")
            placeholder = "what is wrong, what it should say…" if self.refusal is None else "(not kept)"
            yield Input(value=self.current or "", placeholder=placeholder, id="note-input")

    @on(Input.Submitted, "#note-input")
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


UNKNOWN = "unknown"  # verdict_of: the screen cannot tell (the evaluation thread knows)
NOTE_NEEDS_LABEL = "a note goes with a label, and {rid} has none: mark it bad (b) or good (o) first, then n"


class LabelActions(HidesWritingActions):
    """Mixed into a Screen: label_target() names the request the keys act on (the keys are
    hidden in a read-only console)."""

    def verdict_of(self, request_id: str) -> str | None:
        """The request's verdict as this screen knows it (None: unlabelled), or UNKNOWN."""
        return UNKNOWN

    def _feed(self):
        app = self.app  # type: ignore[attr-defined]
        start = getattr(app, "start_evaluation", None)
        if start is not None:
            start()  # a label or note sent before scoring started is served now, not in 15 s
        return app.evaluation

    def label_target(self) -> RequestRecord | None:  # pragma: no cover (overridden)
        return None

    def labelled(self, request_id: str, verdict: str, reason: str | None) -> None:
        """Called once a label is sent (the screen may move on to the next request)."""

    def noted(self, request_id: str) -> None:
        """Called once a note is sent."""

    def note_target(self) -> tuple[RequestRecord | None, str]:
        """The request `n` writes on, and what the note field's heading adds about it."""
        return self.label_target(), ""

    def no_target_reason(self) -> str:
        """What the label keys say when label_target() is None."""
        return "no request selected"

    def _target_or_say(self) -> RequestRecord | None:
        record = self.label_target()
        if record is None:
            self.app.notify(self.no_target_reason(), title="Label", markup=False)  # type: ignore[attr-defined]
        return record

    def action_mark_bad(self) -> None:
        record = self._target_or_say()
        if record is None:
            return
        app = self.app  # type: ignore[attr-defined]
        reasons = app.settings.evaluation.reasons

        def chosen(reason: str | None) -> None:
            if reason is None:
                return
            self._feed().mark(record.request_id, "bad", reason or None)
            self.labelled(record.request_id, "bad", reason or None)

        app.push_screen(ReasonModal(reasons, record.request_id), chosen)

    def action_mark_good(self) -> None:
        record = self._target_or_say()
        if record is not None:
            self._feed().mark(record.request_id, "good")
            self.labelled(record.request_id, "good", None)

    def action_note(self) -> None:
        """The note field opens whatever the answer: a refusal said in a toast left the note
        the user went on typing to run as keys (three requests marked good, `e` fired)."""
        record, about = self.note_target()
        app = self.app  # type: ignore[attr-defined]
        request_id = record.request_id if record is not None else None
        refusal = None
        if record is None:
            refusal = self.no_target_reason()
        elif self.verdict_of(record.request_id) is None:  # said before anything is typed
            refusal = NOTE_NEEDS_LABEL.format(rid=one_line(record.request_id))

        def written(text: str | None) -> None:
            if text is None:
                return
            if refusal is not None:
                if text.strip():  # given back, to be written again once it can be kept
                    app.notify(f"the note was not kept: “{one_line(text)}”: {refusal}", title="Note", markup=False)
                return
            self._feed().note(record.request_id, text)
            self.noted(record.request_id)

        app.push_screen(NoteModal(request_id, about=about, refusal=refusal), written)

    def action_undo_label(self) -> None:
        self._feed().undo()

    def action_edit_case(self) -> None:
        record = self._target_or_say()
        if record is not None:
            self._feed().prepare_edit(record.request_id)
