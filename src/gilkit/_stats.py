"""The median of a few measurements, and the interval that bounds it: what a speedup is reported with.

The interval is the classic distribution-free one (the order statistics of the sample that bound its
median, from the binomial distribution; the confidence interval of ``scipy.stats.quantile_test`` at
p=0.5, and of ``pyperf``'s and ``hyperfine``'s kin): it assumes nothing about the shape of the noise,
which on a shared machine is skewed (interference only ever slows a run down). tests/test_stats.py checks
it against SciPy's.
"""

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

#: The confidence every interval gilkit prints is given at.
CONFIDENCE = 0.95


@dataclass(frozen=True)
class MedianInterval:
    """A median and the interval ``[low, high]`` that holds the true median with ``confidence`` (at least;
    with too few values for that, the whole range and the confidence it has)."""

    median: float
    low: float
    high: float
    confidence: float
    count: int

    @property
    def relative_half_width(self) -> float:
        """Half the interval's width over the median: 0.1 is "+/-10%"."""
        return (self.high - self.low) / 2 / self.median if self.median > 0 else math.inf


def _below_share(n: int, k: int) -> float:
    """P(X <= k) for X ~ Binomial(n, 1/2): the chance that at most k of n values fall below the median."""
    return sum(math.comb(n, i) for i in range(k + 1)) / 2**n


def median_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> MedianInterval:
    """The median of ``values`` and the narrowest interval of two order statistics, x(k) and x(n+1-k), that
    holds the true median with at least ``confidence``; the range, with its lower confidence, where there
    are too few values (fewer than 6 for 95%)."""
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        raise ValueError("median_interval needs at least one value")
    # The largest k whose interval keeps the confidence: both tails, each below k values, stay within 1 - c.
    k = 1
    while k < (n + 1) // 2 and 2 * _below_share(n, k) <= 1 - confidence:
        k += 1
    reached = 1 - 2 * _below_share(n, k - 1)
    return MedianInterval(statistics.median(ordered), ordered[k - 1], ordered[n - k], reached, n)
