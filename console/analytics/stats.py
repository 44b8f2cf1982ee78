"""Significance for A/B and before/after comparisons: Wilson intervals, proportion tests,
Mann-Whitney U. Pure functions over counts and arrays (scipy does the distributions).

Why these: Wilson intervals stay inside [0, 1] and behave at small counts and rates near
0, where the textbook normal interval does not (0 errors in 40 requests is not "0% ± 0").
Fisher's exact test replaces the z-test when the normal approximation is poor (any
expected cell count below 5). Latency and cost are skewed and heavy-tailed, so they are
compared by ranks (Mann-Whitney U) rather than by means.
"""

from __future__ import annotations

import math
import threading
from typing import Optional

import msgspec
import numpy as np


def _scipy_stats():
    """scipy.stats, imported on first use: it costs 0.6 s, off the path to the first screen."""
    from scipy import stats

    return stats


def warm_up() -> None:
    """Import scipy.stats ahead of the first comparison, in a thread of its own: the console's
    first `c` waited 1.5-3.4 s for this import (a user trial) after its loading line."""
    threading.Thread(target=_scipy_stats, name="scipy-warm-up", daemon=True).start()

Z_TEST = "two-proportion z-test"
FISHER_EXACT = "Fisher's exact test"
MANN_WHITNEY = "Mann-Whitney U"

# Below this expected count in any cell of the 2x2 table the z-test's normal
# approximation is unreliable (the usual rule of thumb), so Fisher's exact test is used.
MIN_EXPECTED_COUNT = 5.0


class ProportionTest(msgspec.Struct, frozen=True):
    """A two-sided test of two proportions; p_value and method are None without data."""

    p_value: Optional[float]
    method: Optional[str]


def _z_for(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")
    return float(_scipy_stats().norm.ppf(1.0 - (1.0 - confidence) / 2.0))


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval for k successes out of n trials.

    With n = 0 nothing is known, and every rate is consistent with the data: (0.0, 1.0).
    """
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    z = _z_for(confidence)
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    z2_n = z * z / n
    centre = (p + z2_n / 2.0) / (1.0 + z2_n)
    half_width = z / (1.0 + z2_n) * math.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n))
    # clamp: at k = 0 or k = n the bound is exactly 0 or 1 but rounding can step past it
    return (max(0.0, centre - half_width), min(1.0, centre + half_width))


def _expected_counts(k1: int, n1: int, k2: int, n2: int) -> list[float]:
    total, successes = n1 + n2, k1 + k2
    failures = total - successes
    return [
        n * column / total for n in (n1, n2) for column in (successes, failures)
    ]


def compare_proportions(k1: int, n1: int, k2: int, n2: int) -> ProportionTest:
    """Two-sided test that k1/n1 and k2/n2 come from the same rate.

    Fisher's exact test when any expected cell count is below 5, else the pooled
    two-proportion z-test. No requests in either arm: nothing to test (p_value None).
    """
    for k, n in ((k1, n1), (k2, n2)):
        if n < 0 or k < 0 or k > n:
            raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if n1 == 0 or n2 == 0:
        return ProportionTest(None, None)
    if min(_expected_counts(k1, n1, k2, n2)) < MIN_EXPECTED_COUNT:
        result = _scipy_stats().fisher_exact([[k1, n1 - k1], [k2, n2 - k2]], alternative="two-sided")
        return ProportionTest(float(result.pvalue), FISHER_EXACT)
    pooled = (k1 + k2) / (n1 + n2)
    # pooled in (0, 1) here: a 0 or 1 pooled rate makes an expected count 0 (Fisher above)
    standard_error = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2))
    z = (k1 / n1 - k2 / n2) / standard_error
    return ProportionTest(float(2.0 * _scipy_stats().norm.sf(abs(z))), Z_TEST)


def compare_distributions(a: np.ndarray, b: np.ndarray) -> Optional[float]:
    """Two-sided Mann-Whitney U p-value for two samples; NaNs are dropped.

    None when either sample is empty (after dropping NaNs): there is nothing to compare.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if a.size == 0 or b.size == 0:
        return None
    p_value = float(_scipy_stats().mannwhitneyu(a, b, alternative="two-sided").pvalue)
    # all values tied leaves the statistic's variance at 0; scipy may answer NaN there,
    # and identical samples are the opposite of evidence for a difference
    return 1.0 if math.isnan(p_value) else p_value
