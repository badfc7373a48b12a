"""“与上一轮比较” on a unit's page: the library's round diff (``service/unit_change.py``) in the words and precision
the page's report view uses — points half-up at the framework's precision (``report.blocks.number_text``), the
total at its own, each change signed (+3.00, −1.50, 0.00); 整改 items by indicator code and name; 问责情形 with
their measures and basis. Labels only, never ids."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from ...engine.diff import ACCOUNTABILITY_BASIS, item_key
from ...engine.result import RectificationItem
from ...report.blocks import Number, number_text
from ..access import Actor
from ..models import Unit
from ..unit_change import PartChange, compare_unit

NONE = "—"
_LAW, _, _NUMBER = ACCOUNTABILITY_BASIS.partition("（")
BASIS = f"《{_LAW}》" + (f"（{_NUMBER}" if _NUMBER else "")  # 《教育督导问责办法》（国教督〔2021〕2号）


def shown(value: Decimal | None, places: int | None) -> str:
    """Points as the report view shows them: half-up at ``places`` (None: as written); — for none."""
    return NONE if value is None else number_text(Number(value, places))


def signed(delta: Decimal | None, places: int | None) -> str:
    """A change at ``places``, signed as the dashboard signs it: +3.00, −1.50, 0.00; — for none."""
    if delta is None:
        return NONE
    text = number_text(Number(abs(delta), places))
    if text.strip("0.") == "":  # rounds to nothing
        return text
    return ("+" if delta > 0 else "−") + text


@dataclass(frozen=True)
class ScoreLine:
    code: str
    name: str
    old: str  # points, or the status where not scored by points
    new: str
    change: str
    moved: bool


@dataclass(frozen=True)
class ItemLine:
    code: str
    name: str
    problem: str
    note: str | None = None  # 逾期 (the previous round's deadline)


@dataclass(frozen=True)
class AccountLine:
    code: str
    name: str
    situation: str
    measures: str
    deadline: str | None


@dataclass(frozen=True)
class PartLines:
    title: str | None  # the part's type, when the unit is scored as several parts
    total_old: str
    total_new: str
    total_change: str
    grade_old: str
    grade_new: str
    scores: list[ScoreLine]
    closed: list[ItemLine]
    still_open: list[ItemLine]
    new: list[ItemLine]
    accountability: list[AccountLine]


@dataclass(frozen=True)
class ChangeSection:
    previous_id: int
    previous_round: int
    previous_name: str
    parts: list[PartLines]  # empty: nothing to compare (no scored result in one of the rounds)
    basis: str = BASIS  # of the 问责情形


def change_section(session: Session, actor: Actor, unit: Unit) -> ChangeSection | None:
    """The section of ``unit``'s page; None when its project has no previous round the visitor sees."""
    found = compare_unit(session, actor, unit)
    if found is None:
        return None
    several = len(found.parts) > 1
    parts = [_part(p, several) for p in found.parts]
    return ChangeSection(found.previous.id, found.previous.round, found.previous.name, parts)


def _part(part: PartChange, several: bool) -> PartLines:
    d, old, new = part.diff, part.before, part.after
    places = new.precision if new.precision is not None else old.precision
    totals = new.total_precision if new.total_precision is not None else places
    old_totals = old.total_precision if old.total_precision is not None else old.precision
    delta = None if d.total_old is None or d.total_new is None else d.total_new - d.total_old
    scores = [
        ScoreLine(
            s.code,
            s.name,
            shown(s.old, old.precision) if s.old is not None else s.old_status,
            shown(s.new, places) if s.new is not None else s.new_status,
            signed(s.delta, places),
            (s.delta is not None and s.delta != 0) or s.old_status != s.new_status,
        )
        for s in d.scores
    ]
    late = {item_key(i): i.deadline for i in d.overdue}
    return PartLines(
        title=new.unit.type if several else None,
        total_old=shown(d.total_old, old_totals),
        total_new=shown(d.total_new, totals),
        total_change=signed(delta, totals),
        grade_old=d.grade_old or NONE,
        grade_new=d.grade_new or NONE,
        scores=scores,
        closed=[_item(i) for i in d.closed],
        still_open=[_item(i, late.get(item_key(i))) for i in d.still_open],
        new=[_item(i) for i in d.new],
        accountability=[
            AccountLine(
                a.code,
                a.name,
                a.situation,
                "、".join(a.measures) if a.measures else "（框架未列出措施）",
                a.deadline.isoformat() if a.deadline else None,
            )
            for a in d.accountability
        ],
    )


def _item(item: RectificationItem, deadline: dt.date | None = None) -> ItemLine:
    note = f"逾期：上轮限期 {deadline}" if deadline else None
    return ItemLine(item.code, item.name, item.problem, note)
