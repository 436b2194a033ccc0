"""``%load_ext gilkit``: the ``%gil`` line magic and the ``%%gil`` cell magic, gilkit.probe in IPython.

``%gil [-w 1,2] [-r ROUNDS] [-o] STATEMENT`` probes a statement in the notebook's namespace;
``%%gil [options] [SETUP]`` probes the cell's body, after the setup code on its first line (like
``%%timeit``). ``-o`` returns the report as well as printing it.
"""

from typing import Any

from IPython.core.magic import Magics, line_cell_magic, magics_class

from .probing import ProbeReport, StatementError, probe_statement


def _whole(option: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{option} takes whole numbers (-w 1,2 -r 5), got {text!r}") from None


@magics_class
class GilMagics(Magics):
    @line_cell_magic
    def gil(self, line: str, cell: str | None = None) -> ProbeReport | None:
        """Probe a statement: does it release the GIL, and will threads help? (see gilkit.probe)"""
        options, code = self.parse_options(line, "w:r:o", posix=False, strict=False)
        workers = [_whole("-w", part) for part in options.get("w", "1,2").split(",") if part.strip()]
        rounds = _whole("-r", options.get("r", "5"))
        statement, setup = (cell, code) if cell is not None else (code, "")
        if not statement.strip():
            raise ValueError("%gil needs a statement to probe, e.g. %gil np.sort(a)")
        assert self.shell is not None  # a registered magic runs in a shell
        try:
            report = probe_statement(statement, setup, self.shell.user_ns, workers=workers, rounds=rounds)
        except StatementError as exc:
            print(f"%gil: {exc}")
            return None
        print(report.table())
        return report if "o" in options else None


def load_ipython_extension(ipython: Any) -> None:
    ipython.register_magics(GilMagics)
