"""The 自评表 template: a workbook a school fills, from a compiled plan.

Layout (sheet 「自评表」): a title, the unit block, then one row per input grouped under the indicator that first
uses it. Column A (hidden) holds the input id, so reading matches by id, never by row position alone; a hidden
sheet 「_meta」 records the framework id, version and content hash. Input cells are unlocked and everything else is
protected without a password; choices, levels and yes/no get dropdowns; numbers get bounded validation.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from ..engine.plan import InputSpec, Node, Plan
from ..framework.text import fmt
from ..version import __version__
from .files import atomic_write
from .layout import (
    BOOL_CHOICES,
    COL_EVAL,
    COL_GROUP,
    COL_HELP,
    COL_ID,
    COL_LABEL,
    COL_NO,
    COL_SELF,
    COL_UNIT,
    HEADERS,
    LISTS,
    META,
    SHEET,
    TEMPLATE_FORMAT,
    UNIT_FIELDS,
)
from .xlsx import cell_at

FONT = "等线"

_FILL_INPUT = PatternFill("solid", fgColor="FFF2CC")
_FILL_EVAL = PatternFill("solid", fgColor="DDEBF7")
_FILL_HEAD = PatternFill("solid", fgColor="D9D9D9")
_FILL_GROUP = PatternFill("solid", fgColor="EDEDED")
_THIN = Side(style="thin", color="BFBFBF")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_UNLOCKED = Protection(locked=False)


@dataclass(frozen=True)
class TemplateRow:
    """One input row: which indicator heading it sits under."""

    heading: str
    spec: InputSpec | None
    manual: Node | None = None


def _inputs_of(plan: Plan, names: Iterable[str], seen: set[str]) -> list[str]:
    """Inputs behind ``names``, following derived values to the inputs they use; each input once."""
    derived = {d.name: d for d in plan.derived}
    out: list[str] = []
    stack = list(reversed(list(names)))
    # depth-first, in order (a stack, not a recursive closure, which would hold the plan for the collector)
    while stack:
        name = stack.pop()
        if name in derived:
            stack.extend(reversed(sorted(derived[name].expr.names)))
        elif name in plan.inputs and name not in seen:
            seen.add(name)
            out.append(name)
    return out


def _applies(spec_types: frozenset[str] | None, unit_type: str | None) -> bool:
    return unit_type is None or spec_types is None or unit_type in spec_types


def _standard(node: Node, unit_type: str | None) -> str:
    ind = node.indicator
    rule = ind.rule
    pts = f"（{fmt(node.points)} 分）" if node.points is not None else ""
    if rule is None:
        return pts
    if rule.kind == "threshold":
        sym = {"at_least": "≥", "above": ">", "at_most": "≤", "below": "<", "equals": "="}
        parts = []
        for k, b in rule.spec.bounds().items():
            if isinstance(b, dict):
                shown = b.get(unit_type) if unit_type else "，".join(f"{t} {fmt(v)}" for t, v in b.items())
                parts.append(f"{sym[k]} {fmt(shown) if shown is not None else '—'}")
            else:
                parts.append(f"{sym[k]} {fmt(b)}")
        return f"标准：{' 且 '.join(parts)}{pts}"
    return pts


def rows(plan: Plan, unit_type: str | None = None, evaluator: bool = False) -> list[TemplateRow]:
    """The template's input rows in order: grouped under the leaf indicator that first uses each input."""
    seen: set[str] = set()
    out: list[TemplateRow] = []
    for node in plan.nodes:
        if node.rule is None or not _applies(node.applies_to, unit_type):
            continue
        names = list(node.rule.names)
        if node.applicable is not None:
            names = [*sorted(node.applicable.names), *names]
        heading = f"{node.code} {node.name}　{_standard(node, unit_type)}".rstrip()
        for name in _inputs_of(plan, names, seen):
            spec = plan.inputs[name]
            if _applies(spec.applies_to, unit_type) and (evaluator or spec.by == "self"):
                out.append(TemplateRow(heading, spec))
        if evaluator and node.rule.kind == "manual":
            out.append(TemplateRow(heading, None, node))
    rest_names = [n for v in plan.vetoes for n in sorted(v.when.names)]
    rest_names += [
        n for b in plan.bonus for n in sorted(b.points.names | (b.when.names if b.when else frozenset()))
    ]
    rest_names += [n for n in plan.inputs if n not in seen]
    for name in _inputs_of(plan, rest_names, seen):
        spec = plan.inputs[name]
        if _applies(spec.applies_to, unit_type) and (evaluator or spec.by == "self"):
            out.append(TemplateRow("否决、加分及其他事项", spec))
    return out


