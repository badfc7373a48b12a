"""整改台账: two rounds' 整改 items in one workbook — closed (销号), still open (逾期 past the earlier deadline),
new — with empty columns for the school's measures and the 督学's verification, as a 督导室 keeps its ledger.

Printed on A4 landscape at 9 pt or more (the columns narrowed to fit, their text wrapped), each row tall enough to
write the measures and the verification in by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..engine.diff import Accountability, RoundDiff, diff, item_key
from ..engine.result import RectificationItem, Result
from ..io.xlsx import Book, Col, equal_fill, table_sheet

_COLS = [
    Col("序号", 4, 5, center=True),
    Col("状态", 6, 8, center=True, wrap=True),
    Col("指标编码", 6, 8, wrap=True),
    Col("指标", 6, 14, wrap=True),
    Col("上轮问题", 10, 22, wrap=True),
    Col("本轮情况", 10, 22, wrap=True),
    Col("整改要求", 10, 22, wrap=True),
    Col("依据", 6, 14, wrap=True),
    Col("责任部门", 6, 8, wrap=True),
    Col("上轮完成时限", 13, 13, center=True),  # a date, with room for a printer's wider digits
    Col("本轮完成时限", 13, 13, center=True),
    Col("销号日期", 13, 13, center=True),
    Col("问责情形与措施", 8, 16, wrap=True),
    Col("整改措施与进展（学校填写）", 14, 24, wrap=True),
    Col("核查结论（督学填写）", 10, 18, wrap=True),
]
_LATE_FILL, _DONE_FILL = "FFC7CE", "C6EFCE"
_WRITE_IN = 4 * 15.0  # a row holds four handwritten lines at least


def _row(
    status: str,
    before: RectificationItem | None,
    now: RectificationItem | None,
    closed: Any,
    accountable: Accountability | None = None,
) -> list[Any]:
    item = now or before
    assert item is not None
    return [
        None,  # numbered below
        status,
        item.code,
        item.name,
        before.problem if before else None,
        now.problem if now else "已整改（本轮未再发现）",
        item.requirement,
        item.basis,
        item.owner,
        before.deadline if before else None,
        now.deadline if now else None,
        closed,
        f"{accountable.situation}：{'、'.join(accountable.measures)}" if accountable else None,
        "",  # left empty to be filled in (None would show —)
        "",
    ]


def ledger_rows(old: Result, new: Result, d: RoundDiff | None = None) -> list[list[Any]]:
    """The ledger's rows: overdue first, then still open, new, and closed; each in the newer round's order."""
    d = d or diff(old, new)
    before = {item_key(i): i for i in old.rectification}
    late = {item_key(i) for i in d.overdue}
    accountable = {a.code: a for a in d.accountability}
    rows = [
        _row(
            "逾期" if item_key(i) in late else "仍未整改",
            before.get(item_key(i)),
            i,
            None,
            accountable.get(i.code),
        )
        for i in d.still_open
    ]
    rows.sort(key=lambda r: r[1] != "逾期")
    rows += [_row("新增", None, i, None) for i in d.new]
    rows += [_row("已销号", i, None, new.unit.date) for i in d.closed]
    for no, row in enumerate(rows, start=1):
        row[0] = no
    return rows


def write_ledger(old: Result, new: Result, path: str | Path, d: RoundDiff | None = None) -> Path:
    """Write the 整改台账 comparing ``old`` and ``new`` (the same unit, two rounds; ``d``: their diff, when
    already made) atomically."""
    book = Book()
    sheet = book.sheet("整改台账")
    dates = " → ".join(r.unit.date.isoformat() if r.unit.date else "日期未填" for r in (old, new))
    title = f"{new.unit.name} 整改台账（{dates}）"
    sheet.title(title, len(_COLS))
    found = ledger_rows(old, new, d)
    rows = found or [[None, None, None, None, None, "两轮均无整改项。", *[None] * 9]]
    last = table_sheet(sheet, _COLS, rows, top=2, header=title, min_height=_WRITE_IN if found else 0.0)
    for text, fill in (("逾期", _LATE_FILL), ("已销号", _DONE_FILL)):
        equal_fill(sheet, f"B3:B{last}", text, fill)
    return book.save(path)
