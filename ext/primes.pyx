"""Native segmented sieve on a mod-30 wheel; the pure-Python twin, gilkit/_python/primes.py, explains
the wheel, its tables and the patterns, and takes the same steps. Here a prime crosses off a whole turn
of the wheel (8 multiples) per step where the segment has room, with every mask a constant."""

from cython.parallel cimport prange
from libc.stdint cimport uint32_t, uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

from _spans cimport MAX_COUNT, cancelled, check_cancel, check_chunks, check_span

cdef extern from *:
    """
    /* Bits set in x: one instruction where the target has it (the avx2 and avx512 variants), a few
       shifts and adds elsewhere, never an instruction the baseline CPU lacks. */
    #if defined(_MSC_VER) && !defined(__clang__)
    static inline int gilkit_popcount64(unsigned long long x) {
        x = x - ((x >> 1) & 0x5555555555555555ULL);
        x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
        x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
        return (int)((x * 0x0101010101010101ULL) >> 56);
    }
    #else
    #define gilkit_popcount64(x) __builtin_popcountll(x)
    #endif
    """
    int popcount64 "gilkit_popcount64" (unsigned long long x) noexcept nogil


cdef extern from *:
    """
    #if defined(_MSC_VER)
    #define GILKIT_ALWAYS_INLINE __forceinline
    #else
    #define GILKIT_ALWAYS_INLINE inline __attribute__((always_inline))
    #endif
    /* RESIDUES[j], the bit of residue r and CLEAR[8i + k] as expressions, so that with constant i and k
       the compiler folds each mask into its and-instruction (the twin's tables RESIDUES, BIT_OF, CLEAR). */
    #define GILKIT_RESIDUE(j) ((j) == 0 ? 1 : (j) == 1 ? 7 : (j) == 2 ? 11 : (j) == 3 ? 13 : \\
                               (j) == 4 ? 17 : (j) == 5 ? 19 : (j) == 6 ? 23 : 29)
    #define GILKIT_BIT_OF(r) ((r) == 1 ? 0 : (r) == 7 ? 1 : (r) == 11 ? 2 : (r) == 13 ? 3 : \\
                              (r) == 17 ? 4 : (r) == 19 ? 5 : (r) == 23 ? 6 : 7)
    #define GILKIT_CLEAR(i, k) \\
        ((unsigned char)(0xFF ^ (1 << GILKIT_BIT_OF(GILKIT_RESIDUE(i) * GILKIT_RESIDUE(k) % 30))))

    /* Crosses off multiples of a prime with residue RESIDUES[i] from byte at, the next one's factor at
       wheel position *j, while they lie before byte end; step[k] is the distance from the multiple at
       position k to the next. Returns the byte of the first multiple past end, counted from end, and
       leaves its position in *j. Entered at any position (a switch into the loop); whole turns of the
       wheel, 8 multiples at fixed offsets, run as 8 independent writes. */
    #define GILKIT_CROSS_ONE(k) \\
        case k: if (at >= end) { *j = k; return at - end; } \\
                sieve[at] &= GILKIT_CLEAR(i, k); at += step[k];

    static GILKIT_ALWAYS_INLINE uint64_t gilkit_cross_off_residue(
            unsigned char *sieve, uint64_t at, uint64_t end, const uint64_t *step, uint32_t *j, int i) {
        const uint64_t o1 = step[0], o2 = o1 + step[1], o3 = o2 + step[2], o4 = o3 + step[3],
                       o5 = o4 + step[4], o6 = o5 + step[5], o7 = o6 + step[6], turn = o7 + step[7];
        switch (*j) {
            for (;;) {
                GILKIT_CROSS_ONE(0) GILKIT_CROSS_ONE(1) GILKIT_CROSS_ONE(2) GILKIT_CROSS_ONE(3)
                GILKIT_CROSS_ONE(4) GILKIT_CROSS_ONE(5) GILKIT_CROSS_ONE(6) GILKIT_CROSS_ONE(7)
                for (; at + o7 < end; at += turn) {
                    unsigned char *s = sieve + at;
                    s[0] &= GILKIT_CLEAR(i, 0); s[o1] &= GILKIT_CLEAR(i, 1); s[o2] &= GILKIT_CLEAR(i, 2);
                    s[o3] &= GILKIT_CLEAR(i, 3); s[o4] &= GILKIT_CLEAR(i, 4); s[o5] &= GILKIT_CLEAR(i, 5);
                    s[o6] &= GILKIT_CLEAR(i, 6); s[o7] &= GILKIT_CLEAR(i, 7);
                }
            }
        }
        return 0;  /* not reached: *j is 0 .. 7 */
    }

    /* One copy of the loop per residue, so that every mask is a constant. */
    static uint64_t gilkit_cross_off_unrolled(unsigned char *sieve, uint64_t at, uint64_t end,
                                              const uint64_t *step, uint32_t *j, int i) {
        switch (i) {
            case 0: return gilkit_cross_off_residue(sieve, at, end, step, j, 0);
            case 1: return gilkit_cross_off_residue(sieve, at, end, step, j, 1);
            case 2: return gilkit_cross_off_residue(sieve, at, end, step, j, 2);
            case 3: return gilkit_cross_off_residue(sieve, at, end, step, j, 3);
            case 4: return gilkit_cross_off_residue(sieve, at, end, step, j, 4);
            case 5: return gilkit_cross_off_residue(sieve, at, end, step, j, 5);
            case 6: return gilkit_cross_off_residue(sieve, at, end, step, j, 6);
            default: return gilkit_cross_off_residue(sieve, at, end, step, j, 7);
        }
    }
    """
    int residue "GILKIT_RESIDUE" (int j) noexcept nogil
    uint64_t cross_off_unrolled "gilkit_cross_off_unrolled" (unsigned char *sieve, uint64_t at, uint64_t end,
                                                             const uint64_t *step, uint32_t *j, int i) noexcept nogil

