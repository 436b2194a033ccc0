"""usable_cpus(): affinity and cgroup quotas; l2_cache_bytes(): the cache sysfs describes; both checked
against fake /proc and /sys trees."""

import os

import pytest

import gilkit
from gilkit import _cpus


def fake_root(tmp_path, cgroup_line, files):
    (tmp_path / "proc/self").mkdir(parents=True)
    (tmp_path / "proc/self/cgroup").write_text(cgroup_line + "\n")
    for relative, text in files.items():
        path = tmp_path / "sys/fs/cgroup" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_no_quota_means_affinity(tmp_path):
    root = fake_root(tmp_path, "0::/user.slice", {"user.slice/cpu.max": "max 100000\n"})
    assert _cpus.cgroup_cpu_quota(root) is None
    assert _cpus.usable_cpus(root) == _cpus.affinity_cpus()


def test_cgroup_v2_quota_rounds_up(tmp_path):
    root = fake_root(tmp_path, "0::/docker/abc", {"docker/abc/cpu.max": "150000 100000\n"})
    assert _cpus.cgroup_cpu_quota(root) == 1.5
    assert _cpus.usable_cpus(root) == min(2, _cpus.affinity_cpus())


def test_cgroup_v2_parent_limit_binds_the_child(tmp_path):
    root = fake_root(tmp_path, "0::/kube/pod/ctr", {
        "kube/pod/ctr/cpu.max": "max 100000\n",
        "kube/pod/cpu.max": "50000 100000\n",
    })
    assert _cpus.cgroup_cpu_quota(root) == 0.5
    assert _cpus.usable_cpus(root) == 1


def test_cgroup_v1_quota(tmp_path):
    root = fake_root(tmp_path, "4:cpu,cpuacct:/job", {
        "cpu,cpuacct/job/cpu.cfs_quota_us": "300000\n",
        "cpu,cpuacct/job/cpu.cfs_period_us": "100000\n",
    })
    assert _cpus.cgroup_cpu_quota(root) == 3.0


def test_cgroup_v1_unlimited(tmp_path):
    root = fake_root(tmp_path, "4:cpu,cpuacct:/", {
        "cpu,cpuacct/cpu.cfs_quota_us": "-1\n",
        "cpu,cpuacct/cpu.cfs_period_us": "100000\n",
    })
    assert _cpus.cgroup_cpu_quota(root) is None


def test_unreadable_proc_means_no_quota(tmp_path):
    assert _cpus.cgroup_cpu_quota(tmp_path) is None


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="no CPU affinity on this platform")
def test_affinity_is_what_the_process_may_use():
    assert _cpus.affinity_cpus() == len(os.sched_getaffinity(0))
    assert 1 <= gilkit.usable_cpus() <= _cpus.affinity_cpus() <= os.cpu_count()


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity on this platform")
def test_pinning_to_one_cpu_is_seen_although_cpu_count_is_unchanged():
    import subprocess
    import sys

    code = ("import os, gilkit; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
            "print(gilkit.usable_cpus(), os.cpu_count())")
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    usable, count = child.stdout.split()
    assert int(usable) == 1
    assert int(count) == os.cpu_count()


def fake_caches(tmp_path, caches):
    """CPU 0's caches in a fake sysfs, one index directory per (level, type, size)."""
    for index, (level, kind, size) in enumerate(caches):
        directory = tmp_path / f"sys/devices/system/cpu/cpu0/cache/index{index}"
        directory.mkdir(parents=True)
        for name, text in (("level", level), ("type", kind), ("size", size)):
            (directory / name).write_text(f"{text}\n")
    return tmp_path


@pytest.mark.parametrize("size, expected", [("1024K", 1 << 20), ("2M", 2 << 20), ("524288", 1 << 19)])
def test_l2_cache_is_read_from_sysfs(tmp_path, size, expected):
    root = fake_caches(tmp_path, [(1, "Data", "48K"), (1, "Instruction", "32K"), (2, "Unified", size),
                                  (3, "Unified", "32768K")])
    assert _cpus.l2_cache_bytes(root) == expected


@pytest.mark.parametrize("caches", [[], [(1, "Data", "48K"), (3, "Unified", "32768K")], [(2, "Unified", "lots")]],
                         ids=["no cache directory", "no L2", "unreadable size"])
def test_l2_cache_unknown(tmp_path, caches):
    assert _cpus.l2_cache_bytes(fake_caches(tmp_path, caches)) is None
