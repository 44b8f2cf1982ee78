"""Compare: the statistics against scipy called directly, arm specs, verdicts, CLI, screen."""

from __future__ import annotations

import html
import json

import re

import msgspec
import numpy as np
import pytest
from scipy import stats as scipy_stats
from textual.app import App
from typer.testing import CliRunner

from conftest import make_record
from console.analytics.columns import Columns
from console.analytics.arm_spec import ArmSpec, parse_arm_spec
from console.analytics.compare import (
    before_after,
    change_point_arms,
    compare,
    format_p,
)
from console.analytics.stats import (
    FISHER_EXACT,
    MANN_WHITNEY,
    Z_TEST,
    compare_distributions,
    compare_proportions,
    wilson_interval,
)
from console.cli import app as cli_app
from console.commands.compare import parse_since
from console.commands.errors import UsageError
from console.records import parse_line
from console.sources.base import SourceBatch
from console.store import Store
from console.ui.screens.compare import CompareScreen

runner = CliRunner()


def records_for(version: str, n: int, bad: int, errors: int = 0, latencies=None, **overrides):
    """n records of a prompt version: the first `bad` with thumbs down, then `errors` errors;
    every one rated (thumbs up but the bad ones), unless overrides say otherwise."""
    rng = np.random.default_rng(len(version) * 1000 + n)
    latencies = rng.lognormal(7, 0.4, n) if latencies is None else latencies
    made = []
    for i in range(n):
        fields = dict(prompt_version=version, latency_ms=float(latencies[i]), cost_usd=0.002 + 0.0001 * (i % 7),
                      feedback=1)
        if i < bad:
            fields["feedback"] = -1
        elif i < bad + errors:
            fields["status"] = "error"
        fields.update(overrides)
        made.append(parse_line(json.dumps(make_record(**fields))))
    return made


def columns_of(*groups) -> Columns:
    cols = Columns()
    for group in groups:
        cols.append(group)
    return cols


@pytest.fixture(scope="module")
def rollout():
    """v7: 5% bad of 500; v8: 30% bad of 500; the same latencies and costs in both."""
    latencies = np.random.default_rng(7).lognormal(7, 0.4, 500)
    v7 = records_for("v7", 500, bad=25, errors=10, latencies=latencies)
    v8 = records_for("v8", 500, bad=150, errors=12, latencies=latencies[::-1])
    return v7, v8


# -- statistics ---------------------------------------------------------------------------


def test_wilson_interval_matches_the_hand_computed_value():
    # 10 of 100 at 95%: z = 1.95996, centre 0.114795, half-width 0.059568
    low, high = wilson_interval(10, 100)
    assert low == pytest.approx(0.055227, abs=1e-5)
    assert high == pytest.approx(0.174363, abs=1e-5)
    assert wilson_interval(0, 40)[0] == 0.0 and 0.08 < wilson_interval(0, 40)[1] < 0.09
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(5, 3)


def test_large_counts_use_the_z_test_which_agrees_with_scipys_chi_square():
    result = compare_proportions(60, 1000, 40, 1000)
    assert result.method == Z_TEST
    # the pooled two-proportion z-test is the uncorrected chi-square test on the 2x2 table
    expected = scipy_stats.chi2_contingency([[60, 940], [40, 960]], correction=False).pvalue
    assert result.p_value == pytest.approx(expected, rel=1e-9)


def test_small_expected_counts_use_fishers_exact_test():
    result = compare_proportions(1, 20, 6, 20)
    assert result.method == FISHER_EXACT
    assert result.p_value == pytest.approx(scipy_stats.fisher_exact([[1, 19], [6, 14]]).pvalue)
    # nothing happened in either arm: Fisher (expected count 0), and no difference at all
    assert compare_proportions(0, 500, 0, 500).p_value == 1.0
    assert compare_proportions(3, 10, 0, 0).p_value is None


def test_mann_whitney_matches_scipy_and_drops_nans():
    rng = np.random.default_rng(1)
    a, b = rng.lognormal(7, 0.5, 200), rng.lognormal(7.2, 0.5, 150)
    expected = scipy_stats.mannwhitneyu(a, b, alternative="two-sided").pvalue
    assert compare_distributions(a, b) == pytest.approx(expected)
    assert compare_distributions(np.append(a, np.nan), b) == pytest.approx(expected)
    assert compare_distributions(np.array([]), b) is None
    assert compare_distributions(np.array([np.nan]), b) is None


def test_p_values_are_formatted_without_rounding_into_or_out_of_significance():
    assert format_p(0.0002) == "p < 0.001"
    assert format_p(0.03) == "p = 0.03"
    assert format_p(0.004) == "p = 0.004"
    assert format_p(0.0496) == "p = 0.049"
    assert format_p(0.41) == "p = 0.41"


