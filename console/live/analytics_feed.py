"""The thread that owns the analytics window and recomputes the panes' figures.

Records arrive from the ingest thread (only the ones the store accepted as new); the
report is recomputed at most every REFRESH_INTERVAL while rows arrive, and every
SLIDE_INTERVAL anyway, because windows slide with the clock (console/live/figures_clock.py,
the one "now" of the figures). The UI thread only draws.

Where a figure comes from, decided at each recompute the way `report` decides it: when the
rows the window needs (console/store/window_report.load_since) are all in memory and number at
most exact_max_rows, from those rows, kept incrementally (console/analytics/live.py); else from
the store by the function `report` calls (report_from_store: the rows, or above the limit the
rows of the exact tail merged with the rollups), in this thread, so the panes and
`report --since W --now T` agree and no window is silently cut to what memory holds.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from console.analytics.columns import Columns
from console.analytics.stats import warm_up
from console.config import Settings
from console.records import RequestRecord
from console.live.compare_feed import change_comparison_ready, comparison_ready
from console.live.events import Post, ReportReady
from console.live.figures_clock import FiguresClock
from console.live.inbox import Inbox
from console.store.window_report import EXACT_MAX_ROWS, load_since, report_from_store

REFRESH_INTERVAL = 1.0  # the panes redraw at most once a second while rows pour in
SLIDE_INTERVAL = 5.0
CANCEL_CHECK_INTERVAL = 0.2
# At most this many rows held in memory (the newest; older spend still counts for budgets
# through an SQL sum, evicted rows' spend through the baselines): bench/open.py measured the
# console's peak at ~400 MB with 1M rows loaded (~250 MB of it the history, with the
# transients of loading), so 1M keeps it under 500 MB. A window needing more rows than memory
# holds is read from the store (report_from_store): this bounds memory, not the figures.
HISTORY_MAX_ROWS = 1_000_000
# A report read from the store is recomputed at most every this many times what the last one
# took (and at least REFRESH_INTERVAL apart): the thread stays mostly idle at any store size.
STORE_REPORT_SPACING = 4.0
NOT_SEEDED = float("inf")  # held_since before the seed: memory covers no window


@dataclass(frozen=True, slots=True)
class SeedWindow:
    columns: Columns
    baseline_spend: dict[str, float]
    baseline_nano: dict[str, int]
    partial: bool
    held_since: float | None = None  # memory holds every stored row from here (None: all)


@dataclass(frozen=True, slots=True)
class JoinHistory:
    older: Columns
    baseline_nano: dict[str, int]
    held_since: float | None = None


@dataclass(frozen=True, slots=True)
class AddRows:
    records: list[RequestRecord]


@dataclass(frozen=True, slots=True)
class AddColumns:
    """Rows read from the store as columns (a replay's next stretch, console/live/replay.py),
    or just stored by the tail (arrived: they move an anchored clock as AddRows do)."""

    columns: Columns
    arrived: bool = False


@dataclass(frozen=True, slots=True)
class ClockMoved:
    """The clock was moved (a replay): recompute soon, at once when urgent (a step)."""

    urgent: bool


@dataclass(frozen=True, slots=True)
class ApplyLabels:
    verdicts: dict[str, str | None]


@dataclass(frozen=True, slots=True)
class CompareArms:
    a: str
    b: str
    title: str
    token: int = 0  # said back in CompareReady: which waiting screen it fills


@dataclass(frozen=True, slots=True)
class CompareChange:
    kind: str
    name: str
    token: int = 0
    swapped: bool = False  # A the traffic from the change on, B what it replaced (the screen's x)


AnalyticsCommand = SeedWindow | JoinHistory | AddRows | AddColumns | ClockMoved | ApplyLabels | CompareArms | CompareChange


class AnalyticsFeed:
    def __init__(
        self, post: Post, settings: Settings, window: str = "1h",
        max_rows: int = HISTORY_MAX_ROWS, clock: FiguresClock | None = None,
        exact_max_rows: int = EXACT_MAX_ROWS,
    ) -> None:
        self._post = post
        self.settings = settings
        self._window = window
        self.max_rows = max_rows  # rows held in memory at most (HISTORY_MAX_ROWS)
        self.exact_max_rows = exact_max_rows  # above this many rows, figures as report's merge
        self.clock = clock if clock is not None else FiguresClock()
        self._store = None  # set by the ingest thread (attach_store): what report_from_store reads
        # set once a report read from the store is posted: the seed's load of the rows memory
        # holds waits for it (both at once took twice as long on two busy cores)
        self.store_report_posted = threading.Event()
        self._inbox: Inbox[AnalyticsCommand] = Inbox()
        self._registry = None  # the prompt registry, reloaded at most every SLIDE_INTERVAL
        self._registry_loaded = float("-inf")

    @property
    def window(self) -> str:
        return self._window

    def attach_store(self, store) -> None:
        """The store the rows come from (its reads are thread-safe): windows needing more rows
        than memory holds are read from it, in this feed's thread."""
        self._store = store
        self._inbox.wake()

    def seed(
        self, columns: Columns, baseline_spend: dict[str, float], baseline_nano: dict[str, int] | None = None,
        partial: bool = False, held_since: float | None = None,
    ) -> None:
        """The rows loaded from the store at start (every stored row from held_since on; None:
        all of them), and per-budget spend before them (USD, or exact integer nano-dollars).
        partial: only the newest part of the history is in; complete_history brings the rest,
        and reports drawn from memory say partial until then."""
        self._inbox.send(SeedWindow(columns, baseline_spend, baseline_nano or {}, partial, held_since))

    def complete_history(self, older: Columns, baseline_nano: dict[str, int], held_since: float | None = None) -> None:
        """The rest of a partial seed's history (older rows, oldest first, every stored row
        from held_since on) and the budgets' spend before it: joined in front of the window,
        and reports are whole again."""
        self._inbox.send(JoinHistory(older, baseline_nano, held_since))

    def add(self, records: list[RequestRecord]) -> None:
        if records:
            self._inbox.send(AddRows(records))

    def add_columns(self, columns: Columns, arrived: bool = False) -> None:
        """Stored rows as columns, newer than every row held (a replay hands them as its clock
        reaches them; rows ahead of the clock wait in memory until their time comes; the
        tail's decoding process, arrived=True, the rows it just stored)."""
        if len(columns):
            self._inbox.send(AddColumns(columns, arrived))

    def clock_moved(self, urgent: bool = False) -> None:
        """The clock was moved (FiguresClock.set): the figures follow within REFRESH_INTERVAL,
        at once when urgent."""
        self._inbox.send(ClockMoved(urgent))

    def apply_labels(self, verdicts: dict[str, str | None]) -> None:
        """Labels changed (request_id -> "bad", "good", or None when undone): is_bad and is_rated follow."""
        if verdicts:
            self._inbox.send(ApplyLabels(dict(verdicts)))

    def request_compare(self, a: str, b: str, title: str, token: int = 0) -> None:
        """Arms a and b compared over the window; the CompareReady posted says `token` back."""
        self._inbox.send(CompareArms(a, b, title, token))

    def request_change_compare(self, kind: str, name: str, token: int = 0, swapped: bool = False) -> None:
        """Before/after the first appearance of a model or prompt version ("id@version");
        swapped: after/before, the same two arms exchanged."""
        self._inbox.send(CompareChange(kind, name, token, swapped))

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

    def _registry_order(self):
        """Each prompt's registered versions, oldest first, and labels (loaded by _registry_marks)."""
        if self._registry is None:
            return None
        from console.analytics.compare_arms import registry_orders

        return registry_orders(self._registry)

    def stop(self) -> None:
        self._inbox.wake()

    def set_window(self, name: str) -> None:
        self._window = name
        self._inbox.wake()

    def run(self, is_cancelled: Callable[[], bool]) -> None:
        from console.analytics.live import LiveWindow

        live = LiveWindow(self.settings, self._window)
        labels: dict[str, str | None] = {}  # labels made while running, re-applied after a seed
        held_since: float | None = NOT_SEEDED  # memory holds every stored row from here
        computed: tuple | None = None  # (window, now) of the last report
        last_computed = 0.0
        spacing = REFRESH_INTERVAL  # how soon a report read from the store may be read again
        changed = False
        urgent = False  # a seed, the history, a label or the store: drawn at once, not coalesced
        partial = False
        attached = None
        from_store = False  # the last report was read from the store
        news = False  # rows, labels or the store changed since it: what the store path reads
        baseline_periods: tuple[float, ...] | None = None  # the budget periods the baselines are of
        warmed = False  # scipy.stats imported ahead of the first comparison
        while not is_cancelled():
            self._inbox.wait(CANCEL_CHECK_INTERVAL)
            for command in self._inbox.take_all():
                match command:
                    case CompareArms(a, b, _, token):
                        self._post(comparison_ready(live.cols, a, b, prompts_root=self._prompts_root(),
                                                    window=self._window, now=self.clock.now(), token=token))
                        continue
                    case CompareChange(kind, name, token, swapped):
                        self._post(change_comparison_ready(live.cols, kind, name, window=self._window, token=token,
                                                           swapped=swapped))
                        continue
                    case SeedWindow(columns, baseline_spend, baseline_nano, partial, held_since):
                        # The ingest thread seeds before it tails, so nothing arrived earlier.
                        live = LiveWindow(self.settings, self._window, cols=columns)
                        live.baseline_spend, live.baseline_nano = baseline_spend or {}, baseline_nano
                        live.apply_verdicts(labels)
                        urgent = True
                        baseline_periods = budget_periods(self.settings, self.clock.now())
                    case JoinHistory(older, baseline_nano, held_since):
                        live = join_history(live, older, baseline_nano)
                        live.apply_verdicts(labels)
                        baseline_periods = budget_periods(self.settings, self.clock.now())
                        partial = False
                        urgent = True
                    case ApplyLabels(verdicts):
                        labels.update(verdicts)
                        live.apply_verdicts(verdicts)
                        urgent = news = True
                    case AddRows(records):
                        live.append(records)
                        self.clock.records_arrived(max(record.ts for record in records))
                        news = True
                    case AddColumns(columns, arrived):
                        live.cols.extend(columns)
                        if arrived:
                            self.clock.records_arrived(float(columns.ts.max()))
                        news = True
                    case ClockMoved(moved_urgently):
                        urgent = urgent or moved_urgently
                changed = True
            if changed and not partial and held_since != NOT_SEEDED:
                # rows arriving while a report is read from the store (seconds, at millions of
                # rows) are held to the bound too, not only at the next recompute
                held_since = evict_to_bound(live, self.max_rows, self.clock.now(), held_since)
            if self._store is not attached:
                attached, changed, urgent, news = self._store, True, True, True
            window = self._window
            since = time.monotonic() - last_computed
            if not changed and computed is not None and window == computed[0] and since < SLIDE_INTERVAL:
                continue
            now = self.clock.now()
            if computed == (window, now) and (not changed or (from_store and not news)):
                # a stopped clock and nothing the figures read changed (rows only loaded into
                # memory, while the figures come from the store): they stand
                changed = urgent = False
                continue
            wait = spacing if computed is not None and window == computed[0] and not urgent else 0.0
            if since < wait:
                # coalesce bursts into one recompute, but answer a compare meanwhile
                if not self._inbox.wait(wait - since):
                    self._inbox.wake()  # time to recompute: no second wait at the top
                continue
            live.set_window(window)
            if not partial and held_since != NOT_SEEDED:
                held_since = evict_to_bound(live, self.max_rows, now, held_since)
            if baseline_periods is not None and budget_periods(self.settings, now) != baseline_periods:
                self._rebase_budgets(live, now, held_since)  # after eviction: it reads held_since
                baseline_periods = budget_periods(self.settings, now)
            started = time.monotonic()
            ready, from_store = self._figures(live, now, window, held_since, partial)
            self._post(ready)
            if not warmed and not partial:  # the first whole figures are out: compare's turn next
                warm_up()
                warmed = True
            if from_store:
                self.store_report_posted.set()
            took = time.monotonic() - started
            spacing = max(REFRESH_INTERVAL, STORE_REPORT_SPACING * took) if from_store else REFRESH_INTERVAL
            computed, last_computed, changed, urgent, news = (window, now), time.monotonic(), False, False, False

    def _rebase_budgets(self, live, now: float, held_since: float | None) -> None:
        """A budget's period turned (UTC midnight, the 1st; or a replay's clock crossed it,
        either way): the baselines were the old period's spend before the rows held, and
        become the new period's (none when its rows are all held), read from the store."""
        from console.analytics.budget import budget_baselines, period_bounds

        if held_since is None or held_since == NOT_SEEDED:
            live.baseline_spend, live.baseline_nano = {}, {}
            return
        if self._store is not None:
            live.baseline_spend = {}
            live.baseline_nano = budget_baselines(self._store.spend_nano_between, self.settings.budgets, now, held_since)
            return
        # no store to ask: a period whose rows are all held has none before them; another
        # keeps what it had (the spend it started with cannot be known here)
        for budget in self.settings.budgets:
            if period_bounds(now, budget.period)[0] >= held_since:
                live.baseline_spend.pop(budget.name, None)
                live.baseline_nano.pop(budget.name, None)

    def _figures(
        self, live, now: float, window: str, held_since: float | None, partial: bool
    ) -> tuple[ReportReady, bool]:
        """The report from memory when it holds the rows `report` would read (and no more than
        exact_max_rows of them), else from the store as `report` reads it."""
        needed = load_since(now, window, self.settings)
        held = held_since != NOT_SEEDED and (held_since is None or (needed is not None and needed >= held_since))
        if held:
            ts = live.cols.ts
            count = len(ts) if needed is None else int(np.count_nonzero(ts >= needed))
            held = count <= self.exact_max_rows
        store = self._store
        loading = partial or held_since == NOT_SEEDED  # the seed is on its way: no need to read twice
        if held or store is None or (loading and not self._beyond_memory(now, window)):
            report = live.report(now)
            # before the seed, memory holds none of the window: figures, but no verdict on them yet
            return ReportReady(report, window, len(live.cols), self._registry_marks(report.versions),
                               partial=partial or held_since == NOT_SEEDED, registry_order=self._registry_order()), False
        report = report_from_store(store, now, window, self.settings, self.exact_max_rows)
        return ReportReady(report, window, report.requests, self._registry_marks(report.versions),
                           registry_order=self._registry_order()), True

    def _beyond_memory(self, now: float, window: str) -> bool:
        """While the seed loads: whether the window needs more rows than the exact path loads
        (then the store answers now, whole), else the report from memory (partial, or empty
        before the seed) waits for the rows already being loaded."""
        from console.store.window_report import needs_rollups

        assert self._store is not None
        return needs_rollups(self._store, now, window, self.settings, self.exact_max_rows)


def budget_periods(settings: Settings, now: float) -> tuple[float, ...]:
    """When each budget's current period began (its baseline is that period's spend)."""
    from console.analytics.budget import period_bounds

    return tuple(period_bounds(now, budget.period)[0] for budget in settings.budgets)


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
    in the budgets' current periods moves into the baselines (budgets keep counting it).
    Returns how many rows went."""
    before = len(live.cols)
    evict_to_bound(live, max_rows, now)
    return before - len(live.cols)


def evict_to_bound(live, max_rows: int, now: float, held_since: float | None = None) -> float | None:
    """evict_over's work; returns held_since after it: the ts the rows kept start at when rows
    went (every stored row from it on is still held), else held_since as given."""
    from console.analytics.budget import prefix_spend_nano

    excess = len(live.cols) - max_rows
    if excess <= max(max_rows // 10, 1000):
        return held_since
    cut_ts = float(live.cols.ts[excess])
    cut = int(np.argmax(live.cols.ts >= cut_ts))  # what evict_before drops (rows in time order)
    for name, nano in prefix_spend_nano(live.cols, cut, live.settings.budgets, now).items():
        live.baseline_nano[name] = live.baseline_nano.get(name, 0) + nano
    live.evict_before(cut_ts)
    return cut_ts if held_since is None else max(held_since, cut_ts)
