"""Which instruction-set variants of the kernels this CPU (and its operating system) can run."""

cdef extern from *:
    """
    #if (defined(__x86_64__) || defined(_M_X64)) && defined(__GNUC__) \\
        && ((!defined(__clang__) && __GNUC__ >= 12) || (defined(__clang__) && __clang_major__ >= 16))
    /* The x86-64 micro-architecture levels: v3 = AVX2, FMA, BMI1/2 ...; v4 = AVX-512 F/BW/CD/DQ/VL.
       __builtin_cpu_supports also checks that the OS saves the wider registers (XGETBV). */
    static int gilkit_cpu_has_v3(void) { __builtin_cpu_init(); return __builtin_cpu_supports("x86-64-v3"); }
    static int gilkit_cpu_has_v4(void) { __builtin_cpu_init(); return __builtin_cpu_supports("x86-64-v4"); }
    #else
    static int gilkit_cpu_has_v3(void) { return 0; }
    static int gilkit_cpu_has_v4(void) { return 0; }
    #endif
    """
    bint gilkit_cpu_has_v3()
    bint gilkit_cpu_has_v4()


def supported_isas():
    """The variant names this CPU runs, from the baseline up, e.g. ('baseline', 'avx2', 'avx512')."""
    found = ["baseline"]
    if gilkit_cpu_has_v3():
        found.append("avx2")
        if gilkit_cpu_has_v4():
            found.append("avx512")
    return tuple(found)
