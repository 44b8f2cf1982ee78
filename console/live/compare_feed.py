"""What the compare screen receives, computed in the analytics thread (never the UI's): two
arms compared over the panes' window, the window's scope line, and the registry's diff of the
two prompt versions when both arms name one.
"""

from __future__ import annotations

from console.analytics.columns import Columns
from console.live.events import CompareReady


def comparison_ready(
    columns: Columns, a: str, b: str, prompts_root=None, window: str = "all", now: float | None = None,
) -> CompareReady:
    """Both arms drawn from the rows of the panes' window (what the Versions pane counts)."""
    from console.analytics.arm_spec import parse_arm_spec
    from console.analytics.compare import compare
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


def change_comparison_ready(columns: Columns, kind: str, name: str) -> CompareReady:
    from console.analytics.compare import change_point_arms, compare

    try:
        return CompareReady(compare(columns, *change_point_arms(columns, kind, name)))
    except ValueError as exc:
        return CompareReady(error=str(exc))
