"""Code given as text (the CLI's and the magics' statements), compiled once into a function of no arguments."""

from collections.abc import Callable
from typing import Any


class StatementError(Exception):
    """A statement or its setup that does not compile or raises: one line says which, and why."""


def compile_statement(statement: str, setup: str = "", namespace: dict[str, Any] | None = None) -> Callable[[], None]:
    """The statement as a function of no arguments, run in ``namespace`` (a new one by default) once the
    setup has run there. A statement or setup that does not compile, or a setup that raises, raises
    StatementError with a one-line message."""
    scope: dict[str, Any] = {"__name__": "__gilkit_probe__"} if namespace is None else namespace
    code = {}
    for what, text in (("setup", setup), ("statement", statement)):
        try:
            code[what] = compile(text, f"<{what}>", "exec")
        except SyntaxError as exc:
            raise StatementError(f"the {what} does not compile: {exc.msg} (line {exc.lineno}): {text!r}") from None
    try:
        exec(code["setup"], scope)
    except Exception as exc:
        raise StatementError(f"the setup raised {type(exc).__name__}: {exc}") from None
    body = code["statement"]

    def run() -> None:
        exec(body, scope)

    return run
