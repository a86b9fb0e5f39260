"""Print command results as an aligned table or as JSON (``-o table|json``)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import click

FORMATS = ("table", "json")


def format_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """Rows as a plain aligned table with a header line, like ``patronictl list``."""
    cells = [[("" if r.get(c) is None else str(r.get(c))) for c in columns] for r in rows]
    header = [c.upper() for c in columns]
    widths = [max(len(h), *(len(row[i]) for row in cells)) for i, h in enumerate(header)]
    line = lambda vals: "  ".join(v.ljust(w) for v, w in zip(vals, widths, strict=True)).rstrip()  # noqa: E731
    return "\n".join([line(header), *(line(row) for row in cells)])


def emit(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], fmt: str) -> None:
    """Print ``rows`` in the chosen format."""
    if fmt == "json":
        click.echo(json.dumps(list(rows), indent=2, default=str))
    else:
        click.echo(format_table(rows, columns))
