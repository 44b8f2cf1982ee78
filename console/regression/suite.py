"""Loading a suite file: one schema v1 case a line (console.cases.format), or a promptfoo
config (.yaml/.yml, console.regression.promptfoo) read as it is.

A malformed line is reported with its file, line number and reason, and the rest of the suite
still runs. Blank lines and lines starting with '#' (comments) are skipped; archived cases are counted but not run; a repeated id is
a problem (the later line is skipped), since results are keyed by case id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from console.cases.format import CaseError, RegressionCase, parse_case


class SuiteError(Exception):
    """The suite file cannot be read at all (missing, a directory, unreadable)."""


@dataclass(frozen=True)
class CaseProblem:
    path: str
    line_no: int
    reason: str
    where: str | None = None  # instead of the line: a promptfoo test, "tests[3] 'refunds'"
    not_run: bool = False  # a test read as written that cannot run here (a promptfoo test), not a malformed line

    def __str__(self) -> str:
        return f"{self.path}:{self.where or self.line_no}: {self.reason}"

    @property
    def label(self) -> str:
        """How a report introduces it."""
        return "promptfoo test not run" if self.not_run else "skipped malformed case"


@dataclass
class Suite:
    path: str
    cases: list[RegressionCase] = field(default_factory=list)  # active cases, in file order
    problems: list[CaseProblem] = field(default_factory=list)
    archived: int = 0
    notes: list[str] = field(default_factory=list)  # about the whole suite (a promptfoo config's providers)

    def by_id(self) -> dict[str, RegressionCase]:
        return {case.id: case for case in self.cases}


def display_path(path: str | Path) -> str:
    """Relative to the working directory when under it (how people typed it), else absolute."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def read_suite_file(path: Path, shown: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise SuiteError(f"{shown}: no such suite file") from None
    except IsADirectoryError:
        raise SuiteError(f"{shown}: is a directory, not a suite file") from None
    except OSError as exc:
        raise SuiteError(f"{shown}: cannot read the suite: {exc.strerror or exc}") from None


def load_suite(path: str | Path, *, only: set[str] | None = None, tags: set[str] | None = None) -> Suite:
    """Read every case of `path`. `only` keeps those ids, `tags` the cases with any of those tags."""
    path = Path(path)
    shown = display_path(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        from console.regression.promptfoo import load_promptfoo  # PyYAML and Jinja2 only when needed

        return load_promptfoo(path, only=only, tags=tags)
    data = read_suite_file(path, shown)
    suite = Suite(shown)
    seen: dict[str, int] = {}
    for line_no, line in enumerate(data.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith(b"#"):
            continue
        try:
            case = parse_case(line)
        except CaseError as exc:
            suite.problems.append(CaseProblem(shown, line_no, str(exc)))
            continue
        if case.id in seen:
            reason = f"duplicate id {case.id!r} (first on line {seen[case.id]}); skipped"
            suite.problems.append(CaseProblem(shown, line_no, reason))
            continue
        seen[case.id] = line_no
        if case.status == "archived":
            suite.archived += 1
            continue
        if only is not None and case.id not in only:
            continue
        if tags and not tags.intersection(case.tags):
            continue
        suite.cases.append(case)
    return suite