cdef enum:
    WHEEL = 30  # numbers a sieve byte covers: its 8 bits stand for the 8 of them coprime to 30
    PRESIEVE_PRIMES = 28
    PRESIEVE_GROUPS = 10
    # The index in base_primes of the first prime crossed off (131): after 2, 3, 5 and the patterns' primes.
    FIRST_CROSSED = 3 + PRESIEVE_PRIMES
    POLL_EVERY = 1 << 12  # base primes set up between two looks at the cancel flag (a huge n has many)
    L1_BLOCK_BYTES = 1 << 15  # as the twin's
    SMALL_PRIME = 2048  # as the twin's

ctypedef struct SievingPrime:
    uint64_t next_byte  # the byte of its next multiple, counted from the current segment's first byte
    uint32_t quotient  # p // 30
    uint32_t wheel  # 8 * (the position of p % 30 on the wheel) + (the position of that multiple's factor)

cdef unsigned char[8] RESIDUES  # GILKIT_RESIDUE's, as a table
cdef unsigned char[8] GAPS
cdef signed char[WHEEL] BIT_OF  # the bit of residue r, or -1
cdef unsigned char[WHEEL] NEXT_FACTOR
cdef unsigned char[64] CARRY
cdef unsigned char[PRESIEVE_PRIMES] PRESIEVED_PRIMES = [
    7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97, 101, 103, 107, 109, 113,
    127]
cdef unsigned char[PRESIEVE_GROUPS] GROUP_SIZES = [5, 3, 3, 3, 3, 3, 2, 2, 2, 2]
cdef unsigned char *PATTERNS[PRESIEVE_GROUPS]
cdef Py_ssize_t PATTERN_BYTES[PRESIEVE_GROUPS]


cdef void fill_tables() noexcept nogil:
    """RESIDUES, GAPS, BIT_OF, NEXT_FACTOR and CARRY as the twin defines them (CLEAR is GILKIT_CLEAR
    above)."""
    cdef int i, j, r
    for j in range(8):
        RESIDUES[j] = residue(j)
    for r in range(WHEEL):
        BIT_OF[r] = -1
    for j in range(8):
        BIT_OF[RESIDUES[j]] = j
        GAPS[j] = (RESIDUES[j + 1] if j < 7 else WHEEL + 1) - RESIDUES[j]
    j = 7
    for r in range(WHEEL - 1, -1, -1):
        if j > 0 and r <= RESIDUES[j - 1]:
            j -= 1
        NEXT_FACTOR[r] = j
    for i in range(8):
        for j in range(8):
            CARRY[8 * i + j] = (RESIDUES[i] * RESIDUES[j] % WHEEL + RESIDUES[i] * GAPS[j]) // WHEEL


