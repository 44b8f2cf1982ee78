"""The request detail says the request's label: the stored one when opened, then what b, o
and u did there.

Found in the demo's user trial: Enter on a request, then b or o, and only a toast said it;
the detail never showed a label, nor the one stored before it was opened."""

from __future__ import annotations

from conftest import wait_until
from console.ui.screens.labelled_detail import LabelledDetailScreen
from console.ui.screens.labelling import NoteModal, ReasonModal
from test_triage import app, cases_file, story  # noqa: F401 (fixtures)


def label_shown(console_app) -> str:
    return str(console_app.screen.query_one("#detail-label").render())


async def test_b_o_and_u_on_the_detail_show_the_label_and_a_reopened_detail_reads_it(app):  # noqa: F811
    async with app.run_test(size=(200, 60)) as pilot:
        await wait_until(pilot, lambda: len(app.requests_view.rows) == 40)
        await pilot.press("enter")  # the newest request, a fine v8 answer
        assert isinstance(app.screen, LabelledDetailScreen)
        await wait_until(pilot, lambda: label_shown(app) == "Label: none")  # asked of the store
        await pilot.press("b")
        await wait_until(pilot, lambda: isinstance(app.screen, ReasonModal))
        await pilot.press("2")
        assert label_shown(app).startswith("Label: bad (hallucination)")  # at once, before the store has it
        await wait_until(pilot, lambda: "by oncall-ana" in label_shown(app))  # the stored label: its author
        assert label_shown(app).startswith("Label: bad (hallucination) · by oncall-ana ")
        await pilot.press("o")
        await wait_until(pilot, lambda: label_shown(app).startswith("Label: good · by oncall-ana"))
        await pilot.press("u")  # the bad label is the verdict again
        await wait_until(pilot, lambda: label_shown(app).startswith("Label: bad (hallucination) · by oncall-ana"))
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, NoteModal))
        await pilot.press(*"plan name wrong", "enter")
        await wait_until(pilot, lambda: label_shown(app).endswith(" · note: plan name wrong"))

        await pilot.press("escape", "enter")  # opened again: the store's label, not "none"
        assert isinstance(app.screen, LabelledDetailScreen)
        await wait_until(pilot, lambda: label_shown(app).startswith("Label: bad (hallucination) · by oncall-ana"))
