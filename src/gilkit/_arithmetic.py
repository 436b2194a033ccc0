"""Integer arithmetic that the chunking repeats everywhere, named once."""


def ceil_div(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded up, exactly, for any Python ints (denominator > 0)."""
    return -(-numerator // denominator)
