"""Excel helpers the report workbooks share: typed cells, bordered tables, widths, print setup, atomic saving.

The report workbooks are written with XlsxWriter (docs/print.md: chosen by measurement, 2.3× less CPU than openpyxl
for a unit report, with native charts, conditional formats and every print setting); the 自评表 template
(``io/template.py``, ``io/fill.py``) stays on openpyxl, which it needs for data validation and sheet protection, and
uses :func:`cell_at` and :func:`safe_text` from here.

The reports' content (titles, labels, every number's precision) comes from their views (``scoring.report``); this
module only writes cells. A number's format is given explicitly (:func:`places_format`, :func:`percent_format`,
through :class:`Fmt`); :func:`decimal_format` — the Decimal's own digits — is only for values shown as given.

Everything that can come from a submission (unit name, code, type, file names, explanations, problems, reasons)
is written as a string cell (``write_string``: never a formula, whatever it starts with), marked quote-prefixed so
Excel and WPS keep it text when someone edits it, after :func:`clean_text`. Workbooks are built in memory and
written with :func:`scoring.io.files.atomic_write`, so a crash never leaves half a file.

**Print.** Every sheet prints on A4 landscape, fitted to the page's width, with margins that hold the page header
and footer (:data:`PAGE`). Column widths are kept within what the page holds at 9 pt type or more
(:meth:`Sheet.finish` narrows the wrapping columns when the sheet is wider), every row's height is set (so the
page breaks can be computed here, not guessed by each application), and :meth:`Sheet.paginate` puts manual breaks
where a block (a chart, a section with its title) would be cut, or where the last page would hold a line or two.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any, NamedTuple

import xlsxwriter  # type: ignore[import-untyped]  # no py.typed marker; its objects are used as Any here
import xlsxwriter.worksheet  # type: ignore[import-untyped]
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.worksheet.worksheet import Worksheet

from ..framework.text import fmt
from .files import atomic_write

FONT_NAME = (
    "等线"  # the zh-CN default of Excel 2016+; WPS and LibreOffice substitute a CJK font if they lack it
)
DATE_FORMAT = "yyyy-mm-dd"
MAX_CELL_CHARS = 32767  # Excel's limit for one cell
DASH = "—"
CREATOR = "duping-scoring"

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
HEADER_FILL = "DDEBF7"
BORDER_COLOR = "BFBFBF"


# --------------------------------------------------------------------------------------------- text


# ILLEGAL_CHARACTERS_RE (C0 but tab, LF and CR) and the controls of scoring.problems.CONTROLS beyond C0
_UNSAFE = re.compile(
    f"{ILLEGAL_CHARACTERS_RE.pattern}|[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)


def clean_text(value: object) -> str:
    """``value`` as the text a cell may hold: characters XML cannot hold, and the controls a reader should never
    meet in a cell (ESC, DEL, C1, the bidi controls that reorder what is shown, line and paragraph separators),
    replaced by U+FFFD; tabs and line breaks (LF, CR) kept; cut to Excel's 32,767 characters per cell."""
    text = "" if value is None else str(value)
    text = _UNSAFE.sub("\ufffd", text)
    if len(text) > MAX_CELL_CHARS:
        text = text[: MAX_CELL_CHARS - 1] + "…"
    return text


def cell_at(ws: Worksheet, row: int, column: int) -> Cell:
    """The openpyxl cell at (row, column), to write to: never one hidden inside a merged range."""
    cell = ws.cell(row=row, column=column)
    assert isinstance(cell, Cell)
    return cell


def safe_text(cell: Cell, value: object) -> Cell:
    """Write ``value`` into an openpyxl cell as literal text (the template's cells): never a formula, never an
    error value, whatever it starts with — the cell forced back to a string and marked ``quotePrefix``; the text
    through :func:`clean_text`."""
    cell.value = clean_text(value)
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


class _Widths(dict[str, int]):
    """Each character's display width, looked up once: CJK (wide and fullwidth) 2, others 1."""

    def __missing__(self, ch: str) -> int:
        width = self[ch] = 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
        return width


_WIDTHS = _Widths()


def text_width(text: str) -> int:
    """Display width of a line: CJK (wide and fullwidth) characters count double."""
    if text.isascii():
        return len(text)
    return sum(map(_WIDTHS.__getitem__, text))


