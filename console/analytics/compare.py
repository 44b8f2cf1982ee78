"""Compare two arms of traffic: two prompt versions, two models, or before/after a change.

An arm is a spec (console.analytics.arm_spec) like "prompt=support-answer@v8,model=gpt-4o". `compare`
answers, for each arm, the counts, rates with Wilson 95% intervals (the bad rate over the rated
requests only: a label, or unlabelled a feedback value), latency and cost
percentiles, and across arms the p-values, plus a verdict in plain language that refuses
to conclude from small samples. The CLI (`compare --json`) and the compare screen both
render this one result, so they cannot disagree.

Convention: arm A is the baseline, arm B the candidate ("--a v7 --b v8"); sentences
name B first ("bad rate 6.1% in v8 vs 2.0% in v7").
"""

from __future__ import annotations

import math
from typing import Literal, Optional, Union

import msgspec
import numpy as np

from console.analytics.arm_spec import ArmSpec, arm_mask, parse_arm_spec
from console.analytics.columns import Columns
from console.analytics.compare_overlap import TimeOverlap, time_overlap, ts_span
from console.analytics.stats import (
    MANN_WHITNEY,
    compare_distributions,
    compare_proportions,
    wilson_interval,
)
from console.formatting import latency, usd

ALPHA = 0.05  # "significant" means p < ALPHA (no multiple-test correction: 4 tests, read as a screen)
MIN_REQUESTS = 30  # below this in an arm, rates and percentiles move too much to conclude

# -- the result ------------------------------------------------------------------------------


class ArmSummary(msgspec.Struct):
    """One arm. Rates are fractions (0.061 = 6.1%); *_ci are Wilson 95% [low, high]."""

    label: str
    spec: str
    requests: int
    errors: int
    error_rate: Optional[float]
    error_rate_ci: Optional[tuple[float, float]]
    bad: int
    rated: int  # labelled, or unlabelled with feedback: bad_rate is bad / rated (None when 0)
    bad_rate: Optional[float]
    bad_rate_ci: Optional[tuple[float, float]]
    latency_p50_ms: Optional[float]
    latency_p95_ms: Optional[float]
    priced_requests: int
    cost_median_usd: Optional[float]
    cost_p95_usd: Optional[float]
    unpriced_requests: int
    cost_mean_usd: Optional[float] = None  # spend / priced requests (exact over rollups too)


class Difference(msgspec.Struct):
    """A two-sided test between the arms; p_value None when an arm has nothing to test."""

    p_value: Optional[float]
    method: Optional[str]
    significant: Optional[bool]


class Finding(msgspec.Struct):
    """One verdict sentence and what kind of statement it is (the screen colours by kind)."""

    kind: Literal["significant", "no_difference", "not_enough_data"]
    metric: Optional[str]  # error_rate, bad_rate, latency, cost; None for a whole arm
    text: str


class Comparison(msgspec.Struct):
    a: ArmSummary
    b: ArmSummary
    differences: dict[str, Difference]  # keys: error_rate, bad_rate, latency, cost
    enough_data: bool
    findings: list[Finding]
    verdict: list[str]  # the findings' sentences, in order
    alpha: float = ALPHA
    min_requests: int = MIN_REQUESTS
    # "rows": every request loaded; "rollups": a window above the exact path's limit, read as
    # hour cells and edge rows (console.analytics.compare_sketch): percentiles within 1%, no
    # cost median/p95 or cost test
    figures: str = "rows"
    # when each arm's requests were and how much of that time they share, with a warning when
    # under 80% of the longer arm's (console.analytics.compare_overlap); null when an arm is empty
    overlap: Optional[TimeOverlap] = None


def _percentile(values: np.ndarray, q: float) -> Optional[float]:
    return float(np.percentile(values, q)) if values.size else None


def _rate(k: int, n: int) -> tuple[Optional[float], Optional[tuple[float, float]]]:
    return (k / n, wilson_interval(k, n)) if n else (None, None)


