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
from openpyxl.cell.cell import Cell
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
    elsewhere = plan.foreign_inputs(unit_type)  # read only by indicators of other unit types: not asked
    out: list[TemplateRow] = []
    for node in plan.nodes:
        if node.rule is None or not all(_applies(plan.index[c].applies_to, unit_type) for c in node.path):
            continue  # not for this unit type: its own applies_to, or an ancestor's
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
    rest_names = [
        n
        for v in plan.vetoes
        if not v.veto.applies_to or unit_type is None or unit_type in v.veto.applies_to
        for n in sorted(v.when.names)
    ]
    rest_names += [
        n for b in plan.bonus for n in sorted(b.points.names | (b.when.names if b.when else frozenset()))
    ]
    rest_names += [n for n in plan.inputs if n not in seen and n not in elsewhere]
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


_WIDTHS = {
    COL_ID: 14,
    COL_NO: 6,
    COL_GROUP: 30,
    COL_LABEL: 36,
    COL_UNIT: 9,
    COL_SELF: 18,
    COL_EVAL: 18,
    COL_HELP: 48,
}
_NUMBER_FORMATS = {
    "number": "General",
    "percent": "General",
    "integer": "0",
    "date": "yyyy-mm-dd",
}  # else text


def build(plan: Plan, unit_type: str | None = None, evaluator: bool = False) -> Workbook:
    """The template as an openpyxl workbook (not yet saved)."""
    wb = Workbook()
    sheet = _Sheet(wb, plan, evaluator)
    sheet.title()
    sheet.unit_fields(unit_type)
    header_row = sheet.header()
    heading = None
    for number, item in enumerate(rows(plan, unit_type, evaluator), start=1):
        if item.heading != heading:
            heading = item.heading
            sheet.heading(heading)
        sheet.item(number, item)
    sheet.checks()
    sheet.finish(header_row)
    _meta_sheet(wb, plan, unit_type, evaluator)
    return wb


