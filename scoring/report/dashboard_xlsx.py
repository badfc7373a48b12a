"""Excel renderer of a project's 区域统计 (the dashboard a 督学 sends to the 局): 概况 (the project, the date, the
units shown and 填报进度), 等级分布 with its bar chart, 学段排名, 区域排名, 一级指标得分率 (lowest first, the
weakest bold) and 逾期整改. The view — every title, text and number's precision — is made by the service from the
dashboard's figures (``service.web.dashboard_export.export_view``); this module decides sheets, widths and pages only.

Printed like the other workbooks (``io.xlsx``): A4 landscape fitted to the width, each table's header repeated on
every page, the sheet's caption in the page header. Text is written as text (a unit named "=1+1" stays a name).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..io.xlsx import FONT_NAME, SECTION, Book, Col, Sheet, Style, table_sheet
from .blocks import Fact, Table
from .excel import excel_value, row_styles, sheet_columns, sheet_rows

# Sheet names (a renderer's choice) and column layout by column key (titles come from the view).
OVERVIEW, GRADES, PHASES, REGIONS, RATES, OVERDUE = (
    "概况",
    "等级分布",
    "学段排名",
    "区域排名",
    "一级指标得分率",
    "逾期整改",
)
_RANKING = {
    "group": Col("", 6, 12, wrap=True),
    "rank": Col("", 5, 6, center=True),
    "name": Col("", 10, 30, wrap=True),
    "code": Col("", 8, 14),
    "total": Col("", 6, 10),
    "grade": Col("", 6, 10, center=True),
    "version": Col("", 5, 6, center=True),
}
_LAYOUT: dict[str, dict[str, Col]] = {
    "completion": {"item": Col("", 8, 12), "units": Col("", 6, 8), "of": Col("", 6, 8)},
    "grades": {"grade": Col("", 8, 14), "units": Col("", 6, 8)},
    "phases": _RANKING,
    "regions": _RANKING,
    "rates": {
        "code": Col("", 6, 10),
        "name": Col("", 10, 36, wrap=True),
        "rate": Col("", 8, 12),
        "units": Col("", 8, 12),
    },
    "overdue": {
        "name": Col("", 10, 24, wrap=True),
        "code": Col("", 8, 14),
        "indicator": Col("", 6, 10),
        "problem": Col("", 16, 48, wrap=True),
        "deadline": Col("", 12, 13, center=True),
        "days": Col("", 6, 10),
        "status": Col("", 6, 10, center=True),
    },
}
_EMPTY_AT = {"phases": "name", "regions": "name", "rates": "name", "overdue": "problem"}
_OVERVIEW_COLS = [Col("", 10, 14, wrap=True), Col("", 12, 40, wrap=True), Col("", 6, 20, wrap=True)]
_CHART_SIZE = (480, 288)  # px: about 12.7 × 7.6 cm
_CHART_ROWS = 21


@dataclass(frozen=True, slots=True)
class DashboardView:
    """The dashboard as report blocks: facts on the first sheet, then one table per sheet."""

    title: str  # the first sheet's title and page header
    facts: tuple[Fact, ...]  # 项目, 统计日期, 统计范围
    completion: Table  # 填报进度
    grades: Table  # columns grade, units
    phases: Table  # ranking columns: group (学段), rank, name, code, total, grade, version
    regions: Table  # the same, grouped by 区域
    rates: Table  # first-level indicators' mean 得分率, lowest first; the weakest strong
    overdue: Table


def _font(size: int = 9, bold: bool = False) -> dict[str, Any]:
    return {"name": FONT_NAME, "size": size, "bold": bold}


def _overview(sheet: Sheet, view: DashboardView) -> None:
    sheet.layout(_OVERVIEW_COLS)
    sheet.title(view.title, len(_OVERVIEW_COLS))
    row = 3
    for fact in view.facts:
        sheet.text(row, 1, fact.label, Style(bold=True, wrap=True))
        sheet.put(row, 2, excel_value(fact.value), Style(bold=fact.strong, wrap=True, align="left"))
        if fact.note:
            sheet.text(row, 3, fact.note, Style(wrap=True))
        row += 1
    table = view.completion
    sheet.text(row + 1, 1, table.title, SECTION, measure=False)
    top = row + 2
    last = sheet.table(top, sheet_columns(table, _LAYOUT[table.key]), sheet_rows(table), row_styles(table))
    sheet.keep(top - 1, last)
    sheet.finish(_OVERVIEW_COLS)
    sheet.print_setup(header=view.title, first=2)
    sheet.paginate()


def _sheet(sheet: Sheet, table: Table) -> int:
    """A sheet holding one table (header at row 1, repeated on every page); returns its last row."""
    return table_sheet(
        sheet,
        sheet_columns(table, _LAYOUT[table.key]),
        sheet_rows(table, _EMPTY_AT.get(table.key)),
        header=table.caption or table.title,
        styles=row_styles(table) if table.rows else None,
    )


def _grade_chart(sheet: Sheet, table: Table, last: int) -> None:
    """The grade distribution as a column chart below its table, printed on one page with it."""
    chart = sheet.book.chart("column")
    name, units, grade = sheet.ws.name, table.column("units"), table.column("grade")
    count = len(table.rows)
    chart.add_series(
        {
            "name": [name, 0, units],
            "values": [name, 1, units, count, units],
            "categories": [name, 1, grade, count, grade],
            "fill": {"color": "#4472C4"},
            "gap": 60,
            "data_labels": {"value": True, "font": _font()},
        }
    )
    chart.set_title({"name": table.title, "name_font": _font(12, bold=True)})
    axis: dict[str, Any] = {"num_font": _font(), "min": 0, "name": table.columns[units].title}
    axis["name_font"] = _font()
    counts = [n for row in table.rows if isinstance(n := row.cells[units], int)]
    if max(counts, default=0) <= 10:
        axis["major_unit"] = 1  # counts of units: whole numbers on the axis
    chart.set_y_axis(axis)
    chart.set_x_axis({"num_font": _font(), "interval_unit": 1})
    chart.set_legend({"none": True})
    chart.set_size({"width": _CHART_SIZE[0], "height": _CHART_SIZE[1]})
    at = last + 2
    sheet.ws.insert_chart(at - 1, 0, chart)
    for r in range(at, at + _CHART_ROWS):
        sheet.ws.set_row(r - 1, 15)
    sheet.last_row = max(sheet.last_row, at + _CHART_ROWS - 1)
    sheet.keep(1, at, extra=_CHART_SIZE[1] * 0.75)
    sheet.ws.print_area(0, 0, at + _CHART_ROWS - 2, sheet.columns - 1)
    sheet.paginate()


def dashboard_book(view: DashboardView) -> Book:
    """The workbook of a dashboard view, in memory."""
    book = Book()
    _overview(book.sheet(OVERVIEW), view)
    grades = book.sheet(GRADES)
    last = _sheet(grades, view.grades)
    if any(row.cells[view.grades.column("units")] for row in view.grades.rows):
        _grade_chart(grades, view.grades, last)
    for name, table in ((PHASES, view.phases), (REGIONS, view.regions), (RATES, view.rates)):
        _sheet(book.sheet(name), table)
    _sheet(book.sheet(OVERDUE), view.overdue)
    return book


def dashboard_bytes(view: DashboardView) -> bytes:
    """The dashboard workbook's bytes (small: written in memory)."""
    return dashboard_book(view).data()