def summarize_arm(cols: Columns, spec: ArmSpec, label: Optional[str] = None,
                  mask: Optional[np.ndarray] = None) -> ArmSummary:
    """One arm's counts, rates and percentiles (mask: its rows, when already computed)."""
    mask = arm_mask(cols, spec) if mask is None else mask
    requests = int(mask.sum())
    errors = int(cols.is_error[mask].sum())
    bad = int(cols.is_bad[mask].sum())
    rated = int(cols.is_rated[mask].sum())
    # latency over every request, errors included, as the latency pane and report count it
    latency = cols.latency_ms[mask]
    cost = cols.cost_usd[mask]
    priced = cost[~np.isnan(cost)]  # NaN = unpriced: counted apart, never a $0
    error_rate, error_ci = _rate(errors, requests)
    bad_rate, bad_ci = _rate(bad, rated)
    return ArmSummary(
        label=label or spec.label, spec=spec.text, requests=requests,
        errors=errors, error_rate=error_rate, error_rate_ci=error_ci,
        bad=bad, rated=rated, bad_rate=bad_rate, bad_rate_ci=bad_ci,
        latency_p50_ms=_percentile(latency, 50), latency_p95_ms=_percentile(latency, 95),
        priced_requests=int(priced.size), cost_median_usd=_percentile(priced, 50),
        cost_p95_usd=_percentile(priced, 95), unpriced_requests=requests - int(priced.size),
        cost_mean_usd=float(priced.mean()) if priced.size else None,
    )  # fmt: skip


def _difference(p_value: Optional[float], method: str) -> Difference:
    if p_value is None:
        return Difference(None, None, None)
    return Difference(p_value, method, p_value < ALPHA)


def _proportion_difference(k_a: int, n_a: int, k_b: int, n_b: int) -> Difference:
    test = compare_proportions(k_a, n_a, k_b, n_b)
    return _difference(test.p_value, test.method or "")


def _distribution_difference(a: np.ndarray, b: np.ndarray) -> Difference:
    return _difference(compare_distributions(a, b), MANN_WHITNEY)


def arm_labels(a: ArmSpec, b: ArmSpec) -> tuple[str, str]:
    """Each arm's short name, or its spec when two different arms share one (prompt_version=v7
    and prompt_id=v7 both read 'v7'): the verdict must tell them apart. The same arm twice
    keeps its name: 'A (gpt-4o)' was headed 'A: A (gpt-4o)' in the table and on the screen,
    and its verdict says the arms are the same requests."""
    label_a, label_b = a.label, b.label
    if label_a.casefold() == label_b.casefold() and a.text.casefold() != b.text.casefold():
        label_a, label_b = a.text, b.text
    return label_a, label_b


def compare(cols: Columns, a: ArmSpec, b: ArmSpec) -> Comparison:
    """Arm B (candidate) against arm A (baseline) over the rows of cols."""
    label_a, label_b = arm_labels(a, b)
    mask_a, mask_b = arm_mask(cols, a), arm_mask(cols, b)
    arm_a = summarize_arm(cols, a, label_a, mask_a)
    arm_b = summarize_arm(cols, b, label_b, mask_b)
    differences = {
        "error_rate": _proportion_difference(arm_a.errors, arm_a.requests, arm_b.errors, arm_b.requests),
        "bad_rate": _proportion_difference(arm_a.bad, arm_a.rated, arm_b.bad, arm_b.rated),
        "latency": _distribution_difference(cols.latency_ms[mask_a], cols.latency_ms[mask_b]),
        # NaN (unpriced) costs are dropped by the test: only priced requests are compared
        "cost": _distribution_difference(cols.cost_usd[mask_a], cols.cost_usd[mask_b]),
    }
    same = arm_a.requests > 0 and bool(np.array_equal(mask_a, mask_b))
    findings = same_rows_findings(arm_a) if same else _findings(arm_a, arm_b, differences)
    enough = min(arm_a.requests, arm_b.requests) >= MIN_REQUESTS
    overlap = time_overlap(a, b, label_a, label_b, ts_span(cols.ts[mask_a]), ts_span(cols.ts[mask_b]))
    return Comparison(
        a=arm_a, b=arm_b, differences=differences, enough_data=enough,
        findings=findings, verdict=[f.text for f in findings], overlap=overlap,
    )  # fmt: skip


# -- the verdict -----------------------------------------------------------------------------


def format_p(p_value: Optional[float]) -> str:
    """ "p < 0.001", "p = 0.03", "p = 0.004"; never rounds a significant p up to 0.05."""
    if p_value is None:
        return "p = n/a"
    if p_value < 0.001:
        return "p < 0.001"
    if p_value < 0.01:
        return f"p = {p_value:.3f}"
    text = f"{p_value:.2f}"
    if p_value < ALPHA <= float(text):
        text = f"{math.floor(p_value * 1000) / 1000:.3f}"
    return f"p = {text}"


def format_percent(rate: Optional[float]) -> str:
    if rate is None:
        return "—"
    if 0 < rate < 0.001:
        return f"{rate * 100:.2f}%"
    return f"{rate * 100:.1f}%"


