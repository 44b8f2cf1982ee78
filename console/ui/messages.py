"""Every message the background workers post to the UI, declared in one place."""

from __future__ import annotations

import time
from dataclasses import dataclass

from textual.message import Message

from console.records import RequestRecord
from console.sources.base import RejectedLine


@dataclass(frozen=True, slots=True)
class SourceState:
    """What the header says about one tailed file."""

    path: str
    state: str
    lines_ok: int
    lines_rejected: int
    behind_lines: int = 0  # an estimate: bytes not read yet over the mean line length so far


class HistoryLoaded(Message):
    """The store is open (made if new): what it holds, read once at start-up. The requests
    table reads its rows itself (console.ui.requests_pager)."""

    def __init__(self, stored: int, rejected: list[RejectedLine], rejected_total: int) -> None:
        super().__init__()
        self.stored = stored
        self.rejected = rejected
        self.rejected_total = rejected_total


class RecordsArrived(Message):
    """A batch the tail read and the store committed."""

    def __init__(
        self,
        records: list[RequestRecord],
        rejected: list[RejectedLine],
        added: int,
        sources: list[SourceState],
    ) -> None:
        super().__init__()
        self.records = records
        self.rejected = rejected
        self.added = added
        self.sources = sources
        self.posted_at = time.time()  # built by the ingest thread right after the commit


class IngestFailed(Message):
    """The ingest worker stopped; the text is meant for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class StoreTrouble(Message):
    """The store refused a batch (disk full, read-only, locked): ingest is paused and the batch
    retried; reason None when a retry went through and ingest goes on."""

    def __init__(self, reason: str | None) -> None:
        super().__init__()
        self.reason = reason


class ReportReady(Message):
    """Fresh figures for the monitoring panes, computed off the UI thread."""

    def __init__(
        self, report, window: str, rows: int, registry_marks: dict[str, str] | None = None, partial: bool = False
    ) -> None:
        super().__init__()
        self.report = report
        self.window = window
        self.rows = rows
        # True while the history is still loading: the figures cover the newest rows only
        # (the window's, where they fit), and windows reaching further back are incomplete
        self.partial = partial
        # "id@version" -> "drift" | "unregistered" against the prompt registry; None: no registry
        self.registry_marks = registry_marks


class CompareReady(Message):
    """A comparison computed off the UI thread, or why it could not be."""

    def __init__(self, comparison=None, error: str | None = None, prompt_diff=None) -> None:
        super().__init__()
        self.comparison = comparison
        self.error = error
        self.prompt_diff = prompt_diff  # console.prompts.diff.VersionDiff when both arms are prompt=ID@VER


class RequestIdsLoaded(Message):
    """Row ids for the requests view (console.ui.requests_pager), in id order: newer rows
    (at_end) or an older stretch of the history (prepended). `records` holds the rows of
    the newest ids, so the tail is drawn without another round trip."""

    def __init__(self, generation: int, ids, at_end: bool, records: dict, history_left: float) -> None:
        super().__init__()
        self.generation = generation
        self.ids = ids  # numpy int64 array
        self.at_end = at_end
        self.records = records
        self.history_left = history_left  # the share of the history not scanned yet (0: done)


class RequestPageLoaded(Message):
    """Rows the requests view asked for (id -> record)."""

    def __init__(self, records: dict) -> None:
        super().__init__()
        self.records = records


class RequestsPagerFailed(Message):
    """The requests view cannot read the store; the text is meant for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class HistoryProgress(Message):
    """The analytics history is loading in the background: `loaded` of about `total` older
    rows so far; done when the whole window is in (the figures were partial until then)."""

    def __init__(self, loaded: int, total: int, done: bool = False, error: str | None = None) -> None:
        super().__init__()
        self.loaded = loaded
        self.total = total
        self.done = done
        self.error = error  # the history could not be loaded: the figures stay partial

    @property
    def fraction(self) -> float:
        return 1.0 if self.done or not self.total else min(self.loaded / self.total, 1.0)
