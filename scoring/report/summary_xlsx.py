"""The district summary of a batch (汇总.xlsx): one row per unit with ranks, the grade distribution, the
indicators that fail most, and the files that could not be read.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from ..engine.rows import FailureRow, UnitRow
from ..framework.text import half_up
from ..io.xlsx import BOLD, PERCENT_FORMAT, Col, Fmt, save_workbook, table_sheet, title_row


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
    return Fmt(half_up(Decimal(count) / Decimal(total), 4), PERCENT_FORMAT) if total else None


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
                Fmt(half_up(row.completeness, 4), PERCENT_FORMAT),
                row.rectification_items,
                *(["\n".join(row.data_warnings) or "无"] if with_checks else []),
                row.file,
            ]
        )
    title_row(ws, caption, len(cols))
    table_sheet(ws, cols, body, top=2, header=title)
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
    last = table_sheet(ws, [Col("等级", 8, 14), Col("单位数", 6, 8), Col("占比", 7, 9)], dist, header=title)
    for j in range(1, 4):
        ws.cell(row=last, column=j).font = BOLD

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
    table_sheet(
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
    table_sheet(ws, [Col("文件", 10, 40, wrap=True), Col("原因", 20, 90, wrap=True)], unread, header=title)

    wb.active = 0
    return wb


def write_batch_summary(
    rows: list[UnitRow], failures: list[FailureRow], path: str | Path, *, framework_name: str = ""
) -> Path:
    """Write the district summary workbook to ``path`` atomically; returns the path."""
    return save_workbook(batch_workbook(rows, failures, framework_name=framework_name), path)
