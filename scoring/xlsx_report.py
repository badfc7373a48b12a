"""Excel reports: one workbook per unit (汇总, 指标得分, 整改清单) and the district summary of a batch.

The unit workbook carries what the Markdown report carries (``scoring.write.markdown``), with real numbers and
dates in its cells, a native bar chart of the first-level indicators, conditional fills on the statuses, filters,
frozen headers and an A4 landscape print setup.

Everything that can come from a submission (unit name, code, type, file names, explanations, problems, reasons)
is written through :func:`safe_text`: a cell that is text and stays text, never a formula, whatever it starts with.
Workbooks are built in memory and written with :func:`scoring.write.atomic_write`, so a crash never leaves half a
file.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from copy import copy
from dataclasses import dataclass
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any, NamedTuple

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.data_source import AxDataSource, StrRef
from openpyxl.chart.label import DataLabelList
from openpyxl.chart.text import RichText
from openpyxl.chart.title import Title
from openpyxl.drawing.text import CharacterProperties, Paragraph, ParagraphProperties
from openpyxl.drawing.text import Font as DrawingFont
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from .result import STATUS_ZH, Result
from .rules import half_up
from .summary import FailureRow, UnitRow
from .trace import fmt
from .write import atomic_write

__all__ = ["FONT_NAME", "safe_text", "write_batch_summary", "write_unit_report"]

FONT_NAME = "等线"  # the zh-CN default of Excel 2016+; WPS substitutes a CJK font if it lacks it
DATE_FORMAT = "yyyy-mm-dd"
PERCENT_FORMAT = "0.0%"
MAX_CELL_CHARS = 32767  # Excel's limit for one cell
DASH = "—"

_FONT = Font(name=FONT_NAME, size=11)
_BOLD = Font(name=FONT_NAME, size=11, bold=True)
_TITLE = Font(name=FONT_NAME, size=14, bold=True)
_SECTION = Font(name=FONT_NAME, size=12, bold=True)
_MUTED = Font(name=FONT_NAME, size=9, color="808080")
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_THIN = Side(style="thin", color="BFBFBF")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)

# Status fills: Excel's own Good / Bad / Neutral colours, grey for what is not decided yet.
_GREEN = ("C6EFCE", "006100")
_RED = ("FFC7CE", "9C0006")
_AMBER = ("FFEB9C", "9C5700")
_GREY = ("D9D9D9", "404040")
STATUS_FILLS: dict[str, tuple[str, str]] = {
    "达标": _GREEN,
    "未达标": _RED,
    "部分达标": _AMBER,
    "缺报": _GREY,
    "待评": _GREY,
    "无法计算": _GREY,
}

_METHOD_ZH = {"points": "分值制", "weights": "权重制", "pass_fail": "达标类"}
_EFFECT_ZH = {"fail": "不予认定", "downgrade": "降等", "cap": "等级封顶"}


# --------------------------------------------------------------------------------------------- cells


def cell_at(ws: Worksheet, row: int, column: int) -> Cell:
    """The cell at (row, column), to write to: never one hidden inside a merged range."""
    cell = ws.cell(row=row, column=column)
    assert isinstance(cell, Cell)
    return cell


def safe_text(cell: Cell, value: object) -> Cell:
    """Write ``value`` as literal text: never a formula, never an error value, whatever it starts with.

    openpyxl turns a string starting with ``=`` into a formula and ``#N/A``-like strings into error cells; after
    assigning, the cell is forced back to a string (``data_type = "s"``) and marked ``quotePrefix`` so Excel and
    WPS keep it text even when someone edits it. Characters XML cannot hold are replaced by U+FFFD and the text
    is cut to Excel's 32,767 characters per cell.
    """
    text = "" if value is None else str(value)
    text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", text)
    if len(text) > MAX_CELL_CHARS:
        text = text[: MAX_CELL_CHARS - 1] + "…"
    cell.value = text
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell


class _Fmt(NamedTuple):
    """A value with its own number format (a unit suffix, a percent)."""

    value: Any
    number_format: str


def decimal_format(value: Decimal) -> str:
    """A number format showing the decimal's own precision: ``Decimal("4.20")`` → ``0.00``, ``100`` → ``0``."""
    exponent = value.as_tuple().exponent
    places = min(-exponent, 10) if isinstance(exponent, int) and exponent < 0 else 0
    return "0." + "0" * places if places else "0"


