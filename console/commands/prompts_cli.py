"""`llmops-console prompts list|show|diff`: the registry headless, for scripts and code review.

list prints every version with its labels and short hash (--json for scripts), marking the
versions registered from logs whose text is unknown; show prints a
version's text as written; diff prints a unified diff and exits 0 (1 when a version is
missing, 2 on a config or registry error).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from console.config import ConfigError, load_settings
from console.prompts.diff import unified_diff
from console.prompts.registry import (
    UNKNOWN_MARKER, PromptError, PromptVersion, Registry, load_registry, registry_root,
)  # fmt: skip
from console.sanitize import strip_control

prompts_app = typer.Typer(help="The prompt registry ([prompts] path): list, show and diff versions.",
                          no_args_is_help=True)
ConfigOption = Annotated[Optional[Path], typer.Option("--config", help="llmops.toml to use.")]


def _error(message: str, code: int = 2) -> None:
    sys.stderr.write(f"error: {strip_control(message)}\n")
    raise typer.Exit(code)


def _registry(config: Path | None) -> Registry:
    try:
        settings = load_settings(config)
        root = registry_root(settings.prompts.path, settings.source)
        if not root.is_dir():
            _error(f"{root}: no prompt registry here (llmops-console init creates one)")
        return load_registry(root)
    except (ConfigError, PromptError) as exc:
        _error(str(exc))
    raise AssertionError("unreachable")


def _version(registry: Registry, prompt_id: str, version: str) -> PromptVersion:
    found = registry.get(prompt_id, version)
    if found is None:
        _error(f"{prompt_id}@{version} is not in the registry ({registry.root})", code=1)
    return found  # type: ignore[return-value]


@prompts_app.command("list")
def list_versions(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array of versions.")] = False,
    config: ConfigOption = None,
) -> None:
    """Every prompt version: id, version, labels, short hash, model, file."""
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


@prompts_app.command("show")
def show(prompt_id: str, version: str, config: ConfigOption = None) -> None:
    """A version's text (front matter excluded)."""
    entry = _version(_registry(config), prompt_id, version)
    if entry.text_unknown:
        sys.stderr.write(strip_control(f"{entry.path}: {UNKNOWN_MARKER} (logged hash {entry.short_hash or 'none'}); "
                                       "the body below is a placeholder, not the prompt\n"))
    text = entry.text
    sys.stdout.write(strip_control(text) + ("" if text.endswith("\n") else "\n"))


@prompts_app.command("diff")
def diff(prompt_id: str, old: str, new: str, config: ConfigOption = None) -> None:
    """The unified diff from OLD to NEW (empty when their normalised texts are the same)."""
    registry = _registry(config)
    versions = _version(registry, prompt_id, old), _version(registry, prompt_id, new)
    for entry in versions:
        if entry.text_unknown:
            _error(f"{entry.path}: {UNKNOWN_MARKER}; put the template's real text in the file to diff it", code=1)
    sys.stdout.write(strip_control(unified_diff(*versions)))
