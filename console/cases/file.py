"""The regression cases file (regression.suite in llmops.toml, regression/cases.jsonl by default):
where it is, and every write to it. Triage appends the cases it makes here, the UI edits and
removes them here, and `regress` reads the file at the same path.

    cases = CaseFile(cases_path(settings))
    cases.append(case)        # False if a case with its id is already there
    cases.remove(case_id)

The file is git-tracked and people edit it, so writes are careful:

- append: one os.write of the whole line on an O_APPEND descriptor, under an exclusive
  flock, after checking the id is not already there; a crash leaves the line whole or
  absent, and a file whose last line lacks its newline gets one first;
- remove / replace: the new content goes to a temporary file in the same directory, and
  it is renamed over the file only if the file is byte-for-byte what was read (else the
  change is recomputed from the new content), so a concurrent edit is never clobbered.

The flock is taken on the file itself and re-checked against the path after locking (a
rename by another writer swaps the inode), so no lock file is left beside the cases.

A promptfoo suite (regression.suite ending in .yaml or .yml) is never written: a JSON line
would break the YAML. Cases made in the console go to `<stem>.cases.jsonl` beside it
(`writable_cases_path`), which `regress` reads with the suite; a CaseFile on the YAML itself
refuses every write with a message naming that file.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from typing import Callable, Iterator

import msgspec

from console.cases.format import CaseError, RegressionCase, case_to_json, parse_case
from console.config import Settings

try:
    import fcntl
except ImportError:  # pragma: no cover (not on Windows: the content check still guards rewrites)
    fcntl = None  # type: ignore[assignment]

DEFAULT_CASES = "regression/cases.jsonl"
YAML_SUFFIXES = (".yaml", ".yml")  # a promptfoo suite: read as it is, never appended to
REWRITE_ATTEMPTS = 5


class CaseFileError(Exception):
    """The cases file cannot be written safely; the message says why."""


def cases_path(settings: Settings, suite: str | os.PathLike | None = None) -> Path:
    """Where the cases are: `suite` (a --suite option: relative to the working directory, as
    typed) or regression.suite (relative to the config file's directory, else the working
    directory); '~' is the home directory in both."""
    if suite is not None:
        return Path(suite).expanduser()
    regression = getattr(settings, "regression", None)
    configured = Path(getattr(regression, "suite", None) or DEFAULT_CASES).expanduser()
    if configured.is_absolute():
        return configured
    return config_dir(settings) / configured


def is_promptfoo_suite(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in YAML_SUFFIXES


def cases_beside(suite: str | os.PathLike) -> Path:
    """Where cases made in the console go for this suite: the suite itself when it is a cases
    file, else (a promptfoo YAML) `<stem>.cases.jsonl` beside it, which the suite loader reads too."""
    suite = Path(suite)
    return suite.with_name(f"{suite.stem}.cases.jsonl") if is_promptfoo_suite(suite) else suite


def writable_cases_path(settings: Settings) -> Path:
    """Where triage appends cases: regression.suite, or the file beside a promptfoo suite."""
    return cases_beside(cases_path(settings))


def config_dir(settings: Settings) -> Path:
    """The directory of the config file the settings came from (else the working directory)."""
    return Path(settings.source).resolve().parent if settings.source else Path.cwd()


def _case_id_of(line: bytes) -> str | None:
    """The id of a case line, or None for a blank, comment or unreadable line."""
    if not line.strip() or line.lstrip().startswith(b"#"):
        return None
    try:
        value = msgspec.json.decode(line)
    except msgspec.DecodeError:
        return None
    found = value.get("id") if isinstance(value, dict) else None
    return found if isinstance(found, str) else None


class CaseFile:
    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    # -- reading -----------------------------------------------------------------------------

    def _read(self) -> bytes:
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return b""

    def ids(self) -> set[str]:
        return {cid for line in self._read().splitlines() if (cid := _case_id_of(line))}

    def __contains__(self, case_id: str) -> bool:
        return case_id in self.ids()

    def get(self, case_id: str) -> RegressionCase | None:
        for line in self._read().splitlines():
            if _case_id_of(line) == case_id:
                return parse_case(line)
        return None

    def cases(self) -> list[RegressionCase]:
        """Every readable case (unreadable lines are skipped: the suite loader reports them)."""
        found = []
        for line in self._read().splitlines():
            if _case_id_of(line) is not None:
                with contextlib.suppress(CaseError):
                    found.append(parse_case(line))
        return found

    # -- writing -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self, flags: int) -> Iterator[int]:
        """An fd on the current file, exclusively flocked (re-opened if it was renamed over)."""
        if is_promptfoo_suite(self.path):
            raise CaseFileError(
                f"{self.path} is a promptfoo suite (YAML): a case line cannot be written into it; "
                f"cases made here go to {cases_beside(self.path)} beside it, which regress runs with the suite"
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, flags | os.O_CREAT, 0o644)
            try:
                if fcntl is not None:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
                except FileNotFoundError:
                    same = False
                if same:
                    yield fd
                    return
            finally:
                os.close(fd)  # closing releases the flock

    def append(self, case: RegressionCase) -> bool:
        """Append the case as one line; False (nothing written) if its id is already there."""
        line = case_to_json(case) + b"\n"
        with self._locked(os.O_WRONLY | os.O_APPEND) as fd:
            content = self._read()
            if case.id in {cid for existing in content.splitlines() if (cid := _case_id_of(existing))}:
                return False
            if content and not content.endswith(b"\n"):
                line = b"\n" + line
            size = os.fstat(fd).st_size
            try:
                written = os.write(fd, line)
                if written != len(line):
                    raise OSError(f"short write ({written} of {len(line)} bytes)")
                os.fsync(fd)
            except OSError as exc:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, size)  # never leave half a line
                raise CaseFileError(f"{self.path}: cannot append case {case.id}: {exc}") from None
        return True

    def remove(self, case_id: str) -> bool:
        """Drop the case's line (every other byte kept); False if it was not there."""

        def without(lines: list[bytes]) -> list[bytes] | None:
            kept = [line for line in lines if _case_id_of(line) != case_id]
            return kept if len(kept) != len(lines) else None

        return self._rewrite(without)

    def replace(self, case_id: str, case: RegressionCase) -> bool:
        """Put `case` where case_id's line is; False if case_id is not there."""
        new_line = case_to_json(case) + b"\n"

        def swapped(lines: list[bytes]) -> list[bytes] | None:
            if case.id != case_id and any(_case_id_of(line) == case.id for line in lines):
                raise CaseFileError(f"{self.path}: a case with id {case.id} already exists")
            out, found = [], False
            for line in lines:
                if _case_id_of(line) == case_id and not found:
                    out.append(new_line)
                    found = True
                else:
                    out.append(line)
            return out if found else None

        return self._rewrite(swapped)

    def _rewrite(self, change: Callable[[list[bytes]], list[bytes] | None]) -> bool:
        if not self.path.exists():
            return False
        for _attempt in range(REWRITE_ATTEMPTS):
            with self._locked(os.O_RDONLY):
                before = self._read()
                lines = before.splitlines(keepends=True)
                if lines and not lines[-1].endswith(b"\n"):
                    lines[-1] += b"\n"
                changed = change(lines)
                if changed is None:
                    return False
                temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
                try:
                    with open(temporary, "wb") as handle:
                        handle.write(b"".join(changed))
                        handle.flush()
                        os.fsync(handle.fileno())
                    with contextlib.suppress(OSError):
                        os.chmod(temporary, os.stat(self.path).st_mode & 0o7777)
                    if self._read() != before:  # edited under us: start again from the new text
                        continue
                    os.replace(temporary, self.path)
                    return True
                finally:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(temporary)
        raise CaseFileError(f"{self.path}: the file kept changing while it was being rewritten; try again")

    # -- editing one case in $EDITOR -----------------------------------------------------

    def export_for_edit(self, case_id: str, directory: str | os.PathLike) -> Path:
        """The case, pretty-printed, in a file of its own for an editor."""
        case = self.get(case_id)
        if case is None:
            raise CaseFileError(f"{self.path}: no case {case_id}")
        target = Path(directory) / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', case_id)}.json"
        target.write_bytes(msgspec.json.format(case_to_json(case), indent=2) + b"\n")
        return target

    def apply_edit(self, case_id: str, edited: bytes) -> RegressionCase | None:
        """Validate an edited case and put it in place of case_id (one line again); None when it
        is the case as stored (the editor quit without a change): the file is left as it was."""
        try:
            case = parse_case(edited)
        except CaseError as exc:
            raise CaseFileError(f"the edited case is not valid: {exc}") from None
        if case == self.get(case_id):
            return None
        if not self.replace(case_id, case):
            raise CaseFileError(f"{self.path}: case {case_id} is gone (removed while it was being edited?)")
        return case