cdef SievingPrime first_multiple(long long p, long long least_factor, long long first_byte) noexcept nogil:
    """p's first multiple p*q with q coprime to 30, q >= least_factor and p*q >= 30 * first_byte."""
    cdef SievingPrime prime
    cdef long long q = max(least_factor, (WHEEL * first_byte + p - 1) // p)
    cdef int j = NEXT_FACTOR[q % WHEEL]
    q += RESIDUES[j] - q % WHEEL
    prime.next_byte = p * q // WHEEL - first_byte
    prime.quotient = p // WHEEL
    prime.wheel = 8 * BIT_OF[p % WHEEL] + j
    return prime


cdef inline void cross_off(unsigned char *sieve, uint64_t end, SievingPrime *prime) noexcept nogil:
    """Crosses off the prime's multiples from its next one up to byte ``end``, and keeps where the next
    one lies. The step from wheel position k is quotient * GAPS[k] + CARRY[8i + k] bytes."""
    cdef uint32_t i = prime.wheel // 8, j = prime.wheel % 8, k
    cdef uint64_t[8] step
    for k in range(8):
        step[k] = prime.quotient * GAPS[k] + CARRY[8 * i + k]
    prime.next_byte = end + cross_off_unrolled(sieve, prime.next_byte, end, step, &j, i)
    prime.wheel = 8 * i + j


cdef int fill_patterns() except -1 nogil:
    """Each group's pattern, as the twin's: every byte 0xFF, then each of the group's primes crosses off
    its multiples over the whole pattern, from p * 1 on."""
    cdef Py_ssize_t g, i, k, first = 0
    cdef long long p
    cdef SievingPrime prime
    for g in range(PRESIEVE_GROUPS):
        PATTERN_BYTES[g] = 1
        for k in range(first, first + GROUP_SIZES[g]):
            PATTERN_BYTES[g] *= PRESIEVED_PRIMES[k]
        PATTERNS[g] = <unsigned char *> malloc(PATTERN_BYTES[g])
        if PATTERNS[g] == NULL:
            with gil:
                raise MemoryError("no memory for the sieve's patterns")
        for i in range(PATTERN_BYTES[g]):
            PATTERNS[g][i] = 0xFF
        for k in range(first, first + GROUP_SIZES[g]):
            p = PRESIEVED_PRIMES[k]
            prime = first_multiple(p, 1, 0)
            cross_off(PATTERNS[g], PATTERN_BYTES[g], &prime)
        first += GROUP_SIZES[g]
    return 0


fill_tables()
fill_patterns()


cdef void presieve(unsigned char *sieve, long long segment, Py_ssize_t size) noexcept nogil:
    """The sieve of bytes segment .. segment + size - 1 with the patterns' primes' multiples crossed off:
    each byte the AND of the patterns' bytes, in one pass, a run at a time up to the next pattern's end."""
    cdef const unsigned char *at_pattern[PRESIEVE_GROUPS]
    cdef unsigned char byte
    cdef Py_ssize_t g, at = 0, run, i, start
    while at < size:
        run = size - at
        for g in range(PRESIEVE_GROUPS):
            start = (segment + at) % PATTERN_BYTES[g]
            at_pattern[g] = PATTERNS[g] + start
            run = min(run, PATTERN_BYTES[g] - start)
        for i in range(run):
            byte = 0xFF
            for g in range(PRESIEVE_GROUPS):
                byte &= at_pattern[g][i]
            sieve[at + i] = byte
        at += run


cdef inline unsigned char bits_from(long long start) noexcept nogil:
    """The bits of one byte's numbers 30k + r with r >= start (start in 0 .. 30)."""
    cdef unsigned char bits = 0
    cdef int j
    for j in range(8):
        if RESIDUES[j] >= start:
            bits |= 1 << j
    return bits


cdef inline uint64_t count_bits(const unsigned char *sieve, Py_ssize_t size) noexcept nogil:
    cdef uint64_t word, count = 0
    cdef Py_ssize_t i = 0
    while i + 8 <= size:
        memcpy(&word, &sieve[i], 8)
        count += popcount64(word)
        i += 8
    while i < size:
        count += popcount64(sieve[i])
        i += 1
    return count


cdef long long _count_primes_segment(const long long[::1] base_primes, Py_ssize_t segment_bytes, long long lo,
                                     long long hi, const int *cancel) noexcept nogil:
    """As the twin's count_primes_segment; -1 when memory runs out."""
    cdef long long count = (lo <= 2 < hi) + (lo <= 3 < hi) + (lo <= 5 < hi)
    cdef long long first_byte = lo // WHEEL, end_byte = (hi - 1) // WHEEL + 1, segment, p
    cdef Py_ssize_t b, primes = 0, small = 0, size, block_end
    cdef unsigned char *sieve
    cdef SievingPrime *sieving
    if hi <= max(lo, 7):
        return count
    while FIRST_CROSSED + primes < base_primes.shape[0]:
        p = base_primes[FIRST_CROSSED + primes]
        if p * p >= hi:
            break
        primes += 1
    while small < primes and base_primes[FIRST_CROSSED + small] < SMALL_PRIME:
        small += 1
    sieve = <unsigned char *> malloc(segment_bytes)
    sieving = <SievingPrime *> malloc(max(primes, 1) * sizeof(SievingPrime))
    if sieve == NULL or sieving == NULL:
        free(sieve)
        free(sieving)
        return -1
    for b in range(primes):
        if b % POLL_EVERY == 0 and cancelled(cancel):
            break
        p = base_primes[FIRST_CROSSED + b]
        sieving[b] = first_multiple(p, p, first_byte)  # below p * p, smaller primes crossed them off
    segment = first_byte
    while segment < end_byte and not cancelled(cancel):
        size = min(segment_bytes, end_byte - segment)
        presieve(sieve, segment, size)
        if segment == 0:  # 1 is no prime
            sieve[0] &= 0xFF ^ 1
        for b in range(PRESIEVE_PRIMES):  # the patterns' primes are
            p = PRESIEVED_PRIMES[b]
            if segment <= p // WHEEL < segment + size:
                sieve[p // WHEEL - segment] |= 1 << BIT_OF[p % WHEEL]
        if segment == first_byte:
            sieve[0] &= bits_from(lo - WHEEL * first_byte)
        if segment + size == end_byte:
            sieve[size - 1] &= 0xFF ^ bits_from(hi - WHEEL * (end_byte - 1))
        block_end = 0
        while block_end < size:
            block_end = min(block_end + L1_BLOCK_BYTES, size)
            for b in range(small):
                cross_off(sieve, block_end, &sieving[b])
        for b in range(small, primes):
            cross_off(sieve, size, &sieving[b])
        for b in range(primes):
            sieving[b].next_byte -= size
        count += count_bits(sieve, size)
        segment += size
    free(sieve)
    free(sieving)
    return count


cdef int _check_segment_bytes(Py_ssize_t segment_bytes) except -1:
    if segment_bytes < 1:
        raise ValueError(f"segment_bytes must be >= 1, got {segment_bytes}")
    return 0


def count_primes_segment(const long long[::1] base_primes, Py_ssize_t segment_bytes, long long lo, long long hi,
                         const int[::1] cancel, *, bint release_gil=True):
    """How many primes lie in [lo, hi), given every prime p with p*p < hi in ascending order, sieved
    ``segment_bytes`` bytes (30 numbers each) at a time (a wrong count once cancel[0] is set). Memory: one
    segment and 16 bytes for each base prime p with p*p < hi."""
    cdef long long count
    _check_segment_bytes(segment_bytes)
    check_span(lo, hi, MAX_COUNT)
    check_cancel(cancel)
    if release_gil:
        with nogil:
            count = _count_primes_segment(base_primes, segment_bytes, lo, hi, &cancel[0])
    else:
        count = _count_primes_segment(base_primes, segment_bytes, lo, hi, &cancel[0])
    if count < 0:
        raise MemoryError(f"no memory for the sieve of [{lo}, {hi})")
    return count


def count_primes_segment_openmp(const long long[::1] base_primes, Py_ssize_t segment_bytes,
                                const long long[::1] starts, const long long[::1] stops, long long[::1] counts,
                                int num_threads, const int[::1] cancel):
    """Every chunk [starts[c], stops[c]) in one call (an OpenMP prange); counts[c] receives its count."""
    cdef Py_ssize_t c
    _check_segment_bytes(segment_bytes)
    check_chunks(starts, stops, MAX_COUNT)
    check_span(0, starts.shape[0], counts.shape[0])
    check_cancel(cancel)
    for c in prange(starts.shape[0], nogil=True, num_threads=num_threads, schedule="dynamic"):
        if not cancelled(&cancel[0]):
            counts[c] = _count_primes_segment(base_primes, segment_bytes, starts[c], stops[c], &cancel[0])
    for c in range(starts.shape[0]):
        if counts[c] < 0:
            raise MemoryError(f"no memory for the sieve of [{starts[c]}, {stops[c]})")
