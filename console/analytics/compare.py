"""Compare two arms of traffic: two prompt versions, two models, or before/after a change.

An arm is a spec like "prompt=support-answer@v8,model=gpt-4o" (terms ANDed). `compare`
answers, for each arm, the counts, rates with Wilson 95% intervals, latency and cost
percentiles, and across arms the p-values, plus a verdict in plain language that refuses
to conclude from small samples. The CLI (`compare --json`) and the compare screen both
render this one result, so they cannot disagree.

Convention: arm A is the baseline, arm B the candidate ("--a v7 --b v8"); sentences
name B first ("bad rate 6.1% in v8 vs 2.0% in v7").
"""

from __future__ import annotations

import math
from datetime import date, datetime, timezone
from typing import Literal, Optional, Union

import msgspec
import numpy as np

from console.analytics.columns import Columns
from console.analytics.stats import (
    MANN_WHITNEY,
    compare_distributions,
    compare_proportions,
    wilson_interval,
)
from console.formatting import latency, rfc3339, usd

ALPHA = 0.05  # "significant" means p < ALPHA (no multiple-test correction: 4 tests, read as a screen)
MIN_REQUESTS = 30  # below this in an arm, rates and percentiles move too much to conclude

# spec key -> ArmSpec field (None: handled specially)
_KEYS = {
    "model": "model",
    "prompt": None,
    "prompt_id": "prompt_id",
    "prompt_version": "prompt_version",
    "version": "prompt_version",
    "env": "environment",
    "environment": "environment",
    "user": "user",
    "before": "before",
    "after": "after",
}
_EPOCH_MS_THRESHOLD = 1e11  # as in records: larger epoch numbers are milliseconds


class ArmSpec(msgspec.Struct, frozen=True, omit_defaults=True):
    """Which requests make an arm; every set field must match (ts: after <= ts < before)."""

    model: Optional[str] = None
    prompt_id: Optional[str] = None
    prompt_version: Optional[str] = None
    environment: Optional[str] = None
    user: Optional[str] = None
    after: Optional[float] = None
    before: Optional[float] = None

    @property
    def text(self) -> str:
        """The spec in canonical form; parse_arm_spec(spec.text) == spec."""
        parts = []
        for name in ("model", "prompt_id", "prompt_version", "environment", "user"):
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{name}={value}")
        for name in ("after", "before"):
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{name}={rfc3339(value)}")
        return ",".join(parts) or "all"

    @property
    def label(self) -> str:
        """A short human name: "support-answer@v8 · gpt-4o", "v7", "after 2026-11-18T14:00:00Z"."""
        parts = []
        if self.prompt_id is not None and self.prompt_version is not None:
            parts.append(f"{self.prompt_id}@{self.prompt_version}")
        elif self.prompt_id is not None:
            parts.append(self.prompt_id)
        elif self.prompt_version is not None:
            parts.append(self.prompt_version)
        if self.model is not None:
            parts.append(self.model)
        if self.environment is not None:
            parts.append(f"env {self.environment}")
        if self.user is not None:
            parts.append(f"user {self.user}")
        if self.after is not None:
            parts.append(f"after {rfc3339(self.after)}")
        if self.before is not None:
            parts.append(f"before {rfc3339(self.before)}")
        return " · ".join(parts) or "all requests"


def parse_time(value: str) -> float:
    """RFC 3339 ("2026-11-18T14:00:00Z"), a date (UTC midnight), or epoch seconds/ms."""
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(number) or number < 0:
            raise ValueError(f"not a time: {value!r}")
        return number / 1000.0 if number > _EPOCH_MS_THRESHOLD else number
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"not a time: {value!r} (use RFC 3339 like 2026-11-18T14:00:00Z, a date, or epoch seconds)"
        ) from None
    if moment.tzinfo is None:
        if len(text) == 10:  # a bare date: midnight UTC is the only sensible reading
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), timezone.utc).timestamp()
        raise ValueError(f"time {value!r} has no UTC offset (add Z or +hh:mm)")
    return moment.timestamp()


