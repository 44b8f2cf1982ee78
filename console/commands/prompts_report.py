"""The registry check in `llmops-console report`: drifted and unregistered prompt versions.

Printed only when the registry ([prompts] path in llmops.toml, default prompts/) exists.
"""

from __future__ import annotations

from typing import Sequence

from rich.console import Console
from rich.text import Text

from console.analytics.report_types import VersionRow
from console.config import Settings
from console.prompts.checks import RegistryCheck, check_versions
from console.prompts.registry import PromptError, load_registry, registry_root
from console.sanitize import strip_control


def registry_check(versions: Sequence[VersionRow], settings: Settings) -> RegistryCheck | None:
    """None when there is no registry directory; PromptError when it cannot be loaded."""
    root = registry_root(settings.prompts.path, settings.source)
    if not root.is_dir():
        return None
    return check_versions(versions, load_registry(root))


def print_registry_check(versions: Sequence[VersionRow], settings: Settings, out: Console) -> None:
    try:
        check = registry_check(versions, settings)
    except PromptError as exc:
        out.print(Text(f"Prompt registry: {strip_control(str(exc))}", style="bold red"))
        return
    if check is None:
        return
    out.print()
    if check.ok:
        out.print(Text("Prompt registry: every logged version is registered, no drift", style="green"))
        return
    for drift in check.drifted:
        logged = ", ".join(drift.logged_hashes)
        out.print(Text(
            strip_control(f"DRIFT {drift.prompt_id}@{drift.prompt_version}: logged {logged}, "
                          f"registry {drift.registry_hash} (the version label was reused for a changed text)"),
            style="bold red",
        ))  # fmt: skip
    if check.unregistered:
        names = ", ".join(f"{pid}@{version}" for pid, version in check.unregistered)
        out.print(Text(strip_control(f"unregistered (seen in logs, not in the registry): {names}"), style="yellow"))
