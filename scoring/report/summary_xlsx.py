"""Excel renderer of the batch summary view (汇总.xlsx): one sheet per table — the units with their ranks (within
their 学段), the units per 学段 and 区域 and the first-level indicators' mean 得分率 per 学段 (when the units carry
them), the grade distribution, the indicators that fail most (each with its chart; the ten most), the files that
could not be read. Every text and number format comes from ``report.summary_view`` (the charts are titled by their
tables); this module decides sheets, widths, styles and pages only.

Printed: the caption once, in the page header (the sheet's title row is for the screen); 无法读取 is hidden when
every file was read (its one line would print a page of its own; the caption says 无法读取 0 个文件).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..engine.rows import FailureRow, SkippedFile, UnitRow
from ..io.xlsx import FONT_NAME, Book, Col, Sheet, table_sheet
from .blocks import Number, Table
from .excel import row_styles, sheet_columns, sheet_rows
from .summary_view import SummaryView, competition_ranks, summary_view

__all__ = ["batch_summary_bytes", "competition_ranks", "summary_book", "write_batch_summary"]

# Sheet names (a renderer's choice) and column layout by column key (titles come from the view).
UNITS, GRADES, SHORTFALLS, FAILURES = "汇总", "等级分布", "失分最多的指标", "无法读取"
GROUPS, TOPS = "分组统计", "一级指标得分率"
_LAYOUT = {
    "units": {
        "no": Col("", 5, 6, center=True),
        "name": Col("", 10, 30, wrap=True),
        "code": Col("", 6, 14),
        "type": Col("", 6, 14),
        "total": Col("", 6, 10),
        "rank": Col("", 5, 6, center=True),
        "grade": Col("", 6, 10, center=True),
        "passed": Col("", 6, 8, center=True),
        "vetoes": Col("", 8, 30, wrap=True),
        "provisional": Col("", 5, 6, center=True),
        "completeness": Col("", 7, 9),
        "rectification": Col("", 8, 9),
        "checks": Col("", 10, 30, wrap=True),
        "repeats": Col("", 10, 40, wrap=True),
        "file": Col("", 10, 40, wrap=True),
        "report": Col("", 10, 30, wrap=True),
    },
    "grades": {"grade": Col("", 8, 14), "units": Col("", 6, 8), "share": Col("", 7, 9)},
    "shortfalls": {
        "code": Col("", 8, 12),
        "name": Col("", 10, 40, wrap=True),
        "units": Col("", 8, 14, wrap=True),
        "share": Col("", 8, 12),
    },
    "failures": {"file": Col("", 10, 40, wrap=True), "reason": Col("", 20, 90, wrap=True)},
    "groups": {
        "kind": Col("", 6, 8),
        "name": Col("", 10, 30, wrap=True),
        "units": Col("", 6, 8),
        "mean": Col("", 8, 10),
        "best": Col("", 8, 10),
        "worst": Col("", 8, 10),
    },
    "tops": {"code": Col("", 6, 10), "name": Col("", 10, 36, wrap=True)},  # a rate column per 学段
}
_EMPTY_AT = {
    "shortfalls": "name",
    "failures": "reason",
}  # the column holding a table's text when it has no rows


_TOP_SHORTFALLS = 10  # the chart of the indicators that fail most shows this many
_CHART_SIZE = (560, 288)  # px: about 15 × 7.6 cm
_CHART_ROWS = 21


def _sheet(sheet: Sheet, table: Table, top: int = 1, header: str = "") -> int:
    """A sheet holding one table (header at ``top``), its total rows bold; returns the table's last row."""
    layout = _LAYOUT[table.key]
    return table_sheet(
        sheet,
        sheet_columns(table, layout),
        sheet_rows(table, _EMPTY_AT.get(table.key)),
        top=top,
        header=header or table.caption,
        styles=row_styles(table) if table.rows else None,
    )


def _font(size: int = 9, bold: bool = False) -> dict[str, Any]:
    return {"name": FONT_NAME, "size": size, "bold": bold}