def parse_arm_spec(spec: str) -> ArmSpec:
    """Parse "key=value[,key=value...]"; raises ValueError saying what is wrong and where."""
    if not spec or not spec.strip():
        raise ValueError("empty arm spec (e.g. prompt_version=v7, model=gpt-4o, prompt=support-answer@v8)")
    fields: dict[str, object] = {}

    def put(name: str, value: object, term: str) -> None:
        if name in fields and fields[name] != value:
            raise ValueError(f"{name} is given twice in {spec!r} ({term!r})")
        fields[name] = value

    for term in spec.split(","):
        key, sep, value = term.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not sep:
            raise ValueError(f"{term.strip()!r} in {spec!r} is not key=value (keys: {', '.join(_KEYS)})")
        if key not in _KEYS:
            raise ValueError(f"unknown key {key!r} in {spec!r} (keys: {', '.join(_KEYS)})")
        if not value:
            raise ValueError(f"{key}= needs a value in {spec!r}")
        if key == "prompt":
            prompt_id, at, version = value.rpartition("@")
            if not at:
                put("prompt_id", value, term)
            elif not prompt_id or not version:
                raise ValueError(f"prompt={value} in {spec!r}: write prompt=<id>@<version> or prompt=<id>")
            else:
                put("prompt_id", prompt_id, term)
                put("prompt_version", version, term)
        elif key in ("before", "after"):
            put(key, parse_time(value), term)
        else:
            put(_KEYS[key], value, term)
    after, before = fields.get("after"), fields.get("before")
    if after is not None and before is not None and after >= before:  # type: ignore[operator]
        raise ValueError(f"after= must be earlier than before= in {spec!r}")
    return ArmSpec(**fields)  # type: ignore[arg-type]


# -- selecting rows --------------------------------------------------------------------------


def _codes_equal(cols: Columns, category: str, wanted: str) -> np.ndarray:
    """Codes whose name equals wanted, ignoring case (people type model names by hand)."""
    folded = wanted.casefold()
    codes = [i for i, name in enumerate(cols.names(category)) if name.casefold() == folded]
    return np.array(codes, dtype=np.int64)


def _prompt_codes(cols: Columns, prompt_id: Optional[str], version: Optional[str]) -> np.ndarray:
    """Codes of "prompt" (id@version) for this id and/or version.

    The version is read off each key by removing its own prompt_id (pairing the two
    codes), so an "@" inside an id or a version cannot split it in the wrong place.
    """
    if len(cols) == 0:
        return np.array([], dtype=np.int64)
    prompt_names, id_names = cols.names("prompt"), cols.names("prompt_id")
    pairs = np.unique(cols.prompt.astype(np.int64) * (len(id_names) + 1) + cols.prompt_id)
    wanted_id = None if prompt_id is None else prompt_id.casefold()
    wanted_version = None if version is None else version.casefold()
    codes = []
    for pair in pairs.tolist():
        prompt_code, id_code = divmod(pair, len(id_names) + 1)
        key, pid = prompt_names[prompt_code], id_names[id_code]
        if wanted_id is not None and pid.casefold() != wanted_id:
            continue
        if wanted_version is not None and key[len(pid) + 1 :].casefold() != wanted_version:
            continue
        codes.append(prompt_code)
    return np.array(codes, dtype=np.int64)


