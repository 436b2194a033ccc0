"""Monte-Carlo hit counting with a counter-based generator (twin of ext/montecarlo.pyx).

Sample k uses the two numbers _uniform(key, 2k+1) and _uniform(key, 2k+2), where _uniform applies the
splitmix64 finaliser to key + counter * GAMMA (mod 2**64): any chunk can draw any sample.
"""

from . import Cancel

MASK64 = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15
TWO_POW_MINUS_53 = 1.0 / 9007199254740992.0
POLL_EVERY = 1 << 16  # samples between two looks at the cancel flag


def _mix(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def _uniform(key: int, counter: int) -> float:
    return (_mix((key + counter * GAMMA) & MASK64) >> 11) * TWO_POW_MINUS_53


def stream_key(seed: int) -> int:
    """The generator key for ``seed``: one splitmix64 step, so nearby seeds give unrelated streams."""
    return _mix((seed + GAMMA) & MASK64)


def count_hits(key: int, start: int, stop: int, cancel: Cancel) -> int:
    """How many of the samples start..stop-1 fall inside the quarter unit circle (fewer once cancel[0] is set)."""
    hits = 0
    for k in range(start, stop):
        if k % POLL_EVERY == 0 and cancel[0]:
            break
        x = _uniform(key, 2 * k + 1)
        y = _uniform(key, 2 * k + 2)
        if x * x + y * y <= 1.0:
            hits += 1
    return hits
