"""The prompt registry in files: versions, hashes, labels, render, diff. Nothing here imports Textual."""

from console.prompts.registry import (
    Prompt, PromptError, PromptVersion, Registry, content_hash, load_registry, normalise, registry_root,
)  # fmt: skip

__all__ = [
    "Prompt", "PromptError", "PromptVersion", "Registry", "content_hash", "load_registry", "normalise", "registry_root",
]  # fmt: skip
