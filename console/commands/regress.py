"""`llmops-console regress`: a Rich progress bar while it runs, then a results table, the
comparison with the baseline and the gate's verdict. Exit 0 when the gate passes, 1 when it
fails, 2 on a usage or config error (a UsageError), 130 when stopped with Ctrl-C.

`--json` prints one JSON document on stdout (the run's summary, as stored, plus every case);
the progress bar goes to stderr either way.
"""

from __future__ import annotations

import sys
from pathlib import Path

import orjson
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from console.commands.errors import UsageError
from console.commands.store_access import open_store
from console.config import Settings
from console.formatting import latency
from console.regression.baseline import FIX, MISSING, NEW, REGRESSION, STABLE, CaseChange, PassRate
from console.regression.events import AttemptDone, CaseDone, RunEvent, RunStarted
from console.regression.execute import RunReport, execute
from console.regression.plan import PlanError, RunPlan, make_plan
from console.regression.results import ERRORED, FAIL, PASS, SKIPPED, CaseResult
from console.sanitize import json_for_terminal, one_line

EXIT_PASS, EXIT_FAIL, EXIT_INTERRUPTED = 0, 1, 130
STATUS_STYLE = {PASS: "green", FAIL: "bold red", ERRORED: "bold magenta", SKIPPED: "yellow"}
KIND_STYLE = {REGRESSION: "bold red", FIX: "green", "still-failing": "red", STABLE: "dim", NEW: "cyan",
              MISSING: "yellow", ERRORED: "bold magenta", SKIPPED: "yellow"}  # fmt: skip


def case_json(result: CaseResult, change: CaseChange | None) -> dict:
    attempt = result.shown
    return {
        "id": result.case_id,
        "status": result.status,
        "class": change.kind if change else None,
        "passes": result.passes,
        "attempts": len(result.attempts),
        "pass_rate": result.pass_rate,
        "rate_dropped": bool(change and change.rate_dropped),
        "score": attempt.score if attempt else None,
        "latency_ms": result.latency_ms,
        "cost_usd": result.cost_usd,
        "output": attempt.output if attempt else None,
        "error": attempt.error if attempt else None,
        "assertions": [v.to_json() for v in attempt.verdicts] if attempt else [],
    }


def report_json(report: RunReport) -> dict:
    changes = {c.case_id: c for c in report.comparison.changes}
    return {**report.summary(), "cases": [case_json(r, changes.get(r.case_id)) for r in report.results]}


def _rate(rate: PassRate | None) -> str:
    if rate is None or rate.rate is None:
        return "—"
    return f"{rate.rate:.1%} ({rate.passed}/{rate.evaluated}; 95% CI {rate.low:.0%}–{rate.high:.0%})"


WHY_MIN = 40  # cells: a narrower why column wraps a word or two a line (~15 lines a case at 80 columns)
WHY_SHOWN = 300  # characters of a case's why in the table; --json and the run screen's case have it whole
CASE_SHOWN = 40  # cells of a case id
WHY_INDENT = 4  # a why under its case's row
HEADINGS = (("case", "left"), ("status", "left"), ("vs baseline", "left"), ("passes", "right"), ("score", "right"),
            ("latency", "right"))  # fmt: skip


def case_rows(report: RunReport, *, show_all: bool = False) -> list[tuple[list[Text], Text]]:
    """The cases worth a look (all of them with show_all), then those missing from the run:
    each row's cells under HEADINGS and its why."""
    changes = {c.case_id: c for c in report.comparison.changes}
    rows: list[tuple[list[Text], Text]] = []
    for result in report.results:
        change = changes.get(result.case_id)
        if not (show_all or result.status != PASS or (change and change.kind == FIX)):
            continue
        kind = change.kind if change else ""
        if change and change.rate_dropped and kind != REGRESSION:
            kind += f" ↓ {change.baseline_pass_rate:.0%}→{change.pass_rate:.0%}"
        attempt = result.shown
        why = one_line(result.why)
        cells = [
            Text(one_line(result.case_id)),
            Text(result.status, style=STATUS_STYLE.get(result.status, "")),
            Text(kind, style=KIND_STYLE.get(change.kind if change else "", "")),
            Text(f"{result.passes}/{len(result.attempts)}"),
            Text("—" if attempt is None or attempt.score is None else f"{attempt.score:.2f}"),
            Text(latency(result.latency_ms)),  # seconds, as every latency the console shows
        ]
        rows.append((cells, Text(why if len(why) <= WHY_SHOWN else why[: WHY_SHOWN - 1] + "…")))
    for change in report.comparison.of(MISSING):
        cells = [Text(one_line(change.case_id)), Text("—"), Text(MISSING, style=KIND_STYLE[MISSING])] + [Text("")] * 3
        rows.append((cells, Text("in the baseline, not in this run")))
    return rows


def _table(report: RunReport, rows: list[tuple[list[Text], Text]], *, with_why: bool) -> Table:
    table = Table(title=f"run #{report.run_id}: {one_line(report.plan.target_name)}", title_justify="left",
                  header_style="bold", show_edge=False)
    for name, justify in HEADINGS:
        table.add_column(name, justify=justify, overflow="ellipsis", no_wrap=True, max_width=CASE_SHOWN)
    if with_why:
        table.add_column("why", justify="left", overflow="fold", min_width=WHY_MIN)
    for cells, why in rows:
        table.add_row(*cells, *([why] if with_why else []))
    return table


