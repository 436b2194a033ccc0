"""Any argument, of any type: every public function returns or raises TypeError/ValueError naming an
argument, never another exception (OverflowError, MemoryError, IndexError...), and every command-line
option gives a result or one line and exit code 2.

Values are drawn to hit the edges (zero, negative, huge, NaN, infinity, wrong types, odd arrays), not
large valid problems, so each call is quick.
"""

import argparse
import contextlib
import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gilkit
from gilkit import cli, shell
from gilkit.kernels import MAX_COUNT, MAX_SIDE

ANYTHING = st.one_of(
    st.none(), st.booleans(), st.text(max_size=3), st.binary(max_size=3), st.complex_numbers(),
    st.integers(-(2**70), 2**70), st.sampled_from([2**31 - 1, 2**31, 2**62, 2**63, 2**64, -(2**63), 2**1100]),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([np.int64(3), np.uint64(2**63), np.float32(2.5),
                                                                     np.timedelta64(1, "s"), np.bool_(True)]),
    st.lists(st.integers(-3, 3), max_size=3),
)
SMALL = st.integers(-2, 12)
ARRAYS = st.one_of(
    st.sampled_from([np.ones(0), np.ones(5), np.ones((3, 4)), np.ones((2, 2, 2)), np.array([[1, 2], [3]], dtype=object),
                     np.ma.masked_array([1.0, 2.0], mask=[0, 1]), np.array(["a"]), np.ones((3, 3), dtype=complex),
                     np.full((3, 3), np.nan), np.arange(12.0).reshape(3, 4)[:, ::2]]),
    ANYTHING,
)
EXECUTION = st.fixed_dictionaries({}, optional={
    "impl": st.one_of(st.sampled_from(gilkit.IMPLS), ANYTHING),
    "workers": st.one_of(st.integers(1, 3), st.sampled_from([0, -1, 1025, 10**6, 2**31, 2**64]), ANYTHING),
    "mode": st.one_of(st.sampled_from(["threads", "openmp"]), ANYTHING),
})
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def is_integer(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_, np.timedelta64))


def quick(value, limit, refused_above):
    """A valid but long problem (an integer in (limit, refused_above]) becomes its negative, which every
    function refuses or answers at once: the edges are what is tested here, and each call must stay quick.
    Larger integers stay: they must be refused."""
    return -int(value) if is_integer(value) and limit < value <= refused_above else value


def calls_cleanly(function, *args, **kwargs):
    import inspect

    names = list(inspect.signature(function).parameters)
    try:
        function(*args, **kwargs)
    except (TypeError, ValueError) as exc:
        assert any(name in str(exc) for name in names), f"{type(exc).__name__} names no argument of {names}: {exc}"
    except ImportError as exc:  # impl='native' where the extensions are switched off: says how to build
        assert "impl='python'" in str(exc)
    except RuntimeError as exc:  # mode='openmp' in a build without OpenMP
        assert "OpenMP" in str(exc)


@FUZZ
@given(st.one_of(SMALL, ANYTHING), st.one_of(SMALL, ANYTHING),
       st.fixed_dictionaries({}, optional={key: st.one_of(st.floats(-3, 3), ANYTHING)
                                           for key in ("xmin", "xmax", "ymin", "ymax")}),
       st.one_of(st.integers(0, 50), ANYTHING), EXECUTION)