def _chart(
    sheet: Sheet, table: Table, values: Sequence[str], count: int, last: int, *, kind: str = "column"
) -> None:
    """A chart of the columns ``values`` (a series each) over the first ``count`` rows of the table (header at
    row 1, categories its ``name`` or ``grade`` column), titled by the table, below it at ``last`` + 2; printed on
    one page (a break goes before it when it would be cut)."""
    chart = sheet.book.chart(kind)
    name = sheet.ws.name
    category = next(c.key for c in table.columns if c.key in ("name", "grade"))
    cat = table.column(category)
    first = table.rows[0].cells[table.column(values[0])] if table.rows else None
    ratio = isinstance(first, Number) and first.percent
    colours = ("#4472C4", "#ED7D31", "#A5A5A5", "#FFC000", "#5B9BD5", "#70AD47")
    for n, key in enumerate(values):
        col = table.column(key)
        label: dict[str, Any] = {"value": True, "font": _font()}
        if ratio:
            label["num_format"] = "0.0%"
        chart.add_series(
            {
                "name": [name, 0, col],
                "values": [name, 1, col, count, col],
                "categories": [name, 1, cat, count, cat],
                "fill": {"color": colours[n % len(colours)]},
                "gap": 60,
                "data_labels": label,
            }
        )
    chart.set_title({"name": table.title, "name_font": _font(12, bold=True)})
    axis: dict[str, Any] = {"num_font": _font(), "min": 0}
    if ratio:
        axis.update(max=1, num_format="0%")
    else:
        axis["name"] = table.columns[table.column(values[0])].title
        axis["name_font"] = _font()
        biggest = max((c for row in table.rows[:count] for c in row.cells if isinstance(c, int)), default=0)
        if biggest <= 10:
            axis["major_unit"] = 1  # counts: whole numbers on the axis
    chart.set_legend({"position": "bottom", "font": _font()} if len(values) > 1 else {"none": True})
    if kind == "bar":  # horizontal: the category axis reads top-down as the table does
        chart.set_y_axis({"num_font": _font(), "reverse": True, "interval_unit": 1})
        chart.set_x_axis(axis)
    else:
        chart.set_x_axis({"num_font": _font(), "interval_unit": 1})
        chart.set_y_axis(axis)
    # as wide as the table (never wider: it would print beyond the page's columns), at least 10 cm
    width = max(380, min(_CHART_SIZE[0], int(sheet.columns_width / 0.75)))
    chart.set_size({"width": width, "height": _CHART_SIZE[1]})
    at = last + 2
    sheet.ws.insert_chart(at - 1, 0, chart)
    for r in range(at, at + _CHART_ROWS):
        sheet.ws.set_row(r - 1, 15)
    sheet.last_row = max(sheet.last_row, at + _CHART_ROWS - 1)
    sheet.keep(at, at, extra=_CHART_SIZE[1] * 0.75)
    sheet.ws.print_area(0, 0, at + _CHART_ROWS - 2, sheet.columns - 1)
    sheet.paginate()


def batch_summary_bytes(
    rows: Sequence[UnitRow],
    failures: Sequence[FailureRow],
    *,
    framework_name: str = "",
    precision: int | None = None,
    skipped: Sequence[SkippedFile] = (),
) -> bytes:
    """The district summary as the bytes of an .xlsx file (「汇总」, 「等级分布」, 「失分最多的指标」, 「无法读取」
    with the files skipped).

    ``precision``: the framework's points precision, for the totals' format (without it, as the results wrote them).
    """
    view = summary_view(rows, failures, framework_name, precision=precision, skipped=skipped)
    return summary_book(view).data()


def summary_book(view: SummaryView) -> Book:
    """The workbook of a batch summary view, in memory."""
    book = Book()
    sheet = book.sheet(UNITS)
    sheet.title(view.caption, len(view.units.columns))
    _sheet(sheet, view.units, top=2, header=view.caption)
    sheet.ws.freeze_panes(2, 2)  # 序号 and 单位名称 stay in view
    if view.groups.rows:
        groups = book.sheet(GROUPS)
        last = _sheet(groups, view.groups)
        _chart(groups, view.groups, ["mean"], len(view.groups.rows), last)
    if view.tops.rows:
        tops = book.sheet(TOPS)
        last = _sheet(tops, view.tops)
        rates = [c.key for c in view.tops.columns if c.key.startswith("rate")]
        _chart(tops, view.tops, rates, len(view.tops.rows), last, kind="bar")
    grades = book.sheet(GRADES)
    last = _sheet(grades, view.grades)
    if view.units.rows:
        _chart(grades, view.grades, ["units"], len(view.grades.rows) - 1, last)  # not 合计
    worst = book.sheet(SHORTFALLS)
    last = _sheet(worst, view.shortfalls)
    if view.shortfalls.rows:
        count = min(len(view.shortfalls.rows), _TOP_SHORTFALLS)
        _chart(worst, view.shortfalls, ["units"], count, last, kind="bar")
    failures = book.sheet(FAILURES)
    _sheet(failures, view.failures)
    if not view.failures.rows:
        failures.ws.hide()  # "全部文件均已读取。" alone would print a page of its own
    return book


def write_batch_summary(
    rows: Sequence[UnitRow],
    failures: Sequence[FailureRow],
    path: str | Path,
    *,
    framework_name: str = "",
    precision: int | None = None,
    skipped: Sequence[SkippedFile] = (),
) -> Path:
    """Write the district summary workbook to ``path`` atomically; returns the path."""
    view = summary_view(rows, failures, framework_name, precision=precision, skipped=skipped)
    return summary_book(view).save(path)
