"""The registry check in `llmops-console report` and at the end of `ingest`: drifted and
unregistered prompt versions.

Printed only when the registry ([prompts] path in llmops.toml, default prompts/) exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from rich.console import Console
from rich.text import Text

from console.analytics.report_types import VersionRow
from console.config import Settings
from console.prompts.checks import Drift, RegistryCheck, check_versions
from console.prompts.registry import PromptError, load_registry, registry_root
from console.sanitize import strip_control


def registry_check(versions: Sequence[VersionRow] | Sequence[LoggedTriples], settings: Settings) -> RegistryCheck | None:
    """None when there is no registry directory; PromptError when it cannot be loaded."""
    root = registry_root(settings.prompts.path, settings.source)
    if not root.is_dir():
        return None
    return check_versions(versions, load_registry(root))


@dataclass(frozen=True)
class LoggedTriples:
    """One prompt version with the hashes its records carried (a checks.LoggedVersion)."""

    prompt_id: str
    prompt_version: str
    prompt_hashes: tuple[str, ...]


def versions_of(triples: Iterable[tuple[str, str, str | None]]) -> list[LoggedTriples]:
    """Distinct (prompt_id, prompt_version, prompt_hash) read by an ingest, grouped by version."""
    hashes: dict[tuple[str, str], set[str]] = {}
    for prompt_id, version, prompt_hash in triples:
        found = hashes.setdefault((prompt_id, version), set())
        if prompt_hash:
            found.add(prompt_hash)
    return [LoggedTriples(pid, version, tuple(sorted(found))) for (pid, version), found in sorted(hashes.items())]


def registry_drifts(versions: Sequence[VersionRow], settings: Settings) -> dict[str, Drift]:
    """"prompt_id@version" -> its drift from the registry; empty without a readable registry
    (print_registry_check says why)."""
    try:
        check = registry_check(versions, settings)
    except PromptError:
        return {}
    return {} if check is None else {f"{d.prompt_id}@{d.prompt_version}": d for d in check.drifted}


def print_ingest_registry_check(triples: Iterable[tuple[str, str, str | None]], settings: Settings,
                                out: Console) -> None:
    """After an ingest: the versions it read that drifted from the registry or are not in it."""
    versions = versions_of(triples)
    if versions:
        print_registry_check(versions, settings, out, scope="in this ingest")


def print_registry_check(versions: Sequence[VersionRow] | Sequence[LoggedTriples], settings: Settings,
                         out: Console, scope: str = "", window: str | None = None) -> None:
    """window: the report's window name, to say so when it holds no version to check."""
    try:
        check = registry_check(versions, settings)
    except PromptError as exc:
        out.print(Text(f"Prompt registry: {strip_control(str(exc))}", style="bold red"))
        return
    if check is None:
        return
    out.print()
    if not versions:  # an empty check passes: "every version is registered" would be a claim about none
        more = "" if window in (None, "all") else " (--since all checks every stored version)"
        out.print(Text(f"Prompt registry: no logged version in the window to check{more}", style="dim"))
        return
    if check.ok:
        where = f" {scope}" if scope else ""
        out.print(Text(f"Prompt registry: every logged version{where} is registered, no drift", style="green"))
        return
    for drift in check.drifted:
        out.print(Text(
            strip_control(f"DRIFT {drift.prompt_id}@{drift.prompt_version}: {drift.hashes_text} "
                          "(the version label was reused for a changed text)"),
            style="bold red",
        ))  # fmt: skip
    if check.unregistered:
        names = ", ".join(f"{pid}@{version}" for pid, version in check.unregistered)
        out.print(Text(strip_control(f"unregistered (seen in logs, not in the registry): {names}"), style="yellow"))