# --------------------------------------------------------------------------------------------- styles


@dataclass(frozen=True, slots=True)
class Style:
    """A cell's look; each distinct one becomes one XlsxWriter format (cached per workbook)."""

    bold: bool = False
    size: int = 11
    color: str | None = None
    fill: str | None = None
    wrap: bool = False
    align: str | None = None
    valign: str | None = "top"
    indent: int = 0
    border: bool = False
    number_format: str | None = None
    text: bool = False  # a text cell: quote-prefixed, so an edit keeps it text


BODY = Style()
BOLD = Style(bold=True)
TITLE = Style(bold=True, size=14, valign="vcenter")
SECTION = Style(bold=True, size=12)
MUTED = Style(size=9, color="808080")
HEAD = Style(bold=True, fill=HEADER_FILL, border=True, align="center", valign="vcenter", wrap=True)


@dataclass(frozen=True)
class Col:
    """A table column: its header, width bounds (in Excel's character units) and whether it wraps."""

    title: str
    min_width: int = 6
    max_width: int = 30
    wrap: bool = False
    center: bool = False


# --------------------------------------------------------------------------------------------- the page


@dataclass(frozen=True)
class Page:
    """A4 landscape and its margins, in points; the header and footer sit in the margins, clear of the body."""

    width: float = 842.0
    height: float = 595.0
    left: float = 0.5 * 72
    right: float = 0.5 * 72
    top: float = 0.8 * 72
    bottom: float = 0.8 * 72
    header: float = 0.3 * 72  # from the paper's edge to the header's line; the body starts at ``top``
    footer: float = 0.3 * 72
    min_scale: float = 9 / 11  # fitted to the width, 11 pt type prints at 9 pt or more

    @property
    def body_width(self) -> float:
        return self.width - self.left - self.right

    @property
    def body_height(self) -> float:
        return self.height - self.top - self.bottom


PAGE = Page()
LINE = 15.0  # points for a row of one line of 11 pt text, as Excel's default row
WRAPPED_LINE = 16.0  # points per line of a wrapped row: a CJK font's lines are taller (LibreOffice's, WPS's)
_SLACK = 1.06  # heights are estimated this much larger: applications differ a little
# … and widths this much: LibreOffice (with Carlito for Calibri, the workbook's default font) prints a sheet about
# 15 % wider than 7 px a character makes it
_WIDE = 1.2
_WRAP_SLACK = 1.1


def column_points(width: float) -> float:
    """A column ``width`` characters wide in points (Excel: 7 px per character plus 5 px padding at 96 dpi)."""
    return (int(width * 7 + 0.5) + 5) * 0.75 if width > 0 else 0.0


def max_columns_width(page: Page = PAGE) -> float:
    """The widest sheet (in points) that fits the page's width at ``page.min_scale`` or more."""
    return page.body_width / page.min_scale / _WIDE


def _lines(value: Any, width: float) -> int:
    """How many lines ``value`` wraps to in a column ``width`` characters wide (CJK counts double). A CJK
    character prints a little wider than two digits, and a line breaks before a character that does not fit
    whole: a line holds ``(width - 1) / 1.1`` digits' widths."""
    if value is None:
        return 1
    per_line = max((width - 1) / _WRAP_SLACK, 1.0)
    return sum(
        1 if 2 * len(part) <= per_line else max(1, math.ceil(text_width(part) / per_line))
        for part in str(value).split("\n")
    )


@lru_cache(maxsize=256)
def _format_width(number_format: str) -> int:
    return text_width(number_format.replace('"', ""))


def _header_footer_text(text: str) -> str:
    return clean_text(text).replace("&", "&&")[:100]  # & starts a header/footer code


# --------------------------------------------------------------------------------------------- workbook


class _Worksheet(xlsxwriter.worksheet.Worksheet):  # type: ignore[misc]  # untyped base
    """XlsxWriter's worksheet, but a formula without a function call (our conditional formats compare with a
    constant, ``"达标"``) is not run through the ~150 regular expressions that rename Excel's newer functions:
    that pass cost about 0.2 ms a rule, a quarter of saving a unit report (docs/print.md)."""

    def _prepare_formula(self, formula: str, expand_future_functions: bool = False) -> str:
        if "(" in formula:
            prepared: str = super()._prepare_formula(formula, expand_future_functions)
            return prepared
        if formula.startswith("{"):
            formula = formula[1:]
        if formula.startswith("="):
            formula = formula[1:]
        return formula[:-1] if formula.endswith("}") else formula