def test_mandelbrot_takes_anything(width, height, window, max_iter, how):
    if is_integer(width) and is_integer(height) and width > 0 and height > 0:
        width = quick(width, 4096 // height, MAX_SIDE)
    calls_cleanly(gilkit.mandelbrot, width, height, max_iter=quick(max_iter, 256, 2**31 - 1), **window, **how)


@FUZZ
@given(st.one_of(st.integers(-5, 10**5), ANYTHING), EXECUTION)
def test_count_primes_takes_anything(n, how):
    calls_cleanly(gilkit.count_primes, quick(n, 10**6, MAX_COUNT), **how)


@FUZZ
@given(st.one_of(st.integers(-5, 10**5), ANYTHING), st.one_of(st.integers(0, 2**64 - 1), ANYTHING), EXECUTION)
def test_estimate_pi_takes_anything(samples, seed, how):
    calls_cleanly(gilkit.estimate_pi, quick(samples, 10**6, MAX_COUNT), seed=seed, **how)


@FUZZ
@given(ARRAYS, st.one_of(st.integers(-2, 20), ANYTHING), EXECUTION)
def test_box_blur_takes_anything(image, radius, how):
    calls_cleanly(gilkit.box_blur, image, quick(radius, 10**4, 2**40), **how)


@FUZZ
@given(ARRAYS, EXECUTION)
def test_sum_squares_takes_anything(values, how):
    calls_cleanly(gilkit.sum_squares, values, **how)


@FUZZ
@given(ANYTHING)
def test_heartbeat_probe_takes_anything(interval):
    calls_cleanly(gilkit.HeartbeatProbe, interval)


@FUZZ
@given(st.one_of(ANYTHING, st.just(()), st.just((2, 3))), st.one_of(ANYTHING, st.sampled_from(["f8", "i4", object])))
def test_shared_array_takes_anything(shape, dtype):
    calls_cleanly(gilkit.shared_array, quick(shape, 10**6, 2**40), dtype)


@FUZZ
@given(st.one_of(ANYTHING, st.lists(st.one_of(st.just(["true"]), ANYTHING), max_size=3)),
       st.one_of(st.none(), st.integers(1, 3), ANYTHING), st.one_of(st.none(), st.floats(0.5, 5), ANYTHING))
def test_run_parallel_takes_anything(commands, jobs, timeout):
    if isinstance(commands, list) and any(isinstance(c, str) for c in commands):
        commands = [c for c in commands if not isinstance(c, str)]  # no random shell commands
    calls_cleanly(shell.run_parallel, commands, jobs=jobs, timeout=timeout)


@FUZZ
@given(st.one_of(st.none(), ANYTHING))
def test_set_start_method_takes_anything(method):
    try:
        calls_cleanly(gilkit.set_start_method, method)
    finally:
        gilkit.set_start_method(None)


OPTION_VALUES = st.one_of(st.text(max_size=6), st.sampled_from(["0", "-1", "1e10", "inf", "nan", "2", "1,2",
                                                                "99999999999999999999", "", ",", "native", "openmp"]))
def value_options(parser: argparse.ArgumentParser, words: tuple[str, ...] = ()) -> list[list[str]]:
    """Every option of the command line that takes one value, as the words that reach it: read from the
    parser itself, so that a new option (a new demo's) is fuzzed without being listed here."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += value_options(sub, (*words, name))
        elif (action.option_strings and action.nargs is None
              and isinstance(action, argparse._StoreAction | argparse._AppendAction)):
            found.append([*words, action.option_strings[-1]])
    return found


OPTIONS = value_options(cli.build_parser())


def test_the_fuzzed_options_are_read_from_the_parser():
    assert ["bench", "--workers"] in OPTIONS and ["demo", "locks", "--updates"] in OPTIONS
    assert ["probe", "--rounds"] in OPTIONS and ["timeline", "--interval"] in OPTIONS
    assert not any(option[-1] in ("--help", "--quick", "--detail", "--version") for option in OPTIONS)


@pytest.mark.parametrize("option", OPTIONS, ids=" ".join)
@settings(max_examples=40, deadline=None)
@given(value=OPTION_VALUES)
def test_every_option_value_is_parsed_or_refused_in_one_line(option, value):
    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors):
            needs_positional = option[0] in ("shell", "probe", "timeline")
            cli.build_parser().parse_args([*option, value, "true"] if needs_positional else [*option, value])
    except SystemExit as exit_:
        assert exit_.code == 2
        message = errors.getvalue()
        assert len(message.strip().splitlines()) == 1 and "Traceback" not in message, message
