"""What every demo returns: a small table of what it measured, and the finding in one sentence."""

from dataclasses import dataclass

from .._build import build_label
from .._text import aligned


@dataclass
class DemoResult:
    name: str
    columns: list
    rows: list
    finding: str

    def table(self):
        lines = aligned([self.columns] + [[_cell(value) for value in row] for row in self.rows])
        return "\n".join([f"gilkit demo {self.name} on {build_label()}", "", *lines, "", self.finding])

    def as_dict(self):
        return {"name": self.name, "columns": self.columns, "rows": self.rows, "finding": self.finding}


def _cell(value):
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 1000 else f"{value:.4g}"
    return str(value)