class Book:
    """An XlsxWriter workbook built in memory; one format per distinct :class:`Style`."""

    def __init__(self) -> None:
        self.buffer = BytesIO()
        self.wb: Any = xlsxwriter.Workbook(
            self.buffer,
            {
                "in_memory": True,
                "strings_to_formulas": False,  # text is never taken for a formula …
                "strings_to_urls": False,  # … a link …
                "strings_to_numbers": False,  # … or a number
            },
        )
        self.wb.set_properties({"author": CREATOR})
        self._formats: dict[Style, Any] = {}
        self._cells: dict[tuple[Style, str | None, bool], Any] = {}
        self._dxf: dict[tuple[str, str | None], Any] = {}
        self.sheets: list[Sheet] = []

    def format(self, style: Style) -> Any:
        f = self._formats.get(style)
        if f is None:
            props: dict[str, Any] = {"font_name": FONT_NAME, "font_size": style.size}
            if style.bold:
                props["bold"] = True
            if style.color:
                props["font_color"] = "#" + style.color
            if style.fill:
                props.update(pattern=1, bg_color="#" + style.fill)
            if style.wrap:
                props["text_wrap"] = True
            if style.align:
                props["align"] = style.align
            if style.valign:
                props["valign"] = style.valign
            if style.indent:
                props["indent"] = style.indent
            if style.border:
                props.update(border=1, border_color="#" + BORDER_COLOR)
            if style.number_format:
                props["num_format"] = style.number_format
            if style.text:
                props["quote_prefix"] = True
            f = self._formats[style] = self.wb.add_format(props)
        return f

    def cell_format(self, style: Style, number_format: str | None, text: bool = False) -> Any:
        """The format of a cell in ``style`` with ``number_format`` (a text cell: quote-prefixed)."""
        key = (style, number_format, text)
        f = self._cells.get(key)
        if f is None:
            f = self._cells[key] = self.format(replace(style, number_format=number_format, text=text))
        return f

    def fill(self, fill: str, font: str | None = None) -> Any:
        """A conditional format's look: a solid fill (and a font colour)."""
        key = (fill, font)
        f = self._dxf.get(key)
        if f is None:
            props = {"pattern": 1, "bg_color": "#" + fill, "fg_color": "#" + fill}
            if font:
                props["font_color"] = "#" + font
            f = self._dxf[key] = self.wb.add_format(props)
        return f

    def sheet(self, name: str) -> Sheet:
        sheet = Sheet(self, self.wb.add_worksheet(name, worksheet_class=_Worksheet))
        self.sheets.append(sheet)
        return sheet

    def chart(self, kind: str) -> Any:
        return self.wb.add_chart({"type": kind})

    def data(self) -> bytes:
        """The workbook's bytes (the workbook is closed)."""
        self.wb.close()
        return self.buffer.getvalue()

    def save(self, path: str | Path) -> Path:
        return atomic_write(path, self.data())


@dataclass
class _Block:
    first: int  # rows (1-based), inclusive
    last: int
    extra: float = 0.0  # points a drawing needs beyond its rows' heights


