"""Which two arms a Compare opened from a row means (specs in console.analytics.compare)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Mapping, Sequence

from console.analytics.report_types import Report

if TYPE_CHECKING:
    from console.prompts.registry import Registry

CANDIDATE, PRODUCTION = "candidate", "production"  # the labels.toml labels a rollout compares


@dataclass(frozen=True)
class RegistryOrder:
    """One prompt's versions as the registry orders them: its files, oldest first (v1 < v2 <
    v10: console.prompts.registry sorts them so), and its labels (label -> version)."""

    versions: tuple[str, ...]
    labels: Mapping[str, str] = field(default_factory=dict)


def registry_orders(registry: Registry) -> dict[str, RegistryOrder]:
    """prompt id -> its RegistryOrder (what `c` compares a version with)."""
    return {
        prompt_id: RegistryOrder(tuple(v.version for v in prompt.versions), dict(prompt.labels))
        for prompt_id, prompt in registry.prompts.items()
    }


def previous_version(
    report: Report, prompt_id: str, version: str, registry_order: RegistryOrder | Sequence[str] | None = None,
) -> str | None:
    """The version `version` is compared with, among the versions with traffic in the window:
    1. the registry's labels: the `candidate` is compared with `production` (the rollout
       question, whatever the files' names);
    2. the version before it in the registry's file order (v1 < v2 < v10);
    3. only for a version the registry does not hold, the one first seen before it in the
       logs (an old version still serving one client can appear after the new one: first
       seen alone compared v8 with v6 in the demo)."""
    seen = {v.prompt_version: v for v in report.versions if v.prompt_id == prompt_id}
    if version not in seen:
        return None
    if isinstance(registry_order, RegistryOrder):
        labels, order = registry_order.labels, list(registry_order.versions)
    else:
        labels, order = {}, list(registry_order or ())
    production = labels.get(PRODUCTION)
    if labels.get(CANDIDATE) == version and production not in (None, version) and production in seen:
        return production
    if version in order:
        earlier = [name for name in order[: order.index(version)] if name in seen]
        return earlier[-1] if earlier else None
    by_first_seen = sorted(seen, key=lambda name: seen[name].first_seen)
    index = by_first_seen.index(version)
    return by_first_seen[index - 1] if index > 0 else None


def compare_arms(
    report: Report | None, kind: str, name: str,
    registry_order: Mapping[str, RegistryOrder | Sequence[str]] | None = None,
) -> tuple[str, str, str] | None:
    """(spec a, spec b, title), or None when there is nothing to compare with.

    A prompt version is compared with its previous version (the rollout question: "is v8
    worse than v7?"; registry_order: prompt id -> its RegistryOrder, or its versions oldest first).
    A model is compared with the busiest other model serving the same traffic in the window.
    """
    if report is None:
        return None
    if kind == "version":
        prompt_id, _, version = name.rpartition("@")
        previous = previous_version(report, prompt_id, version, (registry_order or {}).get(prompt_id))
        if previous is None:
            return None
        return (f"prompt={prompt_id}@{previous}", f"prompt={name}", f"{prompt_id}: {previous} → {version}")
    others = sorted(
        ((stats.requests, model) for model, stats in report.latency.by_model.items() if model != name),
        reverse=True,
    )
    if not others:
        return None
    other = others[0][1]
    return (f"model={other}", f"model={name}", f"{other} vs {name}")


@dataclass(frozen=True)
class ArmChoice:
    """Something an arm of the compare screen can be: a prompt version or a model in the window."""

    spec: str  # for console.analytics.compare.parse_arm_spec
    label: str
    kind: str  # "prompt version" | "model"
    requests: int


def arm_choices(
    report: Report | None, registry_order: Mapping[str, RegistryOrder | Sequence[str]] | None = None,
) -> list[ArmChoice]:
    """Every prompt version (by prompt, in the registry's order, else first seen) and every
    model (busiest first) with traffic in the report's window."""
    if report is None:
        return []
    orders = registry_order or {}

    def version_key(row) -> tuple:
        order = orders.get(row.prompt_id)
        names = order.versions if isinstance(order, RegistryOrder) else tuple(order or ())
        position = names.index(row.prompt_version) if row.prompt_version in names else len(names)
        return (row.prompt_id, position, row.first_seen)

    choices = [
        ArmChoice(f"prompt={row.prompt_id}@{row.prompt_version}", f"{row.prompt_id}@{row.prompt_version}",
                  "prompt version", row.requests)
        for row in sorted(report.versions, key=version_key)
    ]
    models = sorted(report.latency.by_model.items(), key=lambda item: (-item[1].requests, item[0]))
    choices += [ArmChoice(f"model={model}", model, "model", stats.requests) for model, stats in models]
    return choices


@dataclass(frozen=True)
class WorseVersion:
    """A prompt version whose bad rate is clearly above its previous version's in the window."""

    name: str  # "support-answer@v8"
    previous: str  # "v7"
    bad_rate: float
    previous_bad_rate: float
    p_value: float


MIN_REQUESTS = 30  # rated requests, as compare: smaller arms get no conclusion
WORSE_ALPHA = 0.01  # stricter than compare's 0.05: the dashboard tests every version at once
WORSE_RATIO = 1.5  # and the rate must be at least half as much again, not just significant


def worse_versions(
    report: Report | None, registry_order: Mapping[str, RegistryOrder | Sequence[str]] | None = None,
) -> list[WorseVersion]:
    """The versions worse than the one `c` compares them with (bad rate over the rated
    requests, pooled two-proportion z-test; versions with too few ratings for it are left
    out), most certain first: the dashboard's answer
    to "which prompt version is bad"."""
    if report is None:
        return []
    rows = {(row.prompt_id, row.prompt_version): row for row in report.versions}
    found = []
    for (prompt_id, version), row in rows.items():
        previous = previous_version(report, prompt_id, version, (registry_order or {}).get(prompt_id))
        before = rows.get((prompt_id, previous)) if previous else None
        # rated, not requests: an unrated response is not a good one (no rating, no bad rate)
        if before is None or min(row.rated, before.rated) < MIN_REQUESTS:
            continue
        if row.bad_rate is None or before.bad_rate is None or row.bad_rate < max(before.bad_rate * WORSE_RATIO, 0.01):
            continue
        p_value = _two_proportion_p(row.bad, row.rated, before.bad, before.rated)
        if p_value is not None and p_value < WORSE_ALPHA:
            found.append(WorseVersion(f"{prompt_id}@{version}", previous, row.bad_rate, before.bad_rate, p_value))
    return sorted(found, key=lambda worse: (worse.p_value, -worse.bad_rate))


def _two_proportion_p(k1: int, n1: int, k2: int, n2: int) -> float | None:
    """Pooled two-sided z-test (no scipy: this runs with every report); None when an expected
    count is under 5, where the normal approximation does not hold."""
    pooled = (k1 + k2) / (n1 + n2)
    if min(n * pooled for n in (n1, n2)) < 5 or min(n * (1 - pooled) for n in (n1, n2)) < 5:
        return None
    z = (k1 / n1 - k2 / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return math.erfc(abs(z) / math.sqrt(2))