def print_results(report: RunReport, out: Console, *, show_all: bool = False) -> None:
    """The cases table. The why is a column when it gets WHY_MIN cells at the console's width;
    narrower (80 columns, a pipe's default), each case's why is its own line under the case's
    row, wrapped at spaces, so no word is broken and the other columns keep their widths."""
    rows = case_rows(report, show_all=show_all)
    if not rows:
        return
    without_why = _table(report, rows, with_why=False)
    separator = 3  # ' │ ' between columns
    if out.measure(without_why).maximum + separator + WHY_MIN <= out.width:
        out.print(_table(report, rows, with_why=True))
        return
    without_why.title = None
    out.print(Text(f"run #{report.run_id}: {one_line(report.plan.target_name)}", style="italic"))
    lines = out.render_lines(without_why, pad=False, new_lines=False)
    header = 2  # the headings and the rule under them
    for line in lines[:header]:
        out.print(_text(line), soft_wrap=True)
    for (_, why), line in zip(rows, lines[header:]):
        out.print(_text(line), soft_wrap=True)
        for wrapped in why.wrap(out, max(out.width - WHY_INDENT, 1), overflow="fold"):
            wrapped.rstrip()
            out.print(Text(" " * WHY_INDENT) + wrapped, soft_wrap=True)


def _text(line: list[Segment]) -> Text:
    text = Text.assemble(*((segment.text, segment.style) for segment in line if not segment.control))
    text.rstrip()
    return text


def print_report(report: RunReport, out: Console, *, show_all: bool = False) -> None:
    counts, comparison = report.counts, report.comparison
    for problem in report.problems:
        out.print(Text(f"{problem.label}: {one_line(str(problem))}", style="yellow"), soft_wrap=True)
    for note in report.suite_notes:
        out.print(Text(f"suite: {one_line(note)}", style="yellow"), soft_wrap=True)
    print_results(report, out, show_all=show_all)
    out.print(Text.assemble(
        ("cases ", "bold"), f"{counts.total}: ", (f"{counts.passed} passed", "green"), ", ",
        (f"{counts.failed} failed", "red" if counts.failed else ""), ", ",
        (f"{counts.errored} errored", "magenta" if counts.errored else ""), ", ", f"{counts.skipped} skipped",
        f" in {report.elapsed_s:.1f}s" + (" (cancelled)" if report.cancelled else ""),
    ))  # fmt: skip
    out.print(Text(f"pass rate {_rate(comparison.current)}"))
    if comparison.baseline_run_id is not None:
        delta = comparison.delta
        line = f"baseline #{comparison.baseline_run_id}: {_rate(comparison.baseline)}"
        if delta is not None:
            line += f"; change {delta * 100:+.1f} pts"
        out.print(Text(line))
        kinds = ", ".join(f"{n} {k}" for k, n in comparison.counts.items() if n)
        p_value = comparison.mcnemar_p
        out.print(Text(f"{kinds}; McNemar exact p = {p_value:.3g} (regressions vs fixes, advisory)" if p_value is not None else kinds))
    gate = report.gate
    out.print(Text.assemble(("gate: ", "bold"), ("PASS", "bold green") if gate.passed else ("FAIL", "bold red")))
    for reason in gate.reasons:
        out.print(Text(f"  ✗ {reason}", style="red"), soft_wrap=True)
    for note in gate.notes:
        out.print(Text(f"  · {note}", style="dim"), soft_wrap=True)
    if report.marked_baseline:
        out.print(Text(f"run #{report.run_id} is now the baseline", style="cyan"))


class ProgressBar:
    """Feeds Rich's progress bar from the runner's events (attempts, so repeats count)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task = None
        self.counts = ""

    def __call__(self, event: RunEvent) -> None:
        if isinstance(event, RunStarted):
            self.task = self.progress.add_task(f"run #{event.run_id}", total=event.attempts, counts="")
        elif isinstance(event, AttemptDone) and self.task is not None:
            self.progress.update(self.task, completed=event.attempts_done)
        elif isinstance(event, CaseDone) and self.task is not None:
            c = event.counts
            self.progress.update(self.task, counts=f"✓{c.passed} ✗{c.failed} !{c.errored}" + (f" ?{c.skipped}" if c.skipped else ""))


def run_regress(
    settings: Settings, *, store: str | None, suite: Path | None, target: str | None, baseline: str | None,
    mark_baseline: bool, prompt_version: str | None, model: str | None, concurrency: int | None,
    as_json: bool = False, show_all: bool = False,
) -> int:
    """Plan the run from the options and llmops.toml, run it against the store; the exit code."""
    try:
        plan = make_plan(settings, suite=suite, target=target, baseline=baseline, mark_baseline=mark_baseline,
                         prompt_version=prompt_version, model=model, concurrency=concurrency)
        opened = open_store(store)
        try:
            return run_plan(plan, opened, as_json=as_json, show_all=show_all)
        finally:
            opened.close()
    except PlanError as exc:
        raise UsageError(str(exc)) from None


def run_plan(plan: RunPlan, store, *, as_json: bool = False, show_all: bool = False) -> int:
    """Run and print; the exit code. PlanError propagates."""
    err = Console(stderr=True)
    progress = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[counts]}"),
        TimeElapsedColumn(), console=err, transient=True, disable=not err.is_terminal,
    )  # fmt: skip
    with progress:
        report = execute(plan, store, on_event=ProgressBar(progress))
    if as_json:
        sys.stdout.write(json_for_terminal(orjson.dumps(report_json(report), option=orjson.OPT_INDENT_2).decode()) + "\n")
    else:
        print_report(report, Console(soft_wrap=False), show_all=show_all)
    if report.cancelled:
        return EXIT_INTERRUPTED
    return EXIT_PASS if report.gate.passed else EXIT_FAIL
