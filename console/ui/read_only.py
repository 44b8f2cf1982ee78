"""A read-only console (`llmops-console serve`, the default off loopback): what a viewer may
not do is hidden, not merely refused — the keys that label a request or start a regression
run leave the footer, the help's actions do nothing, and the header says read-only.

Textual asks the node that owns an action (`check_action`) both before drawing its key in
the footer and before running it, so one check per owner covers keys, clicks and the
palette's `run_action`; the app's own `action_regress` also refuses calls made from code
(the Versions pane's and the prompts screen's `R`)."""

from __future__ import annotations

from textual.types import NoActiveAppError

from console.ui.screens.help import BindingScope

# Actions that write a label, a note or a regression case, or start a suite run.
WRITING_ACTIONS = frozenset({
    "mark_bad", "mark_good", "note", "undo_label", "edit_case",  # labelling (screens/labelling.py)
    "regress", "run_suite", "run_candidate", "mark_baseline",  # regression runs
})  # fmt: skip

READ_ONLY_NOTE = "this console is read-only: labelling and regression runs are off"


def is_read_only(node) -> bool:
    """The app the node belongs to was started read-only (False outside an app)."""
    try:
        return bool(getattr(node.app, "read_only", False))
    except NoActiveAppError:
        return False


class HidesWritingActions:
    """Mixed in ahead of a Screen or Widget: its writing actions are off in a read-only app."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in WRITING_ACTIONS and is_read_only(self):
            return False
        return super().check_action(action, parameters)  # type: ignore[misc]


def without_writing(scopes: list[BindingScope]) -> list[BindingScope]:
    """The help's keys a read-only console has (labelling and run keys left out)."""
    return [(where, [b for b in bindings if b.action not in WRITING_ACTIONS]) for where, bindings in scopes]
