"""The unit report's content, built once from a Result: what a 督学 reads, in the words and precision they read it.

:func:`unit_view` decides every title, label, sentence and number format of the report; the Markdown and Excel
renderers (``report.markdown``, ``report.unit_xlsx``) only lay it out, so the two always say the same thing.
Points are shown at the framework's precision (``Result.precision``), an indicator's value at the precision it
was compared at (``IndicatorResult.precision``), what was typed or written in the framework as given.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from ..engine.result import IndicatorResult, Result, Scalar
from ..framework.rules.base import STATUS_ZH
from .blocks import (
    BarChart,
    Cell,
    Column,
    Fact,
    Lines,
    Number,
    Row,
    Table,
    number_text,
    percent,
    points,
    share,
    with_unit_text,
)

METHOD_ZH = {"points": "分值制", "weights": "权重制", "pass_fail": "达标类"}
EFFECT_ZH = {"fail": "不予认定", "downgrade": "降等", "cap": "等级封顶"}
CHANGE_ZH = {"waiver": "豁免", "override": "改判"}
PROVISIONAL = "有缺报或待评的指标，结果为暂定"


@dataclass(frozen=True, slots=True)
class UnitView:
    """One unit's report: summary facts, the first-level overview (and its chart), the summary's further sections
    in reading order, every indicator, and the 整改清单."""

    title: str
    facts: tuple[Fact, ...]
    overview: Table
    chart: BarChart | None
    # 指标状态统计, 一票否决, then those that apply: 加分, 数据核查, 差异, 改判, 佐证
    sections: tuple[Table, ...]
    indicators: Table
    rectification: Table
    footer: str  # the engine that scored it, and the file the data came from


def unit_view(r: Result) -> UnitView:
    """The unit report of ``r``: every text and number a renderer shows."""
    overview, chart = _overview(r)
    optional = (_bonus(r), _checks(r), _gaps(r), _changes(r), _evidence(r))
    return UnitView(
        title=f"{r.unit.name} 评估报告",
        facts=_facts(r),
        overview=overview,
        chart=chart,
        sections=(_counts(r), _vetoes(r), *(t for t in optional if t is not None)),
        indicators=_indicators(r),
        rectification=_rectification(r),
        footer=r.engine + (f"；数据来源：{r.source}" if r.source else ""),
    )


# ----------------------------------------------------------------------------------------------- cells


def scalar(value: Scalar, places: int | None = None, unit: str | None = None) -> Cell:
    """A submitted or computed value: a number at its declared decimals and with its unit, 是/否, text, a date."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return Number(value, places, unit)
    return value


def marked(name: str, local: bool, verified: bool) -> str:
    """A name with the marks a 督学 must see: （地方） a local addition, （待核） wording not yet confirmed."""
    return name + ("（地方）" if local else "") + ("（待核）" if not verified else "")


def explained(text: str, note: str | None = None) -> Cell:
    """An explanation without its leading "code name：" (the table shows both), and the framework's note."""
    body = text.split("：", 1)[-1]
    return Lines((body, f"备注：{note}")) if note else body


# ---------------------------------------------------------------------------------------------- summary


def _facts(r: Result) -> tuple[Fact, ...]:
    places = r.precision
    fw = r.framework
    facts = [
        Fact("单位名称", r.unit.name),
        Fact("单位代码", r.unit.code),
        Fact("单位类型", r.unit.type),
        *([Fact("所在地区", r.unit.region)] if r.unit.region else []),
        Fact("评估日期", r.unit.date),
        Fact("评估框架", fw.name),
        Fact("框架编号", fw.id, f"基于 {fw.extends}" if fw.extends else None),
        Fact("框架版本", fw.version),
        Fact("框架哈希", fw.hash),
        *([Fact("评估依据", Lines(tuple(fw.sources)))] if fw.sources else []),
        Fact("评分方法", METHOD_ZH.get(r.method, r.method)),
    ]
    total_places = r.total_precision if r.total_precision is not None else places
    if r.total is not None:
        bonus = points(r.bonus_total, places) if r.bonus_total else None
        facts.append(
            Fact(
                "总分",
                points(r.total, total_places),
                f"含加分 {number_text(bonus)}" if bonus else None,
                strong=True,
            )
        )
        facts.append(Fact("满分", points(r.possible, None)))
        if r.total_explanation:
            facts.append(Fact("总分计算", r.total_explanation))
    if r.self_total is not None:
        facts.append(Fact("自评得分", points(r.self_total, total_places), "以上总分按督评数据计算"))
    if r.grade:
        facts.append(Fact("等级", r.grade, strong=True))
        changed = "因一票否决调整" if r.grade_before_vetoes != r.grade else "未调整"
        facts.append(Fact("否决前等级", r.grade_before_vetoes, changed))
    if r.passed is not None:
        facts.append(Fact("认定结论", "通过" if r.passed else "不通过", strong=True))
    c = r.completeness
    missing = f"，缺报：{'、'.join(r.labels.get(n, n) for n in c.missing_inputs)}" if c.missing_inputs else ""
    facts.append(Fact("填报完整度", percent(c.ratio), f"{c.filled}/{c.required}{missing}"))
    facts.append(Fact("结果", "暂定" if r.provisional else "确定", PROVISIONAL if r.provisional else None))
    return tuple(facts)


