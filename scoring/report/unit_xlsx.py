"""Excel renderer of the unit report view: 汇总 (facts, the first-level table with a native bar chart, the summary's
sections), 指标得分 and 整改清单 — real numbers and dates in the cells, conditional fills on the statuses, filters,
frozen headers, A4 landscape. Every text and number format comes from ``report.unit_view``; this module decides
sheets, widths and styles only.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.data_source import AxDataSource, StrRef
from openpyxl.chart.label import DataLabelList
from openpyxl.chart.text import RichText
from openpyxl.chart.title import Title
from openpyxl.drawing.text import CharacterProperties, Paragraph, ParagraphProperties
from openpyxl.drawing.text import Font as DrawingFont
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from ..engine.result import Result
from ..io.xlsx import (
    BOLD,
    FONT,
    FONT_NAME,
    MUTED,
    RED,
    SECTION,
    Col,
    cell_at,
    fit_columns,
    print_setup,
    put,
    safe_text,
    save_workbook,
    status_rules,
    table_sheet,
    title_row,
    write_table,
)
from . import blocks
from .excel import emphasise, excel_value, letter, sheet_columns, sheet_rows
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
    "deadline": Col("", 11, 12, center=True),
    "priority": Col("", 6, 8, center=True),
    "recoverable": Col("", 10, 12),
}
_HIGH = PatternFill("solid", start_color=RED[0], end_color=RED[0])
_CHART_ROWS = 18  # the rows an 8 cm chart covers at the default row height, plus a gap


def _chart_props(size: int = 900, bold: bool = False) -> CharacterProperties:
    face = DrawingFont(typeface=FONT_NAME)
    return CharacterProperties(latin=face, ea=face, sz=size, b=bold)


def _chart_text(size: int = 900) -> RichText:
    props = _chart_props(size)
    return RichText(p=[Paragraph(pPr=ParagraphProperties(defRPr=props), endParaRPr=props)])


def _title_paragraphs(title: Title | None) -> list[Paragraph]:
    """The paragraphs of a chart or axis title set from text (openpyxl makes them rich text)."""
    if title is None or title.tx is None or title.tx.rich is None:
        return []
    paragraphs: list[Paragraph] = title.tx.rich.p
    return paragraphs


def _cjk_chart(chart: BarChart) -> None:
    """Give the chart's texts a CJK font (openpyxl does not write a chart-wide text style)."""
    for axis in (chart.x_axis, chart.y_axis):
        axis.txPr = _chart_text()
        for para in _title_paragraphs(axis.title):
            para.pPr = ParagraphProperties(defRPr=_chart_props())
            for run in para.r or []:
                run.rPr = _chart_props()
    chart.legend.txPr = _chart_text()
    for para in _title_paragraphs(chart.title):
        para.pPr = ParagraphProperties(defRPr=_chart_props(1200, bold=True))
        for run in para.r or []:
            run.rPr = _chart_props(1200, bold=True)


def _add_chart(ws: Worksheet, view: UnitView, top: int, at: int) -> None:
    """The native bar chart of the first-level table, whose header is at row ``top``, anchored at row ``at``."""
    spec, table = view.chart, view.overview
    assert spec is not None
    chart = BarChart()
    chart.type = "col"
    chart.grouping = "clustered"
    chart.title = spec.title
    chart.y_axis.title = spec.axis
    chart.y_axis.scaling.min = 0
    chart.x_axis.delete = False  # openpyxl 3.1 hides the axes unless told otherwise
    chart.y_axis.delete = False
    last = top + len(table.rows)
    for key in spec.series:
        column = table.column(key) + 1
        chart.add_data(Reference(ws, min_col=column, min_row=top, max_row=last), titles_from_data=True)
    names = Reference(ws, min_col=table.column(spec.category) + 1, min_row=top + 1, max_row=last)
    for series in chart.series:
        series.cat = AxDataSource(strRef=StrRef(f=str(names)))  # names are text: a string reference
    earned, *others = chart.series
    earned.graphicalProperties.solidFill = "4472C4"
    for other in others:
        other.graphicalProperties.solidFill = "BFBFBF"
    earned.dLbls = DataLabelList(
        showVal=True, showLegendKey=False, showCatName=False, showSerName=False, showPercent=False
    )
    earned.dLbls.txPr = _chart_text()
    chart.x_axis.axPos = "b"
    chart.gapWidth = 80
    chart.legend.position = "b"
    _cjk_chart(chart)
    chart.width, chart.height = 18, 8  # cm
    ws.add_chart(chart, f"A{at}")


