"""A user trial of `compare`: no `--now` (report and check have one), and arms whose requests
cover different times (a rollout's last 2 hours against a day of the old version) compared
without a word."""

from __future__ import annotations

import json
import shlex

import msgspec
import pytest
from typer.testing import CliRunner

from conftest import make_record
from console.analytics.arm_spec import ArmSpec
from console.analytics.compare_overlap import (
    OVERLAP_WARN_SHARE,
    duration_option,
    shared_span_options,
    time_overlap,
)
from console.cli import app
from console.commands.compare import run
from console.formatting import parse_rfc3339

runner = CliRunner()
NOW = "2026-11-20T12:00:00Z"
END = parse_rfc3339(NOW)


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def two_models(tmp_path, write_log):
    """Three hours of requests up to NOW, one a minute (a row on NOW itself and on the hour
    before it), two models in turn, and 30 more stamped after NOW."""
    rows = [make_record(ts=END - 60 * i, model="gpt-4o" if i % 2 else "gpt-4o-mini") for i in range(-30, 180)]
    store = str(tmp_path / "db.sqlite")
    assert runner.invoke(app, ["ingest", str(write_log("app.jsonl", rows)), "--store", store]).exit_code == 0
    return store, rows


def _counts(rows, start: float, end: float) -> tuple[int, int]:
    inside = [r for r in rows if start <= r["ts"] <= end]
    return sum(r["model"] == "gpt-4o" for r in inside), sum(r["model"] == "gpt-4o-mini" for r in inside)


