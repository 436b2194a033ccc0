"""The kernels compiled for x86-64-v3 (AVX2, FMA, BMI2); imported only where the CPU runs them."""
