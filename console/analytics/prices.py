"""Cost per request: the app's own cost_usd, else an llmops.toml override, else genai-prices.

    pricer = Pricer(settings.prices)
    tally = pricer.fill(batch.records)      # sets cost_usd where it is None; no I/O

Order of precedence for a record:

1. ``cost_usd`` already on the record: kept as is (the app knows its discounts best).
2. ``[prices."<model>"]`` in llmops.toml (USD per million tokens): the uncached input tokens
   at ``input``, the cached ones at ``cached_input`` (default: ``input``), output at ``output``.
3. genai-prices (bundled data, no network), by provider and model, at the prices in force at
   the record's ``ts``. A provider genai-prices does not know (``x_ai``, a gateway's name) is
   ignored and the model is matched on its own; a known provider that does not sell the model
   is not second-guessed.
4. Otherwise the record stays ``cost_usd=None``: *unpriced*, counted with its model name,
   never $0.

Token conventions. Our ``input_tokens`` includes the cached tokens, and so does genai-prices'
``Usage.input_tokens``: it prices ``input_tokens - cache_read_tokens`` at the input rate and
``cache_read_tokens`` at the cache-read rate. So a record maps to
``Usage(input_tokens=input_tokens, cache_read_tokens=cached_input_tokens,
output_tokens=output_tokens)``. ``reasoning_tokens`` are part of ``output_tokens`` and are not
priced separately (only Perplexity's deep-research model has a reasoning rate in the data).
A record with more cached than input tokens breaks that convention (an app that copied
Anthropic's raw usage, whose input_tokens exclude cache reads); genai-prices rejects such
usage, and so does this module: the record stays unpriced and is counted as ``bad_usage``.

Speed. ``genai_prices.calc_price`` costs ~70 µs a call (Decimal arithmetic, unit registry),
which would halve the ingest rate. For a given price table the cost is linear in the three
token counts within an input-token tier (genai-prices' tiers are cliffs chosen by the total
input tokens: above 200k tokens *every* token costs the tier price). So each price table is
compiled once, by asking genai-prices itself the price of a few probe usages per tier, into
per-million-token coefficients; a record then costs a bisect and four multiplications. The
compiled coefficients are checked against genai-prices at an off-probe point of every tier;
a table that does not behave linearly is priced by calling genai-prices for every record.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Mapping, Protocol, Sequence

import msgspec

from console.records import ESTIMATED_COST, ESTIMATED_TOKENS, USAGE_MISSING

if TYPE_CHECKING:
    from console.records import RequestRecord

PER_MILLION = 1_000_000
# Compiled coefficients must reproduce genai-prices to this relative precision.
_CHECK_REL = 1e-9
_MISSING = object()
_MAX_CACHED_MODELS = 100_000


class PriceSpec(Protocol):
    """One llmops.toml price override (console.config.PriceOverride), USD per million tokens."""

    input: float
    output: float
    cached_input: float | None


@dataclass(slots=True)
class PricingTally:
    """What `Pricer.fill` did to a batch of records.

    Every record is counted once: kept + computed + from_override + unpriced == records.
    unpriced_models counts the records of each model no price source knows; unpriced also
    counts bad_usage records (a known model, but more cached than input tokens) and no_usage
    ones (a call that returned but reported no usage: its 0 tokens would price it at $0, spend
    understated with nothing to say so; unpriced, the report and Budget pane count it apart).
    """

    computed: int = 0
    from_override: int = 0
    unpriced: int = 0
    kept: int = 0
    bad_usage: int = 0
    no_usage: int = 0
    unpriced_models: Counter[str] = field(default_factory=Counter)

    @property
    def priced(self) -> int:
        return self.computed + self.from_override

    @property
    def records(self) -> int:
        return self.kept + self.computed + self.from_override + self.unpriced

    def add(self, other: PricingTally) -> None:
        self.computed += other.computed
        self.from_override += other.from_override
        self.unpriced += other.unpriced
        self.kept += other.kept
        self.bad_usage += other.bad_usage
        self.no_usage += other.no_usage
        self.unpriced_models.update(other.unpriced_models)


class _Rates:
    """USD per million tokens for one price table, one coefficient set per input-token tier.

    Segment i holds for starts[i-1] < input_tokens <= starts[i] (genai-prices applies a tier
    when the total input tokens exceed its start). cost = (fixed + uncached * input
    + cached * cached_input + output * output_rate) / 1e6.
    """

    __slots__ = ("starts", "segments")

    def __init__(self, starts: list[int], segments: list[tuple[float, float, float, float]]) -> None:
        self.starts = starts
        self.segments = segments

    def cost(self, input_tokens: int, cached: int, output_tokens: int) -> float | None:
        starts = self.starts
        fixed, uncached_rate, cached_rate, output_rate = (
            self.segments[bisect_left(starts, input_tokens)] if starts else self.segments[0]
        )
        return (
            fixed + (input_tokens - cached) * uncached_rate + cached * cached_rate + output_tokens * output_rate
        ) / PER_MILLION


class _ExactRates:
    """Fallback for a price table the linear compilation cannot reproduce: genai-prices per record."""

    __slots__ = ("model_price",)

    def __init__(self, model_price) -> None:
        self.model_price = model_price

    def cost(self, input_tokens: int, cached: int, output_tokens: int) -> float | None:
        try:
            return float(self.model_price.calc_price(_usage(input_tokens, cached, output_tokens))["total_price"])
        except ValueError:
            return None


def _price_estimate(metadata: dict, rates) -> None:
    """ESTIMATED_COST from the estimated tokens at the model's rates, when both counts are known."""
    estimate = metadata[ESTIMATED_TOKENS]
    tokens = [estimate.get(key) if isinstance(estimate, dict) else None for key in ("input_tokens", "output_tokens")]
    if all(isinstance(n, int) and n >= 0 for n in tokens):
        cost = rates.cost(tokens[0], 0, tokens[1])
        if cost is not None:
            metadata[ESTIMATED_COST] = cost


