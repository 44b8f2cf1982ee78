"""A prompt version the registry does not hold is refused before anything runs (exit 2), naming
the versions it does hold. In the user trial `regress --prompt-version v99` (a typo for v9) ran
the demo's suite, passed every case and the gate with exit 0: the demo's target, as any python
or command target may, takes the version as a name, and every name but v8 answered well."""

from __future__ import annotations

import json
from itertools import islice

import pytest
from textual.app import App
from typer.testing import CliRunner

from conftest import wait_until
from console.cli import app
from console.config import load_settings
from console.demo.run import write_registry
from console.demo.story import generate_history
from console.demo.target import DEMO_REGRESSION_TOML, is_defect
from console.regression import history
from console.regression.plan import make_plan
from console.regression.session import FAILED
from console.store import Store
from console.ui.screens.regress import RegressRunScreen

runner = CliRunner()


@pytest.fixture
def demo_project(tmp_path, monkeypatch):
    """The demo's config and registry, and two cases from bad support-answer v8 responses."""
    monkeypatch.chdir(tmp_path)
    records = [r for r in generate_history(4000) if r["prompt_id"] == "support-answer" and "output" in r]
    bad = list(islice((r for r in records if r["prompt_version"] == "v8" and is_defect(r["output"])), 2))
    (tmp_path / "regression").mkdir()
    (tmp_path / "regression" / "cases.jsonl").write_text("".join(json.dumps({
        "id": f"case-{i}", "input": {"text": r["input"]}, "assert": [{"type": "not-equals", "value": r["output"]}],
        "source": {"kind": "triage", "prompt_id": "support-answer", "prompt_version": "v8", "bad_output": r["output"]},
    }) + "\n" for i, r in enumerate(bad)))  # fmt: skip
    (tmp_path / "llmops.toml").write_text(DEMO_REGRESSION_TOML)
    write_registry(tmp_path / "prompts")
    return tmp_path


def regress(*args):
    return runner.invoke(app, ["regress", "--baseline", "none", *args])


def runs(project) -> int:
    store = Store(f"sqlite:///{project / '.llmops' / 'console.db'}")
    try:
        return len(history.list_runs(store))
    finally:
        store.close()


def test_a_version_not_in_the_registry_is_refused_naming_the_registered_ones(demo_project):
    result = regress("--prompt-version", "v99")
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())
    assert "'v99'" in said and "support-answer" in said and "v6, v7, v8, v9" in said, said
    assert "prompts/support-answer/v99.txt" in "".join(result.output.split())  # how to add a new version
    assert "gate" not in said
    assert not (demo_project / ".llmops" / "console.db").exists() or runs(demo_project) == 0  # no run stored
    # the registered versions run as before: the fix passes, the defect fails
    assert regress("--prompt-version", "v9").exit_code == 0
    assert regress("--prompt-version", "v8").exit_code == 1


def test_the_targets_own_version_is_checked_too_and_named_by_its_key(demo_project):
    toml = demo_project / "llmops.toml"
    toml.write_text(toml.read_text().replace('prompt_version = "v8"', 'prompt_version = "v88"'))
    result = regress()
    assert result.exit_code == 2
    assert "regression.targets.demo.prompt_version" in " ".join(result.output.split())


def test_a_version_is_not_checked_where_the_registry_cannot_say(demo_project):
    # cases about a prompt the registry does not hold: their versions are not the registry's
    cases = demo_project / "regression" / "cases.jsonl"
    cases.write_text(cases.read_text().replace('"prompt_id": "support-answer"', '"prompt_id": "faq-bot"'))
    assert regress("--prompt-version", "v99").exit_code == 0
    # no registry at all: nothing to check against
    cases.write_text(cases.read_text().replace('"prompt_id": "faq-bot"', '"prompt_id": "support-answer"'))
    for path in sorted((demo_project / "prompts").rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    (demo_project / "prompts").rmdir()
    assert regress("--prompt-version", "v99").exit_code == 0


def test_a_case_naming_no_prompt_is_checked_against_every_registered_prompt(demo_project):
    cases = demo_project / "regression" / "cases.jsonl"
    lines = [json.loads(line) for line in cases.read_text().splitlines()]
    cases.write_text("".join(json.dumps({k: v for k, v in c.items() if k != "source"}) + "\n" for c in lines))
    assert regress("--prompt-version", "v3").exit_code == 0  # ticket-classifier has v3
    result = regress("--prompt-version", "v99")
    assert result.exit_code == 2
    said = " ".join(result.output.split())
    assert "summarize-thread v1, v2" in said and "ticket-classifier v3, v4" in said, said


class Host(App):
    def __init__(self, screen) -> None:
        super().__init__()
        self.run_screen = screen

    def on_mount(self) -> None:
        self.push_screen(self.run_screen)


async def test_the_run_screen_says_the_version_is_not_registered(demo_project):
    """R's dialog makes the same plan: the run screen says it could not run, and why."""
    settings = load_settings(demo_project / "llmops.toml")
    screen = RegressRunScreen.start(make_plan(settings, prompt_version="v99"), f"sqlite:///{demo_project / 'store.db'}")
    async with Host(screen).run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: screen._finished_drawn)
        assert screen.session.snapshot().state == FAILED
        shown = str(screen.query_one("#regress-summary").render())
        assert "could not run" in shown and "v99" in shown and "v6, v7, v8, v9" in shown, shown
        assert screen.table.row_count == 0
