"""Plain-text tables for the CLI and the demos."""


def aligned(rows: list[list[str]]) -> list[str]:
    """Rows of strings (the first is the header) as left-aligned lines, a dashed rule under the header."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return lines