def _with_unit(number_format: str, unit: str | None) -> str:
    if not unit or '"' in unit or "\\" in unit:
        return number_format
    return f'{number_format}"{"" if unit == "%" else " "}{unit}"'


def _put(cell: Cell, value: Any) -> Cell:
    """Write one value by type: Decimal and int as numbers, dates as dates, text through :func:`safe_text`."""
    number_format = None
    if isinstance(value, _Fmt):
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
    cell.font = _FONT
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


def _write_table(ws: Worksheet, top: int, cols: Sequence[Col], rows: Iterable[Sequence[Any]]) -> int:
    """Header at row ``top``, rows below, bordered. Returns the last row written.

    openpyxl hashes a style object on every assignment, which dominated report writing; so each distinct
    combination (column, number format, text or not) is styled once and its style array copied to the others.
    """
    for j, col in enumerate(cols, start=1):
        cell = cell_at(ws, row=top, column=j)
        safe_text(cell, col.title)
        cell.font = _BOLD
        cell.fill = _HEADER_FILL
        cell.border = _BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    last = top
    styles: dict[tuple, Any] = {}
    for i, row in enumerate(rows, start=top + 1):
        last = i
        for j, (col, value) in enumerate(zip(cols, row, strict=True), start=1):
            cell = cell_at(ws, row=i, column=j)
            key = (j, _put_value(cell, value), value is None)
            style = styles.get(key)
            if style is not None:
                cell._style = copy(style)  # type: ignore[attr-defined]  # openpyxl's style array, not in the stubs
                continue
            _put(cell, value)
            cell.border = _BORDER
            horizontal = "center" if col.center else (cell.alignment.horizontal if value is None else None)
            cell.alignment = Alignment(horizontal=horizontal, vertical="top", wrap_text=col.wrap or None)
            styles[key] = copy(cell._style)  # type: ignore[attr-defined]  # as above
    return last


def _put_value(cell: Cell, value: Any) -> tuple[str | None, bool]:
    """Write only the value (as :func:`_put` would); return what decides its style: (number format, text)."""
    number_format = None
    if isinstance(value, _Fmt):
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


def _fit_columns(ws: Worksheet, cols: Sequence[Col], *, skip_rows: Iterable[int] = ()) -> None:
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


def _print_setup(ws: Worksheet, *, title_rows: str | None, header: str = "") -> None:
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


def _table_sheet(
    ws: Worksheet, cols: Sequence[Col], rows: Sequence[Sequence[Any]], *, top: int = 1, header: str = ""
) -> int:
    """A sheet holding one table: header at ``top``, frozen, filtered, sized and set up for printing."""
    last = _write_table(ws, top, cols, rows)
    ws.freeze_panes = ws.cell(row=top + 1, column=1).coordinate
    ws.auto_filter.ref = f"A{top}:{get_column_letter(len(cols))}{max(last, top)}"
    _fit_columns(ws, cols, skip_rows=range(1, top))
    _print_setup(ws, title_rows=f"1:{top}", header=header)
    return last


def _title(ws: Worksheet, text: str, width: int) -> None:
    cell = safe_text(cell_at(ws, row=1, column=1), text)
    cell.font = _TITLE
    cell.alignment = Alignment(horizontal="left", vertical="center")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws.row_dimensions[1].height = 24


def _save(wb: Workbook, path: str | Path) -> Path:
    wb.properties.creator = "duping-scoring"
    buffer = BytesIO()
    wb.save(buffer)
    return atomic_write(path, buffer.getvalue())


