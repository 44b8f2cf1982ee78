"""`c` on a prompt version compares it with the registry's previous version (not the one
first seen before it), in the panes' window, and the diff shows the front matter too."""

from __future__ import annotations

import time

import pytest

from conftest import line_of, make_record
from console.analytics.compare_arms import compare_arms
from console.config import Settings
from console.demo.run import registry_files
from console.prompts.diff import settings_rows, unified_diff, version_diff
from console.prompts.registry import load_registry
from console.ui.app import ConsoleApp
from console.ui.screens.compare import CompareScreen
from test_panes import select_version
from test_ui import screen_text, wait_until


def write_demo_registry(root):
    for name, text in registry_files().items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def rollout_log(tmp_path, now: float):
    """v7 from the start, v8 rolled out, and v6 (an old client) first seen after both."""
    lines = []
    for version, first, count in (("v7", 1200, 120), ("v8", 900, 120), ("v6", 600, 60)):
        for i in range(count):
            lines.append(make_record(ts=now - first + i * 4, prompt_version=version, latency_ms=800.0, cost_usd=0.01))
    path = tmp_path / "app.jsonl"
    path.write_text("".join(line_of(r) for r in lines))
    return path


class FakeReport:
    def __init__(self, versions):
        self.versions = versions


class Row:
    def __init__(self, version, first_seen):
        self.prompt_id, self.prompt_version, self.first_seen = "support-answer", version, first_seen


def test_the_previous_version_follows_the_registry_and_first_seen_only_for_unregistered():
    report = FakeReport([Row("v7", "2026-12-01T10:00:00Z"), Row("v10", "2026-12-01T11:00:00Z"),
                         Row("v9", "2026-12-01T12:00:00Z"), Row("v6", "2026-12-01T13:00:00Z"),
                         Row("hotfix", "2026-12-01T14:00:00Z")])
    order = {"support-answer": ("v6", "v7", "v8", "v9", "v10")}  # natural order: v9 < v10; v8 has no traffic
    assert compare_arms(report, "version", "support-answer@v10", order)[:2] == (
        "prompt=support-answer@v9", "prompt=support-answer@v10")
    assert compare_arms(report, "version", "support-answer@v9", order)[0] == "prompt=support-answer@v7"
    assert compare_arms(report, "version", "support-answer@v6", order) is None  # the registry's first
    # unregistered: the version first seen just before it
    assert compare_arms(report, "version", "support-answer@hotfix", order)[0] == "prompt=support-answer@v6"
    # no registry at all: first seen
    assert compare_arms(report, "version", "support-answer@v6")[0] == "prompt=support-answer@v9"


def test_the_registry_sorts_versions_v2_before_v10(tmp_path):
    folder = tmp_path / "p"
    folder.mkdir()
    for name in ("v10", "v9", "v2", "v1"):
        (folder / f"{name}.txt").write_text(name)
    assert [v.version for v in load_registry(tmp_path).prompts["p"].versions] == ["v1", "v2", "v9", "v10"]


def test_the_diff_of_v7_and_v8_shows_the_policy_line_and_the_max_tokens_change(tmp_path):
    registry = load_registry(write_demo_registry(tmp_path / "prompts"))
    v7, v8 = registry.get("support-answer", "v7"), registry.get("support-answer", "v8")
    changed = [(r.tag, r.left, r.right) for r in settings_rows(v7, v8) if r.tag != "equal"]
    assert changed == [("replace", "max_tokens: 600", "max_tokens: 400")]
    text = unified_diff(v7, v8)
    assert "-max_tokens: 600\n+max_tokens: 400" in text
    assert "+Follow the Acme Support Policy strictly" in text
    assert [r.tag for r in version_diff(v7, v8).settings].count("replace") == 1
    assert unified_diff(v8, v8) == ""


def test_the_prompts_command_diff_shows_the_max_tokens_change(tmp_path):
    from typer.testing import CliRunner

    from console.cli import app

    write_demo_registry(tmp_path / "prompts")
    config = tmp_path / "llmops.toml"
    config.write_text('[prompts]\npath = "prompts"\n')
    result = CliRunner().invoke(app, ["prompts", "diff", "support-answer", "v7", "v8", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "+max_tokens: 400" in result.output


@pytest.fixture
def app(tmp_path):
    now = time.time()
    log = rollout_log(tmp_path, now)
    write_demo_registry(tmp_path / "prompts")
    (tmp_path / "llmops.toml").write_text("")
    settings = Settings(source=str(tmp_path / "llmops.toml"))
    return ConsoleApp(sources=[str(log)], store_url=str(tmp_path / "s.db"), settings=settings)


async def test_c_on_v8_compares_v7_to_v8_in_the_window_with_the_front_matter(app):
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_until(pilot, lambda: app.dashboard.report is not None and app.dashboard.report.requests == 300
                         and app.dashboard.registry_order is not None)
        await select_version(pilot, app, "support-answer@v8")
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen.comparison is not None)
        screen = app.screen
        assert (screen.comparison.a.label, screen.comparison.b.label) == ("support-answer@v7", "support-answer@v8")
        assert "window 1h (" in screen.scope and "300 requests" in screen.scope
        text = screen_text(app)
        assert "A: 120 requests · B: 120 requests" in text
        await pilot.press("end")
        await pilot.pause()
        text = screen_text(app)
        assert "1 line added, 1 setting changed (max_tokens)" in text
        assert "- max_tokens: 600" in text and "+ max_tokens: 400" in text
        assert "+ Follow the Acme Support Policy strictly" in text


async def test_the_prompts_screen_d_shows_the_max_tokens_change(app):
    from console.ui.screens.prompts import PromptsScreen

    async with app.run_test(size=(160, 48)) as pilot:
        await wait_until(pilot, lambda: app.dashboard.report is not None and app.dashboard.report.requests == 300)
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptsScreen) and app.screen.registry is not None)
        screen = app.screen
        await pilot.press(*["down"] * screen.keys.index(("support-answer", "v8")))
        await pilot.press("d")
        await wait_until(pilot, lambda: screen.shown == "diff")
        text = screen_text(app)
        assert "+ max_tokens: 400" in text and "+ Follow the Acme Support Policy" in text