def arm_mask(cols: Columns, spec: ArmSpec) -> np.ndarray:
    """The rows of cols that belong to the arm."""
    mask = np.ones(len(cols), dtype=np.bool_)
    if spec.prompt_id is not None or spec.prompt_version is not None:
        mask &= np.isin(cols.prompt, _prompt_codes(cols, spec.prompt_id, spec.prompt_version))
    for field, category in (("model", "model"), ("environment", "environment"), ("user", "user")):
        value = getattr(spec, field)
        if value is not None:
            mask &= np.isin(getattr(cols, category), _codes_equal(cols, category, value))
    if spec.after is not None:
        mask &= cols.ts >= spec.after
    if spec.before is not None:
        mask &= cols.ts < spec.before
    return mask


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
    # latency over every request, errors included, as the latency pane and report count it
    latency = cols.latency_ms[mask]
    cost = cols.cost_usd[mask]
    priced = cost[~np.isnan(cost)]  # NaN = unpriced: counted apart, never a $0
    error_rate, error_ci = _rate(errors, requests)
    bad_rate, bad_ci = _rate(bad, requests)
    return ArmSummary(
        label=label or spec.label, spec=spec.text, requests=requests,
        errors=errors, error_rate=error_rate, error_rate_ci=error_ci,
        bad=bad, bad_rate=bad_rate, bad_rate_ci=bad_ci,
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
    label_a, label_b = a.label, b.label
    if label_a.casefold() == label_b.casefold():  # the verdict must tell the arms apart
        label_a, label_b = f"A ({label_a})", f"B ({label_b})"
    return label_a, label_b


def compare(cols: Columns, a: ArmSpec, b: ArmSpec) -> Comparison:
    """Arm B (candidate) against arm A (baseline) over the rows of cols."""
    label_a, label_b = arm_labels(a, b)
    mask_a, mask_b = arm_mask(cols, a), arm_mask(cols, b)
    arm_a = summarize_arm(cols, a, label_a, mask_a)
    arm_b = summarize_arm(cols, b, label_b, mask_b)
    differences = {
        "error_rate": _proportion_difference(arm_a.errors, arm_a.requests, arm_b.errors, arm_b.requests),
        "bad_rate": _proportion_difference(arm_a.bad, arm_a.requests, arm_b.bad, arm_b.requests),
        "latency": _distribution_difference(cols.latency_ms[mask_a], cols.latency_ms[mask_b]),
        # NaN (unpriced) costs are dropped by the test: only priced requests are compared
        "cost": _distribution_difference(cols.cost_usd[mask_a], cols.cost_usd[mask_b]),
    }
    findings = _findings(arm_a, arm_b, differences)
    enough = min(arm_a.requests, arm_b.requests) >= MIN_REQUESTS
    return Comparison(
        a=arm_a, b=arm_b, differences=differences, enough_data=enough,
        findings=findings, verdict=[f.text for f in findings],
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
        if metric == "cost" and test.method is None and min(a.priced_requests, b.priced_requests) >= MIN_REQUESTS:
            text = (f"cost: per-request costs are not kept in the rollups; mean {usd(b.cost_mean_usd)} in "
                    f"{b.label} vs {usd(a.cost_mean_usd)} in {a.label}")  # fmt: skip
            findings.append(Finding("not_enough_data", metric, text))
        elif metric == "cost" and min(a.priced_requests, b.priced_requests) < MIN_REQUESTS:
            text = (f"cost: not enough priced requests ({b.priced_requests:,} in {b.label}, "
                    f"{a.priced_requests:,} in {a.label})")  # fmt: skip
            findings.append(Finding("not_enough_data", metric, text))
        elif test.significant:
            extra = f", {counts}" if metric.endswith("_rate") else ""
            findings.append(Finding("significant", metric, f"{statement} ({format_p(test.p_value)}{extra})"))
        else:
            text = f"{name}: no significant difference ({format_p(test.p_value)})"
            findings.append(Finding("no_difference", metric, text))
    return findings


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


def change_point_arms(cols: Columns, kind: Literal["model", "prompt"], name: str) -> tuple[ArmSpec, ArmSpec]:
    """Before/after the first appearance of a model or prompt version ("id@version").

    A new prompt version is scoped to its prompt id (the traffic it replaces); a new
    model to all traffic, since a model switch usually spans prompts.
    """
    seen = cols.first_seen.get(kind, {})
    if name not in seen:
        raise ValueError(f"{kind} {name!r} has not been seen")
    scope = ArmSpec(prompt_id=name.rpartition("@")[0] or name) if kind == "prompt" else None
    return before_after(cols, seen[name], scope)
