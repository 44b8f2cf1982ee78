"""What to run: llmops.toml's [regression] and the command line (or the UI's dialog) resolved
into one RunPlan. Every mistake here is a usage error (PlanError: exit 2), found before the
first case runs.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from console.cases.file import cases_path, config_dir
from console.cases.format import RegressionCase
from console.config import RegressionTarget, Settings
from console.regression.assertions import Embedder, Judge
from console.regression.embeddings import EmbeddingClient
from console.regression.judging import RubricJudge
from console.regression.runner import RunOptions
from console.regression.suite import SuiteError, load_suite
from console.regression.targets import adhoc_spec

DEFAULT_BASELINE, NO_BASELINE = "default", "none"


class PlanError(Exception):
    """The run cannot start as asked; the message says what to change, and `field` which choice
    is wrong ("suite", "target", "prompt_version", "baseline"; None: no one of them), so the UI's
    dialog can keep what was typed and put the cursor there.

    The message is the command line's (it names --baseline, --target); `in_dialog` says the same
    in the `R` dialog's words, which put it after the field's name: it names no flag and does
    not name the field again (the dialog read 'prompt version: prompt version 'v99' is not…')."""

    def __init__(self, message: str, field: str | None = None, *, in_dialog: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.in_dialog = in_dialog or message

    def dialog_text(self) -> str:
        """What the `R` dialog shows: 'baseline: a run id…'."""
        return f"{self.field.replace('_', ' ')}: {self.in_dialog}" if self.field else self.in_dialog


@dataclass
class RunPlan:
    suite_path: Path
    suite_label: str  # how runs name the suite in the store (relative to llmops.toml when inside it)
    target_name: str
    target: RegressionTarget
    base_dir: Path  # relative paths of the target's table start here
    options: RunOptions
    baseline: str | int = DEFAULT_BASELINE  # "default" (the marked one), "none", or a run id
    mark_baseline: bool = False
    min_pass_rate: float | None = None
    critical_tag: str = "critical"
    judge: Judge | None = None
    embedder: Embedder | None = None  # `similar` assertions ([regression.embeddings]); None: they are skipped
    prompts_root: Path | None = None  # the prompt registry ([prompts] path); the http target renders from it

    @property
    def prompt_version(self) -> str | None:
        return self.options.context.get("prompt_version")

    @property
    def model(self) -> str | None:
        return self.options.context.get("model")


def target_names(settings: Settings) -> list[str]:
    return sorted(settings.regression.targets)


def judge_from_settings(settings: Settings) -> Judge | None:
    """The LLM judge for llm-rubric assertions: the evaluation judge ([evaluation.judge] in
    llmops.toml) when it is enabled, asked about each assertion's own rubric. Without one
    every llm-rubric assertion is SKIPPED."""
    judge_settings = getattr(getattr(settings, "evaluation", None), "judge", None)
    if judge_settings is None or not getattr(judge_settings, "enabled", False):
        return None
    return RubricJudge(judge_settings)


def parse_baseline(value: str | None) -> str | int:
    if value is None or value == DEFAULT_BASELINE:
        return DEFAULT_BASELINE
    if value.lower() == NO_BASELINE:
        return NO_BASELINE
    try:
        run_id = int(value)
    except ValueError:
        raise PlanError(f"--baseline takes a run id or 'none', not {value!r}", "baseline",
                        in_dialog=f"a run id (its # in the runs history), none, or empty; not {value!r}") from None
    if run_id < 1:
        raise PlanError(f"--baseline takes a run id (1 or more), not {value!r}", "baseline",
                        in_dialog=f"a run id is 1 or more, not {value!r}")  # fmt: skip
    return run_id


def _label(path: Path, base_dir: Path) -> str:
    try:
        return os.path.normpath(path.resolve().relative_to(base_dir.resolve()))
    except ValueError:
        return os.path.normpath(path.resolve())


def make_plan(
    settings: Settings,
    *,
    suite: str | Path | None = None,
    target: str | None = None,
    baseline: str | int | None = None,
    mark_baseline: bool = False,
    prompt_version: str | None = None,
    model: str | None = None,
    concurrency: int | None = None,
) -> RunPlan:
    config = settings.regression
    base_dir = config_dir(settings)
    suite_path = cases_path(settings, suite)
    name = target or config.default_target
    if name is None and len(config.targets) == 1:
        name = next(iter(config.targets))
    if name is None:
        known = ", ".join(target_names(settings)) or "none configured"
        raise PlanError(
            "which target? pass --target NAME (targets: " + known + "), or set regression.default_target; "
            "ad hoc: --target python:module:function or --target replay:PATH", "target",
            in_dialog=f"which one? a name from [regression.targets] ({known}), python:module:function or replay:PATH",
        )
    spec = config.targets.get(name) or adhoc_spec(name)
    if spec is None:
        known = ", ".join(target_names(settings)) or "none in llmops.toml"
        raise PlanError(f"no target {name!r} (targets: {known})", "target",
                        in_dialog=f"{name!r} is not in [regression.targets] ({known}); "
                                  "ad hoc: python:module:function or replay:PATH")  # fmt: skip
    if concurrency is not None and not 1 <= concurrency <= 256:
        raise PlanError("--concurrency must be between 1 and 256")
    context: dict[str, Any] = {
        "target": name,
        "prompt_version": prompt_version or spec.prompt_version,
        "model": model or spec.model,
    }
    options = RunOptions(
        concurrency=concurrency or config.concurrency,
        timeout_s=spec.timeout_s or config.timeout_s,
        retries=config.retries,
        backoff_s=config.backoff_s,
        context=context,
    )
    return RunPlan(
        suite_path=suite_path,
        suite_label=_label(suite_path, base_dir),
        target_name=name,
        target=spec,
        base_dir=base_dir,
        options=options,
        baseline=baseline if isinstance(baseline, int) else parse_baseline(baseline),
        mark_baseline=mark_baseline,
        min_pass_rate=config.min_pass_rate,
        critical_tag=config.critical_tag,
        judge=judge_from_settings(settings),
        embedder=EmbeddingClient(config.embeddings) if config.embeddings is not None else None,
        prompts_root=_prompts_root(settings),
    )


def _prompts_root(settings: Settings) -> Path | None:
    prompts = getattr(settings, "prompts", None)
    if prompts is None:
        return None
    from console.prompts.registry import registry_root

    return registry_root(prompts.path, settings.source)


SHOWN_PROMPTS = 3  # prompts whose registered versions a refusal names


def check_prompt_version(plan: RunPlan, cases: Sequence[RegressionCase]) -> None:
    """PlanError when the run's prompt version is not one the registry holds for the prompts
    the cases are about (a typo, `v99` for `v9`, would otherwise run and could pass the gate).

    The prompts are the cases' source.prompt_id, else the target's prompt_id; a case naming
    neither could be about any prompt the registry has. Not checked: no version asked for, no
    registry or none of the run's prompts in it (nothing to check against), an unreadable
    registry (the http target says so itself), and an http target whose prompt_file names
    `{version}` (that file is the version's text; a missing one is refused when it is built).
    Every other target type is checked, python and command too: the console cannot see where
    they take their prompt, and the registry is where this project keeps its versions."""
    version = plan.prompt_version
    target = plan.target
    if not version or plan.prompts_root is None or not plan.prompts_root.is_dir():
        return
    if target.type == "http" and target.prompt_file and "{version}" in target.prompt_file:
        return
    from console.prompts.registry import PromptError, load_registry, natural_key

    try:
        registry = load_registry(plan.prompts_root)
    except PromptError:
        return
    named = {case.source.prompt_id if case.source is not None and case.source.prompt_id else target.prompt_id
             for case in cases}  # fmt: skip
    prompts = set(registry.prompts) if None in named else named & set(registry.prompts)
    if not prompts or any(registry.get(prompt, version) is not None for prompt in prompts):
        return
    ordered = sorted(prompts)
    held = "; ".join(
        f"{prompt} " + ", ".join(sorted((v.version for v in registry.prompts[prompt].versions), key=natural_key))
        for prompt in ordered[:SHOWN_PROMPTS]
    ) + (f"; {len(ordered) - SHOWN_PROMPTS} more prompts" if len(ordered) > SHOWN_PROMPTS else "")
    whence = f" (regression.targets.{plan.target_name}.prompt_version)" if version == target.prompt_version else ""
    refusal = (f"{version!r}{whence} is not a registered version of {' or '.join(ordered[:SHOWN_PROMPTS])}, "
               f"which the suite's cases are about (the registry {plan.prompts_root}: {held}); to try a new version, "
               f"write its text first: {plan.prompts_root / ordered[0] / version}.txt")  # fmt: skip
    raise PlanError(f"prompt version {refusal}", "prompt_version", in_dialog=refusal)


def git_commit(start: Path) -> str | None:
    """The commit being tested: from CI's environment, else read from .git (no git process)."""
    for name in ("GITHUB_SHA", "CI_COMMIT_SHA", "GIT_COMMIT", "BUILD_VCS_NUMBER"):
        if os.environ.get(name):
            return os.environ[name]
    for directory in (start.resolve(), *start.resolve().parents):
        git = directory / ".git"
        if git.is_file():  # a worktree or submodule: "gitdir: PATH"
            text = git.read_text(errors="replace").strip()
            git = (directory / text.removeprefix("gitdir:").strip()) if text.startswith("gitdir:") else git
        if not git.is_dir():
            continue
        try:
            head = (git / "HEAD").read_text().strip()
            if not head.startswith("ref:"):
                return head or None
            ref = head.removeprefix("ref:").strip()
            common = git / "commondir"
            roots = [git] + ([git / common.read_text().strip()] if common.is_file() else [])
            for root in roots:
                if (root / ref).is_file():
                    return (root / ref).read_text().strip() or None
                packed = root / "packed-refs"
                if packed.is_file():
                    for line in packed.read_text().splitlines():
                        if line.endswith(" " + ref):
                            return line.split(" ", 1)[0]
        except OSError:
            return None
        return None
    return None


def suite_prompt_ids(settings: Settings, target: str | None = None) -> set[str]:
    """The prompts a run of the suite is about, for a version to try: those its cases came from
    (source.prompt_id) and the target's prompt_id (the one for cases that name none); empty when
    that cannot be told (a case names no prompt and the target none)."""
    config = settings.regression
    spec = config.targets.get(target or config.default_target or "")
    prompts = {spec.prompt_id} if spec is not None and spec.prompt_id else set()
    try:
        suite = load_suite(cases_path(settings))
    except (SuiteError, OSError, ValueError):
        return prompts
    named = [case.source.prompt_id if case.source is not None else None for case in suite.cases]
    if not prompts and None in named:  # a case of no known prompt: it could be any
        return set()
    return prompts | {prompt for prompt in named if prompt}