# -- arm specs ------------------------------------------------------------------------------


def test_arm_specs_parse_prompt_model_and_times():
    spec = parse_arm_spec("prompt=support-answer@v8, model=gpt-4o")
    assert (spec.prompt_id, spec.prompt_version, spec.model) == ("support-answer", "v8", "gpt-4o")
    assert spec.label == "support-answer@v8 · gpt-4o"
    assert parse_arm_spec(spec.text) == spec
    assert parse_arm_spec("version=v7") == parse_arm_spec("prompt_version=v7") == ArmSpec(prompt_version="v7")
    timed = parse_arm_spec("after=2026-11-20T12:00:00Z,before=1795190400000")
    assert timed.after == 1795176000.0 and timed.before == 1795190400.0
    assert parse_arm_spec("after=2026-11-20").after == 1795132800.0


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "empty arm spec"),
        ("gpt-4o", "is not key=value"),
        ("colour=red", "unknown key 'colour'"),
        ("model=", "model= needs a value"),
        ("prompt=@v8", "prompt=<id>@<version>"),
        ("before=yesterday", "not a time"),
        ("after=2026-11-20T12:00:00", "no UTC offset"),
        ("model=a,model=b", "model is given twice"),
        ("after=2026-11-21T00:00:00Z,before=2026-11-20T00:00:00Z", "must be earlier"),
    ],
)
def test_bad_arm_specs_say_what_is_wrong(spec, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_arm_spec(spec)


# -- compare --------------------------------------------------------------------------------


def test_a_real_bad_rate_jump_is_significant_and_names_both_versions(rollout):
    v7, v8 = rollout
    cols = columns_of(v7, v8)
    result = compare(cols, parse_arm_spec("prompt=support-answer@v7"), parse_arm_spec("prompt=support-answer@v8"))
    a, b = result.a, result.b
    assert (a.requests, a.bad, a.errors, b.requests, b.bad, b.errors) == (500, 25, 10, 500, 150, 12)
    assert a.bad_rate == 0.05 and b.bad_rate == 0.30
    assert a.bad_rate_ci == pytest.approx(wilson_interval(25, 500))
    assert a.latency_p50_ms == pytest.approx(np.percentile([r.latency_ms for r in v7], 50))
    assert b.latency_p95_ms == pytest.approx(np.percentile([r.latency_ms for r in v8], 95))
    assert a.cost_median_usd == pytest.approx(np.median([r.cost_usd for r in v7]))
    bad = result.differences["bad_rate"]
    assert bad.method == Z_TEST and bad.significant
    assert bad.p_value == pytest.approx(
        scipy_stats.chi2_contingency([[25, 475], [150, 350]], correction=False).pvalue, rel=1e-6
    )
    assert result.differences["latency"].method == MANN_WHITNEY
    assert result.enough_data
    assert result.verdict[0] == (
        "bad rate 30.0% in support-answer@v8 vs 5.0% in support-answer@v7 (p < 0.001, 500 vs 500 rated)"
    )
    # the same latencies in both arms: no difference, and the sentence says so
    assert "latency: no significant difference (p = 1.00)" in result.verdict
    assert [f.kind for f in result.findings if f.metric == "bad_rate"] == ["significant"]


def test_a_tiny_arm_gets_not_enough_data_instead_of_a_conclusion(rollout):
    v7, _ = rollout
    v9 = records_for("v9", 14, bad=10)
    result = compare(columns_of(v7, v9), parse_arm_spec("version=v7"), parse_arm_spec("version=v9"))
    assert not result.enough_data
    assert result.verdict == ["not enough data: 14 requests in v9 (at least 30 per arm needed to compare)"]
    # the p-values are still reported for whoever wants them; only the verdict abstains
    assert result.differences["bad_rate"].p_value is not None


def test_unpriced_requests_are_counted_not_priced_at_zero():
    priced = records_for("v1", 40, bad=0)
    unpriced = records_for("v2", 40, bad=0, cost_usd=None)
    result = compare(columns_of(priced, unpriced), ArmSpec(prompt_version="v1"), ArmSpec(prompt_version="v2"))
    assert (result.b.unpriced_requests, result.b.priced_requests, result.b.cost_median_usd) == (40, 0, None)
    assert result.differences["cost"].p_value is None
    assert "cost: not enough priced requests (0 in v2, 40 in v1)" in result.verdict


def test_identical_labels_are_told_apart():
    cols = columns_of(records_for("v1", 40, bad=0))
    result = compare(cols, ArmSpec(prompt_version="v1"), ArmSpec(prompt_id="v1"))
    assert (result.a.label, result.b.label) == ("prompt_version=v1", "prompt_id=v1")
    # the same arm twice keeps its name (it was 'A (v1)', headed 'A: A (v1)')
    result = compare(cols, ArmSpec(prompt_version="v1"), ArmSpec(prompt_version="V1"))
    assert result.a.requests == result.b.requests == 40, "matching ignores case"
    assert (result.a.label, result.b.label) == ("v1", "V1")


def test_before_after_a_new_version_splits_at_its_first_appearance(rollout):
    v7, v8 = rollout
    cols = columns_of(v7, v8, records_for("v1", 30, bad=0, prompt_id="other-prompt"))
    before, after = change_point_arms(cols, "prompt", "support-answer@v8")
    change = min(r.ts for r in v8)
    assert (before.prompt_id, before.before, after.after) == ("support-answer", change, change)
    result = compare(cols, before, after)
    # the version it replaced before the change, and the version's own requests from it (the
    # records' times come from a counter shared by every test that wraps each hour: v7's may
    # run past v8's first, and are then in neither arm)
    assert result.a.requests == sum(r.ts < change for r in v7)
    assert result.b.requests == len(v8)
    same = before_after(cols, change, "prompt_id=support-answer", same_length=True)[0]
    assert same.after == pytest.approx(change - (cols.ts.max() - change))
    with pytest.raises(ValueError, match="has not been seen"):
        change_point_arms(cols, "model", "gpt-9")


def test_the_comparison_encodes_to_json_with_documented_fields(rollout):
    result = compare(columns_of(*rollout), ArmSpec(prompt_version="v7"), ArmSpec(prompt_version="v8"))
    data = json.loads(msgspec.json.encode(result))
    assert set(data) == {"a", "b", "differences", "enough_data", "findings", "verdict", "alpha", "min_requests", "figures",
                         "overlap"}  # fmt: skip
    assert data["figures"] == "rows"
    assert set(data["differences"]) == {"error_rate", "bad_rate", "latency", "cost"}
    assert set(data["a"]) >= {"label", "spec", "requests", "errors", "error_rate", "error_rate_ci", "bad",
                              "bad_rate", "bad_rate_ci", "latency_p50_ms", "latency_p95_ms", "priced_requests",
                              "cost_median_usd", "cost_p95_usd", "unpriced_requests"}  # fmt: skip


# -- CLI ------------------------------------------------------------------------------------


@pytest.fixture
def store_url(tmp_path, rollout):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    with Store(url) as store:
        store.write(SourceBatch(records=[*rollout[0], *rollout[1]]))
    return url


def test_cli_json_has_the_arms_p_values_and_verdict(store_url):
    args = ["compare", "--a", "version=v7", "--b", "version=v8", "--store", store_url, "--json"]
    result = runner.invoke(cli_app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["a"]["requests"], data["b"]["requests"]) == (500, 500)
    assert (data["a"]["bad"], data["b"]["bad"]) == (25, 150)
    assert data["differences"]["bad_rate"]["method"] == Z_TEST
    assert data["differences"]["bad_rate"]["significant"] is True
    assert data["verdict"][0].startswith("bad rate 30.0% in v8 vs 5.0% in v7 (p < 0.001")


def test_cli_table_shows_both_arms_and_the_verdict(store_url):
    result = runner.invoke(cli_app, ["compare", "--a", "version=v7", "--b", "version=v8", "--store", store_url])
    assert result.exit_code == 0, result.output
    assert "A: v7" in result.stdout and "B: v8" in result.stdout
    assert "bad rate 30.0% in v8 vs 5.0% in v7" in " ".join(result.stdout.split())
    # latency in the panes' style (seconds), never ms beside them (issue 17, point 5)
    assert re.search(r"\d\.\d\ds / \d+\.\d\ds", result.stdout) and " ms" not in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--a", "colour=red", "--b", "version=v8"], "--a: unknown key 'colour'"),
        (["--a", "version=v7", "--b", "version=v8", "--since", "forever"], "--since"),
    ],
)
def test_cli_bad_input_exits_2_with_a_message(store_url, args, message):
    result = runner.invoke(cli_app, ["compare", *args, "--store", store_url])
    assert result.exit_code == 2
    assert message in result.output


