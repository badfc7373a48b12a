"""The county report: 表Ⅱ-2 (each unit's values, 达标项数, pass or not, items only at 85 %), 表Ⅲ (全县平均值 and
差异系数 per indicator and phase), the verdict with its reasons, and the 整改清单 per failing school and for the
county — as Markdown and as a workbook, both rendering ``report.cohort_view`` (which holds every word and
number), and the set of files ``scoring cohort`` writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..engine.cohort import CohortResult
from ..io.files import atomic_write
from ..io.xlsx import Book, Col, table_sheet
from .blocks import Table
from .cohort_view import CohortView, cohort_view, verdict
from .excel import excel_value, sheet_columns, sheet_rows

FORMATS = ("json", "xlsx", "md", "pdf")
# Rows of a county table ``scoring cohort`` reads when it writes the workbook: 表Ⅱ-2 and the 整改清单 of 100,000
# schools are 2–3 million cells (with openpyxl about 40 s on the 2-core machine; benchmarks/cohort.py), and a
# workbook of that size is no use to a reader. JSON and Markdown take 100,000 (io/table.MAX_ROWS).
MAX_WORKBOOK_ROWS = 50_000

# Sheets (a renderer's choice) and column layout by column key; titles, texts and numbers come from the view.
_SHEETS = {
    "units": "表Ⅱ-2",
    "stats": "表Ⅲ",
    "county": "县级指标",
    "school_items": "学校整改清单",
    "county_items": "县域整改清单",
    "excluded": "不参评",
    "failures": "无法读取",
}
_ITEMS = {
    "school": Col("", 12, 30, wrap=True),
    "no": Col("", 4),
    "code": Col("", 6),
    "problem": Col("", 20, 60, wrap=True),
    "requirement": Col("", 20, 50, wrap=True),
    "owner": Col("", 8, 20),
    "deadline": Col("", 10),
    "priority": Col("", 6),
}
_WHERE = {"where": Col("", 20, 60, wrap=True), "reason": Col("", 30, 100, wrap=True)}
_FIXED = {
    # 表Ⅱ-2 holds every indicator of the unit framework: narrow numeric columns (their titles wrap), so the
    # table prints one page wide at 9 pt
    "units": {
        "name": Col("", 10, 24, wrap=True),
        "type": Col("", 4, 10, wrap=True),
        "group": Col("", 4, 6),
        "weight": Col("", 5, 8),
        "met": Col("", 4, 6, wrap=True),
        "passed": Col("", 4, 6, center=True, wrap=True),
        "note": Col("", 12, 60, wrap=True),
    },
    "stats": {"code": Col("", 6), "name": Col("", 16, 36, wrap=True)},
    "county": {
        "code": Col("", 6),
        "name": Col("", 16, 40, wrap=True),
        "status": Col("", 6),
        "explanation": Col("", 30, 90, wrap=True),
    },
    "school_items": _ITEMS,
    "county_items": _ITEMS,
    "excluded": _WHERE,
    "failures": _WHERE,
}
_PER_VALUE = {  # columns repeated per indicator (表Ⅱ-2) or per 学段 (表Ⅲ), by the key's prefix
    "value": Col("", 6, 10, wrap=True),
    "mean": Col("", 8, 10, wrap=True),
    "cv": Col("", 8, 10, wrap=True),
    "units": Col("", 6, 8, wrap=True),
    "met": Col("", 6, 8, wrap=True),
}


def _layout(table: Table) -> dict[str, Col]:
    fixed = _FIXED.get(table.key, {})
    out = {}
    for c in table.columns:
        prefix = c.key.split(":", 1)[0]
        if c.key in fixed:
            out[c.key] = fixed[c.key]
        elif ":" in c.key and prefix in _PER_VALUE:
            out[c.key] = _PER_VALUE[prefix]
    return out


def _facts(view: CohortView) -> list[list[Any]]:
    """The 县域结论 sheet's rows: the view's facts, then each reason the county did not pass and each 缺报."""
    rows: list[list[Any]] = [[f.label, excel_value(f.value)] for f in view.facts]
    rows += [["未通过的原因", reason] for reason in view.reasons]
    rows += [["缺报", note] for note in view.notes]
    return rows


def markdown(r: CohortResult) -> str:
    """The county report in Markdown: the same view (report.cohort_view) the PDF and the workbook lay out."""
    from .markdown import cohort_markdown

    return cohort_markdown(cohort_view(r))


def write_workbook(r: CohortResult, path: str | Path) -> Path:
    """The county report's workbook, rendering the same view as the Markdown and the PDF: the verdict and facts
    on 县域结论, then a sheet per table of the view."""
    return _book(r).save(path)


def workbook_bytes(r: CohortResult) -> bytes:
    """The county workbook as bytes (a download)."""
    return _book(r).data()


def _book(r: CohortResult) -> Book:
    view = cohort_view(r)
    book = Book()
    title = f"{r.county.unit.name} {r.framework.name}：{verdict(r)}"  # the verdict on every printed page
    ws = book.sheet("县域结论")
    ws.title(title, 2)
    cols = [Col("项目", 8, 12), Col("内容", 20, 100, wrap=True)]
    table_sheet(ws, cols, _facts(view), top=3, header=title)
    for table in view.tables:
        table_sheet(
            book.sheet(_SHEETS[table.key]),
            sheet_columns(table, _layout(table)),
            sheet_rows(table, "reason" if table.key in ("excluded", "failures") else None),
            header=f"{r.county.unit.name} {table.title}" if table.key == "county" else table.title,
        )
    return book


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
