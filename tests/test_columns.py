"""The columnar window every figure is computed from."""

from __future__ import annotations

import json

import numpy as np

from conftest import make_record
from console.analytics.columns import Columns
from console.records import parse_line


def records(n, **overrides):
    return [parse_line(json.dumps(make_record(**overrides))) for _ in range(n)]


def test_append_grows_and_keeps_values():
    cols = Columns(capacity=16)
    batch = records(40, ttft_ms=120.0, feedback=-1) + records(10, cost_usd=0.5)
    cols.append(batch)
    assert len(cols) == 50
    assert np.allclose(cols.latency_ms, [r.latency_ms for r in batch])
    assert np.isnan(cols.ttft_ms[40:]).all() and (cols.ttft_ms[:40] == 120.0).all()
    assert np.isnan(cols.cost_usd[:40]).all() and (cols.cost_usd[40:] == 0.5).all()
    assert cols.is_bad[:40].all() and not cols.is_bad[40:].any()
    assert cols.labels("prompt")[0] == "support-answer@v7"
    assert cols.names("user") == [""]


def test_eviction_drops_the_old_prefix():
    cols = Columns()
    cols.append(records(5, ts=100.0) + records(5, ts=200.0))
    assert cols.evict_before(150.0) == 5
    assert (cols.ts == 200.0).all() and len(cols) == 5
    assert cols.evict_before(150.0) == 0
    assert cols.evict_before(1e12) == 5 and len(cols) == 0


def test_a_window_held_at_a_count_bound_gives_back_its_doubled_capacity():
    cols = Columns(16)
    cols.append(records(3000, ts=100.0) + records(40, ts=200.0))
    assert cols._capacity >= 3040
    assert cols.evict_before(150.0) == 3000
    assert len(cols) == 40 and cols._capacity < 3040 and (cols.ts == 200.0).all()
    cols.append(records(100, ts=300.0))
    assert len(cols) == 140 and (cols.ts[40:] == 300.0).all()


def test_first_seen_tracks_models_and_versions():
    cols = Columns()
    cols.append(records(2, ts=300.0, model="a") + records(1, ts=100.0, model="a", prompt_version="v9"))
    assert cols.first_seen["model"]["a"] == 100.0
    assert cols.first_seen["prompt"]["support-answer@v9"] == 100.0


def test_select_keeps_matching_rows():
    cols = Columns()
    cols.append(records(3, model="a") + records(2, model="b"))
    chosen = cols.select(cols.labels("model") == "b")
    assert len(chosen) == 2 and set(chosen.labels("model")) == {"b"}


def test_the_store_loads_the_same_columns(tmp_path):
    from console.sources.base import SourceBatch
    from console.store import Store

    batch = records(5, ts=1000.0, ttft_ms=50.0, user_id="u1") + records(3, ts=2000.0, cost_usd=0.25)
    direct = Columns()
    direct.append(batch)
    with Store(str(tmp_path / "s.db")) as store:
        store.write(SourceBatch(records=batch))
        loaded = store.load_columns()
        recent = store.load_columns(since_ts=1500.0)
    assert len(loaded) == 8 and len(recent) == 3
    for name in ("ts", "latency_ms", "ttft_ms", "cost_usd", "input_tokens", "is_error"):
        assert np.array_equal(getattr(loaded, name), getattr(direct, name), equal_nan=name != "is_error")
    assert list(loaded.labels("user")) == list(direct.labels("user"))
