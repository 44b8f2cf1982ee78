"""One regression run from start to verdict, the same for `llmops-console regress` and the
console's run screen: load the suite, build the target, resolve the baseline, run, store
every result as it lands, compare with the baseline, judge the gate, store the summary.

    report = execute(plan, store, on_event=progress.update)

Blocking: it runs its own event loop, so call it from the main thread (the CLI) or a worker
thread (the UI). `on_runner` receives the Runner before it starts, for `runner.cancel()`.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from dataclasses import dataclass, field
from typing import Callable

from console.regression import history
from console.regression.baseline import Comparison, compare
from console.regression.events import CaseDone, EventCallback, RunEvent, SuiteLoaded
from console.regression.gate import GateResult, judge_gate
from console.regression.plan import DEFAULT_BASELINE, NO_BASELINE, PlanError, RunPlan, check_prompt_version, git_commit
from console.regression.results import CaseResult, Counts
from console.regression.runner import Runner, RunOptions
from console.regression.suite import CaseProblem, SuiteError, load_suite
from console.regression.targets import TargetConfigError, build_target


@dataclass
class RunReport:
    run_id: int
    plan: RunPlan
    results: list[CaseResult]
    counts: Counts
    elapsed_s: float
    cancelled: bool
    comparison: Comparison
    gate: GateResult
    problems: list[CaseProblem] = field(default_factory=list)
    suite_notes: list[str] = field(default_factory=list)  # about the whole suite (a promptfoo config's redteam)
    git_commit: str | None = None
    marked_baseline: bool = False

    def summary(self) -> dict:
        """What the run row keeps (regression_runs.summary) and --json prints around the cases."""
        plan = self.plan
        return {
            "run_id": self.run_id,
            "suite": plan.suite_label,
            "target": plan.target_name,
            "prompt_version": plan.prompt_version,
            "model": plan.model,
            "git_commit": self.git_commit,
            "cancelled": self.cancelled,
            "elapsed_s": round(self.elapsed_s, 3),
            "counts": {"total": self.counts.total, "passed": self.counts.passed, "failed": self.counts.failed,
                       "errored": self.counts.errored, "skipped": self.counts.skipped},
            "problems": [str(p) for p in self.problems],
            "not_run": [{"file": p.path, "test": p.where, "reason": p.reason} for p in self.problems if p.not_run],
            "suite_notes": list(self.suite_notes),
            "gate": self.gate.to_json(),
            "comparison": self.comparison.to_json(),
            "is_baseline": self.marked_baseline,
        }


def resolve_baseline(store, plan: RunPlan) -> history.RunInfo | None:
    if plan.baseline == NO_BASELINE:
        return None
    if plan.baseline == DEFAULT_BASELINE:
        return history.baseline_run(store, plan.suite_label)
    info = history.get_run(store, int(plan.baseline))
    if info is None:
        raise PlanError(f"--baseline {plan.baseline}: no such run in the store", "baseline",
                        in_dialog=f"no run #{plan.baseline} in the store")
    return info


def check_plan(plan: RunPlan, store_url: str | None) -> None:
    """PlanError, naming the wrong field, for what execute() would refuse before anything runs:
    the suite unreadable, a prompt version the registry does not hold, a baseline run id not
    stored. Reads files and the store: the UI's dialog calls it in a thread worker, so it can stay
    open with what was typed. The target is left to the run (a python target's module would be
    imported here first)."""
    try:
        suite = load_suite(plan.suite_path)
    except SuiteError as exc:
        raise PlanError(str(exc), "suite") from None
    check_prompt_version(plan, suite.cases)
    if isinstance(plan.baseline, int) and store_url is not None:
        from console.store import Store

        with Store(store_url) as store:
            resolve_baseline(store, plan)


def execute(
    plan: RunPlan,
    store,
    *,
    on_event: EventCallback | None = None,
    on_runner: Callable[[Runner], None] | None = None,
) -> RunReport:
    """Run `plan`; PlanError before anything runs when the suite, target, prompt version or
    baseline is wrong."""
    try:
        suite = load_suite(plan.suite_path)
    except SuiteError as exc:
        raise PlanError(str(exc), "suite") from None
    check_prompt_version(plan, suite.cases)
    try:
        target = build_target(plan.target_name, plan.target, base_dir=plan.base_dir,
                              timeout_s=plan.options.timeout_s, prompt_version=plan.prompt_version,
                              prompts_root=plan.prompts_root)
    except TargetConfigError as exc:
        raise PlanError(str(exc), "target") from None
    baseline = resolve_baseline(store, plan)
    commit = git_commit(plan.base_dir)
    run_id = history.start_run(store, suite=plan.suite_label, target=plan.target_name, prompt_version=plan.prompt_version,
                               model=plan.model, git_commit=commit, total=len(suite.cases))
    recorder = history.RunRecorder(store, run_id)
    user_callback = on_event or (lambda event: None)
    user_callback(SuiteLoaded(suite.path, tuple(suite.problems), tuple(suite.notes)))

    def tee(event: RunEvent) -> None:
        if isinstance(event, CaseDone):
            recorder.add(event.result)
        user_callback(event)

    options = RunOptions(**{**plan.options.__dict__, "run_id": run_id})
    runner = Runner(target, suite.cases, options, judge=plan.judge, embedder=plan.embedder, on_event=tee)
    if on_runner is not None:
        on_runner(runner)
    try:
        outcome = _run(runner)
    except BaseException:  # a second Ctrl-C, or a bug: keep what ran, and say the run did not end
        recorder.flush()
        history.finish_run(store, run_id, history.stored_counts(store, run_id, len(suite.cases)), status="interrupted")
        raise
    recorder.flush()
    baseline_results = history.load_results(store, baseline.id) if baseline is not None else None
    comparison = compare(outcome.results, baseline_results, baseline_run_id=baseline.id if baseline else None,
                         critical_tag=plan.critical_tag)
    not_run = sum(1 for p in suite.problems if p.not_run)
    gate = judge_gate(comparison, min_pass_rate=plan.min_pass_rate, cancelled=outcome.cancelled,
                      problems=len(suite.problems) - not_run, not_run=not_run)
    report = RunReport(run_id, plan, outcome.results, outcome.counts, outcome.elapsed_s, outcome.cancelled,
                       comparison, gate, suite.problems, suite.notes, commit)
    if plan.mark_baseline:
        if outcome.cancelled:
            gate.notes.append("not marked as the baseline: the run was cancelled")
        else:
            report.marked_baseline = True
    history.finish_run(store, run_id, outcome.counts, status="cancelled" if outcome.cancelled else "finished",
                       summary=report.summary())
    if report.marked_baseline:
        history.mark_baseline(store, run_id)
    return report


def _run(runner: Runner):
    """The runner on a fresh event loop; in the main thread Ctrl-C stops it cleanly (a second
    Ctrl-C interrupts)."""

    async def main():
        loop = asyncio.get_running_loop()
        if threading.current_thread() is threading.main_thread():

            def first_interrupt() -> None:
                loop.remove_signal_handler(signal.SIGINT)
                runner.cancel()

            try:
                loop.add_signal_handler(signal.SIGINT, first_interrupt)
            except (NotImplementedError, RuntimeError, ValueError):
                pass
        try:
            return await runner.run()
        finally:
            if threading.current_thread() is threading.main_thread():
                try:
                    loop.remove_signal_handler(signal.SIGINT)
                except (NotImplementedError, RuntimeError, ValueError):
                    pass

    return asyncio.run(main())
