"""Excel helpers the report workbooks share: typed cells, bordered tables, widths, print setup, atomic saving.

The reports' content (titles, labels, every number's precision) comes from their views (``scoring.report``); this
module only writes cells. A number's format is given explicitly (:func:`places_format`, :func:`percent_format`,
through :class:`Fmt`); :func:`decimal_format` — the Decimal's own digits — is only for values shown as given.

Everything that can come from a submission (unit name, code, type, file names, explanations, problems, reasons)
is written through :func:`safe_text`: a cell that is text and stays text, never a formula, whatever it starts with.
Workbooks are built in memory and written with :func:`scoring.io.files.atomic_write`, so a crash never leaves half a
file.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Sequence
from copy import copy
from dataclasses import dataclass
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any, NamedTuple

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ..framework.text import fmt
from .files import atomic_write

FONT_NAME = "等线"  # the zh-CN default of Excel 2016+; WPS substitutes a CJK font if it lacks it
DATE_FORMAT = "yyyy-mm-dd"
MAX_CELL_CHARS = 32767  # Excel's limit for one cell
DASH = "—"

FONT = Font(name=FONT_NAME, size=11)
BOLD = Font(name=FONT_NAME, size=11, bold=True)
_TITLE = Font(name=FONT_NAME, size=14, bold=True)
SECTION = Font(name=FONT_NAME, size=12, bold=True)
MUTED = Font(name=FONT_NAME, size=9, color="808080")
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_THIN = Side(style="thin", color="BFBFBF")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)

# Status fills: Excel's own Good / Bad / Neutral colours, grey for what is not decided yet.
_GREEN = ("C6EFCE", "006100")
RED = ("FFC7CE", "9C0006")
_AMBER = ("FFEB9C", "9C5700")
_GREY = ("D9D9D9", "404040")
STATUS_FILLS: dict[str, tuple[str, str]] = {
    "达标": _GREEN,
    "未达标": RED,
    "部分达标": _AMBER,
    "缺报": _GREY,
    "待评": _GREY,
    "无法计算": _GREY,
}


# --------------------------------------------------------------------------------------------- cells


def cell_at(ws: Worksheet, row: int, column: int) -> Cell:
    """The cell at (row, column), to write to: never one hidden inside a merged range."""
    cell = ws.cell(row=row, column=column)
    assert isinstance(cell, Cell)
    return cell


# ILLEGAL_CHARACTERS_RE (C0 but tab, LF and CR) and the controls of scoring.problems.CONTROLS beyond C0
_UNSAFE = re.compile(
    f"{ILLEGAL_CHARACTERS_RE.pattern}|[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)


def safe_text(cell: Cell, value: object) -> Cell:
    """Write ``value`` as literal text: never a formula, never an error value, whatever it starts with.

    openpyxl turns a string starting with ``=`` into a formula and ``#N/A``-like strings into error cells; after
    assigning, the cell is forced back to a string (``data_type = "s"``) and marked ``quotePrefix`` so Excel and
    WPS keep it text even when someone edits it. Characters XML cannot hold, and the controls a reader should
    never meet in a cell (ESC, DEL, C1, the bidi controls that reorder what is shown, line and paragraph
    separators), are replaced by U+FFFD; tabs and line breaks (LF, CR) stay, as a cell may hold lines and no
    terminal shows it. The text is cut to Excel's 32,767 characters per cell.
    """
    text = "" if value is None else str(value)
    text = _UNSAFE.sub("\ufffd", text)
    if len(text) > MAX_CELL_CHARS:
        text = text[: MAX_CELL_CHARS - 1] + "…"
    cell.value = text
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell


class Fmt(NamedTuple):
    """A value with its own number format (a unit suffix, a percent)."""

    value: Any
    number_format: str


def places_format(places: int) -> str:
    """The number format showing exactly ``places`` decimals: 2 → ``0.00``, 0 → ``0``."""
    return "0." + "0" * places if places > 0 else "0"


def percent_format(places: int) -> str:
    """A ratio shown as a percentage with ``places`` decimals: 1 → ``0.0%``."""
    return places_format(places) + "%"


def decimal_format(value: Decimal) -> str:
    """A number format showing the decimal's own digits, for a value shown as given (as typed, as written in the
    framework): ``Decimal("4.20")`` → ``0.00``, ``100`` → ``0``. A computed value has a declared precision: use
    :func:`places_format` with it instead."""
    exponent = value.as_tuple().exponent
    return places_format(min(-exponent, 10) if isinstance(exponent, int) and exponent < 0 else 0)


def with_unit(number_format: str, unit: str | None) -> str:
    """The format with the unit shown after the number (``0.00" 人"``); a unit the format cannot quote is left off."""
    if not unit or '"' in unit or "\\" in unit:
        return number_format
    return f'{number_format}"{"" if unit == "%" else " "}{unit}"'


def put(cell: Cell, value: Any) -> Cell:
    """Write one value by type: Decimal and int as numbers, dates as dates, text through :func:`safe_text`."""
    number_format = None
    if isinstance(value, Fmt):
        value, number_format = value
    if value is None:
        safe_text(cell, DASH)
        cell.alignment = Alignment(horizontal="center", vertical="top")
    elif isinstance(value, bool):
        safe_text(cell, "是" if value else "否")
    elif isinstance(value, Decimal):
        if not value.is_finite():
            safe_text(cell, fmt(value))
        else:
            cell.value = value
            cell.number_format = number_format or decimal_format(value)
    elif isinstance(value, (int, float)):
        cell.value = value
        if number_format:
            cell.number_format = number_format
    elif isinstance(value, dt.datetime):
        cell.value = value
        cell.number_format = number_format or "yyyy-mm-dd hh:mm"
    elif isinstance(value, dt.date):
        cell.value = value
        cell.number_format = number_format or DATE_FORMAT
    else:
        safe_text(cell, value)
    cell.font = FONT
    return cell


# ------------------------------------------------------------------------------------- widths, tables


def text_width(text: str) -> int:
    """Display width of a line: CJK (wide and fullwidth) characters count double."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _cell_width(cell: Cell) -> int:
    value = cell.value
    if value is None:
        return 0
    if isinstance(value, (dt.date, dt.datetime)):
        return 16 if isinstance(value, dt.datetime) else 10
    if isinstance(value, (int, float, Decimal)):
        shown = cell.number_format.replace('"', "") if cell.number_format != "General" else ""
        return max(len(str(value)), text_width(shown)) + 1
    indent = int(cell.alignment.indent or 0) * 2 if cell.alignment is not None else 0
    bold = 1 if cell.font is not None and cell.font.b else 0
    return max(text_width(line) for line in str(value).split("\n")) + indent + bold


