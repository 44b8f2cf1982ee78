"""Which two arms a Compare opened from a row means (specs in console.analytics.compare)."""

from __future__ import annotations

from console.analytics.report_types import Report


def compare_arms(report: Report | None, kind: str, name: str) -> tuple[str, str, str] | None:
    """(spec a, spec b, title), or None when there is nothing to compare with.

    A prompt version is compared with the version of the same prompt seen just before it
    (the rollout question: "is v8 worse than v7?"). A model is compared with the busiest
    other model serving the same traffic in the window.
    """
    if report is None:
        return None
    if kind == "version":
        prompt_id, _, version = name.rpartition("@")
        siblings = sorted(
            (v for v in report.versions if v.prompt_id == prompt_id), key=lambda v: v.first_seen
        )
        names = [v.prompt_version for v in siblings]
        if version not in names or names.index(version) == 0:
            return None
        previous = names[names.index(version) - 1]
        return (f"prompt={prompt_id}@{previous}", f"prompt={name}", f"{prompt_id}: {previous} → {version}")
    others = sorted(
        ((stats.requests, model) for model, stats in report.latency.by_model.items() if model != name),
        reverse=True,
    )
    if not others:
        return None
    other = others[0][1]
    return (f"model={other}", f"model={name}", f"{other} vs {name}")
