"""Three lines above the panes that answer the on-call questions in words, at any width.

At 80x24 only one side pane fits (the Budget pane), so the SLO breaches and the bad prompt
version were a key away; at 160 columns the Versions pane shows a bad rate without saying it
is worse than the version before. Each line starts with its verdict as a word or symbol
(PAGE/WARN/OK, ✗/✓, !/✓), never colour alone, and is fitted to one line (the pane has the rest):
its pieces in shorter wordings or left out whole, the ones that matter first. While the figures
are partial (history loading, the tail catching up) no OK/✓ is said ('…', checking), a firing
verdict is said 'so far'. The alerts themselves are on the header ("3 alerts: 1 PAGE, 2 WARN (a)").
"""

from __future__ import annotations

from typing import Mapping

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import Static

from console.analytics.budget import burn_figure
from console.analytics.compare_arms import MIN_REQUESTS, RegistryOrder, worse_versions
from console.analytics.report_types import Report
from console.formatting import usd
from console.sanitize import one_line
from console.ui.formatting import HIGH_ERROR_RATE, ms, percent

STATE_STYLE = {"page": "bold red", "warn": "bold yellow", "ok": "green"}
LABEL_WIDTH = 7  # "PAGE  " and "✗ SLO " line up


LOADING = "checking: figures still loading"
SO_FAR = "so far: "  # a firing verdict on partial figures (see _slo_line)
# one piece of a line: its wordings, longest first (the last that fits is used)
Piece = tuple[str, ...]


def summary_lines(
    report: Report, registry_order: Mapping[str, RegistryOrder] | None = None, partial: bool = False,
    width: int | None = None,
) -> list[Text]:
    """width: the line's cells (None: unbounded). Pieces that do not fit are left out whole,
    from the end, rather than cut mid-word: the top spender's id was 'u_9f…' at 80 columns."""
    text_width = None if width is None else max(width - LABEL_WIDTH, 1)
    return [_spend_line(report, partial, text_width), _slo_line(report, partial, text_width),
            _version_line(report, registry_order, partial, text_width)]


def _fit(pieces: list[Piece], width: int | None) -> str:
    """The first piece always (cut at the end if it must be); each next one in its longest
    wording that still fits, or left out."""
    text = pieces[0][0]
    for wordings in pieces[1:]:
        for wording in wordings:
            if width is None or cell_len(text) + 3 + cell_len(wording) <= width:  # a user id may be CJK
                text += f" · {wording}"
                break
    return text


def _line(verdict: str, style: str, text: str) -> Text:
    line = Text(verdict.ljust(LABEL_WIDTH), style=style)
    line.append(text)
    line.no_wrap, line.overflow = True, "ellipsis"
    return line


def _fit_most(pieces: list[Piece], width: int | None) -> str:
    """The first piece always, then the others that fit, an earlier one before any number of
    later ones, all in the same wording (the longest that fits for each of them, a piece with
    fewer wordings keeping its last): 80 columns held the top user or the top model, never
    both, while both fit in their shorter wordings."""
    first, rest = pieces[0][0], pieces[1:]
    if width is None:
        return _fit(pieces, None)
    levels = max((len(wordings) for wordings in rest), default=0)
    count = len(rest)
    for mask in range(2**count - 1, 0, -1):  # the first piece is the highest bit
        chosen = [wordings for index, wordings in enumerate(rest) if mask >> (count - 1 - index) & 1]
        for level in range(levels):
            text = " · ".join([first, *(wordings[min(level, len(wordings) - 1)] for wordings in chosen)])
            if cell_len(text) <= width:  # a user id may be CJK
                return text
    return first


def _whole_usd(amount: float) -> str:
    """'$558' for $557.61: the summary's shortest wording (usd() under a dollar)."""
    return f"${amount:,.0f}" if round(amount) >= 1 else usd(amount)


def _spend_line(report: Report, partial: bool, width: int | None) -> Text:
    spend = report.spend
    spenders: list[Piece] = []
    # The model first: "which model spends fastest" had no answer at 80 columns (the user
    # took the room, and no pane listed spend by model); a model is what a budget's scope and
    # a routing change act on. The user next, in shorter words when both must fit. Both lists
    # are in the Budget pane (2, m).
    if spend.by_model:
        model, usd_spent = max(spend.by_model.items(), key=lambda item: item[1])
        name = one_line(model)
        spenders.append((f"top {name} {usd(usd_spent)}", f"{name} {usd(usd_spent)}", f"{name} {usd(usd_spent)}",
                         f"{name} {_whole_usd(usd_spent)}"))  # fmt: skip
    if spend.top_users:
        user, usd_spent = max(spend.top_users.items(), key=lambda item: item[1])
        name = one_line(user)
        spenders.append((f"top user {name} {usd(usd_spent)}", f"user {name} {usd(usd_spent)}",
                         f"{name} {usd(usd_spent)}", f"{name} {_whole_usd(usd_spent)}"))  # fmt: skip
    window = f"{usd(spend.total_usd)} in {report.window.name}"
    window_piece: Piece = (window,)
    if partial:  # the Budget pane withholds its verdict too
        text = _fit_most([("figures still loading: no budget verdict yet",), *spenders, window_piece], width)
        return _line("…", "dim", text)
    order = {"page": 0, "warn": 1, "ok": 2}
    budgets = sorted(report.budgets, key=lambda b: (order.get(b.state, 3), -max(b.burn_rates.values(), default=0)))
    if not budgets:
        return _line("spend", "bold", _fit_most([window_piece, *spenders], width))
    worst = budgets[0]
    # the burn of the windows of the rule that fires at this level, as the alert quotes them (a
    # PAGE said 'burn 24.9x/5m', the warn rule's short window, of a page rule over 15m and 1m)
    burns = [(w, worst.burn_rates[w]) for w in worst.firing_windows if w in worst.burn_rates]
    burning = f" {burn_figure(*burns)}" if burns and worst.state != "ok" else ""
    text = _fit_most([(f"{one_line(worst.name)}{burning}",), *spenders, window_piece], width)
    return _line(worst.state.upper(), STATE_STYLE.get(worst.state, ""), text)


