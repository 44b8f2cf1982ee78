"""The user trial of `llmops-console demo` (NO_COLOR=1, 80x24 and 160x48): for its first
seconds the summary said 'OK support-chat · $0 in 1h' over 0 rows, then '✓ SLO every model
within its SLO' and '✓ bad' beside 'figures partial: catching up', before the real WARN, ✗ SLO
and ! bad; and at 80 columns the top spender read 'user u_9f…', the bad line 'c on it: comp…'
and the Versions pane's subtitle '1 ≠ regist…'. Each test drives the dashboard (or the pane)
in a Pilot and fails on the code the trial ran."""

from __future__ import annotations

from conftest import line_of, wait_until
from console.analytics.columns import Columns
from console.analytics.report import build_report
from console.live.events import RecordsArrived, ReportReady, SourceState
from console.records import parse_line
from test_alerts_screen import END, incident
from test_incident_summary import ORDER, rollout
from test_snapshots import SETTINGS, fixed_store

GREEN = ("OK     ", "✓ SLO", "✓ bad")


def report_of(rows):
    cols = Columns()
    cols.append([parse_line(line_of(r).strip()) for r in rows])
    return build_report(cols, END, "1h", SETTINGS)


def calm_report():
    """Within the $30 a month, gpt-4o within its 1 s SLO, every response rated, v7 alone."""
    rows = rollout(END)[:400]
    for row in rows:
        row["cost_usd"], row["model"] = 0.00001, "gpt-4o"
    return report_of(rows)


