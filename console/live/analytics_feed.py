"""The thread that owns the analytics window and recomputes the panes' figures.

Records arrive from the ingest thread (only the ones the store accepted as new); the
report is recomputed at most every REFRESH_INTERVAL while rows arrive, and every
SLIDE_INTERVAL anyway, because windows slide with the clock. The UI thread only draws.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from console.analytics.columns import Columns
from console.config import Settings
from console.records import RequestRecord
from console.live.events import CompareReady, Post, ReportReady
from console.live.inbox import Inbox

REFRESH_INTERVAL = 1.0  # the panes redraw at most once a second while rows pour in
SLIDE_INTERVAL = 5.0
CANCEL_CHECK_INTERVAL = 0.2
HISTORY_SECONDS = 7 * 86400
# At most this many rows in the analytics window (the newest; older spend still counts for
# budgets through an SQL sum, evicted rows' spend through the baselines): bench/open.py
# measured the console's peak at ~400 MB with 1M rows loaded (~250 MB of it the history,
# with the transients of loading), so 1M keeps it under 500 MB.
HISTORY_MAX_ROWS = 1_000_000


@dataclass(frozen=True, slots=True)
class SeedWindow:
    columns: Columns
    baseline_spend: dict[str, float]
    baseline_nano: dict[str, int]
    partial: bool


@dataclass(frozen=True, slots=True)
class JoinHistory:
    older: Columns
    baseline_nano: dict[str, int]


@dataclass(frozen=True, slots=True)
class AddRows:
    records: list[RequestRecord]


@dataclass(frozen=True, slots=True)
class ApplyLabels:
    verdicts: dict[str, str | None]


@dataclass(frozen=True, slots=True)
class CompareArms:
    a: str
    b: str
    title: str


@dataclass(frozen=True, slots=True)
class CompareChange:
    kind: str
    name: str


AnalyticsCommand = SeedWindow | JoinHistory | AddRows | ApplyLabels | CompareArms | CompareChange


class AnalyticsFeed:
    def __init__(
        self, post: Post, settings: Settings, window: str = "1h",
        max_rows: int = HISTORY_MAX_ROWS,
    ) -> None:
        self._post = post
        self.settings = settings
        self._window = window
        self.max_rows = max_rows  # the window's count bound (HISTORY_MAX_ROWS)
        self._inbox: Inbox[AnalyticsCommand] = Inbox()
        self._registry = None  # the prompt registry, reloaded at most every SLIDE_INTERVAL
        self._registry_loaded = float("-inf")

    @property
    def window(self) -> str:
        return self._window

    def seed(
        self, columns: Columns, baseline_spend: dict[str, float], baseline_nano: dict[str, int] | None = None,
        partial: bool = False,
    ) -> None:
        """The window loaded from the store at start, and per-budget spend before it (USD,
        or exact integer nano-dollars). partial: only the newest part of the history is in;
        complete_history brings the rest, and reports say partial until then."""
        self._inbox.send(SeedWindow(columns, baseline_spend, baseline_nano or {}, partial))

    def complete_history(self, older: Columns, baseline_nano: dict[str, int]) -> None:
        """The rest of a partial seed's history (older rows, oldest first) and the budgets'
        spend before it: joined in front of the window, and reports are whole again."""
        self._inbox.send(JoinHistory(older, baseline_nano))

    def add(self, records: list[RequestRecord]) -> None:
        if records:
            self._inbox.send(AddRows(records))

    def apply_labels(self, verdicts: dict[str, str | None]) -> None:
        """Labels changed (request_id -> "bad", "good", or None when undone): is_bad follows."""
        if verdicts:
            self._inbox.send(ApplyLabels(dict(verdicts)))

    def request_compare(self, a: str, b: str, title: str) -> None:
        self._inbox.send(CompareArms(a, b, title))

    def request_change_compare(self, kind: str, name: str) -> None:
        """Before/after the first appearance of a model or prompt version ("id@version")."""
        self._inbox.send(CompareChange(kind, name))

    def _prompts_root(self):
        """The registry's directory, or None when there is none (read here, off the UI thread)."""
        prompts = getattr(self.settings, "prompts", None)
        if prompts is None:
            return None
        from console.prompts.registry import registry_root

        root = registry_root(prompts.path, self.settings.source)
        return root if root.is_dir() else None

    def _registry_marks(self, versions) -> dict[str, str] | None:
        """The Versions pane's registry marks (console.prompts.checks), None without a registry.
        Files are read here, in the analytics thread, never on the UI thread."""
        from console.prompts.checks import version_marks
        from console.prompts.registry import PromptError, load_registry

        if time.monotonic() - self._registry_loaded >= SLIDE_INTERVAL:
            self._registry_loaded = time.monotonic()
            root = self._prompts_root()
            try:
                self._registry = load_registry(root) if root is not None else None
            except (PromptError, OSError):
                self._registry = None  # a broken registry marks nothing; `p` shows the error
        if self._registry is None:
            return None
        return version_marks(versions, self._registry)

    def _registry_order(self) -> dict[str, tuple[str, ...]] | None:
        """Each prompt's registered versions, oldest first (loaded by _registry_marks)."""
        if self._registry is None:
            return None
        return {prompt_id: tuple(v.version for v in prompt.versions) for prompt_id, prompt in self._registry.prompts.items()}

    def _clock(self, live) -> float:
        """The moment the windows end at (the wall clock, for now)."""
        return time.time()

    def stop(self) -> None:
        self._inbox.wake()

    def set_window(self, name: str) -> None:
        self._window = name
        self._inbox.wake()

    def run(self, is_cancelled: Callable[[], bool]) -> None:
        from console.analytics.live import LiveWindow

        live = LiveWindow(self.settings, self._window)
        labels: dict[str, str | None] = {}  # labels made while running, re-applied after a seed
        computed_window: str | None = None
        last_computed = 0.0
        changed = False
        urgent = False  # a seed, the history or a label: drawn at once, not coalesced
        partial = False
        while not is_cancelled():
            self._inbox.wait(CANCEL_CHECK_INTERVAL)
            for command in self._inbox.take_all():
                match command:
                    case CompareArms(a, b):
                        self._post(_comparison(live.cols, a, b, prompts_root=self._prompts_root(),
                                               window=self._window, now=self._clock(live)))
                        continue
                    case CompareChange(kind, name):
                        self._post(_change_comparison(live.cols, kind, name))
                        continue
                    case SeedWindow(columns, baseline_spend, baseline_nano, partial):
                        # The ingest thread seeds before it tails, so nothing arrived earlier.
                        live = LiveWindow(self.settings, self._window, cols=columns)
                        live.baseline_spend, live.baseline_nano = baseline_spend or {}, baseline_nano
                        live.apply_verdicts(labels)
                        urgent = True
                    case JoinHistory(older, baseline_nano):
                        live = join_history(live, older, baseline_nano)
                        live.apply_verdicts(labels)
                        partial = False
                        urgent = True
                    case ApplyLabels(verdicts):
                        labels.update(verdicts)
                        live.apply_verdicts(verdicts)
                        urgent = True
                    case AddRows(records):
                        live.append(records)
                changed = True
            window = self._window
            since = time.monotonic() - last_computed
            if not changed and window == computed_window and since < SLIDE_INTERVAL:
                continue
            if window == computed_window and since < REFRESH_INTERVAL and not urgent:
                # coalesce bursts into one recompute, but answer a compare meanwhile
                if not self._inbox.wait(REFRESH_INTERVAL - since):
                    self._inbox.wake()  # time to recompute: no second wait at the top
                continue
            now = time.time()
            live.set_window(window)
            live.evict_before(now - HISTORY_SECONDS)  # through the window, so it stays in step
            if not partial:
                evict_over(live, self.max_rows, now)
            report = live.report(now)
            self._post(
                ReportReady(report, window, len(live.cols), self._registry_marks(report.versions), partial=partial,
                            registry_order=self._registry_order())
            )
            computed_window, last_computed, changed, urgent = window, time.monotonic(), False, False



