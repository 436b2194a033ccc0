"""Segmented sieve of Eratosthenes over odd numbers only (twin of ext/primes.pyx)."""

from . import Cancel, Items

PRESIEVE_PRIMES = (3, 5, 7, 11, 13)
PRESIEVE_PERIOD = 3 * 5 * 7 * 11 * 13
#: The first base prime crossed off by the loop: 2 has no odd multiples, 3 .. 13 were pre-sieved.
FIRST_CROSSED = 1 + len(PRESIEVE_PRIMES)


def _presieved() -> bytes:
    """Flag u stands for the odd number 2u + 1, off for the multiples of 3, 5, 7, 11 and 13; the
    pattern repeats with period 15015. q divides 2u + 1 exactly when u = q // 2 (mod q)."""
    flags = bytearray(b"\x01") * PRESIEVE_PERIOD
    for q in PRESIEVE_PRIMES:
        flags[q // 2 :: q] = bytes(len(range(q // 2, PRESIEVE_PERIOD, q)))
    return bytes(flags)


PRESIEVED = _presieved()


POLL_EVERY = 1 << 12  # base primes between two looks at the cancel flag (a huge n has many)


def count_primes_segment(base_primes: Items[int], lo: int, hi: int, cancel: Cancel) -> int:
    """How many primes lie in [lo, hi), given every prime p with p*p < hi in ascending order.

    Only odd numbers are sieved: flag t stands for first + 2t, where first is the first odd number >= lo.
    The flags start as a copy of the repeating pattern PRESIEVED (so 3, 5, 7, 11 and 13 are set back
    on); 1 is not a prime and 2 is counted on its own. Each larger base prime p crosses off its odd
    multiples from max(p*p, the first odd multiple >= lo) on, 2p apart (t advances by p). The count is
    wrong once cancel[0] is set: the caller discards it.
    """
    first = lo | 1
    size = (hi - first + 1) // 2
    count = 1 if lo <= 2 < hi else 0
    if size <= 0:
        return count
    is_prime = bytearray()
    u = (first // 2) % PRESIEVE_PERIOD
    while len(is_prime) < size:
        is_prime += PRESIEVED[u : u + size - len(is_prime)]
        u = 0
    for p in PRESIEVE_PRIMES:
        if first <= p < hi:
            is_prime[(p - first) // 2] = 1
    if first == 1:
        is_prime[0] = 0
    for b in range(FIRST_CROSSED, len(base_primes)):
        p = base_primes[b]
        if p * p >= hi or (b % POLL_EVERY == 0 and cancel[0]):
            break
        m = (lo + p - 1) // p * p  # the first multiple of p >= lo; the first odd one is m or m + p
        if m % 2 == 0:
            m += p
        m = max(m, p * p)
        t = (m - first) // 2
        while t < size:
            is_prime[t] = 0
            t += p
    return count + sum(is_prime)
