"""Segmented sieve of Eratosthenes (twin of ext/primes.pyx)."""


def count_primes_segment(base_primes, lo, hi):
    """How many primes lie in [lo, hi), given every prime p with p*p < hi in ascending order."""
    size = hi - lo
    if size <= 0:
        return 0
    is_prime = bytearray(b"\x01") * size
    for p in base_primes:
        if p * p >= hi:
            break
        start = p * p
        if start < lo:
            start = (lo + p - 1) // p * p
        m = start
        while m < hi:
            is_prime[m - lo] = 0
            m += p
    count = 0
    k = 2 - lo if lo < 2 else 0
    while k < size:
        count += is_prime[k]
        k += 1
    return count
