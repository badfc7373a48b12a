"""The per-unit report workbook (汇总, 指标得分, 整改清单): real numbers and dates in its cells, a native bar chart
of the first-level indicators, conditional fills on the statuses, filters, frozen headers, A4 landscape.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

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
from ..framework.rules.base import STATUS_ZH
from ..framework.text import fmt, half_up
from ..io.xlsx import (
    BOLD,
    DATE_FORMAT,
    FONT,
    FONT_NAME,
    MUTED,
    PERCENT_FORMAT,
    RED,
    SECTION,
    Col,
    Fmt,
    cell_at,
    cols,
    decimal_format,
    fit_columns,
    print_setup,
    put,
    safe_text,
    save_workbook,
    status_rules,
    table_sheet,
    title_row,
    with_unit,
    write_table,
)

_METHOD_ZH = {"points": "分值制", "weights": "权重制", "pass_fail": "达标类"}

_EFFECT_ZH = {"fail": "不予认定", "downgrade": "降等", "cap": "等级封顶"}


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


def _explanation(text: str, note: str | None = None) -> str:
    body = text.split("：", 1)[-1]  # the code and name are in their own columns (as in the Markdown report)
    return f"{body}\n备注：{note}" if note else body


def _standard(standard: str | None, unit: str | None) -> str | None:
    if not standard or not unit or standard.endswith(unit):
        return standard
    return f"{standard}{'' if unit == '%' else ' '}{unit}"


def _value(value: Any, unit: str | None) -> Any:
    if isinstance(value, Decimal) and value.is_finite():
        return Fmt(value, with_unit(decimal_format(value), unit))
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


def _summary_sheet(ws: Worksheet, r: Result) -> None:
    ws.title = "汇总"
    title_row(ws, f"{r.unit.name} 评估报告", len(_SUMMARY_COLS))
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
        ("填报完整度", Fmt(half_up(c.ratio, 4), PERCENT_FORMAT), f"{c.filled}/{c.required}{missing}")
    )
    items.append(
        (
            "结果",
            "暂定" if r.provisional else "确定",
            "有缺报或待评的指标，结果为暂定" if r.provisional else None,
        )
    )
    for label, value, note in items:
        safe_text(cell_at(ws, row=row, column=1), label).font = BOLD
        cell = put(cell_at(ws, row=row, column=2), value)
        cell.alignment = Alignment(horizontal="left", vertical="top", wrap_text=True)
        if label in ("总分", "等级", "认定结论"):
            cell.font = BOLD
        if note:
            put(cell_at(ws, row=row, column=3), note).alignment = Alignment(vertical="top", wrap_text=True)
        row += 1

    # First-level indicators, and the native chart drawn from their cells.
    row += 1
    by_points, data = _first_level(r)
    safe_text(
        cell_at(ws, row=row, column=1), "一级指标得分" if by_points else "一级指标达标情况"
    ).font = SECTION
    row += 1
    heads = ("得分", "满分", "得分率") if by_points else ("达标项数", "计入项数", "达标率")
    table_top = row
    rows = []
    for code, name, earned, full, status in data:
        share = None
        if earned is not None and full:
            share = Fmt(half_up(Decimal(earned) / Decimal(full), 4), PERCENT_FORMAT)
        rows.append([code, name, earned, full, share, status])
    row = write_table(ws, table_top, cols("编码", "一级指标", *heads, "状态"), rows)
    if rows:
        status_rules(ws, f"F{table_top + 1}:F{row}")
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
        safe_text(cell_at(ws, row=row, column=1), "（没有一级指标，不绘制图表）").font = MUTED
        row += 2

    def section(title: str, columns: list[Col], body: list[list[Any]], empty: str) -> None:
        nonlocal row
        safe_text(cell_at(ws, row=row, column=1), title).font = SECTION
        row += 1
        if body:
            row = write_table(ws, row, columns, body) + 2
        else:
            safe_text(cell_at(ws, row=row, column=1), empty).font = FONT
            row += 2

    order = list(STATUS_ZH)
    counts = [[STATUS_ZH[k], v] for k, v in sorted(r.counts.items(), key=lambda kv: order.index(kv[0]))]
    section("指标状态统计", cols("状态", "项数"), counts, "无")
    section(
        "一票否决",
        cols("编码", "事项", "效果", "结论", "说明"),
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
        section("加分", cols("编码", "项目", "加分", "说明"), bonus, "")
    if r.data_warnings:
        section(
            "数据核查（请核实）",
            cols("编码", "问题", "填报"),
            [[w.code, w.message, w.detail] for w in r.data_warnings],
            "",
        )
    if r.gap_flags:
        section(
            "自评与督评差异较大（自评虚高）",
            cols("填报项", "名称", "自评值", "督评值", "差异"),
            [[g.input, g.label, g.self_value, g.evaluator_value, g.difference] for g in r.gap_flags],
            "",
        )
    if r.changes:
        section(
            "豁免与改判",
            cols("类型", "指标", "原结果 → 新结果", "经办人", "理由", "日期"),
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
    ).font = MUTED
    # Section titles and notes overflow into the empty cells beside them: they do not size column A.
    notes = [i for i in range(2, row + 1) if ws.cell(row=i, column=1).font in (SECTION, MUTED)]
    fit_columns(ws, _SUMMARY_COLS, skip_rows=[1, *notes])
    ws.freeze_panes = "A2"
    print_setup(ws, title_rows="1:1", header=f"{r.unit.name} 评估报告")


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
    last = write_table(ws, 1, cols, rows)
    for i, ind in enumerate(r.indicators, start=2):
        name = ws.cell(row=i, column=2)
        name.alignment = Alignment(indent=max(ind.depth - 1, 0) * 2, vertical="top", wrap_text=True)
        if ind.kind == "group":
            for j in (1, 2, 6, 7):
                ws.cell(row=i, column=j).font = BOLD
    if r.indicators:
        status_rules(ws, f"C2:C{last}")
    ws.freeze_panes = "C2"
    ws.auto_filter.ref = f"A1:H{max(last, 1)}"
    fit_columns(ws, cols)
    print_setup(ws, title_rows="1:1", header=f"{r.unit.name} 指标得分")


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
            Fmt(it.deadline, DATE_FORMAT) if it.deadline else None,
            it.priority,
            it.points_recoverable,
        ]
        for it in r.rectification
    ]
    if not rows:
        rows = [[None, None, None, "无需整改。", None, None, None, None, None, None]]
    last = table_sheet(ws, cols, rows, header=f"{r.unit.name} 整改清单")
    ws.conditional_formatting.add(
        f"I2:I{last}",
        CellIsRule(
            operator="equal",
            formula=['"高"'],
            fill=PatternFill("solid", start_color=RED[0], end_color=RED[0]),
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
    return save_workbook(unit_workbook(result), path)
