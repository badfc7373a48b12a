"""The county report: 表Ⅱ-2 (each unit's values, 达标项数, pass or not, items only at 85 %), 表Ⅲ (全县平均值 and
差异系数 per indicator and phase), the verdict with its reasons, and the 整改清单 per failing school and for the
county — as Markdown and as a workbook."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..engine.cohort import CohortResult
from ..framework.rules.base import STATUS_ZH
from ..io.files import atomic_write
from ..io.xlsx import Book, Col, table_sheet

FORMATS = ("json", "xlsx", "md", "pdf")
# Rows of a county table ``scoring cohort`` reads when it writes the workbook: 表Ⅱ-2 and the 整改清单 of 100,000
# schools are 2–3 million cells (with openpyxl about 40 s on the 2-core machine; benchmarks/cohort.py), and a
# workbook of that size is no use to a reader. JSON and Markdown take 100,000 (io/table.MAX_ROWS).
MAX_WORKBOOK_ROWS = 50_000

_ITEM_COLS = (  # a 整改清单 item's columns after the school or the number
    Col("指标", 6),
    Col("问题", 20, 60, wrap=True),
    Col("整改要求", 20, 50, wrap=True),
    Col("责任部门", 8, 20),
    Col("完成时限", 10),
    Col("优先级", 6),
)


def _verdict(r: CohortResult) -> str:
    if r.passed:
        return "通过认定"
    if r.passed is False:
        return "不予认定"
    return "暂定（有未能评估的行）" if r.failures else "暂定（有缺报或待评项）"


def _names(r: CohortResult) -> dict[str, str]:
    """Each aggregated indicator's name by code: columns and notes name indicators, never L1…L7."""
    return {s.indicator: s.name for s in r.stats}


def _units_rows(r: CohortResult, codes: list[str]) -> list[list[Any]]:
    rows = []
    names = _names(r)
    for ln in r.units:
        note = "、".join(f"{names.get(c, c)}达到标准的85%以上" for c in ln.floor_only)
        failed = [names.get(c, c) for c in codes if ln.statuses.get(c) not in ("met",)]
        rows.append(
            [
                ln.school,
                ln.school_type or "",
                ln.group or "",
                ln.weight,
                *[ln.values.get(c) for c in codes],
                ln.met,
                "是" if ln.passed else ("否" if ln.passed is False else "待定"),
                ("未达标：" + "、".join(failed) if failed else "全部达标") + (f"；{note}" if note else ""),
            ]
        )
    return rows


def _stats_rows(r: CohortResult) -> list[list[Any]]:
    groups = list(dict.fromkeys(s.group for s in r.stats))
    by = {(s.indicator, s.group): s for s in r.stats}
    rows = []
    for code in dict.fromkeys(s.indicator for s in r.stats):
        name = next(s.name for s in r.stats if s.indicator == code)
        row: list[Any] = [code, name]
        for g in groups:
            s = by[(code, g)]
            row += [s.mean, s.cv, s.units, f"{s.met}/{s.units}" if s.units else "—"]
        rows.append(row)
    return rows


def markdown(r: CohortResult) -> str:
    """The county report in Markdown: the same view (report.cohort_view) the PDF lays out."""
    from .cohort_view import cohort_view
    from .markdown import cohort_markdown

    return cohort_markdown(cohort_view(r))


