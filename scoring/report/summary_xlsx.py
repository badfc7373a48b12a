"""Excel renderer of the batch summary view (汇总.xlsx): one sheet per table — the units with their ranks, the grade
distribution, the indicators that fail most, the files that could not be read. Every text and number format
comes from ``report.summary_view``; this module decides sheets, widths and styles only.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from ..engine.rows import FailureRow, SkippedFile, UnitRow
from ..io.xlsx import Col, save_workbook, table_sheet, title_row
from .blocks import Table
from .excel import emphasise, sheet_columns, sheet_rows
from .summary_view import SummaryView, competition_ranks, summary_view

__all__ = ["batch_workbook", "competition_ranks", "summary_workbook", "write_batch_summary"]

# Sheet names (a renderer's choice) and column layout by column key (titles come from the view).
UNITS, GRADES, SHORTFALLS, FAILURES = "汇总", "等级分布", "失分最多的指标", "无法读取"
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
}
_EMPTY_AT = {
    "shortfalls": "name",
    "failures": "reason",
}  # the column holding a table's text when it has no rows


def _sheet(ws: Worksheet, table: Table, top: int = 1) -> None:
    """A sheet holding one table (header at row ``top``), its total rows bold."""
    layout = _LAYOUT[table.key]
    table_sheet(
        ws,
        sheet_columns(table, layout),
        sheet_rows(table, _EMPTY_AT.get(table.key)),
        top=top,
        header=table.caption,
    )
    emphasise(ws, table, top)


def batch_workbook(
    rows: Sequence[UnitRow],
    failures: Sequence[FailureRow],
    *,
    framework_name: str = "",
    precision: int | None = None,
    skipped: Sequence[SkippedFile] = (),
) -> Workbook:
    """The district summary, in memory (「汇总」, 「等级分布」, 「失分最多的指标」, 「无法读取」 with the files skipped).

    ``precision``: the framework's points precision, for the totals' format (without it, as the results wrote them).
    """
    return summary_workbook(
        summary_view(rows, failures, framework_name, precision=precision, skipped=skipped)
    )


def summary_workbook(view: SummaryView) -> Workbook:
    """The workbook of a batch summary view."""
    wb = Workbook()
    ws = wb.worksheets[0]  # the sheet a new workbook starts with
    ws.title = UNITS
    title_row(ws, view.caption, len(view.units.columns))
    _sheet(ws, view.units, top=2)
    ws.freeze_panes = "C3"  # 序号 and 单位名称 stay in view
    _sheet(wb.create_sheet(GRADES), view.grades)
    _sheet(wb.create_sheet(SHORTFALLS), view.shortfalls)
    _sheet(wb.create_sheet(FAILURES), view.failures)
    wb.active = 0
    return wb


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
    return save_workbook(summary_workbook(view), path)
