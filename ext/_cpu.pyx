"""Which instruction-set variants of the kernels this CPU (and its operating system) can run.

The answer comes from the CPU itself (CPUID leaves 1, 7 and 0x80000001) and from the operating system
(XGETBV: whether it saves the wider registers on a thread switch), as NumPy's CPU-feature detection reads
it, so it is the same with every compiler: GCC, clang of any version, MSVC. GCC >= 12 and clang >= 16 can
also be asked through ``__builtin_cpu_supports("x86-64-v3")``; the tests check that both agree.
"""

cdef extern from *:
    """
    #if defined(__x86_64__) || defined(_M_X64)
      #if defined(_MSC_VER)
        #include <intrin.h>
        static void gilkit_cpuid(unsigned leaf, unsigned sub, unsigned r[4]) {
            int out[4]; __cpuidex(out, (int)leaf, (int)sub);
            r[0] = out[0]; r[1] = out[1]; r[2] = out[2]; r[3] = out[3];
        }
        static unsigned long long gilkit_xgetbv(void) { return _xgetbv(0); }
      #else
        #include <cpuid.h>
        static void gilkit_cpuid(unsigned leaf, unsigned sub, unsigned r[4]) {
            r[0] = r[1] = r[2] = r[3] = 0;
            if (leaf <= __get_cpuid_max(leaf & 0x80000000u, 0)) __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
        }
        /* The instruction itself, not _xgetbv(): that intrinsic needs -mxsave, which the baseline lacks. */
        static unsigned long long gilkit_xgetbv(void) {
            unsigned lo, hi; __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
            return ((unsigned long long)hi << 32) | lo;
        }
      #endif
      #define GILKIT_ALL(value, bits) (((value) & (bits)) == (bits))
      /* x86-64-v3 (AVX2, FMA, BMI1/2, F16C, LZCNT, MOVBE, and v2's SSE3 .. SSE4.2, POPCNT, CX16, LAHF), with
         the AVX state (XCR0 bits 1, 2) saved by the OS; v4 adds AVX-512 F/BW/CD/DQ/VL and their state
         (XCR0 bits 5, 6, 7). The same features as GCC's __builtin_cpu_supports("x86-64-v3" / "-v4"). */
      static int gilkit_cpu_level(void) {
          unsigned l1[4], l7[4], e1[4];
          unsigned long long xcr0;
          gilkit_cpuid(1, 0, l1);
          gilkit_cpuid(7, 0, l7);
          gilkit_cpuid(0x80000001u, 0, e1);
          unsigned v2_ecx = (1u << 0) | (1u << 9) | (1u << 13) | (1u << 19) | (1u << 20) | (1u << 23);
          unsigned v3_ecx = (1u << 12) | (1u << 22) | (1u << 26) | (1u << 27) | (1u << 28) | (1u << 29);
          unsigned v3_ebx7 = (1u << 3) | (1u << 5) | (1u << 8);
          unsigned v4_ebx7 = (1u << 16) | (1u << 17) | (1u << 28) | (1u << 30) | (1u << 31);
          if (!GILKIT_ALL(l1[2], v2_ecx | v3_ecx) || !GILKIT_ALL(l7[1], v3_ebx7)
              || !GILKIT_ALL(e1[2], (1u << 0) | (1u << 5))) return 1;
          xcr0 = gilkit_xgetbv();
          if (!GILKIT_ALL(xcr0, 0x6)) return 1;
          if (!GILKIT_ALL(l7[1], v4_ebx7) || !GILKIT_ALL(xcr0, 0xE0)) return 3;
          return 4;
      }
    #else
      static int gilkit_cpu_level(void) { return 1; }
    #endif

    #define GILKIT_STRING_OF(x) #x
    #define GILKIT_STRING(x) GILKIT_STRING_OF(x)
    #if defined(__clang__)
      #define GILKIT_COMPILER "clang " __clang_version__
    #elif defined(__GNUC__)
      #define GILKIT_COMPILER "gcc " __VERSION__
    #elif defined(_MSC_VER)
      #define GILKIT_COMPILER "msvc " GILKIT_STRING(_MSC_FULL_VER)
    #else
      #define GILKIT_COMPILER "unknown"
    #endif

    #if (defined(__x86_64__) || defined(_M_X64)) && defined(__GNUC__) \\
        && ((!defined(__clang__) && __GNUC__ >= 12) || (defined(__clang__) && __clang_major__ >= 16))
      static int gilkit_compiler_level(void) {
          __builtin_cpu_init();
          return __builtin_cpu_supports("x86-64-v4") ? 4 : __builtin_cpu_supports("x86-64-v3") ? 3 : 1;
      }
    #else
      static int gilkit_compiler_level(void) { return 0; }  /* this compiler cannot say */
    #endif
    """
    # The x86-64 micro-architecture level: 1 (the baseline), 3 (x86-64-v3) or 4 (x86-64-v4).
    int gilkit_cpu_level()
    int gilkit_compiler_level()
    const char *GILKIT_COMPILER

#: The C compiler that built the extensions, e.g. "gcc 12.2.0" or "clang 14.0.6".
COMPILER = GILKIT_COMPILER.decode("ascii", "replace").strip()

#: The variants a level runs, from the baseline up.
_VARIANTS = {1: ("baseline",), 3: ("baseline", "avx2"), 4: ("baseline", "avx2", "avx512")}


def supported_isas():
    """The variant names this CPU runs, from the baseline up, e.g. ('baseline', 'avx2', 'avx512')."""
    return _VARIANTS[gilkit_cpu_level()]


def compiler_supported_isas():
    """The same, as the compiler's ``__builtin_cpu_supports`` answers it; None where the compiler that
    built gilkit cannot be asked (GCC < 12, clang < 16, MSVC, not x86-64)."""
    level = gilkit_compiler_level()
    return None if level == 0 else _VARIANTS[level]