def format_ms(value: Optional[float]) -> str:
    """A latency in the panes' style (seconds: '1.27s'), in the table and the verdict alike."""
    return latency(value)


def same_rows_findings(a: ArmSummary) -> list[Finding]:
    """Both arms select the same requests: every test says p = 1.00, which reads as a finding
    ("no difference") where there was nothing to compare."""
    return [Finding("not_enough_data", None, f"both arms are the same {a.requests:,} requests: nothing to compare")]


def _findings(a: ArmSummary, b: ArmSummary, differences: dict[str, Difference]) -> list[Finding]:
    small = [arm for arm in (b, a) if arm.requests < MIN_REQUESTS]
    if small:  # no conclusion at all: a rate over 14 requests moves 7 points per request
        return [
            Finding("not_enough_data", None, f"not enough data: {arm.requests:,} requests in {arm.label} "
                    f"(at least {MIN_REQUESTS} per arm needed to compare)")
            for arm in small
        ]  # fmt: skip
    counts = f"{b.requests:,} vs {a.requests:,} requests"
    # metric -> (its name, what a significant difference says, without the p-value)
    statements = {
        "bad_rate": ("bad rate", f"bad rate {format_percent(b.bad_rate)} in {b.label} "
                     f"vs {format_percent(a.bad_rate)} in {a.label}"),
        "error_rate": ("error rate", f"error rate {format_percent(b.error_rate)} in {b.label} "
                       f"vs {format_percent(a.error_rate)} in {a.label}"),
        "latency": ("latency", f"latency p50 {format_ms(b.latency_p50_ms)} in {b.label} vs "
                    f"{format_ms(a.latency_p50_ms)} in {a.label}, p95 {format_ms(b.latency_p95_ms)} "
                    f"vs {format_ms(a.latency_p95_ms)}"),
        "cost": ("cost", f"cost per request median {usd(b.cost_median_usd)} in {b.label} "
                 f"vs {usd(a.cost_median_usd)} in {a.label}"),
    }  # fmt: skip
    findings = []
    for metric, (name, statement) in statements.items():
        test = differences[metric]
        if metric == "bad_rate" and min(a.rated, b.rated) < MIN_REQUESTS:
            findings.append(Finding("not_enough_data", metric, _unrated_text(a, b)))
        elif metric == "cost" and test.method is None and min(a.priced_requests, b.priced_requests) >= MIN_REQUESTS:
            text = (f"cost: per-request costs are not kept in the rollups; mean {usd(b.cost_mean_usd)} in "
                    f"{b.label} vs {usd(a.cost_mean_usd)} in {a.label}")  # fmt: skip
            findings.append(Finding("not_enough_data", metric, text))
        elif metric == "cost" and min(a.priced_requests, b.priced_requests) < MIN_REQUESTS:
            text = (f"cost: not enough priced requests ({b.priced_requests:,} in {b.label}, "
                    f"{a.priced_requests:,} in {a.label})")  # fmt: skip
            findings.append(Finding("not_enough_data", metric, text))
        elif test.significant:
            extra = f", {counts}" if metric == "error_rate" else ""
            if metric == "bad_rate":  # its sample is the rated requests
                extra = f", {b.rated:,} vs {a.rated:,} rated"
            findings.append(Finding("significant", metric, f"{statement} ({format_p(test.p_value)}{extra})"))
        else:
            text = f"{name}: no significant difference ({format_p(test.p_value)})"
            findings.append(Finding("no_difference", metric, text))
    return findings


def _unrated_text(a: ArmSummary, b: ArmSummary) -> str:
    """Why the bad rates are not compared: an unrated request is not a good one, so an arm
    nobody rated has no bad rate at all (and a handful of ratings moves one too much)."""
    unrated = [arm.label for arm in (b, a) if not arm.rated]
    if unrated:
        return f"bad rate: not compared, no ratings in {' or '.join(unrated)}"
    return (f"bad rate: not compared, not enough rated requests ({b.rated:,} in {b.label}, "
            f"{a.rated:,} in {a.label})")  # fmt: skip


# -- before / after a change point -----------------------------------------------------------