def _choices(spec: InputSpec) -> tuple[str, ...] | None:
    if spec.kind == "boolean":
        return BOOL_CHOICES
    if spec.kind in ("choice", "level"):
        return spec.choices
    return None


def _help(spec: InputSpec) -> str:
    parts = []
    if spec.help:
        parts.append(spec.help)
    kind = {
        "integer": "整数",
        "number": "数值",
        "percent": "百分比（填 95 表示 95%）",
        "boolean": "是/否",
        "date": "日期",
    }.get(spec.kind)
    if kind:
        parts.append(kind)
    if spec.min is not None and spec.max is not None:
        parts.append(f"范围 {fmt(spec.min)} ~ {fmt(spec.max)}")
    elif spec.min is not None:
        parts.append(f"不小于 {fmt(spec.min)}")
    elif spec.max is not None:
        parts.append(f"不大于 {fmt(spec.max)}")
    if not spec.required:
        parts.append("可不填")
    return "；".join(parts)


class _Lists:
    """Dropdown options on a hidden sheet, referenced by range (inline lists over 255 characters break Excel)."""

    def __init__(self, wb: Workbook):
        self.ws = wb.create_sheet(LISTS)
        self.ws.sheet_state = "hidden"
        self.cols: dict[tuple[str, ...], str] = {}

    def ref(self, options: tuple[str, ...]) -> str:
        if options not in self.cols:
            col = get_column_letter(len(self.cols) + 1)
            for i, opt in enumerate(options, start=1):
                cell = self.ws[f"{col}{i}"]
                cell.value = opt
                cell.data_type = "s"
            self.cols[options] = f"{LISTS}!${col}$1:${col}${len(options)}"
        return self.cols[options]


def _validation(spec: InputSpec, lists: _Lists) -> DataValidation | None:
    options = _choices(spec)
    if options:
        dv = DataValidation(type="list", formula1=f"={lists.ref(options)}", allow_blank=True)
        dv.error = f"请从下拉列表中选择：{'、'.join(options)}"
    elif spec.kind in ("number", "integer", "percent"):
        lo = spec.min if spec.min is not None else (0 if spec.kind == "percent" else None)
        hi = spec.max if spec.max is not None else (100 if spec.kind == "percent" else None)
        kind: Literal["whole", "decimal"] = "whole" if spec.kind == "integer" else "decimal"
        if lo is not None and hi is not None:
            dv = DataValidation(
                type=kind, operator="between", formula1=str(lo), formula2=str(hi), allow_blank=True
            )
        elif lo is not None:
            dv = DataValidation(type=kind, operator="greaterThanOrEqual", formula1=str(lo), allow_blank=True)
        elif hi is not None:
            dv = DataValidation(type=kind, operator="lessThanOrEqual", formula1=str(hi), allow_blank=True)
        else:
            dv = DataValidation(
                type=kind, operator="between", formula1="-1E+15", formula2="1E+15", allow_blank=True
            )
        dv.error = _help(spec) or "请填写数值"
    elif spec.kind == "date":
        dv = DataValidation(type="date", operator="greaterThan", formula1="1", allow_blank=True)
        dv.error = "请填写日期，如 2026-06-15"
    else:
        return None
    dv.errorTitle = "填报值无效"
    dv.showErrorMessage = True
    dv.promptTitle = spec.label[:32]
    dv.prompt = (_help(spec) or spec.label)[:255]
    dv.showInputMessage = True
    return dv