@dataclass
class Sheet:
    """One worksheet: cells written by type and style, widths measured as they are written (CJK counts double),
    wrapped rows' heights and the page breaks set when the sheet is finished. Rows and columns count from 1."""

    book: Book
    ws: Any
    widths: dict[int, int] = field(default_factory=dict)  # measured, per column
    chars: dict[int, int] = field(
        default_factory=dict
    )  # the longest one-line text, in characters, per column
    wrapped: dict[int, list[tuple[int, str]]] = field(
        default_factory=dict
    )  # per row: (column, text) that wraps
    heights: dict[int, float] = field(default_factory=dict)  # rows given a height of their own
    last_row: int = 0
    blocks: list[_Block] = field(default_factory=list)
    repeat: tuple[int, int] | None = None  # rows printed on every page
    first_printed: int = 1
    caps: dict[int, int] = field(default_factory=dict)  # the widest each column may be (:meth:`layout`)
    _centre: dict[Style, Style] = field(default_factory=dict)
    columns: int = 0  # the columns sized by :meth:`finish`
    columns_width: float = 0.0  # their width, in points

    # ----------------------------------------------------------------------------------- cells

    def layout(self, cols: Sequence[Col]) -> None:
        """The columns' width bounds, before writing: a cell in a column already as wide as it may be is not
        measured (nor is a one-line text at least as long as that), so sizing costs nothing once a column is
        full. The first layout given for a column holds."""
        for j, col in enumerate(cols, start=1):
            if j not in self.caps:
                self.caps[j] = col.max_width
                self.widths[j] = col.min_width

    def put(self, row: int, column: int, value: Any, style: Style = BODY, *, measure: bool = True) -> None:
        """Write one value by type: Decimal and int as numbers, dates as dates, None as —, text as text."""
        number_format = None
        if isinstance(value, Fmt):
            value, number_format = value
        if row > self.last_row:
            self.last_row = row
        if value is None:
            value = DASH
            if style.align is None:
                style = self._centred(style)
        kind = type(value)
        if kind is str:
            self.text(row, column, value, style, measure=measure)
            return
        if kind is bool:
            self.text(row, column, "是" if value else "否", style, measure=measure)
            return
        if isinstance(value, Decimal):
            if not value.is_finite():
                self.text(row, column, fmt(value), style, measure=measure)
                return
            number_format = number_format or decimal_format(value)
        elif isinstance(value, dt.datetime):
            number_format = number_format or "yyyy-mm-dd hh:mm"
        elif isinstance(value, dt.date):
            number_format = number_format or DATE_FORMAT
        elif not isinstance(value, (int, float)):
            self.text(row, column, value, style, measure=measure)
            return
        self._number(row, column, value, style, number_format, measure)

    def _number(
        self, row: int, column: int, value: Any, style: Style, number_format: str | None, measure: bool
    ) -> None:
        """A number or a date, in its format."""
        cell_format = self.book.cell_format(style, number_format)
        if isinstance(value, dt.date):
            self.ws.write_datetime(row - 1, column - 1, value, cell_format)
            width = 16 if isinstance(value, dt.datetime) else 10
        else:
            self.ws.write_number(row - 1, column - 1, value, cell_format)
            width = len(str(value)) + 1
            if number_format:
                width = max(width, _format_width(number_format) + 1)
        full = column in self.caps and self.widths[column] >= self.caps[column]
        if measure and not full and width + 2 > self.widths.get(column, 0):
            self.widths[column] = width + 2

    def _centred(self, style: Style) -> Style:
        centred = self._centre.get(style)
        if centred is None:
            centred = self._centre[style] = replace(style, align="center")
        return centred

    def text(
        self, row: int, column: int, value: object, style: Style = BODY, *, measure: bool = True
    ) -> None:
        """Write ``value`` as literal text (:func:`clean_text`): a string cell, quote-prefixed."""
        text = clean_text(value)
        if row > self.last_row:
            self.last_row = row
        if not text:  # left empty, to be filled in
            self.ws.write_blank(row - 1, column - 1, None, self.book.cell_format(style, None))
            return
        self.ws.write_string(row - 1, column - 1, text, self.book.cell_format(style, None, text=True))
        if style.wrap:
            self.wrapped.setdefault(row, []).append((column, text))
        if measure:
            self._measure_text(column, text, style)

    def _measure_text(self, column: int, text: str, style: Style) -> None:
        width = self.widths.get(column, 0)
        cap = self.caps.get(column)
        if cap is not None:
            if width >= cap:
                return
            if len(text) + 2 >= cap and "\n" not in text:
                self.widths[column] = cap  # one column per character at least: as wide as the column may be
                return
        shown = max(map(text_width, text.split("\n"))) if "\n" in text else text_width(text)
        shown += style.indent * 2 + (1 if style.bold else 0) + 2
        if shown > width:
            self.widths[column] = shown

    def title(self, text: str, columns: int) -> None:
        """The sheet's title in row 1, across ``columns`` columns (shown on screen; print shows it in the header)."""
        title = self.book.cell_format(TITLE, None, text=True)
        if columns > 1:
            self.ws.merge_range(0, 0, 0, columns - 1, clean_text(text), title)
        else:
            self.ws.write_string(0, 0, clean_text(text), title)
        self.heights[1] = 24
        self.last_row = max(self.last_row, 1)

    def table(
        self,
        top: int,
        cols: Sequence[Col],
        rows: Iterable[Sequence[Any]],
        styles: Sequence[tuple[bool, int]] | None = None,
        *,
        bold_columns: Sequence[int] | None = None,
        indent_column: int | None = None,
    ) -> int:
        """Header at row ``top``, rows below, bordered; returns the last row written.

        ``styles``: per row, (strong, level): a strong row's cells bold (in ``bold_columns`` only, when given),
        a nested row's ``indent_column`` indented by its level.
        """
        self.layout(cols)
        for j, col in enumerate(cols, start=1):
            self.text(top, j, col.title, HEAD)
        last = top
        plain = [Style(border=True, wrap=col.wrap, align="center" if col.center else None) for col in cols]
        bold = [
            replace(style, bold=True) if bold_columns is None or j in bold_columns else style
            for j, style in enumerate(plain, start=1)
        ]
        nested: dict[tuple[bool, int], Style] = {}
        for i, row in enumerate(rows):
            last = top + 1 + i
            strong, level = styles[i] if styles is not None else (False, 0)
            cells = bold if strong else plain
            for j, (style, value) in enumerate(zip(cells, row, strict=True), start=1):
                if level and j == indent_column:
                    key = (strong, level)
                    style = nested.get(key) or nested.setdefault(
                        key, replace(style, indent=level * 2, wrap=True)
                    )
                self.put(last, j, value, style)
        return last

    # ----------------------------------------------------------------------------------- layout

    def keep(self, first: int, last: int, extra: float = 0.0) -> None:
        """Rows ``first``–``last`` (and a drawing ``extra`` points tall below them) print on one page when they
        can: a page break goes before them rather than through them."""
        self.blocks.append(_Block(first, last, extra))

    def finish(self, cols: Sequence[Col]) -> list[float]:
        """Size each column to its widest cell within the column's bounds, narrow the wrapping columns until the
        sheet fits the page's width at 9 pt or more, and set every row's height (wrapped text grows its row:
        Excel, WPS and LibreOffice do not grow rows for wrapped text in a written file). Cells written with
        ``measure=False`` (titles, notes that overflow into empty cells) size nothing. Returns the widths."""
        final: list[float] = [
            min(max(self.widths.get(j, col.min_width), col.min_width), col.max_width)
            for j, col in enumerate(cols, start=1)
        ]
        final = _fit_width(final, cols)
        for j, size in enumerate(final):
            self.ws.set_column(j, j, size)
        for row in range(1, self.last_row + 1):
            height = self.heights.get(row)
            if height is None:
                lines = max(
                    (_lines(text, final[j - 1]) for j, text in self.wrapped.get(row, ()) if j <= len(final)),
                    default=1,
                )
                height = LINE if lines == 1 else WRAPPED_LINE * lines
                self.heights[row] = height
            self.ws.set_row(row - 1, height)
        self.columns = len(final)
        self.columns_width = sum(column_points(w) for w in final)
        return final

    def print_setup(self, *, header: str = "", repeat: tuple[int, int] | None = None, first: int = 1) -> None:
        """A4 landscape, fitted to the page's width, margins that hold the header (``header``, the title: printed
        once, so a title row on the sheet is left out of print — ``first``, the first row printed) and the footer
        (page numbers); ``repeat``: the rows printed on every page (a table's header)."""
        ws = self.ws
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)  # as many pages down as needed
        p = PAGE
        ws.set_margins(left=p.left / 72, right=p.right / 72, top=p.top / 72, bottom=p.bottom / 72)
        ws.center_horizontally()
        font = f'&"{FONT_NAME},Regular"&10'
        if header:
            ws.set_header(f"&C{font}{_header_footer_text(header)}", {"margin": p.header / 72})
        ws.set_footer(f"&C{font}第 &P 页，共 &N 页", {"margin": p.footer / 72})
        if repeat:
            ws.repeat_rows(repeat[0] - 1, repeat[1] - 1)
        self.repeat, self.first_printed = repeat, first
        if first > 1:
            ws.print_area(first - 1, 0, max(self.last_row, first) - 1, max(self.columns, 1) - 1)

    def paginate(self, min_rows: int = 3) -> list[int]:
        """Manual page breaks: before a kept block that would be cut and fits on a page, and so that the last page
        holds ``min_rows`` rows or more (a widow line moves with the rows before it). Call after :meth:`finish`
        and :meth:`print_setup`. Returns the breaks (the rows that start a page)."""
        # the largest scale the application may print at (its columns may print wider than estimated, never
        # narrower): so a page holds at least the rows counted here, and no automatic break comes before ours
        scale = min(1.0, PAGE.body_width / (self.columns_width or 1.0))
        capacity = PAGE.body_height / scale / _SLACK
        repeated = 0.0
        if self.repeat:
            repeated = sum(self.heights.get(r, LINE) for r in range(self.repeat[0], self.repeat[1] + 1))
        capacity -= repeated
        first = self.first_printed
        rows = list(range(first, self.last_row + 1))
        if self.repeat:
            rows = [r for r in rows if not (self.repeat[0] <= r <= self.repeat[1])]
        starts = {b.first: b for b in self.blocks}
        breaks: list[int] = []
        used = 0.0
        page_rows: list[list[int]] = [[]]
        i = 0
        while i < len(rows):
            r = rows[i]
            block = starts.get(r)
            if block is not None and used > 0:
                need = (
                    sum(self.heights.get(x, LINE) for x in range(block.first, block.last + 1)) + block.extra
                )
                if used + need > capacity and need <= capacity:
                    breaks.append(r)
                    page_rows.append([])
                    used = 0.0
            h = self.heights.get(r, LINE)
            if used + h > capacity and used > 0:
                breaks.append(r)
                page_rows.append([])
                used = 0.0
            used += h
            page_rows[-1].append(r)
            i += 1
        if len(page_rows) > 1 and 0 < len(page_rows[-1]) < min_rows:
            prev = page_rows[-2]
            move = min(min_rows - len(page_rows[-1]), len(prev) - 1)
            if move > 0:
                breaks[-1] = prev[-move]
        if breaks:
            self.ws.set_h_pagebreaks([b - 1 for b in breaks])
        return breaks


