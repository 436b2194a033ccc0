"""How many CPUs this process may really use: not os.cpu_count().

os.cpu_count() counts the machine's CPUs. A process may be pinned to fewer (sched_setaffinity,
taskset, a container's cpuset) and throttled to fewer still by a cgroup CPU quota (docker --cpus,
Kubernetes limits), which is time, not CPUs: a quota of 1.5 CPUs lets 2 threads run, each 75% of the time.

Also how large a core's L2 cache is, which sizes count_primes' segments.
"""

import math
import os
from collections.abc import Iterator
from pathlib import Path


def affinity_cpus() -> int:
    """CPUs this process may be scheduled on (os.cpu_count() where affinity is unknown)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def cgroup_cpu_quota(root: str | os.PathLike[str] = "/") -> float | None:
    """The tightest CPU quota (in CPUs, may be fractional) of this process's cgroups, or None."""
    top = Path(root)
    try:
        lines = (top / "proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    quotas: list[float] = []
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":
            quotas += _cgroup_v2_quotas(top / "sys/fs/cgroup", path)
        elif "cpu" in controllers.split(","):
            quotas += _cgroup_v1_quotas(top / "sys/fs/cgroup", controllers, path)
    return min(quotas) if quotas else None


def _ancestors(base: Path, path: str) -> Iterator[Path]:
    """base/path and each of its parents up to base: a parent's limit binds its children too."""
    directory = base / path.strip("/")
    while True:
        yield directory
        if directory == base:
            return
        directory = directory.parent


def _cgroup_v2_quotas(base: Path, path: str) -> list[float]:
    quotas = []
    for directory in _ancestors(base, path):
        try:
            quota, period = (directory / "cpu.max").read_text().split()
        except (OSError, ValueError):
            continue
        if quota != "max" and int(period) > 0:
            quotas.append(int(quota) / int(period))
    return quotas


def _cgroup_v1_quotas(base: Path, controllers: str, path: str) -> list[float]:
    quotas: list[float] = []
    for mount in (base / controllers, base / "cpu", base / "cpu,cpuacct"):
        for directory in _ancestors(mount, path):
            try:
                quota = int((directory / "cpu.cfs_quota_us").read_text())
                period = int((directory / "cpu.cfs_period_us").read_text())
            except (OSError, ValueError):
                continue
            if quota > 0 and period > 0:
                quotas.append(quota / period)
        if quotas:
            break
    return quotas


def usable_cpus(root: str | os.PathLike[str] = "/") -> int:
    """The CPUs this process can keep busy at once: affinity, capped by the cgroup quota rounded up."""
    cpus = affinity_cpus()
    quota = cgroup_cpu_quota(root)
    if quota is not None:
        cpus = min(cpus, max(1, math.ceil(quota)))
    return cpus


def l2_cache_bytes(root: str | os.PathLike[str] = "/") -> int | None:
    """The L2 data cache of CPU 0 in bytes, as Linux's sysfs describes it, or None where it does not."""
    for index in sorted((Path(root) / "sys/devices/system/cpu/cpu0/cache").glob("index*")):
        try:
            level = (index / "level").read_text().strip()
            kind = (index / "type").read_text().strip()
            size = (index / "size").read_text().strip()
        except OSError:
            continue
        if level == "2" and kind in ("Data", "Unified"):
            return _size_in_bytes(size)
    return None


def _size_in_bytes(size: str) -> int | None:
    """sysfs's "1024K" (or "2M", or plain bytes) in bytes; None if it is none of those."""
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(size[-1:].upper(), 1)
    digits = size[:-1] if scale > 1 else size
    return int(digits) * scale if digits.isdigit() else None
