"""The compiled kernels (built by setup.py from ext/*.pyx); gilkit._python holds their twins.

Each kernel is compiled once per instruction set, into the subpackages baseline, avx2 and avx512;
gilkit._implementations imports the best one the CPU runs. The helpers (ext/_*.pyx: _cpu, _openmp,
_interrupt, _heartbeat, _gilsampler; gilkit._implementations.HELPER_MODULES) are built once.
"""
