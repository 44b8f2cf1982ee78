"""Which two arms a Compare opened from a row means (specs in console.analytics.compare)."""

from __future__ import annotations

from typing import Mapping, Sequence

from console.analytics.report_types import Report


def previous_version(
    report: Report, prompt_id: str, version: str, registry_order: Sequence[str] | None = None,
) -> str | None:
    """The version v`version` is compared with: the one before it in the registry's order
    (console.prompts.registry: file names sorted v1 < v2 < v10) among the versions with
    traffic in the window. Only a version the registry does not hold falls back to the
    order of first appearance in the logs (an old version still serving one client can
    appear after the new one: first-seen alone compared v8 with v6 in the demo)."""
    seen = {v.prompt_version: v for v in report.versions if v.prompt_id == prompt_id}
    if version not in seen:
        return None
    order = list(registry_order or ())
    if version in order:
        earlier = [name for name in order[: order.index(version)] if name in seen]
        return earlier[-1] if earlier else None
    by_first_seen = sorted(seen, key=lambda name: seen[name].first_seen)
    index = by_first_seen.index(version)
    return by_first_seen[index - 1] if index > 0 else None


def compare_arms(
    report: Report | None, kind: str, name: str,
    registry_order: Mapping[str, Sequence[str]] | None = None,
) -> tuple[str, str, str] | None:
    """(spec a, spec b, title), or None when there is nothing to compare with.

    A prompt version is compared with its previous version (the rollout question: "is v8
    worse than v7?"; registry_order: prompt id -> its registered versions, oldest first).
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
