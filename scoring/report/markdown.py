"""Markdown renderer of the report views: the unit report a 督学 reads and sends back, and the batch summary.

Layout only: every word and number format comes from the view (``report.unit_view``, ``report.summary_view``).
Facts become a list, tables pipe tables (a nested row indented by full-width spaces), and a section whose rows
each carry a sentence (数据核查, 差异, 改判, 佐证) a bulleted list of those sentences. Markdown draws no chart: the
table it is drawn from is there.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..engine.result import Result
from ..engine.rows import FailureRow, SkippedFile, UnitRow
from ..problems import printable
from .blocks import Fact, Row, Table, cell_text
from .cohort_view import CohortView
from .summary_view import SummaryView, summary_view
from .unit_view import UnitView, unit_view

INDENT = "　"  # a full-width space per level of nesting, in the first column that holds names


def markdown(r: Result) -> str:
    """The unit report of ``r`` in Markdown (summary, sections, every indicator with its explanation, 整改清单)."""
    return unit_markdown(unit_view(r))


def cohort_markdown(view: CohortView) -> str:
    """The county report: the verdict and what it rests on, 表Ⅱ-2, 表Ⅲ, the county's indicators, the 整改清单."""
    lines = [f"# {_inline(view.title)}", "", *(_fact(f) for f in view.facts), ""]
    if view.reasons:
        lines += ["## 未通过的原因", "", *(f"- {_inline(x)}" for x in view.reasons), ""]
    for table in view.tables:
        lines += _section(table)
        if table.key == "stats" and view.notes:
            lines[-1:-1] = [f"- {_inline(note)}" for note in view.notes]
    return "\n".join(lines) + "\n"


def unit_markdown(view: UnitView) -> str:
    lines = [f"# {_inline(view.title)}", "", *(_fact(f) for f in view.facts), ""]
    for table in (view.overview, *view.sections, view.indicators, view.rectification):
        lines += _section(table)
    lines.append(f"<sub>{_inline(view.footer)}</sub>")
    return "\n".join(lines) + "\n"


def batch_markdown(
    rows: Sequence[UnitRow],
    failures: Sequence[FailureRow],
    *,
    framework_name: str = "",
    precision: int | None = None,
    skipped: Sequence[SkippedFile] = (),
) -> str:
    """The batch summary in Markdown (the same view as the summary workbook)."""
    return summary_markdown(
        summary_view(rows, failures, framework_name, precision=precision, skipped=skipped)
    )


def summary_markdown(view: SummaryView) -> str:
    lines = [f"# {_inline(view.caption)}", ""]
    for table in view.tables:
        if table.rows or (table is not view.groups and table is not view.tops):  # those two only when filled
            lines += _section(table)
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------- blocks


def _inline(text: str) -> str:
    """Text on one line of Markdown: line breaks become spaces; every other control character (ESC, BEL, a lone
    CR, the bidi controls) is shown as an escape (``\\x1b``), so text from a submission cannot reach a terminal
    that shows the file, or reorder what a reader sees."""
    return printable(text.replace("\r\n", " ").replace("\n", " "))


def _escaped(text: str) -> str:
    """Text inside a pipe table: on one line, and its own pipes kept from splitting the cell."""
    return _inline(text).replace("|", "\\|")


def _fact(fact: Fact) -> str:
    said = f"{fact.label}：{_inline(cell_text(fact.value))}"
    note = f"（{_inline(fact.note)}）" if fact.note else ""
    return f"- **{said}**{note}" if fact.strong else f"- {said}{note}"


def _section(table: Table) -> list[str]:
    lines = [f"## {_inline(table.title)}", ""]
    if not table.rows:
        lines += [_inline(table.empty)] if table.empty else []
    elif table.listed:
        lines += [f"- {_inline(row.sentence)}" for row in table.rows]
    else:
        lines += _table(table)
    return [*lines, ""]


def _table(table: Table) -> list[str]:
    nested = next((i for i, c in enumerate(table.columns) if c.key == "name"), None)
    head = "| " + " | ".join(_escaped(c.title) for c in table.columns) + " |"
    rule = "|" + "---|" * len(table.columns)
    return [head, rule, *(_row(row, nested) for row in table.rows)]


def _row(row: Row, nested: int | None) -> str:
    cells = [_escaped(cell_text(cell)) for cell in row.cells]
    if nested is not None and row.level:
        cells[nested] = INDENT * row.level + cells[nested]
    return "| " + " | ".join(cells) + " |"
