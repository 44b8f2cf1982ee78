"""Cost per request: the record's own cost, else llmops.toml overrides, else genai-prices.

genai-prices is called directly for every expected cost: the Pricer compiles price tables
into coefficients for speed, and these tests hold it to the library's own answers.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone

import pytest
from genai_prices import Usage, calc_price
from typer.testing import CliRunner

from conftest import make_record
from console.analytics.prices import Pricer, PricingTally
from console.config import PriceOverride
from console.records import RequestRecord, parse_line

TS = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


def record(**fields) -> RequestRecord:
    fields.setdefault("ts", TS.isoformat())
    return parse_line(_json(make_record(**fields)))


def _json(data: dict) -> str:
    import json

    return json.dumps(data)


def expected(model: str, provider: str | None, input_tokens: int, cached: int, output: int, at: datetime = TS) -> float:
    usage = Usage(input_tokens=input_tokens, cache_read_tokens=cached, output_tokens=output)
    return float(calc_price(usage, model, provider_id=provider, genai_request_timestamp=at).total_price)


def priced(pricer: Pricer, **fields) -> RequestRecord:
    rec = record(**fields)
    pricer.fill([rec])
    return rec


# -- genai-prices ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "model"),
    [("openai", "gpt-4o-mini"), ("openai", "gpt-4o"), ("anthropic", "claude-sonnet-4-5"), ("openai", "o3-mini")],
)
def test_a_plain_request_costs_what_genai_prices_says(provider, model):
    rec = priced(Pricer(), provider=provider, model=model, input_tokens=812, output_tokens=143)
    assert rec.cost_usd == pytest.approx(expected(model, provider, 812, 0, 143), rel=1e-12)
    assert rec.cost_usd > 0


def test_cached_tokens_are_part_of_input_tokens_and_cost_the_cache_read_price():
    rec = priced(
        Pricer(), provider="anthropic", model="claude-sonnet-4-5",
        input_tokens=2000, cached_input_tokens=1500, output_tokens=300,
    )  # fmt: skip
    assert rec.cost_usd == pytest.approx(expected("claude-sonnet-4-5", "anthropic", 2000, 1500, 300), rel=1e-12)
    # $3/M for the 500 uncached, $0.30/M for the 1,500 cached, $15/M output: by hand, too.
    assert rec.cost_usd == pytest.approx((500 * 3 + 1500 * 0.3 + 300 * 15) / 1e6, rel=1e-12)
    uncached = priced(Pricer(), provider="anthropic", model="claude-sonnet-4-5", input_tokens=2000, output_tokens=300)
    assert uncached.cost_usd > rec.cost_usd


@pytest.mark.parametrize(("provider", "model", "tier_start"), [
    ("anthropic", "claude-sonnet-4-5", 200_000),
    ("google", "gemini-2.5-pro", 200_000),
])  # fmt: skip
def test_a_prompt_over_a_tier_costs_the_tier_price_for_every_token(provider, model, tier_start):
    from genai_prices.data_snapshot import get_snapshot
    from genai_prices.types import TieredPrices

    _, info = get_snapshot().find_provider_model(model, None, provider, None)
    assert isinstance(info.get_prices(TS).input_mtok, TieredPrices), "the test needs a tiered model"

    pricer = Pricer()  # one pricer: the small prompts' cached rates must not leak to big ones
    for input_tokens, cached in [(1200, 0), (tier_start, 0), (tier_start + 1, 0), (250_000, 0), (250_000, 180_000), (1200, 1000)]:
        rec = priced(pricer, provider=provider, model=model, input_tokens=input_tokens,
                     cached_input_tokens=cached, output_tokens=900)  # fmt: skip
        assert rec.cost_usd == pytest.approx(expected(model, provider, input_tokens, cached, 900), rel=1e-12), input_tokens
    at_start = expected(model, provider, tier_start, 0, 900)
    over = expected(model, provider, tier_start + 1, 0, 900)
    assert over > at_start * 1.5, "crossing the tier reprices every token"


def test_prices_in_force_at_the_request_time_are_used():
    """deepseek-chat has an off-peak price by time of day: the record's ts decides."""
    pricer = Pricer()
    costs = set()
    for hour in (3, 20):
        at = datetime(2025, 11, 20, hour, 0, tzinfo=timezone.utc)
        rec = priced(pricer, ts=at.isoformat(), provider="deepseek", model="deepseek-chat",
                     input_tokens=5000, cached_input_tokens=1000, output_tokens=700)  # fmt: skip
        assert rec.cost_usd == pytest.approx(expected("deepseek-chat", "deepseek", 5000, 1000, 700, at), rel=1e-12)
        costs.add(rec.cost_usd)
    assert len(costs) == 2


