"""``%load_ext gilkit``: the ``%gil`` line magic and the ``%%gil`` cell magic, gilkit.probe in IPython.

``%gil [-w 1,2] [-r ROUNDS] [-o] STATEMENT`` probes a statement in the notebook's namespace;
``%%gil [options] [SETUP]`` probes the cell's body, after the setup code on its first line (like
``%%timeit``). ``-o`` returns the report as well as printing it.

``%%giltimeline [-t THREADS] [-i MICROSECONDS] [-o] [SETUP]`` records the GIL while the cell runs
(gilkit.gil_timeline) and draws the timeline inline: the cell as it is, on the notebook's thread, with
any threads it starts; or with ``-t N``, the cell's body on N threads at once.
"""

from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_cell_magic, magics_class

from . import _validate
from ._statements import StatementError, compile_statement
from .gil_timeline import GilTimeline, checked_interval, record_gil, recording_unavailable_reason, timeline_statement
from .probing import ProbeReport, probe_statement


@magics_class
class GilMagics(Magics):
    @line_cell_magic
    def gil(self, line: str, cell: str | None = None) -> ProbeReport | None:
        """Probe a statement: does it release the GIL, and will threads help? (see gilkit.probe)"""
        options, code = self.parse_options(line, "w:r:o", posix=False, strict=False)
        statement, setup = (cell, code) if cell is not None else (code, "")
        assert self.shell is not None  # a registered magic runs in a shell
        try:
            workers = _validate.worker_counts(options.get("w", "1,2"))
            rounds = _validate.whole_number("-r", options.get("r", "5"))
            if not statement.strip():
                raise ValueError("it needs a statement to probe, e.g. %gil np.sort(a)")
            report = probe_statement(statement, setup, self.shell.user_ns, workers=workers, rounds=rounds)
        except (TypeError, ValueError, StatementError) as exc:
            raise UsageError(f"%gil: {exc}") from None
        print(report.table())
        return report if "o" in options else None

    @cell_magic
    def giltimeline(self, line: str, cell: str) -> GilTimeline | None:
        """Record the GIL while the cell runs and draw its timeline (see gilkit.gil_timeline)."""
        options, setup = self.parse_options(line, "t:i:o", posix=False, strict=False)
        assert self.shell is not None  # a registered magic runs in a shell
        why_not = recording_unavailable_reason()
        if why_not is not None:  # one line, not a traceback that stops "Run All"
            print(f"%%giltimeline: no GIL timeline here ({why_not}); the cell did not run")
            return None
        try:
            interval = checked_interval(_validate.whole_number("-i", options.get("i", "200")) / 1e6)
            threads = (_validate.integer("-t", _validate.whole_number("-t", options["t"]), minimum=1,
                                         maximum=_validate.MAX_WORKERS) if "t" in options else None)
            if threads is not None:
                found = timeline_statement(cell, setup, self.shell.user_ns, threads=threads, interval=interval)
            else:
                run = compile_statement(cell, setup, self.shell.user_ns)
                with record_gil(interval, label="%%giltimeline cell") as recorder:
                    run()
                found = recorder.timeline
        except (TypeError, ValueError, StatementError) as exc:
            raise UsageError(f"%%giltimeline: {exc}") from None
        print(found.table())
        _show(found)
        return found if "o" in options else None


def _show(found: GilTimeline) -> None:
    """The picture inline, where matplotlib is installed: as a PNG, so that no pyplot figure of the
    notebook's is made, switched or closed."""
    from IPython.display import Image, display

    png = found._repr_png_()
    if png is None:
        print("(pip install 'gilkit[plot]' to see the picture)")
        return
    display(Image(png))


def load_ipython_extension(ipython: Any) -> None:
    ipython.register_magics(GilMagics)