@dataclass(frozen=True)
class Col:
    """A table column: its header, width bounds (in Excel's character units) and whether it wraps."""

    title: str
    min_width: int = 6
    max_width: int = 30
    wrap: bool = False
    center: bool = False


def write_table(ws: Worksheet, top: int, cols: Sequence[Col], rows: Iterable[Sequence[Any]]) -> int:
    """Header at row ``top``, rows below, bordered. Returns the last row written.

    openpyxl hashes a style object on every assignment, which dominated report writing; so each distinct
    combination (column, number format, text or not) is styled once and its style array copied to the others.
    """
    for j, col in enumerate(cols, start=1):
        cell = cell_at(ws, row=top, column=j)
        safe_text(cell, col.title)
        cell.font = BOLD
        cell.fill = _HEADER_FILL
        cell.border = _BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    last = top
    styles: dict[tuple[Any, ...], Any] = {}
    for i, row in enumerate(rows, start=top + 1):
        last = i
        for j, (col, value) in enumerate(zip(cols, row, strict=True), start=1):
            cell = cell_at(ws, row=i, column=j)
            key = (j, _put_value(cell, value), value is None)
            style = styles.get(key)
            if style is not None:
                cell._style = copy(style)  # type: ignore[attr-defined]  # openpyxl's style array, not in the stubs
                continue
            put(cell, value)
            cell.border = _BORDER
            horizontal = "center" if col.center else (cell.alignment.horizontal if value is None else None)
            cell.alignment = Alignment(horizontal=horizontal, vertical="top", wrap_text=col.wrap or None)
            styles[key] = copy(cell._style)  # type: ignore[attr-defined]  # as above
    return last


def _put_value(cell: Cell, value: Any) -> tuple[str | None, bool]:
    """Write only the value (as :func:`put` would); return what decides its style: (number format, text)."""
    number_format = None
    if isinstance(value, Fmt):
        value, number_format = value
    if value is None:
        safe_text(cell, DASH)
        return None, True
    if isinstance(value, bool):
        safe_text(cell, "是" if value else "否")
        return None, True
    if isinstance(value, Decimal):
        if not value.is_finite():
            safe_text(cell, fmt(value))
            return None, True
        cell.value = value
        return number_format or decimal_format(value), False
    if isinstance(value, (int, float)):
        cell.value = value
        return number_format, False
    if isinstance(value, dt.datetime):
        cell.value = value
        return number_format or "yyyy-mm-dd hh:mm", False
    if isinstance(value, dt.date):
        cell.value = value
        return number_format or DATE_FORMAT, False
    safe_text(cell, value)
    return None, True


