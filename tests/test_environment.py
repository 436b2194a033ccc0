"""GILKIT_NO_EXTENSIONS=1: the import falls back to the twins, says so, and native explains how to build."""

import json
import os
import subprocess
import sys

from support import needs_native

PROBE = """
import json, gilkit
report = {"active": gilkit.ACTIVE_IMPLEMENTATION, "impls": list(gilkit.available_impls()),
          "openmp": gilkit.OPENMP_ENABLED, "primes": gilkit.count_primes(100, impl="python")}
try:
    gilkit.count_primes(100)
except ImportError as exc:
    report["error"] = str(exc)
print(json.dumps(report))
"""


def run_probe(**env):
    completed = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120,
                               env={**os.environ, **env})
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def test_switch_forces_the_pure_python_implementation():
    report = run_probe(GILKIT_NO_EXTENSIONS="1")
    assert report["active"] == "python" and report["impls"] == ["python"] and report["openmp"] is False
    assert report["primes"] == 25
    assert "GILKIT_NO_EXTENSIONS" in report["error"] and "pip install" in report["error"]
    assert "impl='python'" in report["error"]


@needs_native
def test_without_the_switch_the_extensions_load():
    report = run_probe(GILKIT_NO_EXTENSIONS="0")
    assert report["active"] == "native" and "error" not in report


def test_switch_makes_every_native_mode_fail_fast_with_the_same_message():
    code = """
import gilkit
for mode in ("threads", "processes", "openmp"):
    try:
        gilkit.sum_squares([1.0], workers=2, mode=mode)
    except ImportError as exc:
        print(mode, "GILKIT_NO_EXTENSIONS" in str(exc))
"""
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                               env={**os.environ, "GILKIT_NO_EXTENSIONS": "1"})
    assert completed.stdout.split() == ["threads", "True", "processes", "True", "openmp", "True"], completed.stderr


@needs_native
def test_openmp_threads_sleep_when_idle_unless_the_user_says_otherwise():
    code = "import os, gilkit; print(os.environ.get('OMP_WAIT_POLICY'))"
    env = {key: value for key, value in os.environ.items() if key != "OMP_WAIT_POLICY"}
    default = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    chosen = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            env={**env, "OMP_WAIT_POLICY": "active"})
    assert (default.stdout.strip(), chosen.stdout.strip()) == ("passive", "active")