def test_since_windows_count_back_from_now():
    assert parse_since("24h", now=1_000_000.0) == 1_000_000.0 - 86_400
    assert parse_since("15m", now=1_000_000.0) == 1_000_000.0 - 900
    assert parse_since("all") is None
    with pytest.raises(UsageError):
        parse_since("0d")


def test_cli_missing_store_exits_2_without_creating_one(tmp_path):
    missing = tmp_path / "nope.db"
    result = runner.invoke(cli_app, ["compare", "--a", "version=v7", "--b", "version=v8", "--store", str(missing)])
    assert result.exit_code == 2
    assert "no store at" in result.output
    assert not missing.exists()


# -- screen ---------------------------------------------------------------------------------


def screen_text(app) -> str:
    """What the terminal shows, as plain text (the SVG export escapes spaces)."""
    return html.unescape(app.export_screenshot()).replace("\xa0", " ")


class Host(App):
    def __init__(self, comparison, prompt_diff=None) -> None:
        super().__init__()
        self.comparison = comparison
        self.prompt_diff = prompt_diff

    def on_mount(self) -> None:
        self.push_screen(CompareScreen(self.comparison, self.prompt_diff))


async def test_compare_screen_shows_the_arms_and_verdict_and_escape_goes_back(rollout):
    v7, v8 = rollout
    evil = records_for("v9", 40, bad=0, model="[red]evil[/red]")
    cols = columns_of(v7, v8, evil)
    result = compare(cols, ArmSpec(prompt_version="v7"), ArmSpec(prompt_version="v8"))
    host = Host(result)
    async with host.run_test(size=(170, 45)) as pilot:
        await pilot.pause()
        assert isinstance(host.screen, CompareScreen)
        text = screen_text(host)
        assert "bad rate 30.0% in v8 vs 5.0% in v7 (p < 0.001, 500 vs 500 rated)" in text
        assert "A: v7" in text and "B: v8" in text
        await pilot.press("escape")
        assert not isinstance(host.screen, CompareScreen)
    markup = compare(cols, ArmSpec(prompt_version="v7"), ArmSpec(model="[red]evil[/red]"))
    host = Host(markup)
    async with host.run_test(size=(170, 45)) as pilot:
        await pilot.pause()
        assert "B: [red]evil[/red]" in screen_text(host)