def _slo_line(report: Report, partial: bool, width: int | None) -> Text:
    """On partial figures a breach is still said, 'so far': it is measured on real, newest
    rows, and a p95 over the whole window can move either way, so it is not a final verdict,
    but an on-call engineer acts on it seconds earlier; a 'within' is never said until the
    figures are whole (the demo said ✓ SLO for two seconds before ✗ SLO)."""
    with_slo = {model: p for model, p in report.latency.by_model.items() if p.slo_ms is not None}
    breached = sorted(((model, p) for model, p in with_slo.items() if p.slo_breached),
                      key=lambda item: -(item[1].p95 or 0) / (item[1].slo_ms or 1))  # fmt: skip
    if breached:
        parts = [f"{one_line(model)} p{p.slo_percentile or 95:g} {ms(p.p95)} > {ms(p.slo_ms)}" for model, p in breached]
        pieces: list[Piece] = [((SO_FAR if partial else "") + parts[0],), *((part,) for part in parts[1:])]
        text = _fit(pieces, width)
        shown = text.count(" · ") + 1
        if shown < len(parts):
            text = _fit([(text,), (f"+{len(parts) - shown} more",)], width)
        return _line("✗ SLO", "bold red", text)
    if partial:  # the models with an SLO may not be in yet either
        return _line("… SLO", "dim", LOADING + (f" ({len(with_slo)} with an SLO so far)" if with_slo else ""))
    if with_slo:
        return _line("✓ SLO", "green", f"every model within its SLO ({len(with_slo)} with one)")
    return _line("  SLO", "dim", "no model in the window has an SLO ([[slos]] in llmops.toml)")


def _version_line(
    report: Report, registry_order: Mapping[str, RegistryOrder] | None, partial: bool, width: int | None,
) -> Text:
    """As _slo_line: a worse or failing version is said 'so far' on partial figures, a ✓ not at all."""
    so_far = SO_FAR if partial else ""
    worse = worse_versions(report, registry_order)
    if not worse:
        failing = sorted((row for row in report.versions
                          if row.requests >= MIN_REQUESTS and row.error_rate >= HIGH_ERROR_RATE),
                         key=lambda row: -row.error_rate)  # fmt: skip
        if failing:
            first = failing[0]
            pieces: list[Piece] = [(f"{so_far}{one_line(first.prompt_id)}@{one_line(first.prompt_version)} "
                                    f"{percent(first.error_rate)} errors ({first.errors:,} of {first.requests:,})",)]
            if len(failing) > 1:
                pieces.append((f"also {', '.join(f'{one_line(r.prompt_id)}@{one_line(r.prompt_version)}' for r in failing[1:])}",))
            pieces.append((f"all requests {percent(report.error_rate)}",))
            if not partial:
                pieces.append(("no prompt version worse than its previous one", "none worse than its previous"))
            return _line("! err", "bold red", _fit(pieces, width))
        if partial:
            return _line("… bad", "dim", LOADING)
        if report.versions and not any(row.rated for row in report.versions):  # a green ✓ would claim too much
            return _line("  bad", "dim", "nothing rated in the window (no feedback, no labels): no bad rates")
        return _line("✓ bad", "green", "no prompt version worse than its previous one")
    first = worse[0]
    p_value = "p < 0.001" if first.p_value < 0.001 else f"p = {first.p_value:.3f}"
    pieces = [(f"{so_far}{one_line(first.name)} {percent(first.bad_rate)} bad vs {percent(first.previous_bad_rate)} "
               f"in {one_line(first.previous)} ({p_value})",)]
    if len(worse) > 1:
        pieces.append((f"also {', '.join(one_line(w.name) for w in worse[1:])}", f"+{len(worse) - 1} more"))
    # the dashboard's c compares this version (DashboardScreen.action_compare_flagged): the
    # hint said "c on it", and c did nothing unless the Versions pane's cursor was on its row
    pieces.append(("c: compare, prompt diff", "c: compare"))
    return _line("! bad", "bold red", _fit(pieces, width))


class IncidentSummary(Static):
    DEFAULT_CSS = """
    IncidentSummary { height: auto; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    """
    _shown: tuple[Report, Mapping[str, RegistryOrder] | None, bool] | None = None  # redrawn to a new width

    def show(
        self, report: Report, registry_order: Mapping[str, RegistryOrder] | None = None, partial: bool = False,
    ) -> None:
        self._shown = (report, registry_order, partial)
        self._draw()

    def on_resize(self) -> None:
        self._draw()

    def _draw(self) -> None:
        shown = self._shown
        if shown is None:
            return
        width = self.content_region.width or None  # not laid out yet: whole, cut by the ellipsis
        text = Text("\n").join(summary_lines(*shown, width=width))
        text.no_wrap, text.overflow = True, "ellipsis"  # one line each: the panes have the rest
        self.update(text)
