"""`compare` above the exact path's limit (issue 20): the arms read from hour cells and edge
rows give the rows' counts exactly, percentiles within the sketches' bound, and the same
verdict where the difference is clear."""

from __future__ import annotations

import json

import msgspec
import numpy as np
import pytest
from scipy import stats

from console.analytics.compare_sketch import sketch_mann_whitney
from console.analytics.sketch import RELATIVE_ACCURACY, Entries, keys_of, value_of
from console.commands.compare import run
from tests.test_rollups import END, _filled_store

BOUND = RELATIVE_ACCURACY * (1 + 1e-9)
EXACT = ("requests", "errors", "bad", "rated", "priced_requests", "unpriced_requests", "spec", "label")


@pytest.fixture(scope="module")
def store_url(tmp_path_factory):
    path = tmp_path_factory.mktemp("compare")
    url = f"sqlite:///{path / 'store.db'}"
    _filled_store(url, path).close()  # 9 days, with labels the cells do not know of
    return url


def _both(url: str, a: str, b: str, since: str) -> tuple[dict, dict]:
    rows = run(a, b, since=since, store=url, as_json=True, exact_max_rows=10**9)
    merged = run(a, b, since=since, store=url, as_json=True, exact_max_rows=0)
    assert (rows.figures, merged.figures) == ("rows", "rollups")
    return msgspec.to_builtins(rows), msgspec.to_builtins(merged)


AFTER = (END.timestamp() - 3.3 * 86400)
PAIRS = [
    ("model=gpt-4o", "model=gpt-4o-mini", "all"),
    ("prompt=support-answer@v7", "prompt=support-answer@v8", "all"),
    ("version=v7", "version=v8", "all"),
    ("model=GPT-4o-mini,env=staging", "model=claude-haiku-4-5", "all"),
    ("model=claude-sonnet-4-5", "model=o3-mini", "20d"),
    (f"model=gpt-4o-mini,before={AFTER + 1234.5}", f"model=gpt-4o-mini,after={AFTER + 1234.5}", "all"),
    (f"prompt=ticket-classifier,after={AFTER}", f"prompt=support-answer,after={AFTER + 77},before={AFTER + 9000.25}", "all"),
]


@pytest.mark.parametrize("a, b, since", PAIRS)
def test_compare_over_rollups_counts_exactly_and_reads_percentiles_within_the_bound(store_url, a, b, since):
    rows, merged = _both(store_url, a, b, since)
    assert rows["a"]["requests"] and rows["b"]["requests"]
    for arm in ("a", "b"):
        exact, sketched = rows[arm], merged[arm]
        assert {k: exact[k] for k in EXACT} == {k: sketched[k] for k in EXACT}, arm
        for key in ("latency_p50_ms", "latency_p95_ms"):
            if exact[key] is None:
                assert sketched[key] is None
            else:
                assert abs(sketched[key] - exact[key]) <= BOUND * exact[key], (arm, key)
        if exact["cost_mean_usd"] is None:
            assert sketched["cost_mean_usd"] is None
        else:
            assert sketched["cost_mean_usd"] == pytest.approx(exact["cost_mean_usd"], rel=1e-9)
        assert sketched["cost_median_usd"] is None and sketched["cost_p95_usd"] is None
    for metric in ("error_rate", "bad_rate"):
        assert rows["differences"][metric] == merged["differences"][metric]
    latency = rows["differences"]["latency"]["p_value"], merged["differences"]["latency"]["p_value"]
    if latency[0] is not None and (latency[0] < 1e-4 or latency[0] > 0.2):
        assert (latency[0] < 0.05) == (latency[1] < 0.05)
    assert merged["differences"]["cost"]["p_value"] is None
    assert merged["overlap"] == rows["overlap"], "each arm's first and last request: the cells keep them exactly"


def test_some_pair_is_actually_different(store_url):
    """The sample story's models differ in latency: the bucketed test sees it too."""
    rows, merged = _both(store_url, "model=gpt-4o", "model=gpt-4o-mini", "all")
    assert rows["differences"]["latency"]["significant"] and merged["differences"]["latency"]["significant"]


def test_the_bucketed_mann_whitney_is_scipys_over_the_buckets_values():
    rng = np.random.default_rng(4)
    for trial in range(20):
        a = rng.lognormal(6, 0.5, rng.integers(5, 3000))
        b = rng.lognormal(6 + rng.uniform(-0.1, 0.1), 0.5, rng.integers(5, 3000))
        sketch_a = Entries.of_values(np.zeros(len(a), np.int64), a)
        sketch_b = Entries.of_values(np.zeros(len(b), np.int64), b)
        binned_a, binned_b = value_of(keys_of(a)), value_of(keys_of(b))
        expected = stats.mannwhitneyu(binned_a, binned_b, alternative="two-sided", method="asymptotic").pvalue
        assert sketch_mann_whitney(sketch_a, sketch_b) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_the_cli_says_when_it_read_the_rollups(store_url, monkeypatch):
    from typer.testing import CliRunner

    from console.cli import app
    from console.store import window_report

    monkeypatch.setattr("console.commands.compare.EXACT_MAX_ROWS", 10)
    result = CliRunner().invoke(app, ["compare", "--a", "version=v7", "--b", "version=v8", "--store", store_url])
    assert result.exit_code == 0, result.output
    assert "read from the rollups" in result.stdout
    result = CliRunner().invoke(app, ["compare", "--a", "version=v7", "--b", "version=v8", "--store", store_url, "--json"])
    assert json.loads(result.stdout)["figures"] == "rollups"
    assert window_report.EXACT_MAX_ROWS > 10