def _status_rules(ws: Worksheet, ref: str) -> None:
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
    return title.tx.rich.p


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


# ------------------------------------------------------------------------------------------ unit report


def _explanation(text: str, note: str | None = None) -> str:
    body = text.split("：", 1)[-1]  # the code and name are in their own columns (as in the Markdown report)
    return f"{body}\n备注：{note}" if note else body


def _standard(standard: str | None, unit: str | None) -> str | None:
    if not standard or not unit or standard.endswith(unit):
        return standard
    return f"{standard}{'' if unit == '%' else ' '}{unit}"


def _value(value: Any, unit: str | None) -> Any:
    if isinstance(value, Decimal) and value.is_finite():
        return _Fmt(value, _with_unit(decimal_format(value), unit))
    return value


def _first_level(r: Result) -> tuple[bool, list[tuple[str, str, Any, Any, str]]]:
    """Chart data per first-level indicator: (by points?, [(code, name, earned, full, status)]).

    With points (分值制, 权重制): earned and full points. Pass/fail (达标类, no points): the number of leaves 达标
    and the number of leaves that count (不适用 and 已豁免 left out).
    """
    tops = [ind for ind in r.indicators if ind.depth == 1]
    if r.method != "pass_fail" and any(ind.possible is not None for ind in tops):
        return True, [(ind.code, ind.name, ind.points, ind.possible, ind.status_zh) for ind in tops]
    parent = {ind.code: ind.parent for ind in r.indicators}
    has_children = {ind.parent for ind in r.indicators if ind.parent}

    def top_of(code: str) -> str:
        seen = set()
        while (up := parent.get(code)) and code not in seen:
            seen.add(code)
            code = up
        return code

    met: Counter[str] = Counter()
    counted: Counter[str] = Counter()
    for ind in r.indicators:
        if ind.code in has_children or ind.status in ("not_applicable", "waived"):
            continue
        top = top_of(ind.code)
        counted[top] += 1
        met[top] += ind.status == "met"
    return False, [(ind.code, ind.name, met[ind.code], counted[ind.code], ind.status_zh) for ind in tops]


# The 汇总 sheet is a list of items, then small tables, all in columns A–F: one set of widths serves them all.
_SUMMARY_COLS = [
    Col("", 12, 18, wrap=True),
    Col("", 12, 34, wrap=True),
    Col("", 8, 40, wrap=True),
    Col("", 8, 30, wrap=True),
    Col("", 8, 40, wrap=True),
    Col("", 6, 16, wrap=True),
]


def _cols(*titles: str) -> list[Col]:
    return [Col(title, wrap=True) for title in titles]


