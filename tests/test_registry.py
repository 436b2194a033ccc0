"""The kernel registry is the single list: the public API, the compiled sources and the twins agree with it."""

import ast
import importlib
import inspect
from pathlib import Path

import pytest

import gilkit
import gilkit._native
from gilkit import _implementations
from gilkit._implementations import HELPER_MODULES, NATIVE_AVAILABLE, native_module
from gilkit._registry import WORKLOADS

EXT = Path(__file__).resolve().parent.parent / "ext"


def test_the_registry_lists_exactly_the_public_kernels():
    assert set(gilkit.KERNELS) == set(gilkit.kernels.__all__)
    assert set(gilkit.KERNELS) <= set(gilkit.__all__)


@pytest.mark.skipif(not EXT.is_dir(), reason="runs from a source checkout, which has ext/")
def test_every_twin_has_a_compiled_source_and_every_compiled_kernel_a_twin():
    compiled = {path.stem for path in EXT.glob("[!_]*.pyx")}
    assert compiled == set(_implementations.KERNEL_MODULES)


STUBS = Path(gilkit._native.__file__).parent / "baseline"


def stub_parameters(module: str) -> dict[str, list[str]]:
    """The parameter names of each function in a compiled module's stub, as written there."""
    tree = ast.parse((STUBS / f"{module}.pyi").read_text())
    return {node.name: [arg.arg for arg in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)]
            for node in tree.body if isinstance(node, ast.FunctionDef)}


@pytest.mark.parametrize("kernel", list(WORKLOADS))
def test_every_chunk_plan_has_a_stub_with_its_openmp_sibling(kernel):
    plan = WORKLOADS[kernel].plan
    stub = stub_parameters(plan.module)
    assert plan.function in stub and f"{plan.function}_openmp" in stub
    assert stub[plan.function][-1] == "release_gil"  # native-gil calls it with release_gil=False
    if NATIVE_AVAILABLE:
        compiled = native_module(plan.module)
        assert callable(getattr(compiled, plan.function)) and callable(getattr(compiled, f"{plan.function}_openmp"))


@pytest.mark.parametrize("kernel", list(WORKLOADS))
def test_every_twin_takes_what_its_stub_takes_less_release_gil(kernel):
    plan = WORKLOADS[kernel].plan
    twin = getattr(importlib.import_module(f"gilkit._python.{plan.module}"), plan.function)
    assert list(inspect.signature(twin).parameters) == stub_parameters(plan.module)[plan.function][:-1]


def test_every_compiled_helper_in_ext_is_imported_and_has_its_stub():
    ext = Path(__file__).resolve().parent.parent / "ext"
    if not ext.is_dir():
        pytest.skip("no ext/ beside these tests (an installed copy of them)")
    helpers = {path.stem for path in ext.glob("_*.pyx")}  # what setup.py compiles as helpers
    assert helpers == set(HELPER_MODULES)
    stubs = Path(gilkit._native.__file__).parent
    assert {path.stem for path in stubs.glob("_*.pyi")} == helpers
