"""The requests table keeps a row's prompt version whole (found in the user trial of the demo:
ticket-classifier@v3 and @v4, summarize-thread@v2 read 'ticket-classifie…' at 80x24 and at
160x48, where the pane is 94 wide and takes the narrow columns, so a filter by version could not
be checked by eye). Narrow, the prompt id is cut ('ticket-classi…@v3'); with room, the column is
as wide as the longest prompt@version read. Maximized at 160x48 and wider, the pane ran off the
screen's right edge (no right border, rows cut mid-word): `#main > #requests` is 3fr wide, three
screen widths once the pane is laid out alone."""

from __future__ import annotations

import pytest

from conftest import line_of, make_record, wait_until
from console.ui.app import ConsoleApp
from console.ui.widgets.prompt_cell import prompt_ref_cell
from console.ui.widgets.requests_view import RequestsView
from test_requests_dates import lines

REFS = [("ticket-classifier", "v3"), ("ticket-classifier", "v4"), ("summarize-thread", "v2"), ("support-answer", "v7")]


def records() -> list[dict]:
    return [make_record(request_id=f"r-{i}", prompt_id=prompt, prompt_version=version, model="gpt-4o-mini")
            for i, (prompt, version) in enumerate(REFS)]  # fmt: skip


def prompt_cells(view: RequestsView, count: int) -> list[str]:
    """Each row's prompt@version cell, as drawn (the header's column edges)."""
    header, *rows = lines(view, count)
    start = header.index("prompt@version")
    end = start + next(c.width for c in view.columns if c.title == "prompt@version")
    return [row[start:end].strip() for row in rows]


def test_the_prompt_id_is_cut_and_the_version_kept():
    assert prompt_ref_cell("ticket-classifier", "v3", 17) == "ticket-classi…@v3"
    assert prompt_ref_cell("ticket-classifier", "v3", 20) == "ticket-classifier@v3"
    assert prompt_ref_cell("ticket-classifier", "v3", 5) == "t…@v3"
    assert prompt_ref_cell("ticket-classifier", "v3", 4) == "…@v3"
    # a version wider than the column: its end, where versions differ, is kept
    assert prompt_ref_cell("summarize", "2026-12-01-hotfix-2", 12) == "…01-hotfix-2"
    assert prompt_ref_cell("摘要-thread", "v2", 7) == "摘…@v2"  # cells counted, not characters


def test_model_text_in_the_cell_is_made_safe():
    cell = prompt_ref_cell("[bold red]x\x1b[2J", "v1\x1b]8;;http://e\x07", 40)
    assert "\x1b" not in cell and "\x07" not in cell
    assert cell.startswith("[bold red]x")  # shown as text: the row is drawn as segments, never markup


WHOLE = [f"{prompt}@{version}" for prompt, version in REFS]
CUT = None  # as wide as the narrow layout leaves (17, or 19 with no scrollbar): ids cut, versions whole


def _app(tmp_path) -> ConsoleApp:
    log = tmp_path / "app.jsonl"
    log.write_text("".join(line_of(r) for r in records()))
    return ConsoleApp(sources=[str(log)], store_url=f"sqlite:///{tmp_path / 's.db'}")


@pytest.mark.parametrize(("size", "expected"), [((80, 24), CUT), ((160, 48), WHOLE), ((200, 60), WHOLE)],
                         ids=["80x24", "160x48", "200x60"])  # fmt: skip
async def test_each_row_shows_its_version_and_with_room_the_whole_prompt(tmp_path, size, expected):
    """80x24: the narrow columns, the id cut. 160x48: the pane is 94 wide, narrow columns too,
    with room for the longest prompt@version. 200x60: the wide columns."""
    app = _app(tmp_path)
    async with app.run_test(size=size) as pilot:
        view = app.requests_view
        await wait_until(pilot, lambda: len(view.rows) == len(REFS))
        await pilot.pause()
        assert view.narrow == (size[0] < 200)
        cells = prompt_cells(view, len(REFS))
        if expected is CUT:
            for cell, (prompt, version) in zip(cells, REFS):
                shown_id = cell.removesuffix(f"@{version}")
                assert shown_id != cell and prompt.startswith(shown_id.removesuffix("…")), cells
            assert cells[0].endswith("…@v3") and len(cells[0]) <= 19 and cells[3] == "support-answer@v7"
        else:
            assert cells == expected
        # the output column is still there, the row not cut at the pane's edge
        assert view.virtual_size.width <= view.scrollable_content_region.width
        assert ("output / error" if size[0] >= 160 else "output / …") in lines(view, 0)[0]  # ten cells at 80


@pytest.mark.parametrize("size", [(80, 24), (160, 48), (200, 60)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_maximized_requests_pane_fits_the_screen(tmp_path, size):
    app = _app(tmp_path)
    async with app.run_test(size=size) as pilot:
        view = app.requests_view
        await wait_until(pilot, lambda: len(view.rows) == len(REFS))
        await pilot.press("1", "m")
        await wait_until(pilot, lambda: app.dashboard.maximized is view)
        await pilot.pause()
        assert view.outer_size.width == size[0], view.outer_size
        screen = [strip.text for strip in app.screen._compositor.render_strips()]
        top = next(line for line in screen if "Requests" in line)
        assert top.startswith("╭") and top.endswith("╮"), top  # both corners on screen
        cells = prompt_cells(view, len(REFS))
        assert all(cell.endswith(f"@{version}") for cell, (_, version) in zip(cells, REFS)), cells
        if size[0] >= 160:  # the wide columns: every prompt@version whole
            assert cells == WHOLE