def _summary_sheet(ws: Worksheet, r: Result) -> None:
    ws.title = "汇总"
    _title(ws, f"{r.unit.name} 评估报告", len(_SUMMARY_COLS))
    row = 3
    c = r.completeness
    items: list[tuple[str, Any, Any]] = [
        ("单位名称", r.unit.name, None),
        ("单位代码", r.unit.code, None),
        ("单位类型", r.unit.type, None),
    ]
    if r.unit.region:
        items.append(("所在地区", r.unit.region, None))
    items += [
        ("评估日期", r.unit.date, None),
        ("评估框架", r.framework.name, None),
        ("框架编号", r.framework.id, f"基于 {r.framework.extends}" if r.framework.extends else None),
        ("框架版本", r.framework.version, None),
        ("框架哈希", r.framework.hash, None),
        *([("评估依据", "\n".join(r.framework.sources), None)] if r.framework.sources else []),
        ("评分方法", _METHOD_ZH.get(r.method, r.method), None),
    ]
    if r.total is not None:
        items.append(("总分", r.total, f"含加分 {fmt(r.bonus_total)}" if r.bonus_total else None))
        items.append(("满分", r.possible, None))
        if r.total_explanation:
            items.append(("总分计算", r.total_explanation, None))
    if r.self_total is not None:
        items.append(("自评得分", r.self_total, "以上总分按督评数据计算"))
    if r.grade:
        items.append(("等级", r.grade, None))
        changed = "因一票否决调整" if r.grade_before_vetoes != r.grade else "未调整"
        items.append(("否决前等级", r.grade_before_vetoes, changed))
    if r.passed is not None:
        items.append(("认定结论", "通过" if r.passed else "不通过", None))
    missing = f"，缺报：{'、'.join(c.missing_inputs)}" if c.missing_inputs else ""
    items.append(
        ("填报完整度", _Fmt(half_up(c.ratio, 4), PERCENT_FORMAT), f"{c.filled}/{c.required}{missing}")
    )
    items.append(
        (
            "结果",
            "暂定" if r.provisional else "确定",
            "有缺报或待评的指标，结果为暂定" if r.provisional else None,
        )
    )
    for label, value, note in items:
        safe_text(cell_at(ws, row=row, column=1), label).font = _BOLD
        cell = _put(cell_at(ws, row=row, column=2), value)
        cell.alignment = Alignment(horizontal="left", vertical="top", wrap_text=True)
        if label in ("总分", "等级", "认定结论"):
            cell.font = _BOLD
        if note:
            _put(cell_at(ws, row=row, column=3), note).alignment = Alignment(vertical="top", wrap_text=True)
        row += 1

    # First-level indicators, and the native chart drawn from their cells.
    row += 1
    by_points, data = _first_level(r)
    safe_text(
        cell_at(ws, row=row, column=1), "一级指标得分" if by_points else "一级指标达标情况"
    ).font = _SECTION
    row += 1
    heads = ("得分", "满分", "得分率") if by_points else ("达标项数", "计入项数", "达标率")
    table_top = row
    rows = []
    for code, name, earned, full, status in data:
        share = None
        if earned is not None and full:
            share = _Fmt(half_up(Decimal(earned) / Decimal(full), 4), PERCENT_FORMAT)
        rows.append([code, name, earned, full, share, status])
    row = _write_table(ws, table_top, _cols("编码", "一级指标", *heads, "状态"), rows)
    if rows:
        _status_rules(ws, f"F{table_top + 1}:F{row}")
    row += 2
    if data:
        chart = BarChart()
        chart.type = "col"
        chart.grouping = "clustered"
        chart.title = "一级指标得分与满分" if by_points else "一级指标达标项数与计入项数"
        chart.y_axis.title = "分" if by_points else "项"
        chart.y_axis.scaling.min = 0
        chart.x_axis.delete = False  # openpyxl 3.1 hides the axes unless told otherwise
        chart.y_axis.delete = False
        chart.add_data(
            Reference(ws, min_col=3, max_col=4, min_row=table_top, max_row=table_top + len(data)),
            titles_from_data=True,
        )
        names = Reference(ws, min_col=2, min_row=table_top + 1, max_row=table_top + len(data))
        earned_series, full_series = chart.series
        for series in chart.series:
            series.cat = AxDataSource(strRef=StrRef(f=str(names)))  # names are text: a string reference
        earned_series.graphicalProperties.solidFill = "4472C4"
        full_series.graphicalProperties.solidFill = "BFBFBF"
        earned_series.dLbls = DataLabelList(
            showVal=True, showLegendKey=False, showCatName=False, showSerName=False, showPercent=False
        )
        earned_series.dLbls.txPr = _chart_text()
        chart.x_axis.axPos = "b"
        chart.gapWidth = 80
        chart.legend.position = "b"
        _cjk_chart(chart)
        chart.width, chart.height = 18, 8  # cm
        ws.add_chart(chart, f"A{row}")
        row += 18  # the rows the chart covers (8 cm at the default row height), plus a gap
    else:
        safe_text(cell_at(ws, row=row, column=1), "（没有一级指标，不绘制图表）").font = _MUTED
        row += 2

    def section(title: str, columns: list[Col], body: list[list[Any]], empty: str) -> None:
        nonlocal row
        safe_text(cell_at(ws, row=row, column=1), title).font = _SECTION
        row += 1
        if body:
            row = _write_table(ws, row, columns, body) + 2
        else:
            safe_text(cell_at(ws, row=row, column=1), empty).font = _FONT
            row += 2

    order = list(STATUS_ZH)
    counts = [[STATUS_ZH[k], v] for k, v in sorted(r.counts.items(), key=lambda kv: order.index(kv[0]))]
    section("指标状态统计", _cols("状态", "项数"), counts, "无")
    section(
        "一票否决",
        _cols("编码", "事项", "效果", "结论", "说明"),
        [
            [
                v.code,
                v.reason + ("（地方）" if v.local else "") + ("（待核）" if not v.verified else ""),
                v.detail or _EFFECT_ZH.get(v.effect, v.effect),
                "触发" if v.triggered else "无法判断（缺报）",
                v.explanation,
            ]
            for v in r.vetoes
            if v.triggered is not False
        ],
        "未触发一票否决。",
    )
    if r.bonus:
        bonus = [[b.code, b.name, b.points, _explanation(b.explanation)] for b in r.bonus]
        bonus.append(["合计", None, r.bonus_total, None])
        section("加分", _cols("编码", "项目", "加分", "说明"), bonus, "")
    if r.data_warnings:
        section(
            "数据核查（请核实）",
            _cols("编码", "问题", "填报"),
            [[w.code, w.message, w.detail] for w in r.data_warnings],
            "",
        )
    if r.gap_flags:
        section(
            "自评与督评差异较大（自评虚高）",
            _cols("填报项", "名称", "自评值", "督评值", "差异"),
            [[g.input, g.label, g.self_value, g.evaluator_value, g.difference] for g in r.gap_flags],
            "",
        )
    if r.changes:
        section(
            "豁免与改判",
            _cols("类型", "指标", "原结果 → 新结果", "经办人", "理由", "日期"),
            [
                [
                    "豁免" if ch.kind == "waiver" else "改判",
                    ch.indicator,
                    f"{ch.old} → {ch.new}",
                    ch.by,
                    ch.reason,
                    ch.at,
                ]
                for ch in r.changes
            ],
            "",
        )
    safe_text(
        cell_at(ws, row=row, column=1), r.engine + (f"；数据来源：{r.source}" if r.source else "")
    ).font = _MUTED
    # Section titles and notes overflow into the empty cells beside them: they do not size column A.
    notes = [i for i in range(2, row + 1) if ws.cell(row=i, column=1).font in (_SECTION, _MUTED)]
    _fit_columns(ws, _SUMMARY_COLS, skip_rows=[1, *notes])
    ws.freeze_panes = "A2"
    _print_setup(ws, title_rows="1:1", header=f"{r.unit.name} 评估报告")


