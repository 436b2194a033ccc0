"""A demo's options, declared once: the demo function checks its arguments against them, and the command
line offers them (`gilkit demo NAME --option VALUE`) with the same limits, so the two cannot disagree."""

from dataclasses import dataclass
from typing import Literal

from .._validate import integer, positive_seconds

Kind = Literal["count", "seconds", "folder", "flag"]


class NoDisplayError(RuntimeError):
    """The Tk demo cannot open a window here: no Tk, no display."""


@dataclass(frozen=True)
class Option:
    """A keyword argument of a demo: its name, default and limits, and what --help says of it."""

    name: str
    default: int | float | str | bool | None
    help: str
    #: "count": a whole number in minimum..maximum; "seconds": a positive number up to maximum (None: the
    #: longest gilkit accepts); "folder": a path (the demo checks it); "flag": --name alone.
    kind: Kind = "count"
    minimum: int = 1
    maximum: int | None = None

    def whole(self, value: object) -> int:
        """The value as the demo's whole-number argument (TypeError/ValueError naming it)."""
        return integer(self.name, value, minimum=self.minimum, maximum=self.maximum)

    def flag(self, value: object) -> bool:
        """The value as the demo's on/off argument (TypeError naming it)."""
        if not isinstance(value, bool):
            raise TypeError(f"{self.name} must be True or False, not {type(value).__name__}")
        return value

    def seconds(self, value: object) -> float:
        """The value as the demo's duration in seconds (TypeError/ValueError naming it)."""
        if self.maximum is None:
            return positive_seconds(self.name, value)
        return positive_seconds(self.name, value, maximum=self.maximum)
