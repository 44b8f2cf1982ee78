"""`llmops-console prompts list|show|diff`: the registry headless, for scripts and code review.

list prints every version with its labels and short hash (--json for scripts), marking the
versions registered from logs whose text is unknown; show prints a
version's text as written; diff prints a unified diff and exits 0 (2 on a version that is
not in the registry, as on any usage error, or a config or registry error; 1 when a version's
text is unknown).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from console.config import ConfigError, load_settings
from console.prompts.diff import unified_diff
from console.prompts.registry import (
    UNKNOWN_MARKER, PromptError, PromptVersion, Registry, load_registry, registry_root,
)  # fmt: skip
from console.sanitize import strip_control

EXIT_USAGE = 2
EXIT_TEXT_UNKNOWN = 1


class PromptsError(Exception):
    """A registry that cannot be read or a version that is not in it (exit 2, the CLI's usage
    error), or a version registered from logs whose text is unknown (exit 1).

    Not a UsageError: scripts read these, so the CLI prints them as one plain line on
    stderr, with their own exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _registry(config: Path | None) -> Registry:
    try:
        settings = load_settings(config)
        root = registry_root(settings.prompts.path, settings.source)
        if not root.is_dir():
            raise PromptsError(f"{root}: no prompt registry here (llmops-console init creates one)")
        return load_registry(root)
    except (ConfigError, PromptError) as exc:
        raise PromptsError(str(exc)) from None


def _version(registry: Registry, prompt_id: str, version: str) -> PromptVersion:
    found = registry.get(prompt_id, version)
    if found is None:
        # as other usage errors: what is wrong, then what there is to use instead
        known = [v.version for v in registry.versions() if v.prompt_id == prompt_id]
        there = (f"{prompt_id} has {', '.join(known)}" if known
                 else f"no version of {prompt_id} is registered; llmops-console prompts list shows what is")  # fmt: skip
        raise PromptsError(f"{prompt_id}@{version} is not in the registry ({registry.root}): {there}", EXIT_USAGE)
    return found


def list_versions(*, as_json: bool, config: Path | None) -> None:
    registry = _registry(config)
    rows = [
        {"prompt_id": v.prompt_id, "version": v.version, "labels": list(v.labels), "hash": v.hash,
         "short_hash": v.short_hash, "model": v.model, "path": str(v.path), "text_unknown": v.text_unknown}
        for v in registry.versions()
    ]  # fmt: skip
    if as_json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False) + "\n")
        return
    for row in rows:
        labels = f" [{', '.join(row['labels'])}]" if row["labels"] else ""
        model = f" {row['model']}" if row["model"] else ""
        digest = row["short_hash"] or "-"
        unknown = f" ({UNKNOWN_MARKER})" if row["text_unknown"] else ""
        sys.stdout.write(strip_control(f"{row['prompt_id']}@{row['version']} {digest}{model}{labels}{unknown}") + "\n")


def show_version(prompt_id: str, version: str, *, config: Path | None) -> None:
    entry = _version(_registry(config), prompt_id, version)
    if entry.text_unknown:
        sys.stderr.write(strip_control(f"{entry.path}: {UNKNOWN_MARKER} (logged hash {entry.short_hash or 'none'}); "
                                       "the body below is a placeholder, not the prompt\n"))
    text = entry.text
    sys.stdout.write(strip_control(text) + ("" if text.endswith("\n") else "\n"))


def diff_versions(prompt_id: str, old: str, new: str, *, config: Path | None) -> None:
    registry = _registry(config)
    versions = _version(registry, prompt_id, old), _version(registry, prompt_id, new)
    for entry in versions:
        if entry.text_unknown:
            raise PromptsError(f"{entry.path}: {UNKNOWN_MARKER}; put the template's real text in the file to diff it",
                               EXIT_TEXT_UNKNOWN)
    sys.stdout.write(strip_control(unified_diff(*versions)))
