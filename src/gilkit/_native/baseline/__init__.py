"""The kernels compiled for any CPU of the platform (x86-64: SSE2 only): the portable code."""
