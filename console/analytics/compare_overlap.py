"""Whether two arms' requests cover the same time: a like-for-like comparison needs them to.

An arm whose requests cover the last 24 hours, weighed against one that covers the last 2 (a
rollout begun 2 hours ago), sets a day of traffic (night, peak, other clients) against two
afternoon hours: rates and latencies differ whatever the versions do. The rule:

    each arm's span is its first to its last request (in the window);
    the arms' shared span is the time both spans cover;
    warn when the shared span is under OVERLAP_WARN_SHARE (80%) of the longer arm's span.

Arms the specs themselves put in different periods (one's before= at or before the other's
after=: a before/after comparison, the console's `C`) are apart on purpose and not warned
about. The warning names the arm that started late or stopped early (when that gap is at least
a tenth of the longer span) and the shared span, which `compare` turns into the options that
compare over it (`shared_span_options`).
"""

from __future__ import annotations

import math
from typing import Optional

import msgspec
import numpy as np

from console.analytics.after_now import span as duration
from console.analytics.arm_spec import ArmSpec
from console.formatting import parse_rfc3339, rfc3339

OVERLAP_WARN_SHARE = 0.8  # shared span / the longer arm's span under this: not like-for-like
GAP_NAMED_SHARE = 0.1  # a late start or early stop this share of the longer span is named
AT_THE_END_S = 60.0  # a shared span ending this close to the window's end ends "now"


class TimeOverlap(msgspec.Struct):
    """When each arm's requests were and how much of that time the arms share (`compare
    --json`'s `overlap`; null when an arm has no request)."""

    a_first: str  # RFC 3339: the arm's first and last request
    a_last: str
    b_first: str
    b_last: str
    shared_first: Optional[str]  # the span both arms cover; null when they share no time
    shared_last: Optional[str]
    shared_seconds: float
    longer_seconds: float  # the longer arm's span
    share: Optional[float]  # shared / longer; null when both arms are a single moment
    split_in_time: bool  # the specs' before=/after= set the arms apart (before/after): no warning
    warning: Optional[str]  # the sentence, when share < OVERLAP_WARN_SHARE and not split_in_time
    # the command line options that compare over the shared span ("--since 2h"), set by
    # `compare` (the console has no such options: null there)
    rerun_with: Optional[str] = None


def ts_span(ts: np.ndarray) -> Optional[tuple[float, float]]:
    """(first, last) of an arm's timestamps; None when it has none."""
    return (float(ts.min()), float(ts.max())) if ts.size else None


def joined_span(*spans: Optional[tuple[float, float]]) -> Optional[tuple[float, float]]:
    found = [s for s in spans if s is not None]
    if not found:
        return None
    return min(s[0] for s in found), max(s[1] for s in found)


def split_in_time(a: ArmSpec, b: ArmSpec) -> bool:
    """The specs put the arms in periods apart: a before/after comparison, asked for as such."""
    return (a.before is not None and b.after is not None and a.before <= b.after) or (
        b.before is not None and a.after is not None and b.before <= a.after
    )


def _at(moment: float) -> str:
    return rfc3339(moment, timespec="seconds")


def time_overlap(
    a: ArmSpec, b: ArmSpec, label_a: str, label_b: str,
    span_a: Optional[tuple[float, float]], span_b: Optional[tuple[float, float]],
) -> Optional[TimeOverlap]:
    """The arms' spans, their shared span and the warning (module docstring: the rule)."""
    if span_a is None or span_b is None:
        return None
    (a0, a1), (b0, b1) = span_a, span_b
    shared_first, shared_last = max(a0, b0), min(a1, b1)
    shared = max(shared_last - shared_first, 0.0)
    longer = max(a1 - a0, b1 - b0)
    overlaps = shared > 0
    overlap = TimeOverlap(
        a_first=rfc3339(a0), a_last=rfc3339(a1), b_first=rfc3339(b0), b_last=rfc3339(b1),
        shared_first=rfc3339(shared_first) if overlaps else None,
        shared_last=rfc3339(shared_last) if overlaps else None,
        shared_seconds=shared, longer_seconds=longer, share=shared / longer if longer > 0 else None,
        split_in_time=split_in_time(a, b), warning=None,
    )  # fmt: skip
    overlap.warning = overlap_warning(overlap, label_a, label_b)
    return overlap


def overlap_warning(overlap: TimeOverlap, label_a: str, label_b: str) -> Optional[str]:
    """The warning's sentence, None when the arms are like for like (or apart on purpose).
    From the overlap alone, so the console's compare screen says it with its labels fitted to
    the screen (console/ui/screens/compare.py) and `compare` with them whole."""
    share = overlap.share
    if overlap.split_in_time or share is None or share >= OVERLAP_WARN_SHARE:
        return None
    span_a = parse_rfc3339(overlap.a_first), parse_rfc3339(overlap.a_last)
    span_b = parse_rfc3339(overlap.b_first), parse_rfc3339(overlap.b_last)
    if overlap.shared_first is None:
        return (f"arms do not overlap in time: {label_a} covers {_at(span_a[0])} – {_at(span_a[1])}, {label_b} "
                f"covers {_at(span_b[0])} – {_at(span_b[1])}: their figures are from different periods, not like for like")  # fmt: skip
    longer = overlap.longer_seconds
    gaps = []
    for label, (first, last), (other_first, other_last) in ((label_b, span_b, span_a), (label_a, span_a, span_b)):
        said = []
        if first - other_first >= GAP_NAMED_SHARE * longer:
            said.append(f"started at {_at(first)}")
        if other_last - last >= GAP_NAMED_SHARE * longer:
            said.append(f"stopped at {_at(last)}")
        if said:
            gaps.append(f"{label} {' and '.join(said)}")
    # rounded down: a share just under the bar never reads as the bar itself ("80%")
    percent = f"{math.floor(share * 100)}%" if share >= 0.01 else "<1%"
    named = "".join(f"{gap}; " for gap in gaps)  # one at least: the gaps make up over 20%
    return (f"arms overlap for {duration(overlap.shared_seconds)} of {duration(longer)} ({percent}): {named}"
            "their figures are not like for like (time of day, traffic)")  # fmt: skip


def duration_option(seconds: float) -> str:
    """A --since at least `seconds` long, to the minute: '2h', '3d', '130m'."""
    minutes = max(math.ceil(seconds / 60.0 - 1e-9), 1)
    if minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


def shared_span_options(overlap: TimeOverlap, window_end: float, now_text: Optional[str]) -> Optional[str]:
    """`--since D [--now T]`: a window that holds the arms' shared span (and at most a minute
    more). It ends at the window's end (now_text: the --now given, None for the clock) when the
    shared span runs to within a minute of it, else at the shared span's last second."""
    if overlap.shared_first is None or overlap.shared_last is None:
        return None
    first, last = parse_rfc3339(overlap.shared_first), parse_rfc3339(overlap.shared_last)
    if last >= window_end - AT_THE_END_S:
        end, now_option = window_end, (None if now_text is None else now_text.strip())
    else:
        end = float(math.ceil(last))
        now_option = _at(end)
    since = f"--since {duration_option(end - first)}"
    return since if now_option is None else f"{since} --now {now_option}"