def _usage(input_tokens: int, cached: int, output_tokens: int):
    from genai_prices import Usage

    return Usage(input_tokens=input_tokens, cache_read_tokens=cached, output_tokens=output_tokens)


def _override_rates(spec: PriceSpec) -> _Rates:
    cached = spec.input if spec.cached_input is None else spec.cached_input
    return _Rates([], [(0.0, float(spec.input), float(cached), float(spec.output))])


def compile_model_price(model_price) -> _Rates | _ExactRates | None:
    """Coefficients that reproduce `model_price.calc_price` for token usage, tier by tier.

    None when genai-prices cannot price token usage with this table at all.
    """
    from genai_prices.types import TieredPrices

    starts = sorted({tier.start for value in vars(model_price).values() if isinstance(value, TieredPrices) for tier in value.tiers})

    def price(input_tokens: int, cached: int, output_tokens: int) -> Decimal:
        return model_price.calc_price(_usage(input_tokens, cached, output_tokens))["total_price"]

    segments: list[tuple[float, float, float, float]] = []
    checks: list[tuple[int, int, int]] = []
    try:
        for index in range(len(starts) + 1):
            low = 0 if index == 0 else starts[index - 1] + 1
            high = starts[index] if index < len(starts) else low + PER_MILLION
            at_high = price(high, 0, 0)
            output_rate = (price(high, 0, PER_MILLION) - at_high) / PER_MILLION
            if high == low:  # a one-value tier: only the cached share varies
                fixed, uncached_rate = at_high, Decimal(0)
            else:
                uncached_rate = (at_high - price(low, 0, 0)) / (high - low)
                fixed = at_high - uncached_rate * high
            cached_rate = (price(high, high, 0) - fixed) / high if high else Decimal(0)
            segments.append(
                (float(fixed * PER_MILLION), float(uncached_rate * PER_MILLION),
                 float(cached_rate * PER_MILLION), float(output_rate * PER_MILLION))
            )  # fmt: skip
            middle = (low + high) // 2
            checks.append((middle, middle // 3, 777))
        rates = _Rates(starts, segments)
        for usage in checks:
            expected = float(price(*usage))
            got = rates.cost(*usage)
            if abs(got - expected) > _CHECK_REL * max(abs(expected), 1e-12):
                return _ExactRates(model_price)
    except (ValueError, ArithmeticError):
        return None
    return rates


class _GenaiModel:
    """One genai-prices model: its price table(s), compiled lazily, chosen by request time."""

    __slots__ = ("model", "static", "by_table", "by_day", "dates_only")

    def __init__(self, model) -> None:
        from genai_prices.types import ModelPrice, StartDateConstraint

        self.model = model
        self.by_table: dict[int, tuple[object, _Rates | _ExactRates | None]] = {}
        self.by_day: dict[int, _Rates | _ExactRates | None] = {}
        self.static = None
        if isinstance(model.prices, ModelPrice):
            self.static = self._compiled(model.prices)
        # Prices that change on a date (not a time of day) are the same all day long.
        self.dates_only = isinstance(model.prices, list) and all(
            c.constraint is None or isinstance(c.constraint, StartDateConstraint) for c in model.prices
        )

    def _compiled(self, table) -> _Rates | _ExactRates | None:
        entry = self.by_table.get(id(table))
        if entry is None:
            entry = self.by_table[id(table)] = (table, compile_model_price(table))
        return entry[1]

    def rates_at(self, ts: float) -> _Rates | _ExactRates | None:
        if self.dates_only:
            day = int(ts // 86400)
            rates = self.by_day.get(day, _MISSING)
            if rates is _MISSING:
                if len(self.by_day) > 10_000:
                    self.by_day.clear()
                rates = self.by_day[day] = self._compiled(self.model.get_prices(_utc(ts)))
            return rates  # type: ignore[return-value]
        return self._compiled(self.model.get_prices(_utc(ts)))


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=timezone.utc)


class _Source:
    """How one (provider, model) is priced: an override's rates, or a genai-prices model."""

    __slots__ = ("override", "rates", "genai")

    def __init__(self, *, rates=None, genai: _GenaiModel | None = None, override: bool = False) -> None:
        self.override = override
        self.rates = rates
        self.genai = genai


class Pricer:
    """Fills in cost_usd from llmops.toml overrides, then genai-prices; caches per (provider, model).

    Not thread-safe: give each ingest loop its own (they are cheap; lookups are cached lazily).
    """

    def __init__(self, overrides: Mapping[str, PriceSpec] | None = None) -> None:
        self.overrides = {model: _override_rates(spec) for model, spec in (overrides or {}).items()}
        self._sources: dict[tuple[str | None, str], _Source | None] = {}

    def fill(self, records: Sequence[RequestRecord]) -> PricingTally:
        """Set cost_usd on every record that has none and that some price source knows."""
        tally = PricingTally()
        sources = self._sources
        computed = from_override = kept = unpriced = bad_usage = no_usage = 0
        for record in records:
            if record.cost_usd is not None:
                kept += 1
                continue
            meta = record.metadata
            if meta is not None and USAGE_MISSING in meta and ESTIMATED_TOKENS not in meta and record.status == "ok":
                unpriced += 1  # a failed call stays priced from what it has ($0: not billed)
                no_usage += 1
                continue
            key = (record.provider, record.model)
            source = sources.get(key, _MISSING)
            if source is _MISSING:
                if len(sources) >= _MAX_CACHED_MODELS:  # a log that puts ids in `model`
                    sources.clear()
                source = sources[key] = self._resolve(record.provider, record.model)
            if source is None:
                unpriced += 1
                tally.unpriced_models[record.model] += 1
                continue
            rates = source.rates if source.genai is None else (source.genai.static or source.genai.rates_at(record.ts))
            if rates is None:  # genai-prices has no usable price for this model at this time
                unpriced += 1
                tally.unpriced_models[record.model] += 1
                continue
            input_tokens = record.input_tokens
            cached = record.cached_input_tokens or 0
            cost = None if cached > input_tokens else rates.cost(input_tokens, cached, record.output_tokens)
            if cost is None:
                unpriced += 1
                bad_usage += 1
                continue
            record.cost_usd = cost
            meta = record.metadata
            if meta is not None and ESTIMATED_TOKENS in meta and ESTIMATED_COST not in meta:
                _price_estimate(meta, rates)  # the source gave estimated tokens but no cost
            if source.override:
                from_override += 1
            else:
                computed += 1
        tally.computed, tally.from_override, tally.kept = computed, from_override, kept
        tally.unpriced, tally.bad_usage, tally.no_usage = unpriced, bad_usage, no_usage
        return tally

    def cost(self, record: RequestRecord) -> float | None:
        """The cost fill would set on this record (its own cost_usd when it has one)."""
        if record.cost_usd is not None:
            return record.cost_usd
        probe = msgspec.structs.replace(record)
        self.fill([probe])
        return probe.cost_usd

    def source_of(self, provider: str | None, model: str) -> str | None:
        """'override', 'genai-prices' or None (unpriced): where this model's price comes from."""
        source = self._sources.get((provider, model), _MISSING)
        if source is _MISSING:
            source = self._sources[(provider, model)] = self._resolve(provider, model)
        if source is None:
            return None
        return "override" if source.override else "genai-prices"

    def _resolve(self, provider: str | None, model: str) -> _Source | None:
        rates = self.overrides.get(model)
        if rates is not None:
            return _Source(rates=rates, override=True)
        found = _find_genai_model(provider or None, model)
        if found is None:
            return None
        genai = _GenaiModel(found)
        if genai.static is None and not isinstance(found.prices, list):
            return None  # a price table genai-prices itself cannot apply to token usage
        return _Source(genai=genai)


def _find_genai_model(provider: str | None, model: str):
    from genai_prices.data_snapshot import get_snapshot

    snapshot = get_snapshot()
    try:
        return snapshot.find_provider_model(model, None, provider, None)[1]
    except LookupError:
        pass
    if provider is None:
        return None
    try:
        snapshot.find_provider(None, provider, None)
    except LookupError:  # a provider name genai-prices does not know: match the model alone
        try:
            return snapshot.find_provider_model(model, None, None, None)[1]
        except LookupError:
            return None
    return None
