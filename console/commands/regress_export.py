"""`llmops-console regress export --format promptfoo`: our regression cases as a
promptfooconfig.yaml (console.regression.promptfoo_export), so the same suite runs in
promptfoo's CI, and `regress --suite` on that file runs the same cases here.

The suite is read as `regress` reads it (--suite, else regression.suite); archived cases are
not exported (they do not run) and malformed lines are named on stderr, as `regress` does.
The file is written whole or not at all (a temporary file renamed over it).
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

from rich.console import Console
from rich.text import Text

from console.cases.file import cases_path
from console.commands.errors import UsageError
from console.config import Settings
from console.regression.promptfoo_export import dump_promptfoo
from console.regression.suite import SuiteError, display_path, load_suite
from console.sanitize import one_line

FORMATS = ("promptfoo",)


def export_suite(settings: Settings, *, fmt: str, suite: Path | None, output: Path | None,
                 providers: list[str] | None = None) -> int:  # fmt: skip
    """Write the export; the exit code (0). UsageError for a format, suite or output that will not do."""
    if fmt not in FORMATS:
        raise UsageError(f"--format is {' or '.join(FORMATS)}, not {fmt!r}")
    path = cases_path(settings, suite)
    try:
        loaded = load_suite(path)
    except SuiteError as exc:
        raise UsageError(str(exc)) from None
    if output is not None and output.resolve() == path.resolve():
        raise UsageError(f"--output {output}: that is the suite being exported; write the export to another file")
    err = Console(stderr=True, soft_wrap=True)
    for problem in loaded.problems:
        err.print(Text(f"{problem.label} (not exported): {one_line(str(problem))}", style="yellow"))
    text = dump_promptfoo(loaded.cases, description=f"llmops-console regression suite {loaded.path}",
                          providers=providers or None)  # fmt: skip
    if output is None:
        sys.stdout.write(text)
    else:
        _write_whole(output, text)
    archived = f"; {loaded.archived} archived case(s) left out" if loaded.archived else ""
    where = f" to {display_path(output)}" if output is not None else ""
    err.print(Text(f"exported {len(loaded.cases)} case(s) from {loaded.path}{where}{archived}", style="dim"))
    return 0


def _write_whole(output: Path, text: str) -> None:
    temporary = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, output)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise UsageError(
            f"--output {output}: cannot write there ({exc.strerror or exc}); expected a file path in a directory that exists"
        ) from None
