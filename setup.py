"""Build the Cython kernels in ext/ into the package gilkit (see pyproject.toml for metadata).

Each kernel (ext/NAME.pyx) is compiled once per instruction-set variant into gilkit._native.ISA.NAME;
gilkit._implementations imports the best variant the CPU runs. The helpers (ext/_NAME.pyx) are compiled once,
for the baseline, into gilkit._native._NAME.

Switches (read by src/gilkit/_environment.py): GILKIT_NO_EXTENSIONS=1 installs the pure-Python package
only; GILKIT_NO_OPENMP=1 compiles without OpenMP even where the compiler supports it.
"""

import importlib.util
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).parent.resolve()


def _load_environment_switches():
    spec = importlib.util.spec_from_file_location("_gilkit_environment", HERE / "src" / "gilkit" / "_environment.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


environment = _load_environment_switches()

KERNEL_NAMES = sorted(p.stem for p in (HERE / "ext").glob("[!_]*.pyx"))
HELPER_NAMES = sorted(p.stem for p in (HERE / "ext").glob("_*.pyx"))
# Plain C compiled into a helper beside its .pyx: the GIL sampler includes CPython's internal headers,
# which need Py_BUILD_CORE defined before Python.h, so it cannot live inside Cython's own C file.
HELPER_C_SOURCES = {"_gilsampler": ["ext/gil_sampler.c", "ext/python_stacks.c"]}

# Instruction-set variants of the kernels (names as in gilkit._environment.ISA_VARIANTS). A wheel holds all
# of them and runs on any x86-64; elsewhere the portable baseline is the only one.
ISA_FLAGS = {
    "unix": {
        "baseline": [],
        "avx2": ["-march=x86-64-v3"],
        "avx512": ["-march=x86-64-v4", "-mprefer-vector-width=512"],
    },
    "msvc": {"baseline": [], "avx2": ["/arch:AVX2"], "avx512": ["/arch:AVX512"]},
}
X86_64 = platform.machine().lower() in {"x86_64", "amd64"}
ISA_VARIANTS = environment.ISA_VARIANTS if X86_64 else ("baseline",)

# Optimise hard, but keep IEEE semantics: no -ffast-math and no FP contraction (fused multiply-add),
# or the native loops would stop agreeing bit for bit with their pure-Python twins.
OPT_FLAGS = {
    "msvc": ["/O2", "/fp:precise"],
    "unix": ["-O3", "-ffp-contract=off", "-fno-fast-math"],
}
OPENMP_FLAGS = {
    "msvc": (["/openmp"], []),
    "unix": (["-fopenmp"], ["-fopenmp"]),
}

CYTHON_DIRECTIVES = {
    "language_level": 3,
    "embedsignature": True,
    # No __test__ doctest dict: the modules hold exactly what their .pyi stubs say (checked by stubtest).
    "autotestdict": False,
    "cdivision": True,
    # Every index in the nogil loops is proven by the def wrapper that checks the buffer sizes.
    "boundscheck": False,
    "wraparound": False,
    "initializedcheck": False,
    # The kernels keep no module state and never rely on the GIL for their own safety.
    "freethreading_compatible": True,
}


def _compiler_supports_openmp(compiler, compile_flags, link_flags) -> bool:
    """Compile and link a tiny OpenMP program: the honest test of whether OpenMP works here."""
    source = "#include <omp.h>\nint main(void) { return omp_get_max_threads() > 0 ? 0 : 1; }\n"
    tmp = tempfile.mkdtemp()
    try:
        c_file = os.path.join(tmp, "check_openmp.c")
        with open(c_file, "w") as f:
            f.write(source)
        objects = compiler.compile([c_file], output_dir=tmp, extra_postargs=compile_flags)
        compiler.link_executable(objects, "check_openmp", output_dir=tmp, extra_postargs=link_flags)
        return True
    except Exception:
        return False
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class BuildExt(build_ext):
    def finalize_options(self):
        super().finalize_options()
        if self.parallel is None:
            self.parallel = True  # every variant of every kernel compiles independently: use every CPU

    def build_extensions(self):
        kind = "msvc" if self.compiler.compiler_type == "msvc" else "unix"
        compile_flags = list(OPT_FLAGS[kind])
        link_flags = []
        omp_compile, omp_link = OPENMP_FLAGS[kind]
        if environment.openmp_disabled():
            print("gilkit: OpenMP disabled by GILKIT_NO_OPENMP", file=sys.stderr)
        elif _compiler_supports_openmp(self.compiler, omp_compile, omp_link):
            compile_flags += omp_compile
            link_flags += omp_link
        else:
            print("gilkit: the compiler does not support OpenMP; mode='openmp' will be unavailable", file=sys.stderr)
        for ext in self.extensions:
            package = ext.name.split(".")[-2]
            isa_flags = ISA_FLAGS[kind].get(package, [])  # helpers (package "_native") get none
            ext.extra_compile_args = compile_flags + isa_flags + ext.extra_compile_args
            ext.extra_link_args = link_flags + ext.extra_link_args
        super().build_extensions()


def _extensions():
    if environment.extensions_disabled():
        print("gilkit: GILKIT_NO_EXTENSIONS is set; installing the pure-Python implementation only", file=sys.stderr)
        return []
    from Cython.Build import cythonize

    def compile_(names, package, build_dir):
        extensions = [Extension(f"{package}.{name}", [f"ext/{name}.pyx", *HELPER_C_SOURCES.get(name, [])],
                                include_dirs=["ext"], depends=[str(p.relative_to(HERE)) for p in HERE.glob("ext/*.h")])
                      for name in names]
        # One C file per variant (the module name is compiled into it), so each gets its own build_dir.
        return cythonize(extensions, compiler_directives=CYTHON_DIRECTIVES, include_path=["ext"],
                         build_dir=build_dir)

    extensions = compile_(HELPER_NAMES, "gilkit._native", "build/cython/helpers")
    for isa in ISA_VARIANTS:
        extensions += compile_(KERNEL_NAMES, f"gilkit._native.{isa}", f"build/cython/{isa}")
    return extensions


setup(ext_modules=_extensions(), cmdclass={"build_ext": BuildExt})