def test_the_candidate_is_compared_with_production_whatever_the_file_order():
    from console.analytics.compare_arms import RegistryOrder

    report = FakeReport([Row("v6", "2026-12-01T10:00:00Z"), Row("v7", "2026-12-01T11:00:00Z"),
                         Row("v9", "2026-12-01T12:00:00Z")])
    order = {"support-answer": RegistryOrder(("v6", "v7", "v8", "v9"), {"production": "v6", "candidate": "v9"})}
    assert compare_arms(report, "version", "support-answer@v9", order)[0] == "prompt=support-answer@v6"
    # every other version follows the files: v7 after v6, whatever the labels say
    assert compare_arms(report, "version", "support-answer@v7", order)[0] == "prompt=support-answer@v6"
    # production without traffic in the window: the file order again
    quiet = {"support-answer": RegistryOrder(("v6", "v7", "v8", "v9"), {"production": "v8", "candidate": "v9"})}
    assert compare_arms(report, "version", "support-answer@v9", quiet)[0] == "prompt=support-answer@v7"


def test_the_demo_registry_order_carries_its_labels(tmp_path):
    from console.analytics.compare_arms import registry_orders

    orders = registry_orders(load_registry(write_demo_registry(tmp_path / "prompts")))
    assert orders["support-answer"].versions == ("v6", "v7", "v8", "v9")
    assert orders["support-answer"].labels["production"] == "v8"


async def test_either_arm_can_be_changed_and_swapped_on_the_compare_screen(app):
    from console.ui.screens.compare import ArmPicker

    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.dashboard.report is not None and app.dashboard.report.requests == 300
                         and app.dashboard.registry_order is not None)
        await select_version(pilot, app, "support-answer@v8")
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen.comparison is not None)
        first = app.screen
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, ArmPicker))
        picker = app.screen
        labels = [choice.label for choice in picker.choices]
        assert labels[:3] == ["support-answer@v6", "support-answer@v7", "support-answer@v8"]
        assert labels[3:] == ["gpt-4o-mini"]  # models too
        table = picker.query_one("#arm-choices")
        assert table.cursor_row == 1, "the cursor starts on arm A's version"
        assert "120" in screen_text(app)  # each choice says its requests in the window
        await pilot.press("k", "enter")  # v6
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen is not first and app.screen.comparison is not None)
        screen = app.screen
        assert (screen.comparison.a.label, screen.comparison.b.label) == ("support-answer@v6", "support-answer@v8")
        assert "A: 60 requests · B: 120 requests" in screen_text(app)
        assert app.screen_stack.count(screen) == 1 and first not in app.screen_stack, "replaced, not stacked"
        await pilot.press("b")
        await wait_until(pilot, lambda: isinstance(app.screen, ArmPicker))
        await pilot.press("G", "enter")  # the last choice: a model
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen is not screen and app.screen.comparison is not None)
        assert app.screen.comparison.b.label == "gpt-4o-mini"
        swapped_from = app.screen
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen is not swapped_from and app.screen.comparison is not None)
        assert (app.screen.comparison.a.label, app.screen.comparison.b.label) == ("gpt-4o-mini", "support-answer@v6")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.dashboard)


def test_help_lists_the_compare_screens_keys_and_the_arm_pickers():
    """? shows a/b (pick an arm), x (swap) and the picker's own keys, each remappable by id."""
    from console.ui.app import ConsoleApp

    scopes = dict((scope, {b.id for b in bindings}) for scope, bindings in ConsoleApp.binding_scopes())
    assert {"compare.pick_a", "compare.pick_b", "compare.swap"} <= scopes["compare"]
    assert {"compare.pick.choose", "compare.pick.cancel"} <= scopes["compare: pick an arm"]
    assert {"compare.pick.choose", "compare.swap"} <= ConsoleApp.binding_ids()
