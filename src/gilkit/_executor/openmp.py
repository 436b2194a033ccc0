"""One nogil call of the kernel's ``*_openmp`` sibling: a prange over the chunks on OpenMP threads."""

from typing import Any

import numpy as np

from .._implementations import OPENMP_ENABLED, native_module
from .job import Job

#: Chunks per OpenMP call: the chunk bounds travel as arrays, so a huge call goes in batches.
OPENMP_BATCH = 1 << 16


def run_openmp(job: Job, workers: int, cancel: memoryview) -> Any:
    module = native_module(job.module)  # without the extensions at all, say how to build them
    if not OPENMP_ENABLED:
        raise RuntimeError(
            "mode='openmp' is unavailable: this build of gilkit was compiled without OpenMP "
            "(`gilkit info` says why); use mode='threads' instead"
        )
    fn = getattr(module, job.function + "_openmp")
    folded = job.initial
    chunks = job.chunks
    for first in range(0, len(chunks), OPENMP_BATCH):
        starts = chunks.start + np.arange(first, min(first + OPENMP_BATCH, len(chunks)), dtype=np.int64) * chunks.size
        stops = np.minimum(starts + chunks.size, chunks.stop)
        threads = min(workers, len(starts))  # never more threads than chunks
        if job.result_dtype is None:
            fn(*job.arrays, *job.params, starts, stops, threads, cancel)
            continue
        results = np.zeros(len(starts), dtype=job.result_dtype)
        fn(*job.arrays, *job.params, starts, stops, results, threads, cancel)
        for value in results.tolist():
            folded = job.fold(folded, value)
    return folded
