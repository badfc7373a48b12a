"""The county report's content, built once from a CohortResult: the verdict and its reasons, 表Ⅱ-2 (each unit's
values, 达标项数, pass or not, the items only at 85 %), 表Ⅲ (全县平均值 and 差异系数 per indicator and phase), the
county indicators, the 整改清单 per failing school and for the county, the rows 不参评 and those not evaluated.

Every renderer of the county report — Markdown, the workbook (``report.cohort``) and the PDF — lays this view
out and words nothing itself. Values are shown as the cohort result holds them: school values rounded at the framework's precision,
全县平均值 at 2 decimals and 差异系数 at 3 (``engine.cohort``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..engine.cohort import CohortResult
from ..framework.rules.base import STATUS_ZH
from .blocks import Cell, Column, Fact, Lines, Number, Row, Table
from .unit_view import scalar


@dataclass(frozen=True, slots=True)
class CohortView:
    title: str
    facts: tuple[Fact, ...]
    reasons: tuple[str, ...]  # why the county did not pass (empty when it did)
    tables: tuple[
        Table, ...
    ]  # 表Ⅱ-2, 表Ⅲ, 县级指标, 学校整改清单, 县域整改清单, then 不参评 and 无法读取 if any
    notes: tuple[str, ...]  # units a statistic leaves out (缺报), named


def verdict(r: CohortResult) -> str:
    """The county's verdict in words: 通过认定, 不予认定, or 暂定 with why."""
    if r.passed:
        return "通过认定"
    if r.passed is False:
        return "不予认定"
    return "暂定（有未能评估的行）" if r.failures else "暂定（有缺报或待评项）"


def cohort_view(r: CohortResult) -> CohortView:
    """The county report of ``r``: every text and number a renderer shows."""
    passed = sum(1 for u in r.units if u.passed)
    facts = [
        Fact("评估框架", f"{r.framework.name}（{r.framework.id} {r.framework.version}）"),
        Fact("学校指标", r.unit_framework.id),
        *([Fact("评估依据", Lines(tuple(r.framework.sources)))] if r.framework.sources else []),
        Fact("结论", verdict(r), strong=True),
        Fact(
            "评估单位",
            f"{len(r.units)} 个（一贯制学校按学段拆分）；达标 {passed} 个；不参评 {len(r.excluded)} 行；"
            f"未能评估 {len(r.failures)} 行",
        ),
    ]
    tables = [_units(r), _stats(r), _county(r), _school_items(r), _county_items(r)]
    if r.excluded:
        tables.append(
            Table(
                "excluded",
                "不参评（按框架的评估单位规则）",
                (Column("where", "文件 / 行"), Column("reason", "原因")),
                tuple(Row((e.where(), e.reason_zh)) for e in r.excluded),
            )
        )
    if r.failures:
        tables.append(
            Table(
                "failures",
                "无法读取（未能评估的行：数据错误，改正后重新评估）",
                (Column("where", "文件 / 行"), Column("reason", "原因")),
                tuple(Row((f.file, Lines(tuple(f.reasons)))) for f in r.failures),
            )
        )
    return CohortView(
        title=f"{r.county.unit.name} {r.framework.name} 评估结果",
        facts=tuple(facts),
        reasons=tuple(r.reasons),
        tables=tuple(tables),
        notes=tuple(_missing(r)),
    )


def _codes(r: CohortResult) -> list[str]:
    return list(dict.fromkeys(s.indicator for s in r.stats))


def _names(r: CohortResult) -> dict[str, str]:
    return {s.indicator: s.name for s in r.stats}