def before_after(
    cols: Columns,
    change_ts: float,
    scope: Union[ArmSpec, str, None] = None,
    *,
    same_length: bool = False,
) -> tuple[ArmSpec, ArmSpec]:
    """Arms "before change_ts" (A) and "from change_ts on" (B), both within scope.

    scope is a spec ("prompt_id=support-answer") or None for all traffic. With
    same_length, the before arm covers as much time as the after arm does up to the
    newest row, so a week of history is not weighed against the last ten minutes.
    """
    base = parse_arm_spec(scope) if isinstance(scope, str) else (scope or ArmSpec())
    if base.before is not None or base.after is not None:
        raise ValueError("the scope of a before/after comparison cannot itself have before= or after=")
    start = None
    if same_length and len(cols):
        newest = float(cols.ts.max())
        start = change_ts - max(newest - change_ts, 0.0)
    before = msgspec.structs.replace(base, after=start, before=change_ts)
    after = msgspec.structs.replace(base, after=change_ts)
    return before, after


REPLACED_SAMPLE = 200  # the requests just before a change that say what it replaced


def change_point_arms(cols: Columns, kind: Literal["model", "prompt"], name: str) -> tuple[ArmSpec, ArmSpec]:
    """Before/after the first appearance of a model or prompt version ("id@version"): the
    after arm is its own traffic from then on, the before arm the traffic it replaced.

    What it replaced is what most of the REPLACED_SAMPLE requests just before it went to: for
    a prompt version, the same prompt's version (v7 for v8); for a model, the model serving
    the prompts it serves, both arms scoped to that prompt when it serves one. An after arm
    of all the prompt's (or all) traffic mixed the versions still serving beside it (a
    canary's v7, a lingering client's v6) into "after". With nothing before it, the before
    arm is the scope's traffic before it (none: "not enough data").
    """
    seen = cols.first_seen.get(kind, {})
    if name not in seen:
        raise ValueError(f"{kind} {name!r} has not been seen")
    change = seen[name]
    earlier = cols.ts < change
    if kind == "prompt":
        prompt_id, version = _prompt_parts(cols, name)
        scope = ArmSpec(prompt_id=prompt_id)
        own = ArmSpec(prompt_id=prompt_id, prompt_version=version)
        replaced_code = _most_recent_mode(cols, "prompt", earlier & arm_mask(cols, scope))
        replaced = None if replaced_code is None else _prompt_parts(cols, cols.names("prompt")[replaced_code])[1]
        before = msgspec.structs.replace(scope, prompt_version=replaced)
    else:
        own = ArmSpec(model=name)
        served = np.unique(cols.prompt_id[arm_mask(cols, own)])
        if len(served) == 1:  # one prompt: both arms on it, so other prompts' traffic stays out
            scope = ArmSpec(prompt_id=cols.names("prompt_id")[int(served[0])])
            own = msgspec.structs.replace(own, prompt_id=scope.prompt_id)
        else:
            scope = ArmSpec()
        candidates = earlier & np.isin(cols.prompt_id, served)
        replaced_code = _most_recent_mode(cols, "model", candidates)
        replaced = None if replaced_code is None else cols.names("model")[replaced_code]
        before = msgspec.structs.replace(scope, model=replaced)
    return (msgspec.structs.replace(before, before=change), msgspec.structs.replace(own, after=change))


def _prompt_parts(cols: Columns, key: str) -> tuple[str, Optional[str]]:
    """"id@version" -> (id, version), the id as the rows pair it with the key (an "@" in an id
    or a version cannot split it in the wrong place); else split at the last "@"."""
    names = cols.names("prompt")
    if key in names:
        rows = np.flatnonzero(cols.prompt == names.index(key))
        if rows.size:
            prompt_id = cols.names("prompt_id")[int(cols.prompt_id[rows[0]])]
            if key.startswith(prompt_id + "@"):
                return prompt_id, key[len(prompt_id) + 1 :]
    prompt_id, _, version = key.rpartition("@")
    return (prompt_id, version) if prompt_id else (key, None)


def _most_recent_mode(cols: Columns, category: str, mask: np.ndarray) -> Optional[int]:
    """The code of `category` most of the newest REPLACED_SAMPLE rows in mask have (a tie:
    the one whose newest row is later); None when mask holds no row."""
    rows = np.flatnonzero(mask)
    if not rows.size:
        return None
    newest = rows[np.argsort(cols.ts[rows], kind="stable")[-REPLACED_SAMPLE:]]
    codes = getattr(cols, category)[newest]
    found, counts = np.unique(codes, return_counts=True)
    last = {int(code): position for position, code in enumerate(codes.tolist())}
    best = max(zip(counts.tolist(), found.tolist()), key=lambda item: (item[0], last[int(item[1])]))
    return int(best[1])