def _indicator_sheet(ws: Worksheet, r: Result) -> None:
    cols = [
        Col("编码", 6, 12),
        Col("指标", 10, 36, wrap=True),
        Col("状态", 6, 10, center=True),
        Col("值", 6, 14),
        Col("标准", 6, 18, wrap=True),
        Col("得分", 6, 10),
        Col("满分", 6, 10),
        Col("计算过程", 20, 70, wrap=True),
    ]
    rows = [
        [
            ind.code,
            ind.name,
            ind.status_zh,
            _value(ind.value, ind.unit),
            _standard(ind.standard, ind.unit),
            ind.points,
            ind.possible,
            _explanation(ind.explanation, ind.note),
        ]
        for ind in r.indicators
    ]
    last = _write_table(ws, 1, cols, rows)
    for i, ind in enumerate(r.indicators, start=2):
        name = ws.cell(row=i, column=2)
        name.alignment = Alignment(indent=max(ind.depth - 1, 0) * 2, vertical="top", wrap_text=True)
        if ind.kind == "group":
            for j in (1, 2, 6, 7):
                ws.cell(row=i, column=j).font = _BOLD
    if r.indicators:
        _status_rules(ws, f"C2:C{last}")
    ws.freeze_panes = "C2"
    ws.auto_filter.ref = f"A1:H{max(last, 1)}"
    _fit_columns(ws, cols)
    _print_setup(ws, title_rows="1:1", header=f"{r.unit.name} 指标得分")


