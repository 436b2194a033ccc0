"""Lesson 4's saved output: how many CPUs this process sees, and how many workers the standard pools start.

    taskset -c 0 python benchmarks/pool_defaults.py     # pinned to one CPU; run it on 3.11 and on 3.13+
"""

import concurrent.futures
import os
import sys

threads = concurrent.futures.ThreadPoolExecutor()
processes = concurrent.futures.ProcessPoolExecutor()
process_cpu_count = getattr(os, "process_cpu_count", None)  # new in 3.13
print(f"CPython {sys.version.split()[0]}: os.cpu_count() {os.cpu_count()}, "
      f"len(os.sched_getaffinity(0)) {len(os.sched_getaffinity(0))}, "
      f"os.process_cpu_count() {process_cpu_count() if process_cpu_count else '(before 3.13: none)'}; "
      f"ThreadPoolExecutor() starts up to {threads._max_workers} workers, "
      f"ProcessPoolExecutor() {processes._max_workers}")
threads.shutdown()
processes.shutdown()
