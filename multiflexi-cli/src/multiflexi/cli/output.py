"""Writing results: tables for people, JSON or YAML for scripts; errors on stderr.

Data goes to stdout, everything else (messages, warnings, errors) to stderr.
Tables use rich only when stdout is a terminal; piped table output is plain
aligned text. JSON is indented, UTF-8, with times in ISO 8601.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import PurePath
from typing import Any

import click

#: table cells longer than this are cut (with an ellipsis); JSON and YAML are never cut
CELL_WIDTH = 60
EMPTY = "(none)"


def jsonable(value: Any) -> Any:
    """``value`` with times, paths, enums and dataclasses turned into JSON types."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value) if isinstance(value, set | frozenset) else value
        return [jsonable(v) for v in items]
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, str) and type(value) is not str:  # texts.Message and other str kinds
        return str(value)
    return value


def to_json(value: Any) -> str:
    return json.dumps(jsonable(value), indent=2, ensure_ascii=False)


def to_yaml(value: Any) -> str:
    import yaml

    text: str = yaml.safe_dump(
        jsonable(value), sort_keys=False, allow_unicode=True, default_flow_style=False
    )
    return text


def _cell(value: Any) -> str:
    value = jsonable(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else str(value)
    text = text.replace("\n", " ")
    return text if len(text) <= CELL_WIDTH else text[: CELL_WIDTH - 1] + "…"


def _rows(value: Any, columns: Sequence[str] | None) -> tuple[list[str], list[list[str]]]:
    if isinstance(value, Mapping):
        return ["key", "value"], [[str(k), _cell(v)] for k, v in value.items()]
    items = list(value)
    if not items:
        return list(columns or []), []
    if not isinstance(items[0], Mapping):
        return ["value"], [[_cell(item)] for item in items]
    keys = list(columns) if columns else list(items[0].keys())
    return keys, [[_cell(item.get(k)) for k in keys] for item in items]


def _plain_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [len(h) for h in header]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    return "\n".join(lines)


def _rich_table(header: list[str], rows: list[list[str]], title: str | None) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for name in header:
        table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(*row)
    Console().print(table)


def emit(
    fmt: str,
    value: Any,
    *,
    columns: Sequence[str] | None = None,
    title: str | None = None,
) -> None:
    """Write ``value`` (a mapping or a list of mappings) to stdout in ``fmt``.

    ``columns`` chooses and orders the table columns of a list (JSON and YAML
    always carry every key).
    """
    if fmt == "json":
        click.echo(to_json(value))
        return
    if fmt == "yaml":
        click.echo(to_yaml(value), nl=False)
        return
    if isinstance(value, list | tuple) and not value:
        click.echo(EMPTY)
        return
    if isinstance(value, str | int | float):
        click.echo(str(value))
        return
    header, rows = _rows(value, columns)
    if sys.stdout.isatty():
        _rich_table(header, rows, title)
    else:
        click.echo(_plain_table(header, rows))


def message(text: str) -> None:
    """A message for people, on stderr (never mixed into the data)."""
    click.echo(text, err=True)


def report_error(
    fmt: str,
    kind: str,
    text: str,
    code: int,
    errors: Sequence[str] = (),
    extra: Mapping[str, Any] | None = None,
) -> None:
    """An error on stderr: one line for people, a JSON (or YAML) object for scripts.

    ``extra``: further members of the object (``missing``: the required fields a
    launch lacks).
    """
    document: dict[str, Any] = {
        "status": "error",
        "kind": kind,
        "message": text,
        "errors": list(errors),
        "exit_code": code,
    }
    document.update(extra or {})
    if fmt == "json":
        click.echo(json.dumps(document, ensure_ascii=False), err=True)
    elif fmt == "yaml":
        click.echo(to_yaml(document), err=True, nl=False)
    else:
        click.echo(f"Error: {text}", err=True)
