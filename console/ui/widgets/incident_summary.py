"""Three lines above the panes that answer the on-call questions in words, at any width.

At 80x24 only one side pane fits (the Budget pane), so the SLO breaches and the bad prompt
version were a key away; at 160 columns the Versions pane shows a bad rate without saying it
is worse than the version before. Each line starts with its verdict as a word or symbol
(PAGE/WARN/OK, ✗/✓, !/✓), never colour alone, and is cut to one line (the pane has the rest).
The alerts themselves are on the header ("3 alerts: 1 PAGE, 2 WARN (a)").
"""

from __future__ import annotations

from typing import Mapping

from rich.text import Text
from textual.widgets import Static

from console.analytics.compare_arms import MIN_REQUESTS, RegistryOrder, worse_versions
from console.analytics.report_types import Report
from console.formatting import usd
from console.sanitize import one_line
from console.ui.formatting import HIGH_ERROR_RATE, ms, percent

STATE_STYLE = {"page": "bold red", "warn": "bold yellow", "ok": "green"}
LABEL_WIDTH = 7  # "PAGE  " and "✗ SLO " line up


def summary_lines(
    report: Report, registry_order: Mapping[str, RegistryOrder] | None = None, partial: bool = False,
) -> list[Text]:
    return [_spend_line(report, partial), _slo_line(report), _version_line(report, registry_order)]


def _line(verdict: str, style: str, text: str) -> Text:
    line = Text(verdict.ljust(LABEL_WIDTH), style=style)
    line.append(text)
    line.no_wrap, line.overflow = True, "ellipsis"
    return line


def _spend_line(report: Report, partial: bool) -> Text:
    spend = report.spend
    fastest = []
    if spend.by_model:
        model, usd_spent = max(spend.by_model.items(), key=lambda item: item[1])
        fastest.append(f"{one_line(model)} {usd(usd_spent)}")
    if spend.top_users:
        user, usd_spent = max(spend.top_users.items(), key=lambda item: item[1])
        fastest.append(f"user {one_line(user)} {usd(usd_spent)}")
    window = f"{usd(spend.total_usd)} in {report.window.name}"
    most = f" · top {' · '.join(fastest)}" if fastest else ""
    if partial:  # the Budget pane withholds its verdict too
        return _line("…", "dim", f"figures still loading: no budget verdict yet{most} · {window}")
    order = {"page": 0, "warn": 1, "ok": 2}
    budgets = sorted(report.budgets, key=lambda b: (order.get(b.state, 3), -max(b.burn_rates.values(), default=0)))
    if not budgets:
        return _line("spend", "bold", f"{window}{most}")
    worst = budgets[0]
    burn = max(worst.burn_rates.items(), key=lambda item: item[1], default=None)
    burning = f" burn {burn[1]:.1f}x/{burn[0]}" if burn and worst.state != "ok" else ""
    text = f"{one_line(worst.name)}{burning}{most} · {window}"
    return _line(worst.state.upper(), STATE_STYLE.get(worst.state, ""), text)


def _slo_line(report: Report) -> Text:
    with_slo = {model: p for model, p in report.latency.by_model.items() if p.slo_ms is not None}
    breached = sorted(((model, p) for model, p in with_slo.items() if p.slo_breached),
                      key=lambda item: -(item[1].p95 or 0) / (item[1].slo_ms or 1))  # fmt: skip
    if breached:
        parts = [f"{one_line(model)} p{p.slo_percentile or 95:g} {ms(p.p95)} > {ms(p.slo_ms)}" for model, p in breached]
        return _line("✗ SLO", "bold red", " · ".join(parts))
    if with_slo:
        return _line("✓ SLO", "green", f"every model within its SLO ({len(with_slo)} with one)")
    return _line("  SLO", "dim", "no model in the window has an SLO ([[slos]] in llmops.toml)")


def _version_line(report: Report, registry_order: Mapping[str, RegistryOrder] | None) -> Text:
    worse = worse_versions(report, registry_order)
    if not worse:
        failing = sorted((row for row in report.versions
                          if row.requests >= MIN_REQUESTS and row.error_rate >= HIGH_ERROR_RATE),
                         key=lambda row: -row.error_rate)  # fmt: skip
        if failing:
            first = failing[0]
            text = (f"{one_line(first.prompt_id)}@{one_line(first.prompt_version)} {percent(first.error_rate)} errors "
                    f"({first.errors:,} of {first.requests:,})")
            if len(failing) > 1:
                text += f"; also {', '.join(f'{one_line(r.prompt_id)}@{one_line(r.prompt_version)}' for r in failing[1:])}"
            return _line("! err", "bold red", f"{text} · all requests {percent(report.error_rate)} · "
                                              "no prompt version worse than its previous one")
        if report.versions and not any(row.rated for row in report.versions):  # a green ✓ would claim too much
            return _line("  bad", "dim", "nothing rated in the window (no feedback, no labels): no bad rates")
        return _line("✓ bad", "green", "no prompt version worse than its previous one")
    first = worse[0]
    p_value = "p < 0.001" if first.p_value < 0.001 else f"p = {first.p_value:.3f}"
    text = (f"{one_line(first.name)} {percent(first.bad_rate)} bad vs {percent(first.previous_bad_rate)} "
            f"in {one_line(first.previous)} ({p_value}) · c on it: compare, diff")
    if len(worse) > 1:
        text += f"; also {', '.join(one_line(w.name) for w in worse[1:])}"
    return _line("! bad", "bold red", text)


class IncidentSummary(Static):
    DEFAULT_CSS = """
    IncidentSummary { height: auto; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def show(
        self, report: Report, registry_order: Mapping[str, RegistryOrder] | None = None, partial: bool = False,
    ) -> None:
        text = Text("\n").join(summary_lines(report, registry_order, partial))
        text.no_wrap, text.overflow = True, "ellipsis"  # one line each: the panes have the rest
        self.update(text)
