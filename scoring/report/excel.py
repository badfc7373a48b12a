"""The Excel side of the report views: a view's cell as a typed cell value with its number format, a view's table
as a bordered sheet table, its rows' emphasis and nesting as fonts and indents (``scoring.io.xlsx.Sheet`` writes
them).

A number is written as a real number with the format its view declares (``Number.places``) — never one guessed
from the Decimal's exponent, except for a value shown as given. Layout (widths, wrapping, centring) is attached
to column keys by each workbook renderer; titles and texts come from the view.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from xlsxwriter.utility import xl_col_to_name  # type: ignore[import-untyped]

from ..io.xlsx import (
    Col,
    Fmt,
    decimal_format,
    percent_format,
    places_format,
    with_unit,
)
from .blocks import Cell, Lines, Number, Table, number_text


def number_format(n: Number) -> str:
    """The Excel number format of a view's number: its declared decimals (or its own, shown as given), its unit."""
    if n.percent:
        return percent_format(n.places or 0)
    base = places_format(n.places) if n.places is not None else decimal_format(n.value)
    return with_unit(base, n.unit)


def excel_value(cell: Cell) -> Any:
    """A view's cell as :func:`scoring.io.xlsx.put` writes it: a number with its format, lines one per line."""
    if isinstance(cell, Number):
        return Fmt(cell.value, number_format(cell)) if cell.value.is_finite() else number_text(cell)
    if isinstance(cell, Lines):
        return "\n".join(cell.items)
    return cell


def sheet_columns(table: Table, layout: Mapping[str, Col] | None = None) -> list[Col]:
    """The table's columns as sheet columns: the view's titles with the renderer's layout for their keys
    (a column without one wraps, at the default widths)."""
    layout = layout or {}
    return [
        replace(layout[c.key], title=c.title) if c.key in layout else Col(c.title, wrap=True)
        for c in table.columns
    ]


def sheet_rows(table: Table, empty_at: str | None = None) -> list[list[Any]]:
    """The table's rows as cell values; without rows, one row holding the table's ``empty`` text in the column
    ``empty_at`` (a key), when given."""
    if not table.rows and empty_at is not None and table.empty:
        at = table.column(empty_at)
        return [[table.empty if j == at else None for j in range(len(table.columns))]]
    return [[excel_value(cell) for cell in row.cells] for row in table.rows]


def row_styles(table: Table) -> list[tuple[bool, int]]:
    """Per row of the table, (strong, level): groups and totals bold, nested rows' names indented (by
    :meth:`scoring.io.xlsx.Sheet.table`)."""
    return [(row.strong, row.level) for row in table.rows]


def name_column(table: Table) -> int | None:
    """The sheet column (1-based) of the table's ``name`` column, which nested rows indent."""
    return next((j for j, c in enumerate(table.columns, start=1) if c.key == "name"), None)


def bold_columns(table: Table, keys: Iterable[str]) -> list[int]:
    """The sheet columns (1-based) of ``keys``: where a strong row is bold."""
    return [table.column(k) + 1 for k in keys]


def letter(table: Table, key: str) -> str:
    """The sheet column letter of the column ``key`` (tables start in column A)."""
    name: str = xl_col_to_name(table.column(key))
    return name
