"""Fixtures every test module shares: each implementation in turn, worker counts, the free-threading guard,
and an IPython shell."""

import signal

import pytest
from support import FREE_THREADED, gil_enabled, needs_native

import gilkit


@pytest.fixture(scope="session", autouse=True)
def gil_stays_disabled_on_free_threaded_build():
    """On a free-threaded build nothing gilkit imports or runs may switch the GIL back on."""
    if FREE_THREADED:
        assert not gil_enabled(), "the GIL was enabled before the tests started (PYTHON_GIL=1, or an import)"
    yield
    if FREE_THREADED:
        assert not gil_enabled(), "something during the tests re-enabled the GIL"


@pytest.fixture(scope="session", autouse=True)
def children_take_ctrl_c():
    """A suite started in the background (``&``, ``nohup``) has SIGINT ignored, and every child process
    inherits an ignored signal: the Ctrl-C tests' children would never stop. With Python's own handler
    here, exec gives each child the default disposition, as in a terminal's foreground."""
    if signal.getsignal(signal.SIGINT) != signal.SIG_IGN:
        yield
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _impl_param(impl):
    marks = [] if impl == "python" else [needs_native]
    return pytest.param(impl, id=impl, marks=marks)


@pytest.fixture(params=[_impl_param(impl) for impl in gilkit.IMPLS])
def impl(request):
    """Every implementation, so one test body checks all of them; native must be built unless switched off."""
    if request.param != "python" and not gilkit.NATIVE_AVAILABLE:
        pytest.fail(f"the compiled kernels did not load: {gilkit._implementations.NATIVE_UNAVAILABLE_REASON}")
    return request.param


@pytest.fixture(params=[1, 2, 3], ids=lambda w: f"workers={w}")
def workers(request):
    return request.param


@pytest.fixture(scope="session")
def ipython():
    """One IPython shell (it is a singleton) with ``%load_ext gilkit`` done, for the magics' tests."""
    shell_module = pytest.importorskip("IPython.core.interactiveshell", reason="IPython is not installed")
    shell = shell_module.InteractiveShell.instance()
    shell.run_line_magic("load_ext", "gilkit")
    return shell
