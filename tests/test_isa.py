"""The instruction-set variants: the best one the CPU runs is chosen, GILKIT_ISA caps it, and every
variant computes the same bits."""

import hashlib
import json
import os
import subprocess
import sys

import pytest
from support import needs_native

import gilkit
from gilkit import _environment, _implementations, _info
from gilkit._registry import WORKLOADS

pytestmark = needs_native

# One result per kernel of the registry, at an odd size that runs every SIMD path (full blocks of lanes and
# their tails), and box_blur again with a window taller than a chunk.
DIGEST = """
import hashlib, json, numpy as np, gilkit
from gilkit._registry import WORKLOADS
results = {name: w.problem(3 * w.small_size + 7).call(impl="native") for name, w in WORKLOADS.items()}
results["box_blur_wide"] = gilkit.box_blur(np.random.default_rng(1).normal(size=(150, 77)), 70)
print(json.dumps({"isa": gilkit.ISA_VARIANT,
                  "digests": {k: hashlib.sha256(np.asarray(v).tobytes()).hexdigest() for k, v in results.items()}}))
"""


def run_python(code, **env):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **env})


def digests(isa):
    completed = run_python(DIGEST, GILKIT_ISA=isa)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def test_the_best_supported_variant_runs_unless_capped():
    supported = _implementations.supported_isas()
    assert supported[0] == "baseline" and set(supported) <= set(_environment.ISA_VARIANTS)
    cap = _environment.isa_cap()
    rank = _environment.ISA_VARIANTS.index
    expected = [isa for isa in supported if cap is None or rank(isa) <= rank(cap)]
    assert gilkit.ISA_VARIANT == expected[-1]
    assert _info.info()["isa_variant"] == gilkit.ISA_VARIANT


def test_the_cpu_is_read_as_the_compiler_reads_it():
    from gilkit._native import _cpu

    by_compiler = _cpu.compiler_supported_isas()
    if by_compiler is None:
        pytest.skip("the compiler that built gilkit has no __builtin_cpu_supports for x86-64 levels")
    assert _cpu.supported_isas() == by_compiler


@pytest.mark.parametrize("isa", [isa for isa in _environment.ISA_VARIANTS if isa != "baseline"])
def test_every_variant_gives_the_same_bits_as_the_baseline(isa):
    if isa not in _implementations.supported_isas():
        pytest.skip(f"this CPU cannot run the {isa} variant")
    baseline, other = digests("baseline"), digests(isa)
    assert baseline["isa"] == "baseline" and other["isa"] == isa
    assert other["digests"] == baseline["digests"]


def test_a_misspelt_variant_is_refused_at_import():
    completed = run_python("import gilkit", GILKIT_ISA="avx-512")
    assert completed.returncode != 0
    assert "GILKIT_ISA must be one of baseline, avx2, avx512" in completed.stderr


def test_the_digest_script_checks_something():
    # Different problems must give different digests, or the comparison above would prove nothing.
    here = json.loads(run_python(DIGEST).stdout)["digests"]
    assert set(here) == {*WORKLOADS, "box_blur_wide"}
    assert len(set(here.values())) == len(here)
    assert hashlib.sha256(b"").hexdigest() not in here.values()
