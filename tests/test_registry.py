"""The kernel registry is the single list: the public API, the compiled sources and the twins agree with it."""

from pathlib import Path

import pytest

import gilkit
import gilkit._native
from gilkit import _implementations
from gilkit._implementations import HELPER_MODULES

EXT = Path(__file__).resolve().parent.parent / "ext"


def test_the_registry_lists_exactly_the_public_kernels():
    assert set(gilkit.KERNELS) == set(gilkit.kernels.__all__)
    assert set(gilkit.KERNELS) <= set(gilkit.__all__)


@pytest.mark.skipif(not EXT.is_dir(), reason="runs from a source checkout, which has ext/")
def test_every_twin_has_a_compiled_source_and_every_compiled_kernel_a_twin():
    compiled = {path.stem for path in EXT.glob("[!_]*.pyx")}
    assert compiled == set(_implementations.KERNEL_MODULES)



def test_every_compiled_helper_in_ext_is_imported_and_has_its_stub():
    ext = Path(__file__).resolve().parent.parent / "ext"
    if not ext.is_dir():
        pytest.skip("no ext/ beside these tests (an installed copy of them)")
    helpers = {path.stem for path in ext.glob("_*.pyx")}  # what setup.py compiles as helpers
    assert helpers == set(HELPER_MODULES)
    stubs = Path(gilkit._native.__file__).parent
    assert {path.stem for path in stubs.glob("_*.pyi")} == helpers