class _Sheet:
    """The 自评表 sheet, written row by row; without 督评 columns the help column moves one to the left."""

    def __init__(self, wb: Workbook, plan: Plan, evaluator: bool):
        self.plan = plan
        self.evaluator = evaluator
        self.ws = wb.worksheets[0]  # the sheet a new workbook starts with
        self.ws.title = SHEET
        self.lists = _Lists(wb)
        self.font = Font(name=FONT, size=11)
        self.bold = Font(name=FONT, size=11, bold=True)
        self.small = Font(name=FONT, size=9, color="595959")
        self.last_col = COL_HELP if evaluator else COL_HELP - 1
        self.validations: list[DataValidation] = []
        self.grouped: dict[str, DataValidation] = {}  # one validation for all inputs alike
        self.row = 1
        widths = dict(_WIDTHS)
        if not evaluator:
            widths[COL_EVAL] = widths.pop(COL_HELP)
        for c, w in widths.items():
            self.ws.column_dimensions[get_column_letter(c)].width = w
        self.ws.column_dimensions["A"].hidden = True

    def col(self, c: int) -> int:
        return c if self.evaluator or c < COL_EVAL else (c - 1 if c == COL_HELP else c)

    def merged(self, row: int) -> None:
        self.ws.merge_cells(start_row=row, start_column=COL_NO, end_row=row, end_column=self.last_col)

    def title(self) -> None:
        fw, ws = self.plan.framework, self.ws
        ws.cell(1, COL_NO, f"{fw.name} · 自评表").font = Font(name=FONT, size=16, bold=True)
        self.merged(1)
        ws.cell(
            2,
            COL_NO,
            f"框架 {fw.id} 版本 {fw.version}（{self.plan.hash}）。只在黄色单元格填写，请勿增删行列或修改其他内容。",
        ).font = self.small
        self.merged(2)
        self.row = 4

    def unit_fields(self, unit_type: str | None) -> None:
        ws = self.ws
        ws.cell(self.row, COL_NO, "单位信息").font = self.bold
        self.row += 1
        types = tuple(self.plan.framework.applies_to or ())
        for uid, label, hint in UNIT_FIELDS:
            ws.cell(self.row, COL_ID, uid)
            ws.cell(self.row, COL_LABEL, label).font = self.font
            cell = cell_at(ws, self.row, self.col(COL_SELF))
            cell.fill, cell.protection, cell.border, cell.font = _FILL_INPUT, _UNLOCKED, _BORDER, self.font
            if uid == "unit.type":
                if unit_type:
                    cell.value = unit_type
                if types:
                    self.dropdown(cell, types, f"请从下拉列表中选择：{'、'.join(types)}")
            if uid == "unit.date":
                cell.number_format = "yyyy-mm-dd"
            ws.cell(self.row, self.col(COL_HELP), hint).font = self.small
            self.row += 1
        self.row += 1

    def dropdown(self, cell: Cell, options: tuple[str, ...], error: str | None = None) -> None:
        dv = DataValidation(type="list", formula1=f"={self.lists.ref(options)}", allow_blank=True)
        if error:
            dv.error = error
        dv.showErrorMessage = True
        dv.add(cell)
        self.validations.append(dv)

    def header(self) -> int:
        for c, text in HEADERS.items():
            if c == COL_EVAL and not self.evaluator:
                continue
            cell = self.ws.cell(self.row, self.col(c), text)
            cell.font, cell.fill, cell.border = self.bold, _FILL_HEAD, _BORDER
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        self.row += 1
        return self.row - 1

    def heading(self, text: str) -> None:
        cell = self.ws.cell(self.row, COL_GROUP, text)
        cell.font, cell.fill = self.bold, _FILL_GROUP
        for c in range(COL_NO, self.last_col + 1):
            self.ws.cell(self.row, c).fill = _FILL_GROUP
        self.ws.merge_cells(
            start_row=self.row, start_column=COL_GROUP, end_row=self.row, end_column=self.last_col
        )
        self.row += 1

    def item(self, number: int, item: TemplateRow) -> None:
        ws = self.ws
        ws.cell(self.row, COL_NO, number).font = self.font
        if item.spec is not None:
            self.input_row(item.spec)
        else:
            assert item.manual is not None
            self.manual_row(item.manual)
        for c in range(COL_NO, self.last_col + 1):
            ws.cell(self.row, c).border = _BORDER
            if ws.cell(self.row, c).alignment.wrap_text is not True and c in (COL_LABEL, self.col(COL_HELP)):
                ws.cell(self.row, c).alignment = Alignment(wrap_text=True, vertical="center")
        self.row += 1

    def input_row(self, spec: InputSpec) -> None:
        ws, row = self.ws, self.row
        ws.cell(row, COL_ID, spec.name)
        ws.cell(row, COL_LABEL, spec.label).font = self.font
        ws.cell(row, COL_UNIT, spec.unit or "").font = self.font
        ws.cell(row, self.col(COL_HELP), _help(spec)).font = self.small
        targets = []
        if spec.by == "self":
            targets.append(cell_at(ws, row, self.col(COL_SELF)))
        if self.evaluator:
            targets.append(cell_at(ws, row, COL_EVAL))
        dv_key = f"{spec.kind}|{spec.choices}|{spec.min}|{spec.max}|{spec.required}"
        for cell in targets:
            cell.protection, cell.border, cell.font = _UNLOCKED, _BORDER, self.font
            cell.fill = _FILL_EVAL if cell.column == COL_EVAL and self.evaluator else _FILL_INPUT
            # text: no accidental number or formula conversion
            cell.number_format = _NUMBER_FORMATS.get(spec.kind, "@")
            if dv_key not in self.grouped:
                new = _validation(spec, self.lists)
                if new is not None:
                    self.grouped[dv_key] = new
            if dv_key in self.grouped:
                self.grouped[dv_key].add(cell)

    def manual_row(self, node: Node) -> None:
        """A 督学评定 row (made for manual rules only): the rating in the 督评 column, its levels and guidance."""
        ws, row = self.ws, self.row
        rule = node.indicator.rule
        assert rule is not None and rule.manual is not None
        ws.cell(row, COL_ID, f"manual:{node.code}")
        ws.cell(row, COL_LABEL, f"督学评定：{node.name}").font = self.font
        levels = rule.manual.levels
        cell = cell_at(ws, row, COL_EVAL)
        cell.protection, cell.border, cell.font, cell.fill, cell.number_format = (
            _UNLOCKED,
            _BORDER,
            self.font,
            _FILL_EVAL,
            "@",
        )
        if levels:
            self.dropdown(cell, tuple(levels))
            hint = "；".join(f"{k}：{fmt(v)} 分" for k, v in levels.items())
        else:
            hint = f"填写 0 ~ {fmt(node.points)} 分"
        if rule.manual.guidance:
            hint = f"{rule.manual.guidance}（{hint}）"
        ws.cell(row, COL_HELP, hint).font = self.small

    def checks(self) -> None:
        """数据核查, listed below the table: the school can check its values before sending them."""
        checks = self.plan.framework.checks
        if not checks:
            return
        self.row += 1
        self.ws.cell(self.row, COL_NO, "提交前请自查（数据核查）").font = self.bold
        self.merged(self.row)
        for check in checks:
            self.row += 1
            effect = "不符合将被退回" if check.severity == "error" else "不符合时请核实"
            cell = self.ws.cell(self.row, COL_NO, f"{check.code}　{check.message}（{effect}）")
            cell.font, cell.alignment = self.font, Alignment(wrap_text=True, vertical="top")
            self.merged(self.row)
        self.row += 1

    def finish(self, header_row: int) -> None:
        """Validations, frozen header, A4 landscape printing, and protection of everything but the input cells."""
        ws = self.ws
        for dv in [*self.grouped.values(), *self.validations]:
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


def _meta_sheet(wb: Workbook, plan: Plan, unit_type: str | None, evaluator: bool) -> None:
    """The hidden sheet the reader checks: which framework, version and content hash the template belongs to."""
    fw = plan.framework
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
