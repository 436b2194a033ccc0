"""Whether this build was compiled with OpenMP (after scikit-learn's _openmp_helpers)."""

cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    #define GILKIT_OPENMP_ENABLED 1
    #else
    #define GILKIT_OPENMP_ENABLED 0
    static int omp_get_max_threads(void) { return 1; }
    #endif
    """
    bint GILKIT_OPENMP_ENABLED
    int omp_get_max_threads() noexcept nogil

OPENMP_ENABLED = bool(GILKIT_OPENMP_ENABLED)


def openmp_max_threads():
    """OpenMP's default team size (OMP_NUM_THREADS or the CPU count); 1 without OpenMP."""
    return omp_get_max_threads()