def join_history(live, older: Columns, baseline_nano: dict[str, int]):
    """A new LiveWindow: the older rows, then the seeded ones and what arrived since; the
    budgets' spend before the older rows as the baseline. (Codes and first appearances come
    out as one load of the whole would give them: Columns.extend.)"""
    from console.analytics.live import LiveWindow

    older.extend(live.cols)
    joined = LiveWindow(live.settings, live.window, cols=older)
    joined.baseline_spend, joined.baseline_nano = live.baseline_spend, dict(baseline_nano or {})
    return joined


def evict_over(live, max_rows: int, now: float) -> int:
    """Keep the window to about max_rows rows: past 10% over, the oldest go, and their spend
    in the budgets' current periods moves into the baselines (budgets keep counting it)."""
    from console.analytics.budget import prefix_spend_nano

    excess = len(live.cols) - max_rows
    if excess <= max(max_rows // 10, 1000):
        return 0
    cut_ts = float(live.cols.ts[excess])
    cut = int(np.argmax(live.cols.ts >= cut_ts))  # what evict_before drops (rows in time order)
    for name, nano in prefix_spend_nano(live.cols, cut, live.settings.budgets, now).items():
        live.baseline_nano[name] = live.baseline_nano.get(name, 0) + nano
    return live.evict_before(cut_ts)


def _comparison(
    columns: Columns, a: str, b: str, prompts_root=None, window: str = "all", now: float | None = None,
) -> CompareReady:
    """Both arms drawn from the rows of the panes' window (what the Versions pane counts)."""
    from console.analytics.compare import compare, parse_arm_spec
    from console.analytics.windows import window_mask

    try:
        spec_a, spec_b = parse_arm_spec(a), parse_arm_spec(b)
        if now is not None:
            columns = columns.select(window_mask(columns, now, window))
        comparison = compare(columns, spec_a, spec_b)
    except ValueError as exc:
        return CompareReady(error=str(exc))
    scope = window_scope(columns, window, now)
    return CompareReady(comparison, prompt_diff=prompt_diff(prompts_root, spec_a, spec_b), scope=scope)


def window_scope(columns: Columns, window: str, now: float | None) -> str:
    """"window 1h, 12:05:00 – 13:05:00 UTC: 9,462 requests" (the compare screen's first line)."""
    from console.analytics.windows import window_start
    from console.formatting import rfc3339

    if now is None:
        return f"all loaded history: {len(columns):,} requests"
    start = window_start(now, window)
    if start is None and len(columns):
        start = float(columns.ts.min())
    span = (f"{rfc3339(start, timespec='seconds')} – {rfc3339(now, timespec='seconds')}" if start is not None
            else f"until {rfc3339(now, timespec='seconds')}")
    return f"window {window} ({span}): {len(columns):,} requests"


def prompt_diff(prompts_root, spec_a, spec_b):
    """The registry diff of A's prompt version to B's, when both arms name one (prompt=ID@VER)
    and the registry holds both; else None. A registry that cannot be read gives no diff."""
    if prompts_root is None:
        return None
    if not all(spec.prompt_id and spec.prompt_version for spec in (spec_a, spec_b)):
        return None
    from console.prompts.diff import version_diff
    from console.prompts.registry import PromptError, load_registry

    try:
        registry = load_registry(prompts_root)
    except (PromptError, OSError):
        return None
    old = registry.get(spec_a.prompt_id, spec_a.prompt_version)
    new = registry.get(spec_b.prompt_id, spec_b.prompt_version)
    if old is None or new is None:
        return None
    return version_diff(old, new)


def _change_comparison(columns: Columns, kind: str, name: str) -> CompareReady:
    from console.analytics.compare import change_point_arms, compare

    try:
        return CompareReady(compare(columns, *change_point_arms(columns, kind, name)))
    except ValueError as exc:
        return CompareReady(error=str(exc))
