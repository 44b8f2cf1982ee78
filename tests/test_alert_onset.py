"""alert_onset.trailing_run_over (the SLO onset, evaluated from the newest minute back) gives
what trailing_run gives over every minute's verdict."""

from __future__ import annotations

import numpy as np

from console.analytics.alert_onset import minute_ends, trailing_run, trailing_run_over


def _every_minute(ts, values, ends, width, fires) -> np.ndarray:
    hi = np.searchsorted(ts, ends, "right")
    lo = np.searchsorted(ts, ends - width, "left")
    return np.array([bool(h > l and fires(values[l:h])) for l, h in zip(lo, hi)], dtype=bool)


def test_the_run_from_the_newest_minute_back_is_the_run_of_every_minute():
    rng = np.random.default_rng(4)
    for trial in range(300):
        now = 1_800_000_000.0 + rng.uniform(0, 60)
        lookback = float(rng.choice([0.0, 60.0, 600.0, 3 * 3600.0]))
        n = int(rng.integers(0, 400))
        ts = np.sort(now - rng.uniform(0, lookback + 1200, n))
        values = rng.lognormal(6, 1, n)
        threshold = float(np.exp(rng.uniform(4, 8)))
        ends = minute_ends(now, lookback)

        def fires(window):
            return float(np.percentile(window, 95)) > threshold

        expected = trailing_run(ends, _every_minute(ts, values, ends, 900.0, fires))
        assert trailing_run_over(ts, values, ends, 900.0, fires) == expected, trial


def test_percentile_over_is_numpys_percentile_compared():
    from console.analytics.alerts import percentile_over

    rng = np.random.default_rng(9)
    for trial in range(3000):
        n = int(rng.integers(1, 60))
        values = np.round(rng.lognormal(6, 1, n), int(rng.integers(0, 3)))  # ties, as logged ms have
        percentile = float(rng.choice([50, 90, 95, 99, 99.9, 100, 0, 33.3]))
        exact = float(np.percentile(values, percentile))
        for limit in (exact, np.nextafter(exact, 0), np.nextafter(exact, np.inf), float(rng.choice(values)),
                      float(rng.uniform(0, 2 * values.max()))):  # fmt: skip
            assert percentile_over(values, percentile, limit) == (exact > limit), (trial, percentile, limit)
