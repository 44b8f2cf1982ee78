"""Targets: what the suite runs against. Built from `[regression.targets.NAME]` in llmops.toml
(console.config.RegressionTarget), or ad hoc from ``--target python:module:function`` or
``--target replay:PATH``."""

from __future__ import annotations

from pathlib import Path

from console.config import RegressionTarget
from console.regression.targets.base import Target, TargetConfigError, TargetError, case_payload

__all__ = ["Target", "TargetConfigError", "TargetError", "build_target", "case_payload", "adhoc_spec"]


def adhoc_spec(name: str) -> RegressionTarget | None:
    """`python:module:function` or `replay:PATH` as a target without a config table."""
    kind, sep, rest = name.partition(":")
    if not sep or not rest:
        return None
    if kind == "python":
        return RegressionTarget(type="python", function=rest)
    if kind == "replay":
        return RegressionTarget(type="replay", path=rest)
    return None


def _resolve(path: str, base_dir: Path) -> Path:
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else base_dir / candidate


def build_target(
    name: str,
    spec: RegressionTarget,
    *,
    base_dir: Path | None = None,
    timeout_s: float = 30.0,
    prompt_version: str | None = None,
    prompts_root: Path | None = None,
) -> Target:
    """Paths in the spec are relative to `base_dir` (the directory of llmops.toml)."""
    base_dir = base_dir or Path.cwd()
    if spec.type == "command":
        from console.regression.targets.command import CommandTarget

        cwd = _resolve(spec.cwd, base_dir) if spec.cwd else None
        return CommandTarget(name, list(spec.argv or []), cwd=cwd, env=spec.env)
    if spec.type == "python":
        from console.regression.targets.python import PythonTarget

        return PythonTarget(name, spec.function or "")
    if spec.type == "replay":
        from console.regression.targets.replay import ReplayTarget

        return ReplayTarget(name, _resolve(spec.path or "", base_dir))
    if spec.type == "http":
        from console.regression.targets.http import HttpTarget

        prompt_file = str(_resolve(spec.prompt_file, base_dir)) if spec.prompt_file else None
        target = HttpTarget(
            name,
            spec.base_url or "",
            model=spec.model,
            api_key_env=spec.api_key_env,
            prompt_file=prompt_file,
            temperature=spec.temperature,
            max_tokens=spec.max_tokens,
            timeout_s=spec.timeout_s or timeout_s,
            prompts_root=prompts_root,
            prompt_id=spec.prompt_id,
        )
        version = prompt_version or spec.prompt_version
        if not target.registry_has(version):
            target.template(version)  # a missing prompt file is a usage error
        return target
    raise TargetConfigError(f"target {name!r}: unknown type {spec.type!r}")