def write_workbook(r: CohortResult, path: str | Path) -> Path:
    codes = list(dict.fromkeys(s.indicator for s in r.stats))
    groups = list(dict.fromkeys(s.group for s in r.stats))
    book = Book()
    title = f"{r.county.unit.name} {r.framework.name}：{_verdict(r)}"
    ws = book.sheet("县域结论")
    ws.title(title, 2)
    passed = sum(1 for u in r.units if u.passed)
    facts: list[list[Any]] = [
        [
            "框架",
            f"{r.framework.name}（{r.framework.id} {r.framework.version}）；学校指标：{r.unit_framework.id}",
        ],
        *([["评估依据", "\n".join(r.framework.sources)]] if r.framework.sources else []),
        ["结论", _verdict(r)],
        [
            "评估单位",
            f"{len(r.units)} 个（一贯制学校按学段拆分）；达标 {passed} 个；不参评 {len(r.excluded)} 行；"
            f"未能评估 {len(r.failures)} 行",
        ],
        *[["未通过的原因", x] for x in r.reasons],
    ]
    table_sheet(ws, [Col("项目", 8, 12), Col("内容", 20, 100, wrap=True)], facts, top=3, header=title)
    names = _names(r)
    # 表Ⅱ-2 holds every indicator of the unit framework: narrow numeric columns (their titles wrap), so the
    # table prints one page wide at 9 pt
    cols = [
        Col("学校", 10, 24, wrap=True),
        Col("类型", 4, 10, wrap=True),
        Col("学段", 4, 6),
        Col("在校生", 5, 8),
    ]
    cols += [Col(names.get(c, c), 6, 10, wrap=True) for c in codes]
    cols += [Col("达标项数", 4, 6, wrap=True), Col("是否达标", 4, 6, center=True, wrap=True)]
    cols.append(Col("备注", 12, 60, wrap=True))
    table_sheet(book.sheet("表Ⅱ-2"), cols, _units_rows(r, codes), header="表Ⅱ-2 学校资源配置指标")
    cols = [Col("编码", 6), Col("指标", 16, 36, wrap=True)]
    for g in groups:
        cols += [
            Col(f"{g}平均值", 8, 10, wrap=True),
            Col(f"{g}差异系数", 8, 10, wrap=True),
            Col(f"{g}学校数", 6, 8, wrap=True),
            Col(f"{g}达标", 6, 8, wrap=True),
        ]
    table_sheet(book.sheet("表Ⅲ"), cols, _stats_rows(r), header="表Ⅲ 全县平均值与差异系数")
    rows: list[list[Any]] = [
        [i.code, i.name, STATUS_ZH[i.status], i.explanation.split("：", 1)[-1]] for i in r.county.indicators
    ]
    table_sheet(
        book.sheet("县级指标"),
        [Col("编码", 6), Col("指标", 16, 40, wrap=True), Col("状态", 6), Col("计算过程", 30, 90, wrap=True)],
        rows,
        header=f"{r.county.unit.name} 县级指标",
    )
    rows = [
        [u.name, it.code, it.problem, it.requirement, it.owner, it.deadline, it.priority]
        for u in r.units
        if not u.passed
        for it in u.rectification
    ]
    table_sheet(
        book.sheet("学校整改清单"), [Col("学校", 12, 30, wrap=True), *_ITEM_COLS], rows, header="学校整改清单"
    )
    rows = [
        [it.no, it.code, it.problem, it.requirement, it.owner, it.deadline, it.priority]
        for it in r.county.rectification
    ]
    table_sheet(book.sheet("县域整改清单"), [Col("序号", 4), *_ITEM_COLS], rows, header="县域整改清单")
    if r.excluded:
        table_sheet(
            book.sheet("不参评"),
            [Col("文件 / 行", 20, 60, wrap=True), Col("原因", 30, 100, wrap=True)],
            [[e.where(), e.reason_zh] for e in r.excluded],
            header="不参评（按框架的评估单位规则）",
        )
    if r.failures:
        table_sheet(
            book.sheet("无法读取"),
            [Col("文件 / 行", 20, 60, wrap=True), Col("原因", 30, 100, wrap=True)],
            [[f.file, "\n".join(f.reasons)] for f in r.failures],
            header="无法读取（未能评估的行）",
        )
    return book.save(path)


def write_all(
    r: CohortResult, outdir: str | Path, formats: tuple[str, ...] = ("json", "xlsx", "md")
) -> list[Path]:
    out = Path(outdir)
    written = []
    if "json" in formats:
        written.append(atomic_write(out / "县域评估.json", r.to_json()))
    if "md" in formats:
        written.append(atomic_write(out / "县域评估.md", markdown(r)))
    if "xlsx" in formats:
        written.append(write_workbook(r, out / "县域评估.xlsx"))
    if "pdf" in formats:
        from .pdf import write_cohort_pdf

        written.append(write_cohort_pdf(r, out / "县域评估.pdf"))
    return written
