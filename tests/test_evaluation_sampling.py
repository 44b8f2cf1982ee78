"""Sampling: deterministic by request_id, at the configured rate, plus the always-include rules."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import REPO
from console.config import EvaluationSettings, Slo
from console.evaluation.sampling import Sampler, in_sample, prompt_matches, sample_point, slo_limit_ms
from console.records import RequestRecord

IDS = [f"req_{i:07d}" for i in range(100_000)]


def record(**overrides) -> RequestRecord:
    fields = dict(
        ts=1.0, request_id="req_x", model="gpt-4o", prompt_id="support-answer", prompt_version="v7",
        input_tokens=10, output_tokens=10, latency_ms=800.0, status="ok",
    )  # fmt: skip
    fields.update(overrides)
    return RequestRecord(**fields)


@pytest.mark.parametrize("rate", [0.01, 0.1, 0.5, 0.9])
def test_the_rate_holds_within_one_percent_at_100k_ids(rate):
    chosen = sum(in_sample(rid, rate) for rid in IDS)
    assert abs(chosen / len(IDS) - rate) < 0.01


def test_points_are_uniform_in_0_1():
    points = [sample_point(rid) for rid in IDS[:20_000]]
    assert all(0.0 <= p < 1.0 for p in points)
    deciles = [sum(d / 10 <= p < (d + 1) / 10 for p in points) for d in range(10)]
    assert min(deciles) > 1800 and max(deciles) < 2200


def test_the_decision_is_the_same_in_another_process():
    """Another interpreter, with another str hash seed, decides exactly the same ids."""
    script = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(REPO)!r})\n"
        "from console.evaluation.sampling import in_sample\n"
        "ids = [f'req_{i:07d}' for i in range(5000)]\n"
        "print(json.dumps([rid for rid in ids if in_sample(rid, 0.1)]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
    )  # fmt: skip
    here = [rid for rid in IDS[:5000] if in_sample(rid, 0.1)]
    assert json.loads(out.stdout) == here
    assert 400 < len(here) < 600


def test_raising_the_rate_only_adds_requests():
    low = {rid for rid in IDS[:10_000] if in_sample(rid, 0.05)}
    high = {rid for rid in IDS[:10_000] if in_sample(rid, 0.2)}
    assert low < high


def test_rate_zero_and_one():
    assert not any(in_sample(rid, 0.0) for rid in IDS[:1000])
    assert all(in_sample(rid, 1.0) for rid in IDS[:1000])


def unsampled_id(rate: float = 0.1) -> str:
    return next(rid for rid in IDS if not in_sample(rid, rate))


@pytest.mark.parametrize(
    ("overrides", "why"),
    [
        ({"status": "error"}, "error"),
        ({"feedback": -1.0}, "negative feedback"),
        ({"feedback": -0.2}, "negative feedback"),
        ({"latency_ms": 2600.0}, "over SLO"),
        ({"prompt_version": "v8"}, "watched"),
        ({"prompt_id": "ticket-classifier", "prompt_version": "v1"}, "watched"),
    ],
)
def test_always_included_whatever_the_rate(overrides, why):
    settings = EvaluationSettings(sample_rate=0.0, watch_prompts=["support-answer@v8", "ticket-classifier"])
    sampler = Sampler(settings, [Slo(max_ms=2500)])
    assert sampler.reason(record(request_id=unsampled_id(), **overrides)) == why


def test_the_rest_is_left_out_or_sampled_by_hash():
    settings = EvaluationSettings(sample_rate=0.1, watch_prompts=["support-answer@v8"])
    sampler = Sampler(settings, [Slo(max_ms=2500)])
    assert not sampler(record(request_id=unsampled_id(), feedback=1.0, latency_ms=2400.0))
    chosen = next(rid for rid in IDS if in_sample(rid, 0.1))
    assert sampler.reason(record(request_id=chosen)) == "sampled"


def test_slo_limit_prefers_the_models_own_and_the_tightest():
    slos = [Slo(max_ms=4000), Slo(max_ms=2500, model="gpt-4o"), Slo(max_ms=6000, percentile=99, model="gpt-4o")]
    assert slo_limit_ms(slos, "gpt-4o") == 2500
    assert slo_limit_ms(slos, "o3-mini") == 4000
    assert slo_limit_ms([Slo(max_ms=1, model="x")], "y") is None


def test_prompt_patterns():
    assert prompt_matches(["support-answer"], "support-answer", "v9")
    assert prompt_matches(["support-answer@v8"], "support-answer", "v8")
    assert not prompt_matches(["support-answer@v8"], "support-answer", "v7")
    assert not prompt_matches(["support"], "support-answer", "v8")