def _overview(r: Result) -> tuple[Table, BarChart | None]:
    """The first-level indicators: earned and full points where scored by points (分值制, 权重制); for 达标类 the
    leaves 达标 against the leaves that count (不适用 and 已豁免 left out) — with the chart drawn from them."""
    tops = [ind for ind in r.indicators if ind.depth == 1]
    by_points = r.method != "pass_fail" and any(ind.possible is not None for ind in tops)
    figures: list[tuple[Cell, Cell, Cell]]  # per first-level indicator: earned, full, rate
    if by_points:
        heads = ("得分", "满分", "得分率")
        figures = [
            (points(ind.points, r.precision), points(ind.possible, None), share(ind.points, ind.possible))
            for ind in tops
        ]
    else:
        heads = ("达标项数", "计入项数", "达标率")
        met, counted = _leaves_met(r)
        figures = [(met[i.code], counted[i.code], share(met[i.code], counted[i.code])) for i in tops]
    keys = ("earned", "full", "rate")
    table = Table(
        key="overview",
        title="一级指标得分" if by_points else "一级指标达标情况",
        columns=(
            Column("code", "编码"),
            Column("name", "一级指标"),
            *(Column(k, h) for k, h in zip(keys, heads, strict=True)),
            Column("status", "状态"),
        ),
        rows=tuple(
            Row((ind.code, ind.name, *figure, ind.status_zh))
            for ind, figure in zip(tops, figures, strict=True)
        ),
        empty="没有一级指标，不绘制图表。",
    )
    if not tops:
        return table, None
    chart = BarChart(
        title="一级指标得分与满分" if by_points else "一级指标达标项数与计入项数",
        axis="分" if by_points else "项",
        category="name",
        series=("earned", "full"),
    )
    return table, chart


def _leaves_met(r: Result) -> tuple[Counter[str], Counter[str]]:
    """Per first-level code: the leaves 达标, and the leaves that count (不适用 and 已豁免 do not)."""
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
    return met, counted


def _counts(r: Result) -> Table:
    order = list(STATUS_ZH)
    counts = sorted(r.counts.items(), key=lambda kv: order.index(kv[0]))
    return Table(
        key="counts",
        title="指标状态统计",
        columns=(Column("status", "状态"), Column("count", "项数")),
        rows=tuple(Row((STATUS_ZH[k], v)) for k, v in counts),
        empty="无",
    )


def _vetoes(r: Result) -> Table:
    """The vetoes triggered, or that cannot be judged for want of data."""
    return Table(
        key="vetoes",
        title="一票否决",
        columns=(
            Column("code", "编码"),
            Column("reason", "事项"),
            Column("effect", "效果"),
            Column("verdict", "结论"),
            Column("explanation", "说明"),
        ),
        rows=tuple(
            Row(
                (
                    v.code,
                    marked(v.reason, v.local, v.verified),
                    v.detail or EFFECT_ZH.get(v.effect, v.effect),
                    "触发" if v.triggered else "无法判断（缺报）",
                    v.explanation or None,
                )
            )
            for v in r.vetoes
            if v.triggered is not False
        ),
        empty="未触发一票否决。",
    )


def _bonus(r: Result) -> Table | None:
    if not r.bonus:
        return None
    rows = [Row((b.code, b.name, points(b.points, r.precision), explained(b.explanation))) for b in r.bonus]
    rows.append(Row(("合计", None, points(r.bonus_total, r.precision), None), strong=True))
    return Table(
        key="bonus",
        title="加分",
        columns=(
            Column("code", "编码"),
            Column("name", "项目"),
            Column("points", "加分"),
            Column("explanation", "说明"),
        ),
        rows=tuple(rows),
    )


def _checks(r: Result) -> Table | None:
    """数据核查 conditions the values do not meet: for the 督学 to verify, not scored."""
    if not r.data_warnings:
        return None
    return Table(
        key="checks",
        title="数据核查（请核实）",
        columns=(Column("code", "编码"), Column("message", "问题"), Column("detail", "填报")),
        rows=tuple(
            Row((w.code, w.message, w.detail), sentence=f"{w.code} {w.message}（填报：{w.detail}）")
            for w in r.data_warnings
        ),
    )