def _facts(ws: Worksheet, facts: tuple[blocks.Fact, ...], row: int) -> int:
    """Label, value and remark, one fact a row from ``row``; returns the row after the last."""
    for fact in facts:
        safe_text(cell_at(ws, row=row, column=1), fact.label).font = BOLD
        cell = put(cell_at(ws, row=row, column=2), excel_value(fact.value))
        cell.alignment = Alignment(horizontal="left", vertical="top", wrap_text=True)
        if fact.strong:
            cell.font = BOLD
        if fact.note:
            put(cell_at(ws, row=row, column=3), fact.note).alignment = Alignment(
                vertical="top", wrap_text=True
            )
        row += 1
    return row


def _section(ws: Worksheet, table: blocks.Table, row: int) -> int:
    """A section of the 汇总 sheet: its title, then its table or its empty text; returns the next free row."""
    safe_text(cell_at(ws, row=row, column=1), table.title).font = SECTION
    row += 1
    if not table.rows:
        safe_text(cell_at(ws, row=row, column=1), table.empty).font = FONT
        return row + 2
    last = write_table(ws, row, sheet_columns(table), sheet_rows(table))
    emphasise(ws, table, row)
    return last + 2


def _summary_sheet(ws: Worksheet, view: UnitView) -> None:
    ws.title = SUMMARY
    title_row(ws, view.title, len(_SUMMARY_COLS))
    row = _facts(ws, view.facts, 3) + 1

    # First-level indicators, and the native chart drawn from their cells.
    table = view.overview
    safe_text(cell_at(ws, row=row, column=1), table.title).font = SECTION
    top = row + 1
    row = write_table(ws, top, sheet_columns(table), sheet_rows(table))
    if table.rows:
        status = letter(table, "status")
        status_rules(ws, f"{status}{top + 1}:{status}{row}")
    row += 2
    if view.chart is not None and table.rows:
        _add_chart(ws, view, top, row)
        row += _CHART_ROWS
    else:
        safe_text(cell_at(ws, row=row, column=1), table.empty).font = MUTED
        row += 2

    for section in view.sections:
        row = _section(ws, section, row)
    safe_text(cell_at(ws, row=row, column=1), view.footer).font = MUTED
    # Section titles and notes overflow into the empty cells beside them: they do not size column A.
    notes = [i for i in range(2, row + 1) if ws.cell(row=i, column=1).font in (SECTION, MUTED)]
    fit_columns(ws, _SUMMARY_COLS, skip_rows=[1, *notes])
    ws.freeze_panes = "A2"
    print_setup(ws, title_rows="1:1", header=view.title)


def _indicator_sheet(ws: Worksheet, view: UnitView) -> None:
    table = view.indicators
    cols = sheet_columns(table, _INDICATOR_LAYOUT)
    last = write_table(ws, 1, cols, sheet_rows(table))
    emphasise(ws, table, 1, _GROUP_BOLD)
    if table.rows:
        status = letter(table, "status")
        status_rules(ws, f"{status}2:{status}{last}")
    ws.freeze_panes = f"{letter(table, 'status')}2"  # code and name stay in view
    ws.auto_filter.ref = f"A1:{letter(table, table.columns[-1].key)}{max(last, 1)}"
    fit_columns(ws, cols)
    print_setup(ws, title_rows="1:1", header=table.caption)


def _rectification_sheet(ws: Worksheet, view: UnitView) -> None:
    table = view.rectification
    cols = sheet_columns(table, _RECTIFICATION_LAYOUT)
    last = table_sheet(ws, cols, sheet_rows(table, empty_at="problem"), header=table.caption)
    priority = letter(table, "priority")
    ws.conditional_formatting.add(
        f"{priority}2:{priority}{last}", CellIsRule(operator="equal", formula=['"高"'], fill=_HIGH)
    )


def unit_workbook(result: Result) -> Workbook:
    """The unit's workbook, in memory (「汇总」, 「指标得分」, 「整改清单」)."""
    return view_workbook(unit_view(result))


def view_workbook(view: UnitView) -> Workbook:
    """The workbook of a unit report view."""
    wb = Workbook()
    _summary_sheet(wb.worksheets[0], view)
    _indicator_sheet(wb.create_sheet(INDICATORS), view)
    _rectification_sheet(wb.create_sheet(RECTIFICATION), view)
    wb.active = 0
    return wb


def write_unit_report(result: Result, path: str | Path) -> Path:
    """Write the unit's Excel report to ``path`` atomically; returns the path."""
    return save_workbook(unit_workbook(result), path)