def _rectification_sheet(ws: Worksheet, r: Result) -> None:
    cols = [
        Col("序号", 5, 6, center=True),
        Col("指标编码", 8, 12),
        Col("指标", 10, 24, wrap=True),
        Col("问题", 16, 40, wrap=True),
        Col("整改要求", 16, 40, wrap=True),
        Col("依据", 10, 28, wrap=True),
        Col("责任部门", 8, 14, wrap=True),
        Col("完成时限", 11, 12, center=True),
        Col("优先级", 6, 8, center=True),
        Col("可挽回分值", 10, 12),
    ]
    rows: list[list[Any]] = [
        [
            it.no,
            it.code,
            it.name,
            it.problem,
            it.requirement,
            it.basis,
            it.owner,
            _Fmt(it.deadline, DATE_FORMAT) if it.deadline else None,
            it.priority,
            it.points_recoverable,
        ]
        for it in r.rectification
    ]
    if not rows:
        rows = [[None, None, None, "无需整改。", None, None, None, None, None, None]]
    last = _table_sheet(ws, cols, rows, header=f"{r.unit.name} 整改清单")
    ws.conditional_formatting.add(
        f"I2:I{last}",
        CellIsRule(
            operator="equal",
            formula=['"高"'],
            fill=PatternFill("solid", start_color=_RED[0], end_color=_RED[0]),
        ),
    )


def unit_workbook(result: Result) -> Workbook:
    """The unit's workbook, in memory (「汇总」, 「指标得分」, 「整改清单」)."""
    wb = Workbook()
    _summary_sheet(wb.worksheets[0], result)
    _indicator_sheet(wb.create_sheet("指标得分"), result)
    _rectification_sheet(wb.create_sheet("整改清单"), result)
    wb.active = 0
    return wb


def write_unit_report(result: Result, path: str | Path) -> Path:
    """Write the unit's Excel report to ``path`` atomically; returns the path."""
    return _save(unit_workbook(result), path)


# ---------------------------------------------------------------------------------------- batch summary


def competition_ranks(totals: Sequence[Decimal | None]) -> list[int | None]:
    """Ranks by total, highest first; equal totals share a rank (1, 2, 2, 4); no total, no rank."""
    scored = sorted((t for t in totals if t is not None), reverse=True)
    first: dict[Decimal, int] = {}
    for i, total in enumerate(scored, start=1):
        first.setdefault(total, i)
    return [None if t is None else first[t] for t in totals]


