"""From a finished run to the next one: what `R` and the failing run's offer start.

A finished run's gate failed: the run screen asks the prompt registry (in a thread: it reads
files) for the `candidate` label of the prompt the suite tests, and offers to run the same
suite and target on that version with one key; without a candidate the key opens the launch
dialog filled with this run's suite and target, to pick any version. `R` on a finished run
opens the same dialog, so a new run starts from the one just read.

The prompt is the target's `prompt_id`, else the one most of the suite's cases came from
(source.prompt_id), else the registry's only prompt with a candidate label.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from rich.text import Text

from console.cases.file import config_dir
from console.config import Settings
from console.prompts.registry import PromptError, load_registry, registry_root
from console.regression.session import FAILED, RunSession
from console.sanitize import one_line
from console.ui.screens.regress_launch import LaunchChoice, RegressLaunchModal

CANDIDATE_LABEL = "candidate"


@dataclass(frozen=True)
class RunAgain:
    """A finished run's suite, target and version: what a new run starts from."""

    target: str | None
    suite: Path  # absolute: the dialog's and make_plan's relative paths start elsewhere
    prompt_version: str | None
    baseline: str | None


@dataclass(frozen=True)
class Offer:
    again: RunAgain
    prompt_id: str | None = None
    candidate: str | None = None  # the registry's candidate version (None: pick one in the dialog)
    problem: str | None = None  # why the registry could not be read

    def choice(self) -> LaunchChoice:
        return LaunchChoice(self.again.target, self.candidate, self.again.baseline, str(self.again.suite))


def gate_failed(session: RunSession) -> bool:
    if session.snapshot().state == FAILED:
        return False
    if session.report is not None:
        return not session.report.gate.passed
    gate = (session.stored_summary or {}).get("gate") or {}
    return gate.get("passed") is False


def run_again(session: RunSession, settings: Settings) -> RunAgain | None:
    plan = session.plan
    if plan is not None:
        baseline = plan.baseline if isinstance(plan.baseline, str) else str(plan.baseline)
        return RunAgain(plan.target_name, plan.suite_path.resolve(), plan.prompt_version, baseline)
    info = session.stored_info
    if info is None:
        return None
    suite = Path(info.suite).expanduser()
    suite = suite if suite.is_absolute() else config_dir(settings) / suite
    return RunAgain(info.target, suite.resolve(), info.prompt_version, None)


def prompt_of(session: RunSession) -> str | None:
    plan = session.plan
    if plan is not None and plan.target.prompt_id:
        return plan.target.prompt_id
    seen = Counter(case.source.prompt_id for case in session.cases.values() if case.source and case.source.prompt_id)
    return seen.most_common(1)[0][0] if seen else None


def find_offer(session: RunSession, settings: Settings | None) -> Offer | None:
    """What to offer after a failing run (reads the registry: call it in a thread)."""
    settings = settings or Settings()
    again = run_again(session, settings)
    if again is None:
        return None
    root = session.plan.prompts_root if session.plan is not None else None
    root = root or registry_root(settings.prompts.path, settings.source)
    try:
        registry = load_registry(root)
    except PromptError as exc:
        return Offer(again, problem=str(exc))
    prompt_id = prompt_of(session)
    if prompt_id is None:
        labelled = [p for p in registry.prompts.values() if CANDIDATE_LABEL in p.labels]
        prompt_id = labelled[0].prompt_id if len(labelled) == 1 else None
    prompt = registry.prompts.get(prompt_id) if prompt_id else None
    candidate = prompt.labels.get(CANDIDATE_LABEL) if prompt is not None else None
    if candidate == again.prompt_version:
        candidate = None  # the candidate is what just failed: let the user pick another
    return Offer(again, prompt_id, candidate)


def offer_text(offer: Offer, key: str) -> Text:
    text = Text("gate failed: ", style="bold")
    if offer.candidate is not None:
        text.append(f"press {key} to run the same suite on {one_line(offer.prompt_id or '')}@{one_line(offer.candidate)}",
                    style="bold yellow")  # fmt: skip
        text.append(" (the registry's candidate label)", style="dim")
        return text
    text.append(f"press {key} to run the same suite on another prompt version", style="bold yellow")
    why = offer.problem or ("no candidate label for " + (one_line(offer.prompt_id) if offer.prompt_id else "the suite's prompt"))
    text.append(f" ({one_line(why)})", style="dim")
    return text


def ask_for_run(app, again: RunAgain, launch) -> None:
    """The launch dialog, filled with this run's suite, target and version; `launch` starts it."""

    def this_suite(choice: LaunchChoice) -> LaunchChoice:
        return replace(choice, suite=choice.suite or str(again.suite))

    def chosen(choice: LaunchChoice | None) -> None:
        launch(None if choice is None else this_suite(choice))

    app_check = getattr(app, "check_launch", None)  # None: an app that launches no runs of its own
    check = None if app_check is None else lambda choice: app_check(this_suite(choice))
    app.push_screen(RegressLaunchModal(again.target, str(again.suite), again.prompt_version, check), chosen)


class FailingRunOffer:
    """The run screen's side of the offer: found in a thread once the summary shows the gate
    failed, drawn in #regress-offer, and `f` (regress.run_candidate) shown only then."""

    offer: Offer | None = None

    def find_offer(self) -> None:
        settings = getattr(self.app, "settings", None)  # None: an app without a config (defaults)
        session = self.session
        self.run_worker(lambda: find_offer(session, settings), thread=True, group="regress-offer",
                        name="find the candidate", exit_on_error=False)  # fmt: skip

    def on_worker_state_changed(self, event) -> None:
        worker = event.worker
        if worker.group == "regress-offer" and worker.is_finished and isinstance(worker.result, Offer):
            self.offer = worker.result
            shown = self.query_one("#regress-offer")
            shown.update(offer_text(self.offer, "f"))
            shown.display = True
            self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.offer is not None if action == "run_candidate" else True

    def action_run_candidate(self) -> None:
        """The offer's key: the candidate version, or the launch dialog to pick one."""
        if self.offer is None:
            return
        if self.offer.candidate is not None:
            self.app.launch_regress(self.offer.choice())
        else:
            ask_for_run(self.app, self.offer.again, self.app.launch_regress)
