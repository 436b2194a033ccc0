"""Pure-Python twins of the compiled kernels in ext/.

Each module has the same function names as its native counterpart, runs the same algorithm and does
its floating-point operations in the same order, so both give bit-for-bit identical results. They use
no NumPy inside their loops: this is the readable reference, and the code that runs under the GIL.
Buffers arrive as Python memoryviews (format 'i', 'q' or 'd'), which index like lists.
"""
