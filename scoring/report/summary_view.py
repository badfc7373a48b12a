"""The batch summary's content, built once from the batch's rows: one row per unit with ranks, the grade
distribution, the indicators that fail most, and the files that could not be read or were skipped.

A unit found in more than one file (``UnitRow.same_unit``) is shown in each, with a column 重复 naming the other
files; only the copy the batch chose (``UnitRow.ranked``) is ranked and counted in the distribution, the failing
indicators and the caption's count of units.

Units are ranked within their 学段 (the unit type: 小学 and 初中 are never ranked in one list; the rows stay in
batch order); when the units carry 学段 or 区域, a table counts and averages them per 学段 and per 区域, and the
first-level indicators' mean 得分率 is given per 学段.

:func:`summary_view` decides the words and number formats; ``report.summary_xlsx`` (and ``report.markdown``)
lay them out. Totals are shown at the framework's points precision when the caller gives it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..engine.rows import FailureRow, SkippedFile, UnitRow, norm_text
from .blocks import Cell, Column, Lines, Number, Row, Table, percent, points, share

NO_GRADE = "未评等级"
NO_PHASE = "未填学段"
NO_REGION = "未填区域"


@dataclass(frozen=True, slots=True)
class SummaryView:
    title: str  # the summary's name (a page header)
    caption: str  # its name with what it covers: how many units scored, how many files unread
    units: Table
    grades: Table
    shortfalls: Table
    failures: Table
    groups: Table  # per 学段 and per 区域: units, mean, highest and lowest total (no rows: the units carry neither)
    tops: Table  # the first-level indicators' mean 得分率, per 学段 (no rows: scored without points)

    @property
    def tables(self) -> tuple[Table, ...]:
        """Every table, in reading order."""
        return (self.units, self.groups, self.tops, self.grades, self.shortfalls, self.failures)


def summary_view(
    rows: Sequence[UnitRow],
    failures: Sequence[FailureRow],
    framework_name: str = "",
    *,
    precision: int | None = None,
    skipped: Sequence[SkippedFile] = (),
) -> SummaryView:
    """The batch summary of ``rows`` (units scored), ``failures`` (files unread) and ``skipped`` (files of the
    folders not read: not a submission's type).

    ``precision``: the framework's points precision (``scoring.precision``); without it totals are shown as the
    results wrote them.
    """
    title = f"{framework_name} 评估结果汇总" if framework_name else "评估结果汇总"
    counted = [row for row in rows if row.ranked]
    repeated = len(rows) - len(counted)
    caption = (
        f"{title}（已评 {len(rows)} 个单位"
        + (f"，其中 {repeated} 个与其他文件重复，不计排名和统计" if repeated else "")
        + f"，无法读取 {len(failures)} 个文件"
        + (f"，跳过 {len(skipped)} 个文件" if skipped else "")
        + "）"
    )
    return SummaryView(
        title=title,
        caption=caption,
        units=_units(rows, precision, title),
        grades=_grades(counted, title),
        shortfalls=_shortfalls(counted, title),
        failures=_failures(failures, skipped, title),
        groups=_groups(counted, precision, title),
        tops=_tops(counted, title),
    )


def competition_ranks(totals: Sequence[Decimal | None]) -> list[int | None]:
    """Ranks by total, highest first; equal totals share a rank (1, 2, 2, 4); no total, no rank."""
    scored = sorted((t for t in totals if t is not None), reverse=True)
    first: dict[Decimal, int] = {}
    for i, total in enumerate(scored, start=1):
        first.setdefault(total, i)
    return [None if t is None else first[t] for t in totals]


def _phase(row: UnitRow) -> str:
    """The unit's 学段 as it is ranked and grouped: its type, as people type it (全角, spaces); 未填学段 without one."""
    return norm_text(row.type) or NO_PHASE


def phase_ranks(rows: Sequence[UnitRow]) -> list[int | None]:
    """Each ranked row's rank by total within its 学段 (:func:`competition_ranks`); None for the others."""
    ranks: list[int | None] = [None] * len(rows)
    phases: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        if row.ranked:
            phases.setdefault(_phase(row), []).append(i)
    for members in phases.values():
        for i, rank in zip(members, competition_ranks([rows[i].total for i in members]), strict=True):
            ranks[i] = rank
    return ranks


def _units(rows: Sequence[UnitRow], places: int | None, title: str) -> Table:
    """One row per unit; 认定 and 数据核查 only when some unit has them; ranks within the 学段."""
    with_pass = any(row.passed is not None for row in rows)
    with_checks = any(row.data_warnings for row in rows)
    with_repeats = any(row.same_unit for row in rows)
    with_reports = any(row.report for row in rows)
    columns = [
        Column("no", "序号"),
        Column("name", "单位名称"),
        Column("code", "代码"),
        Column("type", "类型"),
        Column("total", "总分"),
        Column("rank", "排名"),  # within the unit's 学段
        Column("grade", "等级"),
        *([Column("passed", "认定")] if with_pass else []),
        Column("vetoes", "一票否决"),
        Column("provisional", "暂定"),
        Column("completeness", "完整度"),
        Column("rectification", "整改项数"),
        *([Column("checks", "数据核查（请核实）")] if with_checks else []),
        *([Column("repeats", "重复")] if with_repeats else []),
        Column("file", "文件"),
        *([Column("report", "报告名")] if with_reports else []),
    ]
    ranks = phase_ranks(rows)
    body = []
    for i, (row, rank) in enumerate(zip(rows, ranks, strict=True), start=1):
        passed: list[Cell] = [None if row.passed is None else ("通过" if row.passed else "不通过")]
        cells: list[Cell] = [
            i,
            row.name,
            row.code,
            row.type,
            points(row.total, places),
            rank,
            row.grade,
            *(passed if with_pass else []),
            Lines(tuple(row.vetoes)) if row.vetoes else "无",
            "是" if row.provisional else "否",
            percent(row.completeness),
            row.rectification_items,
            *([Lines(tuple(row.data_warnings)) if row.data_warnings else "无"] if with_checks else []),
            *([_repeats(row)] if with_repeats else []),
            row.file,
            *([row.report] if with_reports else []),
        ]
        body.append(Row(tuple(cells)))
    return Table("units", "各单位评估结果", tuple(columns), tuple(body), caption=title)


def _repeats(row: UnitRow) -> str | None:
    """Which other files hold the same unit, and which copy is ranked."""
    if not row.same_unit:
        return None
    others = "、".join(row.same_unit)
    if row.duplicate_of is None:
        return f"与 {others} 是同一单位；排名和统计以本文件为准（最近修改）"
    return f"与 {others} 是同一单位；本文件不排名、不计统计，以 {row.duplicate_of} 为准（最近修改）"


def _grades(rows: Sequence[UnitRow], title: str) -> Table:
    """等级分布: grades ordered by their units' mean total (highest first), units without a grade last."""
    groups: dict[str, list[Decimal | None]] = {}
    for row in rows:
        groups.setdefault(row.grade or NO_GRADE, []).append(row.total)

    def mean(totals: list[Decimal | None]) -> Decimal:
        known = [t for t in totals if t is not None]
        return sum(known, Decimal(0)) / len(known) if known else Decimal("-Infinity")

    order = sorted(groups, key=lambda g: (g == NO_GRADE, -mean(groups[g]), g))
    body = [Row((grade, len(groups[grade]), share(len(groups[grade]), len(rows)))) for grade in order]
    body.append(Row(("合计", len(rows), share(len(rows), len(rows))), strong=True))
    columns = (Column("grade", "等级"), Column("units", "单位数"), Column("share", "占比"))
    return Table("grades", "等级分布", columns, tuple(body), caption=title)


def _natural(code: str) -> list[Any]:
    """A sort key reading the numbers in a code as numbers: A2 before A10."""
    return [
        (0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", code) if part
    ]


def _shortfalls(rows: Sequence[UnitRow], title: str) -> Table:
    """失分最多的指标: leaves 未达标 or 部分达标, by the number of units."""
    counts: Counter[str] = Counter()
    names: dict[str, str] = {}
    for row in rows:
        for code, name in dict(row.shortfalls).items():
            counts[code] += 1
            names.setdefault(code, name)
    ranked = sorted(counts, key=lambda code: (-counts[code], _natural(code)))
    columns = (
        Column("code", "指标编码"),
        Column("name", "指标"),
        Column("units", "未达标或部分达标单位数"),
        Column("share", "占已评单位"),
    )
    body = tuple(Row((code, names[code], counts[code], share(counts[code], len(rows)))) for code in ranked)
    return Table(
        "shortfalls", "失分最多的指标", columns, body, empty="没有未达标或部分达标的指标。", caption=title
    )


def _failures(failures: Sequence[FailureRow], skipped: Sequence[SkippedFile], title: str) -> Table:
    """Files that could not be read (with every reason), then files skipped (not a submission's type)."""
    body = tuple(Row((f.file, Lines(tuple(f.reasons)) if f.reasons else None)) for f in failures) + tuple(
        Row((s.file, f"已跳过：{s.reason}")) for s in skipped
    )
    columns = (Column("file", "文件"), Column("reason", "原因"))
    return Table("failures", "无法读取", columns, body, empty="全部文件均已读取。", caption=title)


def _groups(rows: Sequence[UnitRow], places: int | None, title: str) -> Table:
    """Per 学段 and per 区域 (each when some unit carries it): units, mean, highest and lowest total."""
    groups: list[tuple[str, str, list[UnitRow]]] = []
    if any(row.type for row in rows):
        phases: dict[str, list[UnitRow]] = {}
        for row in rows:
            phases.setdefault(_phase(row), []).append(row)
        groups += [("学段", phase, members) for phase, members in phases.items()]
    if any(row.region for row in rows):
        regions: dict[str, list[UnitRow]] = {}
        for row in rows:
            regions.setdefault(row.region or NO_REGION, []).append(row)
        groups += [("区域", region, members) for region, members in regions.items()]
    body = []
    for kind, name, members in groups:
        totals = [row.total for row in members if row.total is not None]
        mean = sum(totals, Decimal(0)) / len(totals) if totals else None
        body.append(
            Row(
                (
                    kind,
                    name,
                    len(members),
                    None if mean is None else Number(mean, places if places is not None else 2),
                    points(max(totals), places) if totals else None,
                    points(min(totals), places) if totals else None,
                )
            )
        )
    columns = (
        Column("kind", "分组"),
        Column("name", "学段或区域"),
        Column("units", "单位数"),
        Column("mean", "平均总分"),
        Column("best", "最高分"),
        Column("worst", "最低分"),
    )
    return Table("groups", "按学段、区域统计", columns, tuple(body), caption=title)


def _tops(rows: Sequence[UnitRow], title: str) -> Table:
    """The first-level indicators' mean 得分率 (points ÷ full points) per 学段, over the units that scored them."""
    phases = list(dict.fromkeys(_phase(row) for row in rows))
    names: dict[str, str] = {}
    rates: dict[tuple[str, str], list[Decimal]] = {}
    for row in rows:
        for code, name, earned, full in row.tops:
            names.setdefault(code, name)
            if earned is not None and full:
                rates.setdefault((code, _phase(row)), []).append(earned / full)
    codes = [code for code in names if any((code, phase) in rates for phase in phases)]
    one = len(phases) <= 1
    columns = (
        Column("code", "编码"),
        Column("name", "一级指标"),
        *(
            Column(f"rate{i}", "平均得分率" if one else f"{phase}平均得分率")
            for i, phase in enumerate(phases)
        ),
    )
    body = tuple(
        Row(
            (
                code,
                names[code],
                *(
                    percent(sum(r, Decimal(0)) / len(r)) if (r := rates.get((code, phase))) else None
                    for phase in phases
                ),
            )
        )
        for code in codes
    )
    return Table(
        "tops", "一级指标平均得分率", columns, body, empty="没有按分值计分的一级指标。", caption=title
    )