def _gaps(r: Result) -> Table | None:
    if not r.gap_flags:
        return None
    return Table(
        key="gaps",
        title="自评与督评差异较大（自评虚高）",
        columns=(  # the input by its label: a reader never sees an input's id
            Column("label", "填报项"),
            Column("self", "自评值"),
            Column("evaluator", "督评值"),
            Column("difference", "差异"),
        ),
        rows=tuple(
            Row(
                (g.label, scalar(g.self_value), scalar(g.evaluator_value), g.difference),
                sentence=f"{g.label}：{g.difference}",
            )
            for g in r.gap_flags
        ),
    )


def _changes(r: Result) -> Table | None:
    """Waivers and overrides, with who, when, why and old → new; each indicator by its code and name."""
    if not r.changes:
        return None
    names = {i.code: i.name for i in r.indicators}
    rows = []
    for ch in r.changes:
        when = f"，{ch.at.isoformat()}" if ch.at else ""
        which = f"{ch.indicator} {names[ch.indicator]}" if names.get(ch.indicator) else ch.indicator
        sentence = f"{CHANGE_ZH[ch.kind]} {which}：{ch.old} → {ch.new}（{ch.by}{when}：{ch.reason}）"
        rows.append(
            Row(
                (CHANGE_ZH[ch.kind], which, f"{ch.old} → {ch.new}", ch.by, ch.reason, ch.at),
                sentence=sentence,
            )
        )
    return Table(
        key="changes",
        title="豁免与改判",
        columns=(
            Column("kind", "类型"),
            Column("code", "指标"),
            Column("change", "原结果 → 新结果"),
            Column("by", "经办人"),
            Column("reason", "理由"),
            Column("date", "日期"),
        ),
        rows=tuple(rows),
    )


def _evidence(r: Result) -> Table | None:
    """佐证材料 as submitted, by indicator (its code and name) or input (its label, as the 自评表 names it; the id
    only where the result carries no label for it)."""
    if not r.evidence:
        return None
    names = {i.code: i.name for i in r.indicators}
    rows = []
    for key, refs in r.evidence.items():
        files = "、".join(refs)
        code: str | None
        name: str | None
        if key in names:
            code, name = key, names[key]
            said = f"{code} {name}"
        else:
            code, name = (None, r.labels[key]) if key in r.labels else (key, None)
            said = name or key
        rows.append(Row((code, name, files), sentence=f"{said}：{files}"))
    return Table(
        key="evidence",
        title="佐证材料",
        columns=(Column("code", "编码"), Column("name", "指标或填报项"), Column("files", "材料")),
        rows=tuple(rows),
    )


# ------------------------------------------------------------------------------------ indicators, 整改


def _indicators(r: Result) -> Table:
    return Table(
        key="indicators",
        title="指标得分",
        caption=f"{r.unit.name} 指标得分",
        columns=(
            Column("code", "编码"),
            Column("name", "指标"),
            Column("status", "状态"),
            Column("value", "值"),
            Column("standard", "标准"),
            Column("points", "得分"),
            Column("possible", "满分"),
            Column("explanation", "计算过程"),
        ),
        rows=tuple(_indicator_row(ind, r.precision) for ind in r.indicators),
    )


def _indicator_row(ind: IndicatorResult, places: int | None) -> Row:
    return Row(
        (
            ind.code,
            marked(ind.name, ind.local, ind.verified),
            ind.status_zh,
            scalar(ind.value, ind.precision, ind.unit),
            with_unit_text(ind.standard, ind.unit) if ind.standard else None,
            points(ind.points, places),
            points(ind.possible, None),
            explained(ind.explanation, ind.note),
        ),
        level=max(ind.depth - 1, 0),
        strong=ind.kind == "group",
    )


def _rectification(r: Result) -> Table:
    return Table(
        key="rectification",
        title="整改清单",
        caption=f"{r.unit.name} 整改清单",
        columns=(
            Column("no", "序号"),
            Column("code", "指标编码"),
            Column("name", "指标"),
            Column("problem", "问题"),
            Column("requirement", "整改要求"),
            Column("basis", "依据"),
            Column("owner", "责任部门"),
            Column("deadline", "完成时限"),
            Column("priority", "优先级"),
            Column("recoverable", "可挽回分值"),
        ),
        rows=tuple(
            Row(
                (
                    it.no,
                    it.code,
                    it.name,
                    it.problem,
                    it.requirement,
                    it.basis,
                    it.owner,
                    it.deadline,
                    it.priority,
                    points(it.points_recoverable, r.precision),
                )
            )
            for it in r.rectification
        ),
        empty="无需整改。",
    )
