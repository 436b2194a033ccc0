"""The kernels compiled for x86-64-v4 (AVX-512 F/BW/CD/DQ/VL); imported only where the CPU runs them."""
