"""What every demo returns: a small table of what it measured, and the finding in one sentence."""

from dataclasses import dataclass
from typing import Any

from .._build import build_label
from .._text import aligned


@dataclass
class DemoResult:
    name: str
    columns: list[str]
    rows: list[list[Any]]
    finding: str

    def table(self) -> str:
        lines = aligned([self.columns] + [[_cell(value) for value in row] for row in self.rows])
        return "\n".join([f"gilkit demo {self.name} on {build_label()}", "", *lines, "", self.finding])

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "columns": self.columns, "rows": self.rows, "finding": self.finding}


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 1000 else f"{value:,.0f}"  # 35,824 requests/s, as the finding says
    return str(value)
