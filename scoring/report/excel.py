"""The Excel side of the report views: a view's cell as a typed cell value with its number format, a view's table
as a bordered sheet table, its rows' emphasis and nesting as fonts and indents.

A number is written as a real number with the format its view declares (``Number.places``) — never one guessed
from the Decimal's exponent, except for a value shown as given. Layout (widths, wrapping, centring) is attached
to column keys by each workbook renderer; titles and texts come from the view.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ..io.xlsx import (
    BOLD,
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


def emphasise(ws: Worksheet, table: Table, top: int, keys: Iterable[str] | None = None) -> None:
    """Bold the strong rows (groups, totals) of a table whose header is at row ``top`` — in the columns ``keys``
    only, when given — and indent its nested rows' names."""
    bold = [table.column(k) + 1 for k in keys] if keys is not None else range(1, len(table.columns) + 1)
    name = next((j for j, c in enumerate(table.columns, start=1) if c.key == "name"), None)
    for i, row in enumerate(table.rows, start=top + 1):
        if row.strong:
            for j in bold:
                ws.cell(row=i, column=j).font = BOLD
        if row.level and name is not None:
            ws.cell(row=i, column=name).alignment = Alignment(
                indent=row.level * 2, vertical="top", wrap_text=True
            )


def letter(table: Table, key: str) -> str:
    """The sheet column letter of the column ``key`` (tables start in column A)."""
    return get_column_letter(table.column(key) + 1)