def _units(r: CohortResult) -> Table:
    codes, names = _codes(r), _names(r)
    rows = []
    for ln in r.units:
        note = "、".join(f"{names.get(c, c)}达到标准的85%以上" for c in ln.floor_only)
        failed = [names.get(c, c) for c in codes if ln.statuses.get(c) != "met"]
        remark = ("未达标：" + "、".join(failed) if failed else "全部达标") + (f"；{note}" if note else "")
        cells: list[Cell] = [
            ln.school,
            ln.school_type,
            ln.group,
            None if ln.weight is None else Number(ln.weight),
            *(None if ln.values.get(c) is None else scalar(ln.values[c]) for c in codes),
            ln.met,
            "是" if ln.passed else ("否" if ln.passed is False else "待定"),
            remark,
        ]
        rows.append(Row(tuple(cells)))
    columns = (
        Column("name", "学校"),
        Column("type", "类型"),
        Column("group", "学段"),
        Column("weight", "在校生"),
        *(Column(f"value:{c}", names.get(c, c)) for c in codes),
        Column("met", "达标项数"),
        Column("passed", "是否达标"),
        Column("note", "备注"),
    )
    return Table("units", "表Ⅱ-2 学校资源配置指标", columns, tuple(rows), empty="没有评估单位。")


def _stats(r: CohortResult) -> Table:
    groups = list(dict.fromkeys(s.group for s in r.stats))
    by = {(s.indicator, s.group): s for s in r.stats}
    rows = []
    for code, name in _names(r).items():
        cells: list[Cell] = [code, name]
        for g in groups:
            s = by.get((code, g))
            if s is None:
                cells += [None, None, None, None]
                continue
            cells += [
                None if s.mean is None else Number(s.mean),
                None if s.cv is None else Number(s.cv),
                s.units,
                f"{s.met}/{s.units}" if s.units else None,
            ]
        rows.append(Row(tuple(cells)))
    columns = [Column("code", "编码"), Column("name", "指标")]
    for g in groups:
        columns += [
            Column(f"mean:{g}", f"{g}平均值"),
            Column(f"cv:{g}", f"{g}差异系数"),
            Column(f"units:{g}", f"{g}学校数"),
            Column(f"met:{g}", f"{g}达标"),
        ]
    return Table(
        "stats",
        "表Ⅲ 全县平均值与差异系数（差异系数按在校生数加权，保留三位小数）",
        tuple(columns),
        tuple(rows),
        empty="没有统计指标。",
    )


def _missing(r: CohortResult, show: int = 20) -> list[str]:
    out = []
    for s in r.stats:
        if s.missing:
            names = "、".join(s.missing[:show])
            more = f" 等 {len(s.missing)} 个" if len(s.missing) > show else ""
            out.append(f"{s.indicator} {s.group}：{names}{more} 缺报，未计入平均值和差异系数")
    return out


def _county(r: CohortResult) -> Table:
    return Table(
        "county",
        "县级指标",
        (
            Column("code", "编码"),
            Column("name", "指标"),
            Column("status", "状态"),
            Column("explanation", "计算过程"),
        ),
        tuple(
            Row(
                (i.code, i.name, STATUS_ZH[i.status], i.explanation.split("：", 1)[-1]),
                level=max(i.depth - 1, 0),
            )
            for i in r.county.indicators
        ),
    )


_ITEM_COLUMNS = (
    Column("code", "指标"),
    Column("problem", "问题"),
    Column("requirement", "整改要求"),
    Column("owner", "责任部门"),
    Column("deadline", "完成时限"),
    Column("priority", "优先级"),
)


def _school_items(r: CohortResult) -> Table:
    rows = [
        Row((u.name, it.code, it.problem, it.requirement, it.owner, it.deadline, it.priority))
        for u in r.units
        if not u.passed
        for it in u.rectification
    ]
    return Table(
        "school_items",
        "学校整改清单",
        (Column("school", "学校"), *_ITEM_COLUMNS),
        tuple(rows),
        empty="所有学校均达标。",
    )


def _county_items(r: CohortResult) -> Table:
    rows = [
        Row((it.no, it.code, it.problem, it.requirement, it.owner, it.deadline, it.priority))
        for it in r.county.rectification
    ]
    return Table(
        "county_items", "县域整改清单", (Column("no", "序号"), *_ITEM_COLUMNS), tuple(rows), empty="无。"
    )