def _fit_width(widths: list[float], cols: Sequence[Col]) -> list[float]:
    """Narrow the wrapping columns (the widest first, never below their minimum) until the sheet fits the page's
    width at ``PAGE.min_scale`` or more."""
    budget = max_columns_width()
    widths = list(widths)
    while sum(column_points(w) for w in widths) > budget:
        candidates = [j for j, col in enumerate(cols) if col.wrap and widths[j] > col.min_width]
        if not candidates:
            break
        j = max(candidates, key=lambda k: widths[k])
        widths[j] = max(cols[j].min_width, widths[j] - 1)
    return widths


def status_rules(sheet: Sheet, ref: str) -> None:
    """Conditional fills on a status column, so they follow sorting, filtering and edits."""
    for status, (fill, font) in STATUS_FILLS.items():
        sheet.ws.conditional_format(
            ref,
            {"type": "cell", "criteria": "==", "value": f'"{status}"', "format": sheet.book.fill(fill, font)},
        )


def equal_fill(sheet: Sheet, ref: str, text: str, fill: str) -> None:
    """A conditional fill on the cells of ``ref`` equal to ``text``."""
    sheet.ws.conditional_format(
        ref, {"type": "cell", "criteria": "==", "value": f'"{text}"', "format": sheet.book.fill(fill)}
    )


def table_sheet(
    sheet: Sheet,
    cols: Sequence[Col],
    rows: Sequence[Sequence[Any]],
    *,
    top: int = 1,
    header: str = "",
    styles: Sequence[tuple[bool, int]] | None = None,
    min_height: float = 0.0,
) -> int:
    """A sheet holding one table: header at ``top``, frozen, filtered, sized and set up for printing (the rows
    above ``top``, a title, are shown on screen and left out of print: the page header says it).
    ``min_height``: each body row at least this tall (room to write by hand)."""
    last = sheet.table(top, cols, rows, styles)
    sheet.ws.freeze_panes(top, 0)
    sheet.ws.autofilter(top - 1, 0, max(last, top) - 1, len(cols) - 1)
    sheet.finish(cols)
    if min_height:
        for r in range(top + 1, last + 1):
            if sheet.heights.get(r, 0) < min_height:
                sheet.heights[r] = min_height
                sheet.ws.set_row(r - 1, min_height)
    sheet.print_setup(header=header, repeat=(top, top), first=top)
    sheet.paginate()
    return last
