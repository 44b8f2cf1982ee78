"""openlit's estimated usage (its own token guesses for streams without usage) is counted
apart, never as real spend: `report --json`, `report`, the Budget pane, the store's round
trips (column blocks, a follower without bodies), and a guess without a price of its own."""

from __future__ import annotations

import html
import json
import re
import time

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import REPO, wait_until
from console.analytics.prices import Pricer
from console.cli import app
from console.config import PriceOverride
from console.formatting import rfc3339
from console.records import ESTIMATED_COST, ESTIMATED_TOKENS
from console.sources.detect import LogTail
from console.store import Store
from console.ui.app import ConsoleApp

OPENLIT = REPO / "sample_logs" / "otel" / "openlit"
TRACE = OPENLIT / "openlit.otlp.jsonl"
runner = CliRunner()


def the_estimates():
    """(model, openlit's estimated cost) of each estimated request in the committed trace."""
    with LogTail([TRACE], watch=False) as tail:
        records = tail.read_available().records
    return [(r.model, r.metadata[ESTIMATED_COST]) for r in records if ESTIMATED_TOKENS in (r.metadata or {})]


def report_json(store: str, *args: str) -> dict:
    truth = json.loads((OPENLIT / "openlit.truth.json").read_text(encoding="utf-8"))
    now = rfc3339(max(t["ts"] for t in truth) + 60)
    result = runner.invoke(app, ["report", "--store", store, "--since", "1h", "--now", now, *args])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    store = str(tmp_path_factory.mktemp("openlit") / "db.sqlite")
    assert runner.invoke(app, ["ingest", str(TRACE), "--store", store]).exit_code == 0
    return store


def test_report_json_counts_estimated_usage_apart(ingested):
    estimates = the_estimates()
    assert len(estimates) == 6 and all(cost > 0 for _, cost in estimates)
    spend = json.loads(report_json(ingested, "--json").stdout.strip().splitlines()[-1])["spend"]
    assert spend["estimated_requests"] == 6
    assert spend["estimated_usd"] == pytest.approx(sum(cost for _, cost in estimates), abs=1e-9)
    by_model: dict[str, float] = {}
    for model, cost in estimates:
        by_model[model] = by_model.get(model, 0.0) + cost
    assert spend["estimated_by_model"] == pytest.approx(by_model, abs=1e-9)
    with Store(ingested) as opened:
        real = [r.cost_usd for r in opened.recent(100) if ESTIMATED_TOKENS not in (r.metadata or {}) and r.cost_usd]
    assert spend["total_usd"] == pytest.approx(sum(real)), "the estimates are not in the real spend"
    # the contract's earlier fields are all still there
    assert {"total_usd", "priced_requests", "unpriced_requests", "unpriced_models", "by_model", "by_prompt",
            "top_users", "per_hour"} <= set(spend)  # fmt: skip


def test_the_text_report_says_so(ingested):
    text = " ".join(report_json(ingested).output.split())
    assert "6 requests with only estimated usage" in text and "not in the total" in text


def test_a_follower_without_bodies_and_old_blocks_keep_the_count(ingested, tmp_path):
    from console.store.column_blocks import RawBlock, _Encoded

    with Store(ingested) as opened:
        followed = [record for _, record in opened.rows_after(0, with_text=False)]
        columns = opened.load_columns()
    assert sum(ESTIMATED_TOKENS in (r.metadata or {}) for r in followed) == 6
    assert int(np.isfinite(columns.estimated_cost_usd).sum()) == 6
    import msgspec

    old = _Encoded(2, {"ts": np.zeros(2).tobytes()}, {})  # a block written before schema 6
    decoded = RawBlock.decode(msgspec.msgpack.encode(old))
    assert np.isnan(decoded.arrays["estimated_cost_usd"]).all()


def test_estimated_tokens_without_a_cost_are_priced_at_the_models_rates():
    from console.records import RequestRecord, estimated_cost_usd

    guessed = {ESTIMATED_TOKENS: {"input_tokens": 1_000_000, "output_tokens": 0, "by": "someone"}}
    record = RequestRecord(ts=1.0, request_id="r", model="m", prompt_id="p", prompt_version="v",
                           input_tokens=0, output_tokens=0, latency_ms=1.0, status="ok", metadata=guessed)  # fmt: skip
    Pricer({"m": PriceOverride(input=2.5, output=10.0)}).fill([record])
    assert record.cost_usd == 0.0 and estimated_cost_usd(record.metadata) == pytest.approx(2.5)


def shifted_trace(tmp_path):
    """The committed trace moved to end now, so the console's 1h window holds it."""
    text = TRACE.read_text(encoding="utf-8")
    last = max(int(n) for n in re.findall(r'"endTimeUnixNano":\s*"(\d+)"', text))
    offset = time.time_ns() - last
    moved = re.sub(r'("(?:start|end|)[tT]imeUnixNano":\s*")(\d+)"', lambda m: f'{m[1]}{int(m[2]) + offset}"', text)
    path = tmp_path / "openlit.otlp.jsonl"
    path.write_text(moved, encoding="utf-8")
    return path


async def test_the_budget_pane_shows_the_estimates_apart(tmp_path):
    console = ConsoleApp(sources=[str(shifted_trace(tmp_path))], store_url=f"sqlite:///{tmp_path / 'store.db'}",
                         pricer=Pricer({}))  # fmt: skip
    async with console.run_test(size=(200, 60)) as pilot:
        await wait_until(pilot, lambda: console.dashboard.report is not None and console.dashboard.report.requests == 30)
        spend = console.dashboard.report.spend
        assert spend.estimated_requests == 6
        assert spend.estimated_usd == pytest.approx(sum(cost for _, cost in the_estimates()), abs=1e-9)
        await pilot.pause(0.1)
        screen = html.unescape(console.export_screenshot()).replace("\xa0", " ")
    assert "estimated usage: 6 requests" in screen and "(not in spend)" in screen
