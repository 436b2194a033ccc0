"""The median's interval behind every speedup: the order statistics that bound it, as SciPy computes them."""

import numpy as np
import pytest

from gilkit._stats import median_interval


@pytest.mark.parametrize("n", [6, 7, 9, 10, 15, 20, 33, 60])
def test_the_interval_is_scipys_quantile_test_interval(n):
    stats = pytest.importorskip("scipy.stats", reason="SciPy is the reference, and it is not installed")
    values = np.random.default_rng(n).lognormal(size=n)
    found = median_interval(values.tolist())
    expected = stats.quantile_test(values, q=np.median(values), p=0.5).confidence_interval(0.95)
    assert (found.low, found.high) == (expected.low, expected.high)
    assert found.median == np.median(values) and found.confidence >= 0.95


@pytest.mark.parametrize("n, k", [(6, 1), (9, 2), (10, 2), (20, 6), (60, 22)])
def test_the_interval_is_the_narrowest_pair_of_order_statistics_that_keeps_95_percent(n, k):
    found = median_interval(list(range(n)))
    assert (found.low, found.high) == (k - 1, n - k)


def test_too_few_values_give_their_range_and_say_how_sure_it_is():
    found = median_interval([3.0, 1.0, 2.0, 5.0, 4.0])
    assert (found.median, found.low, found.high) == (3.0, 1.0, 5.0)
    assert found.confidence == 1 - 2 / 32
    assert found.relative_half_width == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="at least one value"):
        median_interval([])