def test_compare_takes_now_and_its_since_is_the_window_up_to_it(two_models):
    """`compare --now` was 'No such option' (exit 2): a --since could only end at the clock."""
    store, rows = two_models
    args = ["compare", "--store", store, "--a", "model=gpt-4o", "--b", "model=gpt-4o-mini"]
    result = runner.invoke(app, [*args, "--since", "1h", "--now", NOW, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    # report's window: start <= ts <= now, both ends in; the 30 rows after NOW are in no arm
    assert (data["a"]["requests"], data["b"]["requests"]) == _counts(rows, END - 3600, END) == (30, 31)
    everything = json.loads(runner.invoke(app, [*args, "--since", "all", "--now", NOW, "--json"]).stdout)
    assert (everything["a"]["requests"], everything["b"]["requests"]) == _counts(rows, 0, END) == (90, 90)
    # the rollups path bounds the arms at the same moment, and says the same counts
    for since in ("1h", "all"):
        rows_path = run("model=gpt-4o", "model=gpt-4o-mini", since=since, store=store, as_json=True, now=NOW,
                        exact_max_rows=10**9)  # fmt: skip
        cells_path = run("model=gpt-4o", "model=gpt-4o-mini", since=since, store=store, as_json=True, now=NOW,
                         exact_max_rows=0)  # fmt: skip
        assert (rows_path.figures, cells_path.figures) == ("rows", "rollups")
        assert (cells_path.a.requests, cells_path.b.requests) == (rows_path.a.requests, rows_path.b.requests)
    text = runner.invoke(app, [*args, "--since", "90m", "--now", NOW])
    assert text.exit_code == 0 and "compare over the 90m up to 2026-11-20T12:00:00Z" in flat(text.stdout)


def test_compare_refuses_a_bad_now_as_report_and_check_do(two_models):
    store, _ = two_models
    said = []
    for command in (["compare", "--a", "model=gpt-4o", "--b", "model=gpt-4o-mini"], ["report"], ["check"]):
        result = runner.invoke(app, [*command, "--store", store, "--now", "yesterday noon"])
        assert result.exit_code == 2, (command, result.output)
        said.append(flat(result.output))
    assert said[0] == said[1] == said[2]
    assert "--now 'yesterday noon': use an RFC 3339 time like 2026-11-20T12:00:00Z" in said[0]


def test_an_empty_window_before_the_stored_requests_says_to_move_now(two_models):
    store, _ = two_models
    result = runner.invoke(app, ["compare", "--store", store, "--a", "model=gpt-4o", "--b", "model=gpt-4o-mini",
                                 "--since", "1h", "--now", "2026-11-10T12:00:00Z"])  # fmt: skip
    assert result.exit_code == 0, result.output
    err = flat(result.stderr)
    assert "no request in the 1h up to 2026-11-10T12:00:00Z; the newest stored is 2026-11-20T12:30:00Z: a later --now" in err
    assert "models: none" not in err


# -- arms over different times ---------------------------------------------------------------


@pytest.fixture
def rollout(tmp_path, write_log):
    """v7 one request a minute over the 24 hours to NOW; v8 two a minute over the last 2 hours."""
    rows = [make_record(ts=END - 86400 + 60 * i + 30, prompt_version="v7") for i in range(24 * 60)]
    rows += [make_record(ts=END - 7200 + 30 * i + 10, prompt_version="v8") for i in range(4 * 60)]
    store = str(tmp_path / "db.sqlite")
    assert runner.invoke(app, ["ingest", str(write_log("app.jsonl", rows)), "--store", store]).exit_code == 0
    return store


def test_arms_over_different_times_are_warned_about_with_the_shared_span(rollout):
    """v8 rolled out 2 hours ago against v7's whole day: the table and verdict said nothing."""
    args = ["compare", "--store", rollout, "--a", "version=v7", "--b", "version=v8", "--since", "24h", "--now", NOW]
    text = runner.invoke(app, args)
    assert text.exit_code == 0, text.output
    out = flat(text.stdout)
    assert ("! arms overlap for 1h 59m of 23h 59m (8%): v8 started at 2026-11-20T10:00:10Z; their figures are "
            "not like for like (time of day, traffic); compare over the shared span with --since 2h --now "
            "2026-11-20T12:00:00Z") in out  # fmt: skip
    assert out.index("arms overlap") < out.index("requests"), "said above the table"
    overlap = json.loads(runner.invoke(app, [*args, "--json"]).stdout)["overlap"]
    assert overlap == {
        "a_first": "2026-11-19T12:00:30Z", "a_last": "2026-11-20T11:59:30Z",
        "b_first": "2026-11-20T10:00:10Z", "b_last": "2026-11-20T11:59:40Z",
        "shared_first": "2026-11-20T10:00:10Z", "shared_last": "2026-11-20T11:59:30Z",
        "shared_seconds": 7160.0, "longer_seconds": 86340.0, "share": pytest.approx(7160 / 86340),
        "split_in_time": False, "warning": overlap["warning"], "rerun_with": "--since 2h --now 2026-11-20T12:00:00Z",
    }  # fmt: skip
    # the rollups path reads the same first and last requests from its cells' extremes
    cells = run("version=v7", "version=v8", since="24h", store=rollout, as_json=True, now=NOW, exact_max_rows=0)
    assert cells.figures == "rollups"
    assert {**msgspec.to_builtins(cells.overlap), "rerun_with": overlap["rerun_with"]} == overlap
    # what it suggests compares like for like: no warning
    again = runner.invoke(app, [*args[:7], *shlex.split(overlap["rerun_with"]), "--json"])
    settled = json.loads(again.stdout)["overlap"]
    assert settled["warning"] is None and settled["share"] > OVERLAP_WARN_SHARE


def test_a_before_after_split_is_not_warned_about_and_disjoint_arms_are(rollout):
    change = "2026-11-20T10:00:00Z"
    split = run(f"prompt_id=support-answer,before={change}", f"prompt_id=support-answer,after={change}",
                store=rollout, as_json=True)  # fmt: skip
    assert split.overlap.split_in_time and split.overlap.warning is None
    apart = run(f"version=v7,before={change}", "version=v8", store=rollout, as_json=True)
    assert not apart.overlap.split_in_time and apart.overlap.shared_first is None
    assert apart.overlap.warning.startswith("arms do not overlap in time: v7 · before 2026-11-20T10:00:00Z covers")
    assert apart.overlap.rerun_with is None


def test_the_rule_is_under_80_percent_of_the_longer_span():
    a, b = ArmSpec(prompt_version="v7"), ArmSpec(prompt_version="v8")
    at_the_bar = time_overlap(a, b, "v7", "v8", (0.0, 1000.0), (200.0, 1000.0))
    assert at_the_bar.share == pytest.approx(0.8) and at_the_bar.warning is None
    under = time_overlap(a, b, "v7", "v8", (0.0, 1000.0), (201.0, 1000.0))
    assert under.warning.startswith("arms overlap for 13m 19s of 16m 40s (79%): v8 started at 1970-01-01T00:03:21Z;")
    stopped = time_overlap(a, b, "v7", "v8", (0.0, 1000.0), (0.0, 500.0))
    assert "v8 stopped at 1970-01-01T00:08:20Z" in stopped.warning
    assert time_overlap(a, b, "v7", "v8", None, (0.0, 5.0)) is None  # an empty arm: nothing to say
    # the suggested window holds the shared span, to the minute, ending at now or at its end
    assert shared_span_options(stopped, 1000.0, None) == "--since 9m --now 1970-01-01T00:08:20Z"
    assert shared_span_options(under, 1000.0, None) == "--since 14m"
    assert [duration_option(s) for s in (7200, 7201, 86400, 30)] == ["2h", "121m", "1d", "1m"]
