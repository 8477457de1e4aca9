"""How the CLI prints things: a readable table, or JSON / YAML for scripts."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import msgspec
import yaml

FORMATS = ("table", "json", "yaml")


def emit(value: Any, fmt: str, columns: Sequence[str] = ()) -> None:
    """Print `value` (a Struct, a dict or a list of them) in the chosen format."""
    data = msgspec.to_builtins(value)
    if fmt == "json":
        sys.stdout.write(msgspec.json.format(msgspec.json.encode(data).decode()) + "\n")
    elif fmt == "yaml":
        sys.stdout.write(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    else:
        rows = data if isinstance(data, list) else [data]
        sys.stdout.write(table(rows, columns or _all_columns(rows)))


def _all_columns(rows: list[dict[str, Any]]) -> list[str]:
    return list(rows[0]) if rows else []


def table(rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ",".join(map(str, value))
    return str(value)
