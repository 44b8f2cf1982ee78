"""What the compare screen receives, computed in the analytics thread (never the UI's): two
arms compared over the panes' window, the window's scope line, and the registry's diff of the
two prompt versions when both arms name one.
"""

from __future__ import annotations

from console.analytics.columns import Columns
from console.live.events import CompareReady


def comparison_ready(
    columns: Columns, a: str, b: str, prompts_root=None, window: str = "all", now: float | None = None,
    token: int = 0,
) -> CompareReady:
    """Both arms drawn from the rows of the panes' window (what the Versions pane counts).
    token: the request's, said back (the screen waiting for it)."""
    from console.analytics.arm_spec import parse_arm_spec
    from console.analytics.compare import compare
    from console.analytics.windows import window_mask

    try:
        spec_a, spec_b = parse_arm_spec(a), parse_arm_spec(b)
        if now is not None:
            columns = columns.select(window_mask(columns, now, window))
        comparison = compare(columns, spec_a, spec_b)
    except ValueError as exc:
        return CompareReady(error=str(exc), token=token)
    scope = window_scope(columns, window, now)
    return CompareReady(comparison, prompt_diff=prompt_diff(prompts_root, spec_a, spec_b), scope=scope, token=token)


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


def change_comparison_ready(
    columns: Columns, kind: str, name: str, window: str | None = None, token: int = 0, swapped: bool = False,
) -> CompareReady:
    """Before/after the first appearance of `name`, over every row held, not the panes' window:
    so the scope says what each arm covers (in the demo, at 1h, "before" was 3 days unsaid).
    swapped: the same two arms, over the same rows, as A after and B before (the screen's x)."""
    from console.analytics.compare import change_point_arms, compare
    from console.sanitize import one_line

    try:
        before, after = change_point_arms(columns, kind, name)
        a, b = (after, before) if swapped else (before, after)
        comparison = compare(columns, a, b)
    except ValueError as exc:
        return CompareReady(error=str(exc), token=token)
    scope = f"split where {one_line(name)} first appeared: {arms_scope(columns, a, b, window)}"
    return CompareReady(comparison, scope=scope, token=token)


def arms_scope(columns: Columns, a, b, window: str | None = None) -> str:
    """"A covers 2026-12-04T10:21:00Z – 2026-12-04T13:29:56Z (3h 08m) · B covers 2026-12-04T13:29:56Z –
    2026-12-07T15:50:02Z (3d 02h) · both from all the history loaded, not the panes' 1h window"."""
    spans = f"A covers {arm_span(columns, a)} · B covers {arm_span(columns, b)}"
    return spans + (f" · both from all the history loaded, not the panes' {window} window" if window else "")


def arm_span(columns: Columns, spec) -> str:
    """From–to and how long: the spec's after=/before= bounds, else its oldest/newest row."""
    from console.analytics.after_now import span
    from console.analytics.arm_spec import arm_mask
    from console.formatting import rfc3339

    ts = columns.ts[arm_mask(columns, spec)]
    start = spec.after if spec.after is not None else (float(ts.min()) if ts.size else None)
    end = spec.before if spec.before is not None else (float(ts.max()) if ts.size else None)
    if start is None:
        return "no requests" + (f" before {rfc3339(end, timespec='seconds')}" if end is not None else "")
    if end is None:
        return f"no requests from {rfc3339(start, timespec='seconds')}"
    return f"{rfc3339(start, timespec='seconds')} – {rfc3339(end, timespec='seconds')} ({span(end - start)})"
