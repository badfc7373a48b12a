"""Excel renderer of the unit report view: 汇总 (facts, the first-level table with a native bar chart, the summary's
sections), 指标得分 and 整改清单 — real numbers and dates in the cells, conditional fills on the statuses, filters,
frozen headers, A4 landscape. Every text and number format comes from ``report.unit_view``; this module decides
sheets, widths, styles and pages only.

Printed: the title once (the page header; the sheet's title row is for the screen), the chart never across a page
break (it starts a page when it would be cut), a section never cut from its title, the closing version line with
the section before it; 整改清单 is hidden when there is nothing to rectify (a page holding one line).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..engine.result import Result
from ..io.xlsx import (
    BODY,
    FONT_NAME,
    MUTED,
    RED,
    SECTION,
    Book,
    Col,
    Sheet,
    Style,
    equal_fill,
    status_rules,
    table_sheet,
)
from . import blocks
from .excel import bold_columns, excel_value, letter, name_column, row_styles, sheet_columns, sheet_rows
from .unit_view import UnitView, unit_view

# Sheet names: a renderer's choice (Excel limits them to 31 characters, some characters excluded).
SUMMARY, INDICATORS, RECTIFICATION = "汇总", "指标得分", "整改清单"

# The 汇总 sheet is a list of facts, then small tables, all in columns A–F: one set of widths serves them all.
_SUMMARY_COLS = [
    Col("", 12, 18, wrap=True),
    Col("", 12, 34, wrap=True),
    Col("", 8, 40, wrap=True),
    Col("", 8, 30, wrap=True),
    Col("", 8, 40, wrap=True),
    Col("", 6, 16, wrap=True),
]

# Column layout by column key (titles come from the view).
_INDICATOR_LAYOUT = {
    "code": Col("", 6, 12),
    "name": Col("", 10, 36, wrap=True),
    "status": Col("", 6, 10, center=True),
    "value": Col("", 6, 14),
    "standard": Col("", 6, 18, wrap=True),
    "points": Col("", 6, 10),
    "possible": Col("", 6, 10),
    "explanation": Col("", 20, 70, wrap=True),
}
_GROUP_BOLD = ("code", "name", "points", "possible")  # a group row's bold cells: its name and its points
_RECTIFICATION_LAYOUT = {
    "no": Col("", 5, 6, center=True),
    "code": Col("", 8, 12),
    "name": Col("", 10, 24, wrap=True),
    "problem": Col("", 16, 40, wrap=True),
    "requirement": Col("", 16, 40, wrap=True),
    "basis": Col("", 10, 28, wrap=True),
    "owner": Col("", 8, 14, wrap=True),
    "deadline": Col("", 12, 13, center=True),  # a date, with room for a printer's wider digits
    "priority": Col("", 6, 8, center=True),
    "recoverable": Col("", 10, 12),
}
_CHART_ROWS = 18  # the rows an 8 cm chart covers at the default row height, plus a gap
_CHART_SIZE = (680, 302)  # 18 × 8 cm at 96 dpi
_CHART_POINTS = _CHART_SIZE[1] * 0.75
_WRAP = Style(wrap=True)


def _font(size: int = 9, bold: bool = False) -> dict[str, Any]:
    return {"name": FONT_NAME, "size": size, "bold": bold}


def _add_chart(sheet: Sheet, view: UnitView, top: int, at: int) -> None:
    """The native bar chart of the first-level table, whose header is at row ``top``, anchored at row ``at``."""
    spec, table = view.chart, view.overview
    assert spec is not None
    chart = sheet.book.chart("column")
    last = top + len(table.rows)  # rows count from 1 here, from 0 in the ranges below
    for n, key in enumerate(spec.series):
        series: dict[str, Any] = {
            "name": f"='{SUMMARY}'!{letter(table, key)}{top}",
            "values": f"='{SUMMARY}'!${letter(table, key)}${top + 1}:${letter(table, key)}${last}",
            "categories": f"='{SUMMARY}'!${letter(table, spec.category)}${top + 1}:${letter(table, spec.category)}${last}",
            "fill": {"color": "#4472C4" if n == 0 else "#BFBFBF"},
            "gap": 80,
        }
        if n == 0:
            series["data_labels"] = {"value": True, "font": _font()}
        chart.add_series(series)
    chart.set_title({"name": spec.title, "name_font": _font(12, bold=True)})
    chart.set_y_axis({"name": spec.axis, "min": 0, "num_font": _font(), "name_font": _font()})
    chart.set_x_axis({"num_font": _font()})
    chart.set_legend({"position": "bottom", "font": _font()})
    chart.set_size({"width": _CHART_SIZE[0], "height": _CHART_SIZE[1]})
    sheet.ws.insert_chart(at - 1, 0, chart)


def _facts(sheet: Sheet, facts: tuple[blocks.Fact, ...], row: int) -> int:
    """Label, value and remark, one fact a row from ``row``; returns the row after the last."""
    for fact in facts:
        sheet.text(row, 1, fact.label, Style(bold=True, wrap=True))
        sheet.put(row, 2, excel_value(fact.value), Style(bold=fact.strong, wrap=True, align="left"))
        if fact.note:
            sheet.put(row, 3, fact.note, _WRAP)
        row += 1
    return row


def _section(sheet: Sheet, table: blocks.Table, row: int) -> int:
    """A section of the 汇总 sheet: its title, then its table or its empty text; returns the next free row."""
    sheet.text(row, 1, table.title, SECTION, measure=False)
    first = row
    row += 1
    if not table.rows:
        sheet.text(row, 1, table.empty, BODY)
        sheet.keep(first, row)
        return row + 2
    last = sheet.table(row, sheet_columns(table), sheet_rows(table), row_styles(table))
    sheet.keep(first, last)
    return last + 2


def _summary_sheet(sheet: Sheet, view: UnitView) -> None:
    sheet.layout(_SUMMARY_COLS)  # one set of widths serves the facts and every table
    sheet.title(view.title, len(_SUMMARY_COLS))
    row = _facts(sheet, view.facts, 3) + 1

    # First-level indicators, and the native chart drawn from their cells.
    table = view.overview
    sheet.text(row, 1, table.title, SECTION, measure=False)
    top = row + 1
    row = sheet.table(top, sheet_columns(table), sheet_rows(table))
    if table.rows:
        status = letter(table, "status")
        status_rules(sheet, f"{status}{top + 1}:{status}{row}")
    sheet.keep(top - 1, row)
    row += 2
    if view.chart is not None and table.rows:
        _add_chart(sheet, view, top, row)
        sheet.keep(row, row, extra=_CHART_POINTS)
        row += _CHART_ROWS
    else:
        sheet.text(row, 1, table.empty, MUTED, measure=False)
        row += 2

    for section in view.sections:
        row = _section(sheet, section, row)
    sheet.text(row, 1, view.footer, MUTED, measure=False)
    if sheet.blocks:  # the closing line prints with the section before it
        sheet.blocks[-1].last = row
    sheet.finish(_SUMMARY_COLS)
    sheet.ws.freeze_panes(1, 0)
    sheet.print_setup(header=view.title, first=2)
    sheet.paginate()


def _indicator_sheet(sheet: Sheet, view: UnitView) -> None:
    table = view.indicators
    cols = sheet_columns(table, _INDICATOR_LAYOUT)
    last = sheet.table(
        1,
        cols,
        sheet_rows(table),
        row_styles(table),
        bold_columns=bold_columns(table, _GROUP_BOLD),
        indent_column=name_column(table),
    )
    if table.rows:
        status = letter(table, "status")
        status_rules(sheet, f"{status}2:{status}{last}")
    sheet.ws.freeze_panes(1, table.column("status"))  # code and name stay in view
    sheet.ws.autofilter(0, 0, max(last, 1) - 1, len(cols) - 1)
    sheet.finish(cols)
    sheet.print_setup(header=table.caption, repeat=(1, 1))
    sheet.paginate()


def _rectification_sheet(sheet: Sheet, view: UnitView) -> None:
    table = view.rectification
    cols = sheet_columns(table, _RECTIFICATION_LAYOUT)
    last = table_sheet(sheet, cols, sheet_rows(table, empty_at="problem"), header=table.caption)
    priority = letter(table, "priority")
    equal_fill(sheet, f"{priority}2:{priority}{last}", "高", RED[0])
    if not table.rows:
        sheet.ws.hide()  # its one line ("无需整改。") would print a page of its own


def view_book(view: UnitView) -> Book:
    """The workbook of a unit report view, in memory (「汇总」, 「指标得分」, 「整改清单」)."""
    book = Book()
    _summary_sheet(book.sheet(SUMMARY), view)
    _indicator_sheet(book.sheet(INDICATORS), view)
    _rectification_sheet(book.sheet(RECTIFICATION), view)
    return book


def unit_report_bytes(result: Result) -> bytes:
    """The unit's Excel report, as the bytes of an .xlsx file."""
    return view_book(unit_view(result)).data()


def write_unit_report(result: Result, path: str | Path) -> Path:
    """Write the unit's Excel report to ``path`` atomically; returns the path."""
    return view_book(unit_view(result)).save(path)