def _natural(code: str) -> list[Any]:
    return [
        (0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", code) if part
    ]


def _share(count: int, total: int) -> Any:
    return _Fmt(half_up(Decimal(count) / Decimal(total), 4), PERCENT_FORMAT) if total else None


def batch_workbook(rows: list[UnitRow], failures: list[FailureRow], *, framework_name: str = "") -> Workbook:
    """The district summary, in memory (「汇总」, 「等级分布」, 「失分最多的指标」, 「无法读取」)."""
    wb = Workbook()
    title = f"{framework_name} 评估结果汇总" if framework_name else "评估结果汇总"
    caption = f"{title}（已评 {len(rows)} 个单位，无法读取 {len(failures)} 个文件）"

    ws = wb.worksheets[0]  # the sheet a new workbook starts with
    ws.title = "汇总"
    with_pass = any(row.passed is not None for row in rows)
    with_checks = any(row.data_warnings for row in rows)
    cols = [
        Col("序号", 5, 6, center=True),
        Col("单位名称", 10, 30, wrap=True),
        Col("代码", 6, 14),
        Col("类型", 6, 14),
        Col("总分", 6, 10),
        Col("排名", 5, 6, center=True),
        Col("等级", 6, 10, center=True),
        *([Col("认定", 6, 8, center=True)] if with_pass else []),
        Col("一票否决", 8, 30, wrap=True),
        Col("暂定", 5, 6, center=True),
        Col("完整度", 7, 9),
        Col("整改项数", 8, 9),
        *([Col("数据核查（请核实）", 10, 30, wrap=True)] if with_checks else []),
        Col("文件", 10, 40, wrap=True),
    ]
    ranks = competition_ranks([row.total for row in rows])
    body = []
    for i, (row, rank) in enumerate(zip(rows, ranks, strict=True), start=1):
        passed = [None if row.passed is None else ("通过" if row.passed else "不通过")] if with_pass else []
        body.append(
            [
                i,
                row.name,
                row.code,
                row.type,
                row.total,
                rank,
                row.grade,
                *passed,
                "\n".join(row.vetoes) if row.vetoes else "无",
                row.provisional,
                _Fmt(half_up(row.completeness, 4), PERCENT_FORMAT),
                row.rectification_items,
                *(["\n".join(row.data_warnings) or "无"] if with_checks else []),
                row.file,
            ]
        )
    _title(ws, caption, len(cols))
    _table_sheet(ws, cols, body, top=2, header=title)
    ws.freeze_panes = "C3"

    # 等级分布: grades ordered by their units' mean total (highest first), units without a grade last.
    ws = wb.create_sheet("等级分布")
    groups: dict[str, list[Decimal | None]] = {}
    for row in rows:
        groups.setdefault(row.grade or "未评等级", []).append(row.total)

    def mean(totals: list[Decimal | None]) -> Decimal:
        known = [t for t in totals if t is not None]
        return sum(known, Decimal(0)) / len(known) if known else Decimal("-Infinity")

    order = sorted(groups, key=lambda g: (g == "未评等级", -mean(groups[g]), g))
    dist = [[grade, len(groups[grade]), _share(len(groups[grade]), len(rows))] for grade in order]
    dist.append(["合计", len(rows), _share(len(rows), len(rows))])
    last = _table_sheet(ws, [Col("等级", 8, 14), Col("单位数", 6, 8), Col("占比", 7, 9)], dist, header=title)
    for j in range(1, 4):
        ws.cell(row=last, column=j).font = _BOLD

    # 失分最多的指标: leaves 未达标 or 部分达标, by the number of units.
    ws = wb.create_sheet("失分最多的指标")
    counts: Counter[str] = Counter()
    names: dict[str, str] = {}
    for row in rows:
        for code, name in dict(row.shortfalls).items():
            counts[code] += 1
            names.setdefault(code, name)
    ranked = sorted(counts, key=lambda code: (-counts[code], _natural(code)))
    lost = [[code, names[code], counts[code], _share(counts[code], len(rows))] for code in ranked]
    if not lost:
        lost = [[None, "没有未达标或部分达标的指标", None, None]]
    _table_sheet(
        ws,
        [
            Col("指标编码", 8, 12),
            Col("指标", 10, 40, wrap=True),
            Col("未达标单位数", 8, 14),
            Col("占已评单位", 8, 12),
        ],
        lost,
        header=title,
    )

    ws = wb.create_sheet("无法读取")
    unread = [[f.file, "\n".join(f.reasons) if f.reasons else None] for f in failures]
    if not unread:
        unread = [[None, "全部文件均已读取。"]]
    _table_sheet(ws, [Col("文件", 10, 40, wrap=True), Col("原因", 20, 90, wrap=True)], unread, header=title)

    wb.active = 0
    return wb


def write_batch_summary(
    rows: list[UnitRow], failures: list[FailureRow], path: str | Path, *, framework_name: str = ""
) -> Path:
    """Write the district summary workbook to ``path`` atomically; returns the path."""
    return _save(batch_workbook(rows, failures, framework_name=framework_name), path)


# Building blocks other report writers (the county report) reuse.
table_sheet = _table_sheet
title_row = _title
save_workbook = _save
