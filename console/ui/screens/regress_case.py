"""One regression case's result: expected vs got with a word diff, and every assertion's
verdict for every attempt. Model output is untrusted: everything is rich.text.Text built from
control-stripped strings, never markup."""

from __future__ import annotations

import difflib
import re
from typing import Iterator

from rich.table import Table
from rich.text import Text
from textual.widget import Widget
from textual.widgets import Static

from console.cases.format import RegressionCase
from console.formatting import usd
from console.ui.formatting import ms
from console.regression.results import CaseResult
from console.sanitize import strip_control
from console.ui.screens.sections import SectionsScreen, safe, scroll_bindings, section

STATUS_STYLE = {"pass": "bold green", "fail": "bold red", "errored": "bold magenta", "skipped": "yellow"}
_TOKENS = re.compile(r"\s+|[^\s]+")


def reference_of(case: RegressionCase | None) -> tuple[str, str | None]:
    """What the output is compared with, and how to name it: the expected output, else the
    value of the first equals (or not-equals: the output it must not repeat)."""
    if case is None:
        return "Expected", None
    if case.expected_output is not None:
        return "Expected", case.expected_output
    for assertion in case.assert_:
        if assertion.kind in ("equals", "levenshtein") and isinstance(assertion.value, str):
            label = "Must not equal (the output marked bad)" if assertion.negated else "Expected"
            return label, assertion.value
    return "Expected", None


def diff_text(expected: str, got: str) -> Text:
    """A word-level inline diff: removed words red and struck through, added words green."""
    old, new = _TOKENS.findall(strip_control(expected)), _TOKENS.findall(strip_control(got))
    text = Text()
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            text.append("".join(old[a1:a2]))
            continue
        if op in ("delete", "replace"):
            text.append("".join(old[a1:a2]), style="red strike")
        if op in ("insert", "replace"):
            text.append("".join(new[b1:b2]), style="bold green")
    return text


def verdicts_table(result: CaseResult) -> Table:
    table = Table(expand=True, show_edge=False, header_style="bold")
    for name in ("attempt", "assertion", "verdict", "score", "weight"):
        table.add_column(name, no_wrap=True)
    table.add_column("why", ratio=1, overflow="fold")
    for attempt in result.attempts:
        if attempt.error:
            table.add_row(str(attempt.number), "target", Text("errored", style=STATUS_STYLE["errored"]), "—", "—",
                          safe(f"{attempt.error} (after {attempt.tries} call(s))"))
        for verdict in attempt.verdicts:
            table.add_row(
                str(attempt.number), safe(verdict.type), Text(verdict.status, style=STATUS_STYLE.get(verdict.status, "")),
                f"{verdict.score:.2f}", f"{verdict.weight:g}", safe(verdict.reason),
            )  # fmt: skip
        if not attempt.error and not attempt.verdicts:
            table.add_row(str(attempt.number), "—", Text(attempt.status, style=STATUS_STYLE.get(attempt.status, "")),
                          "—", "—", Text("no assertions: the target answered", style="dim"))
    return table


def summary_text(result: CaseResult, case: RegressionCase | None) -> Text:
    text = Text()
    text.append(result.status.upper(), style=STATUS_STYLE.get(result.status, ""))
    text.append(f"  {result.passes}/{len(result.attempts)} attempts passed")
    attempt = result.shown
    if attempt is not None and attempt.score is not None:
        text.append(f"  score {attempt.score:.2f}")
    if result.latency_ms is not None:
        text.append(f"  {ms(result.latency_ms)}")
    if result.cost_usd is not None:
        text.append(f"  {usd(result.cost_usd)}")
    if case is not None:
        if case.tags:
            text.append("  tags: ", style="dim")
            text.append(strip_control(", ".join(case.tags)))
        if case.threshold is not None:
            text.append(f"  threshold {case.threshold:g}", style="dim")
        source = case.source
        if source is not None:
            parts = [f"{k} {v}" for k, v in (("request", source.request_id), ("prompt", source.prompt_id),
                                             ("version", source.prompt_version), ("model", source.model)) if v]
            if parts:
                text.append("\nfrom " + strip_control(", ".join(parts)), style="dim")
        if case.description:
            text.append("\n" + strip_control(case.description), style="italic")
    if result.why:  # whole: the run screen's why column is cut to its width
        text.append("\nwhy: ", style="bold")
        text.append(strip_control(result.why))
    return text


def input_of(case: RegressionCase) -> str:
    given = case.input
    if given.text is not None:
        return given.text
    if given.messages:
        return "\n".join(f"{m.role}: {m.content if isinstance(m.content, str) else m.content!r}" for m in given.messages)
    return "\n".join(f"{k} = {v!r}" if not isinstance(v, str) else f"{k} = {v}" for k, v in (given.vars or {}).items())


class RegressCaseScreen(SectionsScreen):
    BINDINGS = scroll_bindings("regress_case")
    BODY_ID = "regress-case-body"

    def __init__(self, result: CaseResult, case: RegressionCase | None) -> None:
        super().__init__()
        self.result = result
        self.case = case

    def sections(self) -> Iterator[Widget]:
        result, case = self.result, self.case
        attempt = result.shown
        got = attempt.output if attempt is not None else None
        label, reference = reference_of(case)
        yield Static(Text(f"Case {strip_control(result.case_id)}", style="bold"), id="regress-case-title")
        yield Static(summary_text(result, case), id="regress-case-summary")
        if case is not None:
            yield from section("Input", safe(input_of(case)), id="regress-case-input")
        yield from section(label, safe(reference), id="regress-case-expected")
        shown = safe(got) if attempt is None or not attempt.error or got else safe(f"(no output: {attempt.error})")
        yield from section(f"Got (attempt {attempt.number})" if attempt else "Got", shown, id="regress-case-got")
        if reference is not None and got is not None:
            diff = diff_text(reference, got)
            yield from section("Diff (red: expected only, green: got only)", diff, id="regress-case-diff")
        yield Static("Assertions", classes="section-title")
        yield Static(verdicts_table(result), id="regress-case-verdicts")
