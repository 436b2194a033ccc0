"""Durations: what a meter read (how late a heartbeat woke, how long a thread waited for the GIL), and
the one quantile definition behind every median and percentile gilkit prints."""

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Self


@dataclass(frozen=True)
class Durations:
    """Durations in seconds, sorted. Quantiles interpolate linearly between the two nearest values (NumPy's
    default method): the median of an even count is the mean of the middle two. NaN when there are none."""

    seconds: tuple[float, ...] = ()

    @classmethod
    def of(cls, seconds: Iterable[float]) -> Self:
        return cls(tuple(sorted(seconds)))

    def __len__(self) -> int:
        return len(self.seconds)

    def __add__(self, other: "Durations") -> "Durations":
        """Both readings pooled, as one meter that ran through both."""
        return Durations.of(self.seconds + other.seconds)

    def quantile(self, q: float) -> float:
        """The q-quantile in seconds (0 <= q <= 1)."""
        if not self.seconds:
            return math.nan
        position = q * (len(self.seconds) - 1)
        below = math.floor(position)
        above = min(below + 1, len(self.seconds) - 1)
        return self.seconds[below] + (position - below) * (self.seconds[above] - self.seconds[below])

    def ms(self, q: float) -> float:
        """The q-quantile in milliseconds."""
        return 1000.0 * self.quantile(q)

    @property
    def median_ms(self) -> float:
        return self.ms(0.5)

    @property
    def p90_ms(self) -> float:
        return self.ms(0.9)

    @property
    def p99_ms(self) -> float:
        return self.ms(0.99)

    @property
    def max_ms(self) -> float:
        return self.ms(1.0)
