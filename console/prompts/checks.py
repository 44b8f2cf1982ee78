"""Hashes meet logs: which logged versions drifted from the registry, which are unregistered.

A version whose logged prompt_hash is not the registry's hash for it was logged from a
changed template under a reused version label (drift). A version seen in the logs with no
file in the registry is unregistered. Works on the Report's version rows
(console.analytics.report_types.VersionRow) or anything with the same attributes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Protocol, Sequence

from console.prompts.registry import Registry, hash_matches


class LoggedVersion(Protocol):
    prompt_id: str
    prompt_version: str
    prompt_hashes: Sequence[str]


@dataclass(frozen=True)
class Drift:
    prompt_id: str
    prompt_version: str
    registry_hash: str  # short form
    logged_hashes: tuple[str, ...]  # the logged hashes that are not the registry's
    registry_logged: bool = False  # other requests of the version were logged with the registry's hash

    @property
    def hashes_text(self) -> str:
        """'logged 4c5a14240f52, registry b96565231855': the logged hash first, the registry's
        second, in every line that reports a drift (report's Versions section, its registry
        footer, ingest's)."""
        return f"logged {', '.join(self.logged_hashes)}, registry {self.registry_hash}"


@dataclass
class RegistryCheck:
    drifted: list[Drift] = field(default_factory=list)
    unregistered: list[tuple[str, str]] = field(default_factory=list)  # (prompt_id, version)

    @property
    def ok(self) -> bool:
        return not self.drifted and not self.unregistered


def check_versions(versions: Iterable[LoggedVersion], registry: Registry) -> RegistryCheck:
    check = RegistryCheck()
    for row in versions:
        entry = registry.get(row.prompt_id, row.prompt_version)
        if entry is None:
            check.unregistered.append((row.prompt_id, row.prompt_version))
            continue
        if entry.text_unknown and not entry.hash:
            continue  # registered from logs that carried no hash: nothing to compare with
        other = tuple(h for h in row.prompt_hashes if h and not hash_matches(h, entry.hash))
        if other:
            registered = len(other) < len([h for h in row.prompt_hashes if h])
            check.drifted.append(Drift(row.prompt_id, row.prompt_version, entry.short_hash, other, registered))
    return check


DRIFT, UNREGISTERED = "drift", "unregistered"


def version_marks(versions: Iterable[LoggedVersion], registry: Registry) -> dict[str, str]:
    """"prompt_id@version" -> DRIFT (logged hash is not the registry's) or UNREGISTERED."""
    check = check_versions(versions, registry)
    marks = {f"{d.prompt_id}@{d.prompt_version}": DRIFT for d in check.drifted}
    marks.update({f"{prompt_id}@{version}": UNREGISTERED for prompt_id, version in check.unregistered})
    return marks
