"""The kernel registry is the single list: the public API, the compiled sources and the twins agree with it."""

from pathlib import Path

import pytest

import gilkit
from gilkit import _implementations

EXT = Path(__file__).resolve().parent.parent / "ext"


def test_the_registry_lists_exactly_the_public_kernels():
    assert set(gilkit.KERNELS) == set(gilkit.kernels.__all__)
    assert set(gilkit.KERNELS) <= set(gilkit.__all__)


@pytest.mark.skipif(not EXT.is_dir(), reason="runs from a source checkout, which has ext/")
def test_every_twin_has_a_compiled_source_and_every_compiled_kernel_a_twin():
    compiled = {path.stem for path in EXT.glob("[!_]*.pyx")}
    assert compiled == set(_implementations.KERNEL_MODULES)