def test_without_a_provider_the_model_alone_is_matched():
    rec = priced(Pricer(), provider=None, model="gpt-4o", input_tokens=1000, output_tokens=100)
    assert rec.cost_usd == pytest.approx(expected("gpt-4o", None, 1000, 0, 100), rel=1e-12)


def test_a_provider_name_genai_prices_does_not_know_falls_back_to_the_model():
    rec = priced(Pricer(), provider="acme-gateway", model="gpt-4o", input_tokens=1000, output_tokens=100)
    assert rec.cost_usd == pytest.approx(expected("gpt-4o", None, 1000, 0, 100), rel=1e-12)


def test_opentelemetry_provider_names_are_understood():
    rec = priced(Pricer(), provider="azure.ai.openai", model="gpt-4o", input_tokens=1000, output_tokens=100)
    assert rec.cost_usd == pytest.approx(expected("gpt-4o", "azure.ai.openai", 1000, 0, 100), rel=1e-12)


# -- overrides ----------------------------------------------------------------------------


def test_an_override_wins_over_genai_prices():
    pricer = Pricer({"gpt-4o": PriceOverride(input=1.0, cached_input=0.25, output=2.0)})
    rec = priced(pricer, model="gpt-4o", input_tokens=10_000, cached_input_tokens=4_000, output_tokens=1_000)
    assert rec.cost_usd == pytest.approx((6_000 * 1.0 + 4_000 * 0.25 + 1_000 * 2.0) / 1e6, rel=1e-12)
    assert rec.cost_usd != pytest.approx(expected("gpt-4o", "openai", 10_000, 4_000, 1_000))
    assert pricer.source_of("openai", "gpt-4o") == "override"


def test_an_override_without_cached_price_charges_cached_tokens_as_input():
    pricer = Pricer({"acme-ft": PriceOverride(input=3.0, output=12.0)})
    rec = priced(pricer, model="acme-ft", provider=None, input_tokens=2_000, cached_input_tokens=1_500, output_tokens=100)
    assert rec.cost_usd == pytest.approx((2_000 * 3.0 + 100 * 12.0) / 1e6, rel=1e-12)


def test_a_free_override_is_zero_dollars_not_unpriced():
    pricer = Pricer({"llama-selfhosted": PriceOverride(input=0, output=0)})
    records = [record(model="llama-selfhosted", provider=None)]
    tally = pricer.fill(records)
    assert records[0].cost_usd == 0.0
    assert tally.from_override == 1 and tally.unpriced == 0


# -- what is not priced ------------------------------------------------------------------


def test_an_unknown_model_stays_unpriced_and_is_counted_by_name():
    pricer = Pricer()
    records = [record(model="acme-secret-model", provider=None) for _ in range(3)]
    records += [record(model="claude-sonnet-4-5", provider="openai")]  # openai does not sell it: no guessing
    records += [record(model="gpt-4o-mini")]
    tally = pricer.fill(records)
    assert [r.cost_usd is None for r in records] == [True, True, True, True, False]
    assert tally.unpriced == 4 and tally.computed == 1
    assert tally.unpriced_models == {"acme-secret-model": 3, "claude-sonnet-4-5": 1}
    assert pricer.source_of(None, "acme-secret-model") is None


def test_a_record_with_its_own_cost_is_untouched():
    pricer = Pricer({"gpt-4o-mini": PriceOverride(input=100, output=100)})
    records = [record(cost_usd=0.0123), record(cost_usd=0.0), record(model="nobody-knows", cost_usd=0.5)]
    tally = pricer.fill(records)
    assert [r.cost_usd for r in records] == [0.0123, 0.0, 0.5]
    assert tally == PricingTally(kept=3)


def test_more_cached_than_input_tokens_is_unpriced_not_guessed():
    """genai-prices rejects such usage (input_tokens must include the cached tokens)."""
    with pytest.raises(ValueError):
        expected("gpt-4o", "openai", 100, 1500, 10)
    records = [record(model="gpt-4o", input_tokens=100, cached_input_tokens=1500)]
    tally = Pricer().fill(records)
    assert records[0].cost_usd is None
    assert tally.unpriced == 1 and tally.bad_usage == 1 and not tally.unpriced_models


def test_tallies_add_up():
    pricer = Pricer({"acme-ft": PriceOverride(input=1, output=1)})
    first = pricer.fill([record(), record(model="acme-ft"), record(model="x-unknown")])
    second = pricer.fill([record(cost_usd=1.0), record(model="x-unknown")])
    first.add(second)
    assert (first.computed, first.from_override, first.kept, first.unpriced) == (1, 1, 1, 2)
    assert first.records == 5 and first.priced == 2
    assert first.unpriced_models == {"x-unknown": 2}