def screen_lines(app) -> list[str]:
    """The terminal's lines as drawn."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def screen_text(app) -> str:
    return "\n".join(screen_lines(app))


def summary_of(app) -> list[str]:
    lines = screen_lines(app)
    return [line for line in lines if line.startswith((" OK", " PAGE", " WARN", " …", " ✓", " ✗", " !", "   SLO", "   bad"))]


async def started(pilot, app):
    """The dashboard on the fixed store, its seeded figures drawn (the clock stopped: no
    recompute draws over what a test shows next)."""
    await wait_until(pilot, lambda: app.dashboard.report is not None and not app.dashboard.status_header.history
                     and len(app.dashboard.report.alerts) > 0)  # fmt: skip


def console_app(tmp_path, monkeypatch):
    from console.live.figures_clock import FiguresClock
    from console.ui.app import ConsoleApp

    monkeypatch.chdir(tmp_path)
    app = ConsoleApp(sources=[], store_url=fixed_store(tmp_path), settings=SETTINGS)
    app.feed.clock = FiguresClock(wall=lambda: END)
    return app


async def test_partial_figures_give_no_green_verdict_on_any_line(tmp_path, monkeypatch):
    app = console_app(tmp_path, monkeypatch)
    report = calm_report()
    async with app.run_test(size=(160, 48)) as pilot:
        await started(pilot, app)
        app.dashboard.show_report(ReportReady(report, "1h", report.requests, registry_order=ORDER))
        await pilot.pause()
        whole = summary_of(app)
        assert [line[:6].strip() for line in whole] == ["OK", "✓ SLO", "✓ bad"], whole  # the calm verdicts, once whole
        app.dashboard.show_report(ReportReady(report, "1h", report.requests, registry_order=ORDER, partial=True))
        await pilot.pause()
        loading = summary_of(app)
        assert len(loading) == 3 and not [line for line in loading if line.lstrip().startswith(GREEN)], loading
        assert "checking: figures still loading" in loading[1] and "checking: figures still loading" in loading[2]


async def test_a_firing_verdict_on_partial_figures_is_said_so_far(tmp_path, monkeypatch):
    app = console_app(tmp_path, monkeypatch)
    report = report_of(incident(END) + rollout(END))
    async with app.run_test(size=(160, 48)) as pilot:
        await started(pilot, app)
        app.dashboard.show_report(ReportReady(report, "1h", report.requests, registry_order=ORDER, partial=True))
        await pilot.pause()
        spend, slo, version = summary_of(app)
        assert spend.lstrip().startswith("…") and "no budget verdict yet" in spend  # as before
        assert slo.lstrip().startswith("✗ SLO  so far: gpt-4o p95 5.00s > 1.00s"), slo
        assert version.lstrip().startswith("! bad  so far: support-answer@v8"), version


async def test_the_tail_behind_after_the_report_withdraws_its_green_verdicts(tmp_path, monkeypatch):
    """The demo's first report came before the tail said it was 5,052 lines behind: it stayed
    'OK · $0 in 1h' and '✓ bad' until the next report."""
    app = console_app(tmp_path, monkeypatch)
    report = calm_report()
    async with app.run_test(size=(160, 48)) as pilot:
        await started(pilot, app)
        dashboard = app.dashboard
        dashboard.show_report(ReportReady(report, "1h", report.requests, registry_order=ORDER))
        await pilot.pause()
        assert summary_of(app)[1].lstrip().startswith("✓ SLO")
        behind = [SourceState("app.jsonl", "following", 10, 0, behind_lines=12_000)]
        dashboard.show_arrivals(RecordsArrived([], [], 0, behind))
        await pilot.pause()
        lines = summary_of(app)
        assert not [line for line in lines if line.lstrip().startswith(GREEN)], lines
        assert "figures partial: catching up" in screen_text(app)
        # caught up: the report drawn is older than the rows just read, so it is not redrawn
        # as whole; the next report is
        dashboard.show_arrivals(RecordsArrived([], [], 0, [SourceState("app.jsonl", "following", 12_010, 0)]))
        await pilot.pause()
        assert summary_of(app)[1].lstrip().startswith("…")
        dashboard.show_report(ReportReady(report, "1h", report.requests, registry_order=ORDER))
        await pilot.pause()
        assert summary_of(app)[1].lstrip().startswith("✓ SLO")


async def test_files_the_tail_has_not_read_yet_leave_the_figures_partial(tmp_path, monkeypatch):
    """0 stored, the tail not started on its files: 'OK support-chat · $0 in 1h' was a verdict on nothing."""
    app = console_app(tmp_path, monkeypatch)
    report = calm_report()
    async with app.run_test(size=(160, 48)) as pilot:
        await started(pilot, app)
        dashboard = app.dashboard
        dashboard.sources = ["support-chat.jsonl"]  # tailed, and no state from the tail yet
        dashboard.show_report(ReportReady(report, "1h", report.requests, registry_order=ORDER))
        await pilot.pause()
        assert not [line for line in summary_of(app) if line.lstrip().startswith(GREEN)], summary_of(app)
        dashboard.show_arrivals(RecordsArrived([], [], 0, [SourceState("support-chat.jsonl", "following", 0, 0)]))
        dashboard.show_report(ReportReady(report, "1h", report.requests, registry_order=ORDER))
        await pilot.pause()
        assert summary_of(app)[0].lstrip().startswith("OK")  # read once, nothing behind: the verdict


def spender_rows() -> list[dict]:
    """The demo's shape: the budget burning, the top spender a user id, a long model name,
    a version worse than its previous one."""
    rows = incident(END) + rollout(END)
    for i, row in enumerate(rows):
        row["model"] = "claude-sonnet-4-5" if row["model"] == "gpt-4o-mini" else row["model"]
        row["user_id"] = "u_9f3e07c1" if i % 3 == 0 else f"u_{i:06d}"
    return rows


async def test_at_80_columns_the_top_spender_and_the_compare_key_read_whole(tmp_path, monkeypatch):
    app = console_app(tmp_path, monkeypatch)
    report = report_of(spender_rows())
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, app)
        app.dashboard.show_report(ReportReady(report, "1h", report.requests, registry_order=ORDER))
        await pilot.pause()
        spend, slo, version = summary_of(app)
        # the top model first (the user after it when both fit: test_dashboard_trial_panes)
        assert spend.lstrip().startswith(("PAGE", "WARN")) and "claude-sonnet-4-5 $" in spend, spend
        assert "…" not in spend and "…" not in version, (spend, version)  # pieces left out whole, never cut
        assert version.rstrip().endswith("· c: compare"), version
        await pilot.resize_terminal(160, 48)  # wider: the longer wordings come back
        await pilot.pause()
        spend, _, version = summary_of(app)
        assert "top claude-sonnet-4-5 $" in spend and "c: compare, prompt diff" in version, (spend, version)


async def test_the_versions_subtitle_fits_at_80_columns(tmp_path):
    from textual.app import App

    from console.prompts.checks import DRIFT, UNREGISTERED
    from console.ui.widgets.versions_pane import VersionsPane

    report = report_of(spender_rows())

    class Host(App):
        def compose(self):
            yield VersionsPane(id="versions")

    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(VersionsPane)
        marks = {"support-answer@v7": DRIFT, "support-answer@v8": UNREGISTERED}
        pane.show(report, marks, ORDER)
        await pilot.pause()
        await pilot.pause()
        subtitle = str(pane.border_subtitle)
        assert "1 worse" in subtitle and "1 ≠ reg" in subtitle and "1 unreg" in subtitle, subtitle
        bottom = screen_lines(app)[pane.region.bottom - 1]
        assert "…" not in bottom and "1 unreg" in bottom, bottom  # drawn whole, not cut by the border


def test_pieces_are_fitted_by_cells_so_a_wide_user_id_is_left_out_not_cut():
    """A CJK user id takes two cells a character: fitted by len() it overflowed the line and
    was cut mid-name at its end."""
    from rich.cells import cell_len

    from console.ui.widgets.incident_summary import summary_lines

    rows = spender_rows()
    for i, row in enumerate(rows):
        row["user_id"] = "利用者九号二号三号四号五号" if i % 3 == 0 else f"u_{i:06d}"
    spend = summary_lines(report_of(rows), ORDER, width=80)[0]
    assert cell_len(spend.plain) <= 80, spend.plain
