"""Two arms compared over a window too large to load (`compare` above the exact path's limit).

An arm's requests are its hour cells (console.analytics.rollup) plus the rows at the edges no
whole hour covers. Counts, errors, bad and rated (with the labels' corrections) are sums of
integers: exactly the rows'. Latency percentiles come from the merged DDSketch sketches, within
RELATIVE_ACCURACY (console.analytics.sketch), and the latency test is Mann-Whitney's U over
the sketches' buckets (values in one bucket, within 1% of one another, count as ties), with
the normal approximation and tie correction scipy uses for samples this size. The cells keep
no distribution of cost per request, so its median, p95 and test are left out (None); the
mean cost per priced request is exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

from console.analytics.columns import Columns
from console.analytics.arm_spec import ArmSpec
from console.analytics.compare import (
    MIN_REQUESTS,
    ArmSummary,
    Comparison,
    Difference,
    _difference,
    _findings,
    _proportion_difference,
    _rate,
    arm_labels,
    same_rows_findings,
)
from console.analytics.compare_overlap import joined_span, time_overlap, ts_span
from console.analytics.quantiles import percentiles_of_sorted
from console.analytics.rollup import CellTable
from console.analytics.sketch import Entries, SketchValues

MANN_WHITNEY_BUCKETS = "Mann-Whitney U over sketch buckets"
NANO = 1e-9


@dataclass
class ArmPart:
    """One arm over a window: its cells (already the arm's), the edge rows with the mask of
    the arm's, and the labels' correction of the cells' (bad, rated) counts."""

    cells: CellTable
    rows: Columns
    mask: np.ndarray
    label_delta: tuple[int, int] = (0, 0)


def cells_of_arm(cells: CellTable, spec: ArmSpec) -> CellTable:
    """The cells whose model, prompt and environment match the spec (names compared ignoring
    case, as arm_mask does; the spec's user and times are the caller's)."""
    keep = np.ones(len(cells), np.bool_)
    for field, dim in (("model", "model"), ("environment", "environment")):
        wanted = getattr(spec, field)
        if wanted is not None:
            codes = [i for i, name in enumerate(cells.names[dim]) if name.casefold() == wanted.casefold()]
            keep &= np.isin(cells.codes[dim], codes)
    if spec.prompt_id is not None or spec.prompt_version is not None:
        keep &= np.isin(cells.codes["prompt"], _prompt_codes(cells, spec))
    return cells.take(keep)


def _prompt_codes(cells: CellTable, spec: ArmSpec) -> list[int]:
    """Codes of "id@version" keys matching the spec; the version is the key past its own id."""
    pairs = set(zip(cells.codes["prompt"].tolist(), cells.codes["prompt_id"].tolist()))
    keys, ids = cells.names["prompt"], cells.names["prompt_id"]
    found = []
    for prompt, prompt_id in pairs:
        pid = ids[prompt_id]
        if spec.prompt_id is not None and pid.casefold() != spec.prompt_id.casefold():
            continue
        if spec.prompt_version is not None and keys[prompt][len(pid) + 1 :].casefold() != spec.prompt_version.casefold():
            continue
        found.append(prompt)
    return found


def _latency(part: ArmPart) -> Entries:
    """The arm's latency sketch (one group, 0): its cells' merged with its rows' values."""
    rows = np.flatnonzero(part.mask)
    cells = part.cells.sketches["latency_ms"].regroup(np.zeros(len(part.cells), np.int64))
    return Entries.concat([cells, Entries.of_values(np.zeros(len(rows), np.int64), part.rows.latency_ms[rows])])


def summarize_part(part: ArmPart, spec: ArmSpec, label: str) -> tuple[ArmSummary, Entries]:
    """The arm's summary, and its latency sketch for the test."""
    cells, rows = part.cells, np.flatnonzero(part.mask)
    sums = cells.sums
    requests = int(sums["requests"].sum()) + len(rows)
    errors = int((sums["requests"] * cells.codes["is_error"]).sum()) + int(part.rows.is_error[rows].sum())
    bad = int(sums["bad"].sum()) + part.label_delta[0] + int(part.rows.is_bad[rows].sum())
    rated = int(sums["rated"].sum()) + part.label_delta[1] + int(part.rows.is_rated[rows].sum())
    cost = part.rows.cost_usd[rows]
    priced_rows = cost[~np.isnan(cost)]
    priced = int(sums["priced"].sum()) + len(priced_rows)
    latency = _latency(part)
    p50, p95 = _percentiles(latency, (50.0, 95.0))
    error_rate, error_ci = _rate(errors, requests)
    bad_rate, bad_ci = _rate(bad, rated)
    spent = int(sums["cost_nano"].sum()) * NANO + float(priced_rows.sum())
    summary = ArmSummary(
        label=label, spec=spec.text, requests=requests,
        errors=errors, error_rate=error_rate, error_rate_ci=error_ci,
        bad=bad, rated=rated, bad_rate=bad_rate, bad_rate_ci=bad_ci,
        latency_p50_ms=p50, latency_p95_ms=p95,
        priced_requests=priced, cost_median_usd=None, cost_p95_usd=None, unpriced_requests=requests - priced,
        cost_mean_usd=spent / priced if priced else None,
    )  # fmt: skip
    return summary, latency


def _percentiles(entries: Entries, qs: tuple[float, ...]) -> list[Optional[float]]:
    if not len(entries.counts):
        return [None] * len(qs)
    values = SketchValues(entries.keys, entries.counts)
    return [float(v) for v in percentiles_of_sorted(values, list(qs))]


def sketch_mann_whitney(a: Entries, b: Entries) -> Optional[float]:
    """Two-sided Mann-Whitney U p-value of two one-group sketches, each bucket's values tied:
    the normal approximation with tie and continuity correction (scipy's asymptotic method)."""
    n_a, n_b = int(a.counts.sum()), int(b.counts.sum())
    if not n_a or not n_b:
        return None
    keys = np.union1d(a.keys, b.keys)
    count_a = np.zeros(len(keys))
    count_b = np.zeros(len(keys))
    count_a[np.searchsorted(keys, a.keys)] = a.counts
    count_b[np.searchsorted(keys, b.keys)] = b.counts
    tied = count_a + count_b
    below = np.cumsum(tied) - tied
    ranks = below + (tied + 1) / 2  # mid-ranks
    u = float((count_a * ranks).sum()) - n_a * (n_a + 1) / 2
    n = n_a + n_b
    mean = n_a * n_b / 2
    ties = float((tied**3 - tied).sum())
    variance = n_a * n_b / 12 * ((n + 1) - ties / (n * (n - 1)))
    if variance <= 0:
        return 1.0  # every value tied: no evidence of a difference
    z = (abs(u - mean) - 0.5) / math.sqrt(variance)
    return float(min(1.0, math.erfc(max(z, 0.0) / math.sqrt(2))))


def part_span(part: ArmPart) -> Optional[tuple[float, float]]:
    """The arm's first and last request: its cells keep their rows' extremes, exactly."""
    cells = part.cells
    from_cells = (float(cells.min_ts.min()), float(cells.max_ts.max())) if len(cells) else None
    return joined_span(from_cells, ts_span(part.rows.ts[part.mask]))


def compare_parts(part_a: ArmPart, part_b: ArmPart, a: ArmSpec, b: ArmSpec) -> Comparison:
    """compare() over rollups: arm B (candidate) against arm A (baseline)."""
    label_a, label_b = arm_labels(a, b)
    arm_a, latency_a = summarize_part(part_a, a, label_a)
    arm_b, latency_b = summarize_part(part_b, b, label_b)
    differences = {
        "error_rate": _proportion_difference(arm_a.errors, arm_a.requests, arm_b.errors, arm_b.requests),
        "bad_rate": _proportion_difference(arm_a.bad, arm_a.rated, arm_b.bad, arm_b.rated),
        "latency": _difference(sketch_mann_whitney(latency_a, latency_b), MANN_WHITNEY_BUCKETS),
        "cost": Difference(None, None, None),  # no per-request costs in the cells
    }
    # the same spec selects the same rows (specs that differ but match the same rows are
    # told apart only on the rows path, which has both arms' rows)
    findings = same_rows_findings(arm_a) if a == b and arm_a.requests else _findings(arm_a, arm_b, differences)
    overlap = time_overlap(a, b, label_a, label_b, part_span(part_a), part_span(part_b))
    return Comparison(
        a=arm_a, b=arm_b, differences=differences, enough_data=min(arm_a.requests, arm_b.requests) >= MIN_REQUESTS,
        findings=findings, verdict=[f.text for f in findings], figures="rollups", overlap=overlap,
    )  # fmt: skip