def fit_columns(ws: Worksheet, cols: Sequence[Col], *, skip_rows: Iterable[int] = ()) -> None:
    """Size each column to its widest cell (CJK counts double), within the column's bounds."""
    skip = set(skip_rows)
    widths = [col.min_width for col in cols]
    caps = [col.max_width for col in cols]
    for row in ws.iter_rows(min_row=1, max_row=ws.max_row, max_col=len(cols)):
        for j, cell in enumerate(row):
            if cell.value is None or cell.row in skip or widths[j] >= caps[j]:
                continue  # (a merged cell's value is None)
            value = cell.value
            if type(value) is str and len(value) + 2 >= caps[j] and "\n" not in value:
                widths[j] = caps[j]  # at least one column per character: as wide as the column may be
                continue
            widths[j] = max(widths[j], _cell_width(cell) + 2)
    final = [min(width, col.max_width) for col, width in zip(cols, widths, strict=True)]
    for j, width in enumerate(final, start=1):
        ws.column_dimensions[get_column_letter(j)].width = width
    # Excel, WPS and LibreOffice do not grow rows for wrapped text in a written file: set the heights here.
    wrapped = [(j, final[j]) for j, col in enumerate(cols) if col.wrap]
    if not wrapped:
        return
    for i, row in enumerate(ws.iter_rows(min_row=1, max_row=ws.max_row, max_col=len(cols)), start=1):
        if not row or i in skip:
            continue
        lines = max((_lines(row[j].value, width) for j, width in wrapped), default=1)
        if lines > 1:
            ws.row_dimensions[i].height = 15 * lines


def _lines(value: Any, width: float) -> int:
    """How many lines ``value`` wraps to in a column ``width`` characters wide (CJK counts double)."""
    if value is None:
        return 1
    per_line = max(int(width) - 1, 1)
    return sum(
        1 if 2 * len(part) <= per_line else max(1, -(-text_width(part) // per_line))
        for part in str(value).split("\n")
    )


def _header_footer_text(text: str) -> str:
    return text.replace("&", "&&")  # & starts a header/footer code


def print_setup(ws: Worksheet, *, title_rows: str | None, header: str = "") -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages down as needed
    fit = ws.sheet_properties.pageSetUpPr
    assert fit is not None  # every sheet has one (openpyxl creates it)
    fit.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.print_options.horizontalCentered = True
    if title_rows:
        ws.print_title_rows = title_rows
    top, bottom = ws.oddHeader, ws.oddFooter
    assert top is not None and bottom is not None  # every sheet has both (openpyxl creates them)
    if header:
        top.center.text = _header_footer_text(ILLEGAL_CHARACTERS_RE.sub("", header)[:100])
        top.center.font = FONT_NAME
    bottom.center.text = "第 &P 页，共 &N 页"
    bottom.center.font = FONT_NAME


def table_sheet(
    ws: Worksheet, cols: Sequence[Col], rows: Sequence[Sequence[Any]], *, top: int = 1, header: str = ""
) -> int:
    """A sheet holding one table: header at ``top``, frozen, filtered, sized and set up for printing."""
    last = write_table(ws, top, cols, rows)
    ws.freeze_panes = ws.cell(row=top + 1, column=1).coordinate
    ws.auto_filter.ref = f"A{top}:{get_column_letter(len(cols))}{max(last, top)}"
    fit_columns(ws, cols, skip_rows=range(1, top))
    print_setup(ws, title_rows=f"1:{top}", header=header)
    return last


def title_row(ws: Worksheet, text: str, width: int) -> None:
    cell = safe_text(cell_at(ws, row=1, column=1), text)
    cell.font = _TITLE
    cell.alignment = Alignment(horizontal="left", vertical="center")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws.row_dimensions[1].height = 24


def save_workbook(wb: Workbook, path: str | Path) -> Path:
    wb.properties.creator = "duping-scoring"
    buffer = BytesIO()
    wb.save(buffer)
    return atomic_write(path, buffer.getvalue())


def status_rules(ws: Worksheet, ref: str) -> None:
    """Conditional fills on a status column, so they follow sorting, filtering and edits."""
    for status, (fill, font) in STATUS_FILLS.items():
        ws.conditional_formatting.add(
            ref,
            CellIsRule(
                operator="equal",
                formula=[f'"{status}"'],
                fill=PatternFill("solid", start_color=fill, end_color=fill),
                font=Font(color=font),
            ),
        )
