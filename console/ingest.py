"""Moving batches from sources into the store: the one loop the CLI and the UI share."""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from console.sources.base import RejectedLine
from console.store import Store

GLOB_CHARS = frozenset("*?[")


class SourceNotFound(Exception):
    pass


@dataclass(slots=True)
class IngestTotals:
    added: int = 0
    duplicates: int = 0
    rejected: int = 0
    first_rejections: list[RejectedLine] = field(default_factory=list)

    def add(self, added: int, duplicates: int, rejected: Sequence[RejectedLine]) -> None:
        self.added += added
        self.duplicates += duplicates
        self.rejected += len(rejected)
        room = 5 - len(self.first_rejections)
        if room > 0:
            self.first_rejections.extend(rejected[:room])


def is_glob(pattern: str) -> bool:
    return any(ch in GLOB_CHARS for ch in pattern)


def expand_sources(patterns: Sequence[str], *, must_exist: bool) -> list[str]:
    """Absolute paths for plain files and the current matches of globs.

    With must_exist, a missing file or a glob with no match is an error (for one-shot
    ingest); the live tail instead waits for them to appear.
    """
    paths: list[str] = []
    for pattern in patterns:
        if is_glob(pattern):
            matches = sorted(glob.glob(os.path.expanduser(pattern), recursive=True))
            if must_exist and not matches:
                raise SourceNotFound(f"no file matches {pattern!r}")
            paths.extend(str(Path(m).resolve()) for m in matches if os.path.isfile(m))
        else:
            path = Path(pattern).expanduser()
            if must_exist and not path.is_file():
                what = "is a directory, not a log file" if path.is_dir() else "does not exist"
                raise SourceNotFound(f"{pattern} {what}")
            paths.append(str(path.resolve()))
    return paths


def ingest_files(
    store: Store,
    paths: Sequence[str],
    on_progress: Callable[[int], None] | None = None,
) -> IngestTotals:
    """Read the files to their current end into the store, resuming from saved offsets.

    on_progress receives the number of bytes newly consumed after each batch.
    """
    from console.sources.jsonl import JsonlTail

    totals = IngestTotals()
    with JsonlTail(paths, store.positions(), watch=False) as tail:
        consumed = {status.path: status.offset for status in tail.files}
        while True:
            batch = tail.read_available()
            if not batch:
                break
            result = store.write(batch)
            totals.add(result.added, result.duplicates, batch.rejected)
            if on_progress is not None:
                now = {status.path: status.offset for status in tail.files}
                on_progress(sum(now.values()) - sum(consumed.values()))
                consumed = now
            if batch.lines_read == 0 and not batch.records:
                break
    return totals
