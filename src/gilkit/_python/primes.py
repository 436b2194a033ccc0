"""Segmented sieve of Eratosthenes on a mod-30 wheel (twin of ext/primes.pyx).

Of every 30 numbers only the 8 coprime to 30 can be primes above 5, so byte k of the sieve stands for
the numbers 30k + RESIDUES[j], bit j for each, and a byte covers 30 numbers where an odd-only flag
covers 2. A prime p >= 7 crosses off its multiples p*q whose factor q is coprime to 30 as well (the
others are multiples of 2, 3 or 5 and have no bit). Walking q round the wheel, q -> q + GAPS[j], moves
the multiple by p * GAPS[j] numbers; with p = 30 * quotient + RESIDUES[i] that is quotient * GAPS[j]
bytes plus a carry that depends only on (i, j), and the bit to clear depends only on (i, j) too: the
tables CARRY and CLEAR, indexed by the wheel position w = 8i + j.

The multiples of the primes 7 .. 127 are not crossed off one by one: a segment starts as the AND of
patterns, one for each group of those primes, that repeat every (product of the group) bytes. The
primes above them keep where their next multiple lies from one segment to the next, so a segment costs
no division.
"""

from dataclasses import dataclass
from functools import cache
from math import prod

from . import Cancel, Items

WHEEL = 30
RESIDUES = (1, 7, 11, 13, 17, 19, 23, 29)
GAPS = tuple(after - residue for residue, after in zip(RESIDUES, RESIDUES[1:] + (WHEEL + 1,), strict=True))
BIT_OF = {residue: j for j, residue in enumerate(RESIDUES)}
#: NEXT_FACTOR[r]: the wheel position j of the first residue >= r.
NEXT_FACTOR = tuple(min(j for j, residue in enumerate(RESIDUES) if residue >= r) for r in range(WHEEL))
#: CLEAR[8i + j]: the byte that ANDed crosses off p*q, for p = RESIDUES[i] and q = RESIDUES[j] (mod 30).
CLEAR = tuple(0xFF ^ (1 << BIT_OF[p * q % WHEEL]) for p in RESIDUES for q in RESIDUES)
#: CARRY[8i + j]: the bytes from p*q to p*(q + GAPS[j]) beyond quotient * GAPS[j].
CARRY = tuple((p * q % WHEEL + p * gap) // WHEEL for p in RESIDUES for q, gap in zip(RESIDUES, GAPS, strict=True))

PRESIEVED_PRIMES = (7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97, 101,
                    103, 107, 109, 113, 127)
#: How many of PRESIEVED_PRIMES, in order, each pattern takes.
GROUP_SIZES = (5, 3, 3, 3, 3, 3, 2, 2, 2, 2)
#: The index in base_primes of the first prime crossed off (131): after 2, 3, 5 and the patterns' primes.
FIRST_CROSSED = 3 + len(PRESIEVED_PRIMES)
POLL_EVERY = 1 << 12  # base primes set up between two looks at the cancel flag (a huge n has many)
#: The primes below SMALL_PRIME hit a block of L1_BLOCK_BYTES hundreds of times each: they cross off a
#: segment block by block, all of them in one block before the next, so that natively the block stays in
#: the L1 cache (as primesieve does). On an AMD EPYC (family 25 model 17): 10^9 0.93x -> 1.03x
#: primesieve's speed; 16 KiB was slower.
L1_BLOCK_BYTES = 1 << 15
SMALL_PRIME = 2048


@dataclass
class SievingPrime:
    next_byte: int  # the byte of its next multiple, counted from the current segment's first byte
    quotient: int  # p // 30
    wheel: int  # 8 * (the position of p % 30 on the wheel) + (the position of that multiple's factor)


def first_multiple(p: int, least_factor: int, first_byte: int) -> SievingPrime:
    """p's first multiple p*q with q coprime to 30, q >= least_factor and p*q >= 30 * first_byte."""
    q = max(least_factor, (WHEEL * first_byte + p - 1) // p)
    j = NEXT_FACTOR[q % WHEEL]
    q += RESIDUES[j] - q % WHEEL
    return SievingPrime(p * q // WHEEL - first_byte, p // WHEEL, 8 * BIT_OF[p % WHEEL] + j)


def cross_off(sieve: bytearray, end: int, prime: SievingPrime) -> None:
    """Crosses off the prime's multiples from its next one up to byte ``end``, and keeps where the next
    one lies. (The native loop does the same crossings, a whole turn of the wheel per step.)"""
    at, w = prime.next_byte, prime.wheel
    while at < end:
        sieve[at] &= CLEAR[w]
        at += prime.quotient * GAPS[w % 8] + CARRY[w]
        w = w - w % 8 + (w + 1) % 8
    prime.next_byte, prime.wheel = at, w


def _pattern(primes: tuple[int, ...]) -> bytes:
    """The sieve of bytes 0 .. product(primes) - 1 with every multiple of these primes crossed off (the
    primes too); it repeats from there. One prime's repeats every p bytes; a group's is their AND."""
    length = prod(primes)
    crossed = -1
    for p in primes:
        one = bytearray(b"\xff") * p
        cross_off(one, p, first_multiple(p, 1, 0))
        crossed &= int.from_bytes(one * (length // p), "little")
    return crossed.to_bytes(length, "little")


@cache
def patterns() -> tuple[bytes, ...]:
    """Each group's pattern, made on first use (1.4 MB; the native module makes its own at import)."""
    groups, first = [], 0
    for size in GROUP_SIZES:
        groups.append(_pattern(PRESIEVED_PRIMES[first : first + size]))
        first += size
    return tuple(groups)


def presieve(segment: int, size: int) -> bytearray:
    """The sieve of bytes segment .. segment + size - 1 with the patterns' primes' multiples crossed off."""
    sieve = -1
    for pattern in patterns():
        start = segment % len(pattern)
        run = (pattern[start:] + pattern * (size // len(pattern) + 1))[:size]
        sieve &= int.from_bytes(run, "little")
    return bytearray(sieve.to_bytes(size, "little"))


def bits_from(start: int) -> int:
    """The bits of one byte's numbers 30k + r with r >= start (start in 0 .. 30)."""
    return sum(1 << j for j, residue in enumerate(RESIDUES) if residue >= start)


def count_primes_segment(base_primes: Items[int], segment_bytes: int, lo: int, hi: int, cancel: Cancel) -> int:
    """How many primes lie in [lo, hi), given every prime p with p*p < hi in ascending order.

    2, 3 and 5 are counted by hand; bytes lo // 30 .. (hi - 1) // 30 are sieved, segment_bytes at a time:
    the patterns, then 1 crossed off and the patterns' primes set back on, then the bits outside [lo, hi)
    cleared, then every base prime from the 131 on crosses off its multiples from max(p*p, lo) on (those
    below SMALL_PRIME block by block). The count is wrong once cancel[0] is set: the caller discards it.
    """
    count = (lo <= 2 < hi) + (lo <= 3 < hi) + (lo <= 5 < hi)
    if hi <= max(lo, 7):
        return count
    first_byte, end_byte = lo // WHEEL, (hi - 1) // WHEEL + 1
    sieving = []
    for b in range(FIRST_CROSSED, len(base_primes)):
        p = base_primes[b]
        if p * p >= hi or (b % POLL_EVERY == 0 and cancel[0]):
            break
        sieving.append(first_multiple(p, p, first_byte))  # below p * p, smaller primes crossed them off
    small = 0
    while small < len(sieving) and base_primes[FIRST_CROSSED + small] < SMALL_PRIME:
        small += 1
    small_primes, large_primes = sieving[:small], sieving[small:]
    segment = first_byte
    while segment < end_byte and not cancel[0]:
        size = min(segment_bytes, end_byte - segment)
        sieve = presieve(segment, size)
        if segment == 0:  # 1 is no prime
            sieve[0] &= 0xFF ^ 1
        for p in PRESIEVED_PRIMES:  # the patterns' primes are
            if segment <= p // WHEEL < segment + size:
                sieve[p // WHEEL - segment] |= 1 << BIT_OF[p % WHEEL]
        if segment == first_byte:
            sieve[0] &= bits_from(lo - WHEEL * first_byte)
        if segment + size == end_byte:
            sieve[size - 1] &= 0xFF ^ bits_from(hi - WHEEL * (end_byte - 1))
        for block_end in range(L1_BLOCK_BYTES, size + L1_BLOCK_BYTES, L1_BLOCK_BYTES):
            for prime in small_primes:
                cross_off(sieve, min(block_end, size), prime)
        for prime in large_primes:
            cross_off(sieve, size, prime)
        for prime in sieving:
            prime.next_byte -= size
        count += int.from_bytes(sieve, "little").bit_count()
        segment += size
    return count
