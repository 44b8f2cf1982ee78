"""Every event the live console's threads post, declared in one place.

Plain frozen dataclasses: the threads (console.live) know nothing of Textual; console.ui
wraps each event in a Textual message of the same name (console.ui.messages) and its
handlers read the event from there.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, get_args

from console.records import RequestRecord
from console.sources.base import RejectedLine

if TYPE_CHECKING:  # types only: these pull in the store (SQLAlchemy) or numpy
    import numpy as np

    from console.analytics.compare import Comparison
    from console.analytics.compare_arms import RegistryOrder
    from console.analytics.report_types import Report
    from console.evaluation.labels import LabelOutcome
    from console.store.evaluation import Label
    from console.evaluation.triage import Queue
    from console.prompts.diff import VersionDiff


@dataclass(frozen=True, slots=True)
class SourceState:
    """What the header says about one tailed file."""

    path: str
    state: str
    lines_ok: int
    lines_rejected: int
    behind_lines: int = 0  # an estimate: bytes not read yet over the mean line length so far


# -- from the ingest thread (console.live.ingest_thread) -------------------------------------


@dataclass(frozen=True, slots=True)
class HistoryLoaded:
    """The store is open (made if new): what it holds, read once at start-up. The requests
    table reads its rows itself (console.live.requests_pager)."""

    stored: int
    rejected: list[RejectedLine]
    rejected_total: int


@dataclass(frozen=True, slots=True)
class RecordsArrived:
    """A batch the tail read and the store committed."""

    records: list[RequestRecord]
    rejected: list[RejectedLine]
    added: int
    sources: list[SourceState]
    posted_at: float = field(default_factory=time.time)  # built by the ingest thread right after the commit


@dataclass(frozen=True, slots=True)
class IngestFailed:
    """The ingest thread stopped; the text is meant for the user."""

    reason: str


@dataclass(frozen=True, slots=True)
class StoreTrouble:
    """The store refused a batch (disk full, read-only, locked): ingest is paused and the batch
    retried; reason None when a retry went through and ingest goes on."""

    reason: str | None


@dataclass(frozen=True, slots=True)
class StoreUpgraded:
    """Opening the store upgraded it (or waited while another opener did), now done; the text
    is meant for the user. Said apart from the header's StoreTrouble during the upgrade: a
    quick upgrade is over before the console's first frame, and the user never saw that."""

    text: str


@dataclass(frozen=True, slots=True)
class ReceiverState:
    """The OTLP receiver's child process (`--otlp`, commands/receiver_process.py): its store
    trouble (it refused a batch and retries it, the apps' exports answered 503 meanwhile;
    None once a write went through) and its counts since it started: exports answered 503
    (busy: the apps resend them), exports refused for good (400, 401, 413...), spans rejected
    (unreadable, kept as rejected lines), rows added."""

    trouble: str | None
    busy: int = 0
    refused: int = 0
    rejected: int = 0
    added: int = 0


@dataclass(frozen=True, slots=True)
class NotifyPending:
    """Alert messages `check --notify` has not delivered yet (console/live/notify_watch.py):
    how many, and the newest one's webhook host and error; 0 and None when none."""

    count: int
    detail: str | None


@dataclass(frozen=True, slots=True)
class HistoryProgress:
    """The analytics history is loading in the background: `loaded` of about `total` older
    rows so far; done when the whole window is in (the figures were partial until then)."""

    loaded: int
    total: int
    done: bool = False
    error: str | None = None  # the history could not be loaded: the figures stay partial

    @property
    def fraction(self) -> float:
        return 1.0 if self.done or not self.total else min(self.loaded / self.total, 1.0)


# -- from the analytics thread (console.live.analytics_feed) ---------------------------------


@dataclass(frozen=True, slots=True)
class ReportReady:
    """Fresh figures for the monitoring panes, computed off the UI thread."""

    report: Report
    window: str
    rows: int
    # "id@version" -> "drift" | "unregistered" against the prompt registry; None: no registry
    registry_marks: dict[str, str] | None = None
    # prompt id -> its registered versions in the registry's order and its labels (what `c`
    # compares with)
    registry_order: dict[str, RegistryOrder] | None = None
    # True while the history is still loading: the figures cover the newest rows only
    # (the window's, where they fit), and windows reaching further back are incomplete
    partial: bool = False


@dataclass(frozen=True, slots=True)
class CompareReady:
    """A comparison computed off the UI thread, or why it could not be."""

    comparison: Comparison | None = None
    error: str | None = None
    prompt_diff: VersionDiff | None = None  # when both arms are prompt=ID@VER
    scope: str = ""  # which requests both arms were drawn from: the window and its bounds
    # the request it answers (AnalyticsFeed.request_compare's): the screen opened at the key,
    # still loading, that it fills; 0 for none
    token: int = 0


# -- from the requests pager (console.live.requests_pager) -----------------------------------


@dataclass(frozen=True, slots=True)
class RequestIdsLoaded:
    """Row ids for the requests view, in (ts, id) order: rows committed since the last look
    (at_end: appended, or inserted at `positions` when some are older than rows shown) or an
    older stretch of the history (prepended). `records` holds the rows of the newest ids, so
    the tail is drawn without another round trip."""

    generation: int
    ids: np.ndarray  # int64
    at_end: bool
    records: dict[int, RequestRecord]
    history_left: float  # the share of the history not scanned yet (0: done)
    # at_end only: np.insert's positions in the view's ids as they are (console/live/shown_order.py)
    positions: np.ndarray | None = None


@dataclass(frozen=True, slots=True)
class RequestPageLoaded:
    """Rows the requests view asked for (id -> record)."""

    records: dict[int, RequestRecord]


@dataclass(frozen=True, slots=True)
class RequestsPagerFailed:
    """The requests view cannot read the store; the text is meant for the user."""

    reason: str


# -- from the evaluation thread (console.live.evaluation_feed) -------------------------------


@dataclass(frozen=True, slots=True)
class ScoringProgress:
    """How far scoring got: `done` of `total` requests looked at since the console started."""

    done: int
    total: int
    failures: int

    @property
    def backlog(self) -> int:
        return max(self.total - self.done, 0)


@dataclass(frozen=True, slots=True)
class QueueReady:
    """A fresh triage queue, computed off the UI thread."""

    queue: Queue


@dataclass(frozen=True, slots=True)
class LabelDone:
    """A label was saved (or undone), with what happened to the regression case."""

    outcome: LabelOutcome


@dataclass(frozen=True, slots=True)
class LabelFound:
    """A request's current label, asked for by its detail screen (None: unlabelled)."""

    request_id: str
    label: Label | None


@dataclass(frozen=True, slots=True)
class EvaluationNotice:
    """Something for the user to read: a scorer failure, a label that could not be made."""

    text: str
    severity: str = "information"
    title: str = "Evaluation"


@dataclass(frozen=True, slots=True)
class CaseEditReady:
    """The case is in a file of its own; the UI runs $EDITOR on it, then hands it back."""

    case_id: str
    path: Path


LiveEvent = (
    HistoryLoaded | RecordsArrived | IngestFailed | StoreTrouble | StoreUpgraded | ReceiverState | HistoryProgress
    | ReportReady | CompareReady | RequestIdsLoaded | RequestPageLoaded | RequestsPagerFailed | ScoringProgress
    | QueueReady | LabelDone | LabelFound | EvaluationNotice | CaseEditReady | NotifyPending
)
EVENT_TYPES: tuple[type, ...] = get_args(LiveEvent)
# How a thread hands an event on: the UI posts it as a message; tests append it to a list.
Post = Callable[[LiveEvent], object]