def test_pricer_cost_does_not_modify_the_record():
    rec = record(model="gpt-4o", input_tokens=1000, output_tokens=100)
    assert Pricer().cost(rec) == pytest.approx(expected("gpt-4o", "openai", 1000, 0, 100), rel=1e-12)
    assert rec.cost_usd is None


# -- at ingest ----------------------------------------------------------------------------


@pytest.mark.parametrize("parallel", [False, True], ids=["in-process", "writer-process"])
def test_ingest_stores_computed_costs_and_leaves_unknown_models_nan(tmp_path, write_log, parallel):
    from console.ingest import ingest_files
    from console.store import Store

    lines = [
        make_record(ts="2026-11-20T12:00:01Z", model="gpt-4o", input_tokens=3000, cached_input_tokens=1024, output_tokens=200),
        make_record(ts="2026-11-20T12:00:02Z", model="acme-secret-model", provider=None),
        make_record(ts="2026-11-20T12:00:03Z", model="acme-ft", provider=None, input_tokens=1000, output_tokens=1000),
        make_record(ts="2026-11-20T12:00:04Z", model="gpt-4o", cost_usd=0.5),
    ]
    log = write_log("app.jsonl", lines)
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        pricer = Pricer({"acme-ft": PriceOverride(input=2.0, output=8.0)})
        totals = ingest_files(store, [str(log)], parallel=parallel, pricer=pricer)
        costs = store.load_columns().cost_usd
    finally:
        store.close()
    at = datetime(2026, 11, 20, 12, 0, 1, tzinfo=timezone.utc)
    assert costs[0] == pytest.approx(expected("gpt-4o", "openai", 3000, 1024, 200, at), rel=1e-12)
    assert math.isnan(costs[1])
    assert costs[2] == pytest.approx((1000 * 2.0 + 1000 * 8.0) / 1e6)
    assert costs[3] == 0.5
    assert totals.added == 4
    assert (totals.pricing.computed, totals.pricing.from_override, totals.pricing.kept) == (1, 1, 1)
    assert totals.pricing.unpriced_models == {"acme-secret-model": 1}


def test_ingest_without_a_pricer_stores_no_computed_cost(tmp_path, write_log):
    from console.ingest import ingest_files
    from console.store import Store

    log = write_log("app.jsonl", [make_record()])
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        ingest_files(store, [str(log)])
        assert math.isnan(store.load_columns().cost_usd[0])
    finally:
        store.close()


def test_the_ingest_command_prices_with_the_config_overrides(tmp_path, write_log):
    import sqlite3

    from console.cli import app

    log = write_log("app.jsonl", [
        make_record(model="acme-ft", provider=None, input_tokens=1_000_000, output_tokens=0),
        make_record(model="acme-secret-model", provider=None),
        make_record(model="acme-secret-model", provider=None),
    ])  # fmt: skip
    config = tmp_path / "llmops.toml"
    config.write_text('[prices."acme-ft"]\ninput = 3.0\noutput = 12.0\n')
    db = tmp_path / "s.db"
    result = CliRunner().invoke(app, ["ingest", str(log), "--store", f"sqlite:///{db}", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "2 requests unpriced" in result.output and "acme-secret-model (2)" in result.output
    conn = sqlite3.connect(db)
    try:
        costs = dict(conn.execute("SELECT model, cost_usd FROM requests WHERE model = 'acme-ft'"))
    finally:
        conn.close()
    assert costs == {"acme-ft": pytest.approx(3.0)}


def test_the_ingest_command_exits_2_on_a_bad_price_override(tmp_path, write_log):
    from console.cli import app

    log = write_log("app.jsonl", [make_record()])
    config = tmp_path / "llmops.toml"
    config.write_text('[prices."acme-ft"]\ninput = -3.0\noutput = 12.0\n')
    result = CliRunner().invoke(app, ["ingest", str(log), "--store", str(tmp_path / "s.db"), "--config", str(config)])
    assert result.exit_code == 2
    assert "input" in result.output


def test_the_live_tail_prices_records_before_storing_them(tmp_path, write_log):
    from console.store import Store
    from console.live.ingest_thread import run_ingest
    from console.live.events import RecordsArrived

    log = write_log("app.jsonl", [make_record(model="gpt-4o-mini"), make_record(model="acme-secret-model")])
    arrived: list = []

    def post(message):
        if isinstance(message, RecordsArrived):
            arrived.extend(message.records)

    url = f"sqlite:///{tmp_path / 'store.db'}"
    run_ingest(post, lambda: len(arrived) >= 2, [str(log)], url, Pricer())
    assert [r.cost_usd is not None for r in arrived] == [True, False]
    store = Store(url)
    try:
        costs = store.load_columns().cost_usd
    finally:
        store.close()
    assert costs[0] == pytest.approx(arrived[0].cost_usd) and math.isnan(costs[1])