# -- the prompt diff beside the numbers ----------------------------------------------------


def _prompt_registry(tmp_path):
    folder = tmp_path / "prompts" / "support-answer"
    folder.mkdir(parents=True)
    (folder / "v7.txt").write_text("Answer briefly.\nBe polite.\n")
    (folder / "v8.txt").write_text("Answer briefly.\nBe polite.\nAlways offer a refund [bold red]now[/].\x1b[2J\n")
    return tmp_path / "prompts"


def _prompt_rollout(rollout):
    v7, v8 = rollout
    return [msgspec.structs.replace(r, prompt_id="support-answer") for r in v7 + v8]


async def test_compare_of_two_prompt_versions_shows_their_diff(rollout, tmp_path):
    from console.live.compare_feed import comparison_ready

    root = _prompt_registry(tmp_path)
    cols = columns_of(_prompt_rollout(rollout))
    ready = comparison_ready(cols, "prompt=support-answer@v7", "prompt=support-answer@v8", prompts_root=root)
    assert ready.error is None and ready.prompt_diff is not None
    assert [row.tag for row in ready.prompt_diff.rows] == ["equal", "equal", "insert"]
    # no diff: an arm without a version, a version the registry lacks, no registry
    assert comparison_ready(cols, "prompt_version=v7", "prompt=support-answer@v8", prompts_root=root).prompt_diff is None
    assert comparison_ready(cols, "prompt=support-answer@v7", "prompt=support-answer@v9", prompts_root=root).prompt_diff is None
    assert comparison_ready(cols, "prompt=support-answer@v7", "prompt=support-answer@v8").prompt_diff is None
    host = Host(ready.comparison, ready.prompt_diff)
    async with host.run_test(size=(170, 60)) as pilot:
        await pilot.pause()
        text = screen_text(host)
        assert "Prompt diff (registry)" in text
        assert "support-answer@v7 → support-answer@v8: 1 line added" in text  # (it said "1 line(s) changed")
        assert "+ Always offer a refund [bold red]now[/]." in text  # markup shown, not parsed
        assert "bad rate 30.0% in" in text  # the numbers are still there
    plain = Host(ready.comparison)
    async with plain.run_test(size=(170, 45)) as pilot:
        await pilot.pause()
        assert "Prompt diff" not in screen_text(plain)


def test_the_feed_finds_the_registry_next_to_the_config(tmp_path):
    from console.config import Settings
    from console.live.analytics_feed import AnalyticsFeed

    _prompt_registry(tmp_path)
    (tmp_path / "llmops.toml").write_text("")
    settings = msgspec.structs.replace(Settings(), source=str(tmp_path / "llmops.toml"))
    assert AnalyticsFeed(lambda m: None, settings)._prompts_root() == tmp_path / "prompts"
    (tmp_path / "elsewhere").mkdir()
    settings = msgspec.structs.replace(Settings(), source=str(tmp_path / "elsewhere" / "llmops.toml"))
    assert AnalyticsFeed(lambda m: None, settings)._prompts_root() is None