def build(plan: Plan, unit_type: str | None = None, evaluator: bool = False) -> Workbook:
    """The template as an openpyxl workbook (not yet saved)."""
    fw = plan.framework
    wb = Workbook()
    ws = wb.worksheets[0]  # the sheet a new workbook starts with
    ws.title = SHEET
    lists = _Lists(wb)
    font = Font(name=FONT, size=11)
    bold = Font(name=FONT, size=11, bold=True)
    last_col = COL_HELP if evaluator else COL_HELP - 1
    widths = {
        COL_ID: 14,
        COL_NO: 6,
        COL_GROUP: 30,
        COL_LABEL: 36,
        COL_UNIT: 9,
        COL_SELF: 18,
        COL_EVAL: 18,
        COL_HELP: 48,
    }
    if not evaluator:
        widths[COL_EVAL] = widths.pop(COL_HELP)

    def col(c: int) -> int:
        return c if evaluator or c < COL_EVAL else (c - 1 if c == COL_HELP else c)

    for c, w in widths.items():
        ws.column_dimensions[get_column_letter(c)].width = w
    ws.column_dimensions["A"].hidden = True

    ws.cell(1, COL_NO, f"{fw.name} · 自评表").font = Font(name=FONT, size=16, bold=True)
    ws.merge_cells(start_row=1, start_column=COL_NO, end_row=1, end_column=last_col)
    ws.cell(
        2,
        COL_NO,
        f"框架 {fw.id} 版本 {fw.version}（{plan.hash}）。只在黄色单元格填写，请勿增删行列或修改其他内容。",
    ).font = Font(name=FONT, size=9, color="595959")
    ws.merge_cells(start_row=2, start_column=COL_NO, end_row=2, end_column=last_col)

    row = 4
    ws.cell(row, COL_NO, "单位信息").font = bold
    row += 1
    types = tuple(fw.applies_to or ())
    validations: list[DataValidation] = []
    for uid, label, hint in UNIT_FIELDS:
        ws.cell(row, COL_ID, uid)
        ws.cell(row, COL_LABEL, label).font = font
        cell = cell_at(ws, row, col(COL_SELF))
        cell.fill, cell.protection, cell.border, cell.font = _FILL_INPUT, _UNLOCKED, _BORDER, font
        if uid == "unit.type":
            if unit_type:
                cell.value = unit_type
            if types:
                dv = DataValidation(type="list", formula1=f"={lists.ref(types)}", allow_blank=True)
                dv.error = f"请从下拉列表中选择：{'、'.join(types)}"
                dv.showErrorMessage = True
                dv.add(cell)
                validations.append(dv)
        if uid == "unit.date":
            cell.number_format = "yyyy-mm-dd"
        ws.cell(row, col(COL_HELP), hint).font = Font(name=FONT, size=9, color="595959")
        row += 1

    row += 1
    header_row = row
    for c, text in HEADERS.items():
        if c == COL_EVAL and not evaluator:
            continue
        cell = ws.cell(row, col(c), text)
        cell.font, cell.fill, cell.border = bold, _FILL_HEAD, _BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    row += 1

    grouped: dict[str, DataValidation] = {}
    heading = None
    for number, item in enumerate(rows(plan, unit_type, evaluator), start=1):
        if item.heading != heading:
            heading = item.heading
            cell = ws.cell(row, COL_GROUP, heading)
            cell.font, cell.fill = bold, _FILL_GROUP
            for c in range(COL_NO, last_col + 1):
                ws.cell(row, c).fill = _FILL_GROUP
            ws.merge_cells(start_row=row, start_column=COL_GROUP, end_row=row, end_column=last_col)
            row += 1
        ws.cell(row, COL_NO, number).font = font
        if item.spec is not None:
            spec = item.spec
            ws.cell(row, COL_ID, spec.name)
            ws.cell(row, COL_LABEL, spec.label).font = font
            ws.cell(row, COL_UNIT, spec.unit or "").font = font
            ws.cell(row, col(COL_HELP), _help(spec)).font = Font(name=FONT, size=9, color="595959")
            targets = []
            if spec.by == "self":
                targets.append(cell_at(ws, row, col(COL_SELF)))
            if evaluator:
                targets.append(cell_at(ws, row, COL_EVAL))
            dv_key = f"{spec.kind}|{spec.choices}|{spec.min}|{spec.max}|{spec.required}"
            for cell in targets:
                cell.protection, cell.border, cell.font = _UNLOCKED, _BORDER, font
                cell.fill = _FILL_EVAL if cell.column == COL_EVAL and evaluator else _FILL_INPUT
                if spec.kind in ("number", "percent"):
                    cell.number_format = "General"
                elif spec.kind == "integer":
                    cell.number_format = "0"
                elif spec.kind == "date":
                    cell.number_format = "yyyy-mm-dd"
                else:
                    cell.number_format = "@"  # text: no accidental number or formula conversion
                if dv_key not in grouped:
                    new = _validation(spec, lists)
                    if new is not None:
                        grouped[dv_key] = new
                if dv_key in grouped:
                    grouped[dv_key].add(cell)
        else:
            node = item.manual
            assert node is not None and node.rule is not None
            ws.cell(row, COL_ID, f"manual:{node.code}")
            ws.cell(row, COL_LABEL, f"督学评定：{node.name}").font = font
            rule = node.indicator.rule
            # a 督学评定 row is made for manual rules only
            assert rule is not None and rule.manual is not None
            levels = rule.manual.levels
            cell = cell_at(ws, row, COL_EVAL)
            cell.protection, cell.border, cell.font, cell.fill, cell.number_format = (
                _UNLOCKED,
                _BORDER,
                font,
                _FILL_EVAL,
                "@",
            )
            if levels:
                options = tuple(levels)
                dv = DataValidation(type="list", formula1=f"={lists.ref(options)}", allow_blank=True)
                dv.showErrorMessage = True
                dv.add(cell)
                validations.append(dv)
                hint = "；".join(f"{k}：{fmt(v)} 分" for k, v in levels.items())
            else:
                hint = f"填写 0 ~ {fmt(node.points)} 分"
            if rule.manual.guidance:
                hint = f"{rule.manual.guidance}（{hint}）"
            ws.cell(row, COL_HELP, hint).font = Font(name=FONT, size=9, color="595959")
        for c in range(COL_NO, last_col + 1):
            ws.cell(row, c).border = _BORDER
            if ws.cell(row, c).alignment.wrap_text is not True and c in (COL_LABEL, col(COL_HELP)):
                ws.cell(row, c).alignment = Alignment(wrap_text=True, vertical="center")
        row += 1

    if fw.checks:  # 数据核查: the school can check its values before sending them
        row += 1
        ws.cell(row, COL_NO, "提交前请自查（数据核查）").font = bold
        ws.merge_cells(start_row=row, start_column=COL_NO, end_row=row, end_column=last_col)
        for check in fw.checks:
            row += 1
            effect = "不符合将被退回" if check.severity == "error" else "不符合时请核实"
            cell = ws.cell(row, COL_NO, f"{check.code}　{check.message}（{effect}）")
            cell.font, cell.alignment = font, Alignment(wrap_text=True, vertical="top")
            ws.merge_cells(start_row=row, start_column=COL_NO, end_row=row, end_column=last_col)
        row += 1

    for dv in [*grouped.values(), *validations]:
        ws.add_data_validation(dv)
    ws.freeze_panes = cell_at(ws, header_row + 1, COL_NO)
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    fit = ws.sheet_properties.pageSetUpPr
    assert fit is not None  # every sheet has one (openpyxl creates it)
    fit.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.protection.sheet = True  # no password: the structure is protected, the yellow cells stay editable
    ws.protection.formatCells = False
    ws.protection.formatColumns = False
    ws.protection.formatRows = False

    meta = wb.create_sheet(META)
    meta.sheet_state = "hidden"
    for i, (k, v) in enumerate(
        [
            ("framework_id", fw.id),
            ("framework_version", fw.version),
            ("framework_hash", plan.hash),
            ("framework_name", fw.name),
            ("template_format", TEMPLATE_FORMAT),
            ("unit_type", unit_type or ""),
            ("evaluator_columns", "yes" if evaluator else "no"),
            ("generated_by", f"duping-scoring {__version__}"),
        ],
        start=1,
    ):
        meta.cell(i, 1, k)
        cell = meta.cell(i, 2, v)
        cell.data_type = "s"
    meta.protection.sheet = True
    return wb


def write_template(
    plan: Plan, path: str | Path, unit_type: str | None = None, evaluator: bool = False
) -> Path:
    """Write the template atomically; return its path."""
    if unit_type is not None and plan.framework.applies_to and unit_type not in plan.framework.applies_to:
        from ..problems import Problem, ScoringError

        raise ScoringError(
            [
                Problem(
                    "unknown-unit-type",
                    f"框架 {plan.framework.id} 不适用于“{unit_type}”（适用于：{'、'.join(plan.framework.applies_to)}）",
                    f"framework {plan.framework.id} does not apply to '{unit_type}'",
                )
            ]
        )
    buf = io.BytesIO()
    build(plan, unit_type, evaluator).save(buf)
    return atomic_write(path, buf.getvalue())
