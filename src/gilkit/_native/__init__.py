"""The compiled kernels (built by setup.py from ext/*.pyx); gilkit._python holds their twins.

Each kernel is compiled once per instruction set, into the subpackages baseline, avx2 and avx512;
gilkit._implementations imports the best one the CPU runs. _cpu and _openmp are helpers built once.
"""
