"""Histogram counting into a private array (twin of ext/histogram.pyx)."""

from . import Items, MutableItems


def histogram_counts(values: Items[float], lo: float, width: float, counts: MutableItems[int], start: int,
                     stop: int) -> None:
    """Add to counts[b] one for each values[k], start <= k < stop, with lo + b*width <= x < lo + (b+1)*width."""
    bins = len(counts)
    top = lo + bins * width
    for k in range(start, stop):
        x = values[k]
        if lo <= x < top:
            b = int((x - lo) / width)
            if b < bins:
                counts[b] += 1
