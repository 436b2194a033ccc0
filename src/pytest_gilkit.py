"""gilkit's pytest plugin (the ``pytest11`` entry point ``gilkit``): the ``gil`` fixture.

``gil.releases(fn, *args, threads=2, **kwargs)`` fails the test unless the GIL stayed free for most of the
time ``fn`` ran on N threads at once; ``gil.holds(...)`` the opposite (gilkit.testing says how it is
measured, and the thresholds). A top-level module of its own, not part of the gilkit package: pytest
imports every plugin at start-up, and this one imports gilkit (and NumPy) only when a test asks for the
fixture.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from gilkit.gil_timeline import GilTimeline

#: Why a test that records the GIL runs on one thread under pytest-run-parallel.
ONE_RECORDING = ("the gil fixture reads the whole process's GIL, which the other test threads would hold: "
                 "its recordings run one at a time")


class GilChecker:
    """The ``gil`` fixture: gilkit.testing's assertions (``releases``, ``holds``), failing the test with
    the timeline's table and where the GIL was held."""

    def releases(self, fn: Callable[..., object], /, *args: object, threads: int = 2,
                 min_free_share: float | None = None, **kwargs: object) -> "GilTimeline":
        from gilkit import testing

        least = testing.MIN_FREE_SHARE if min_free_share is None else min_free_share
        return self._checked(testing.assert_releases_gil, fn, args,
                             {"threads": threads, "min_free_share": least, **kwargs})

    def holds(self, fn: Callable[..., object], /, *args: object, threads: int = 2,
              min_held_share: float | None = None, **kwargs: object) -> "GilTimeline":
        from gilkit import testing

        least = testing.MIN_HELD_SHARE if min_held_share is None else min_held_share
        return self._checked(testing.assert_holds_gil, fn, args,
                             {"threads": threads, "min_held_share": least, **kwargs})

    @staticmethod
    def _checked(assertion: Callable[..., "GilTimeline"], fn: Callable[..., object], args: tuple[object, ...],
                 kwargs: dict[str, object]) -> "GilTimeline":
        import unittest

        from gilkit.testing import GilAssertionError

        try:
            return assertion(fn, *args, **kwargs)
        except unittest.SkipTest as exc:
            skipped, failed = str(exc), None
        except GilAssertionError as exc:
            skipped, failed = None, str(exc)
        # Outside the except clauses: the report shows the message alone, not the exception it replaces.
        if skipped is not None:
            pytest.skip(skipped)
        pytest.fail(str(failed), pytrace=False)


@pytest.fixture
def gil() -> GilChecker:
    """Assert that code releases the GIL (``gil.releases(fn, *args)``) or holds it (``gil.holds``)."""
    return GilChecker()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-run-parallel, a test that uses the fixture runs on one thread, and says why."""
    if not any(line.startswith("thread_unsafe") for line in config.getini("markers")):
        return  # pytest-run-parallel is not there
    for item in items:
        if "gil" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.thread_unsafe(reason=ONE_RECORDING))
