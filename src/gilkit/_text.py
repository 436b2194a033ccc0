"""Plain-text tables for the CLI and the demos, and figures made ready for JSON."""

import math
from typing import Any


def aligned(rows: list[list[str]]) -> list[str]:
    """Rows of strings (the first is the header) as left-aligned lines, a dashed rule under the header."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return lines


def json_ready(value: Any) -> Any:
    """``value`` with every float that JSON cannot hold (NaN: not measured; infinities), however deep in
    its dicts and lists (tuples become lists, as JSON has them), replaced by None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(item) for item in value]
    return value
