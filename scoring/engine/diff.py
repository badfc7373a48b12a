"""Comparing two rounds: which 整改 items are closed (销号), still open, or new; score change per first-level indicator."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from ..framework.text import fmt
from .result import RectificationItem, Result, UnitRef
from .rows import norm_text


@dataclass
class ScoreChange:
    code: str
    name: str
    old: Decimal | None
    new: Decimal | None
    old_status: str
    new_status: str

    @property
    def delta(self) -> Decimal | None:
        return None if self.old is None or self.new is None else self.new - self.old


ACCOUNTABILITY_BASIS = "教育督导问责办法（国教督〔2021〕2号）"
OVERDUE = "整改不力：逾期未完成整改"
AGAIN = "整改不力：下一轮督导仍未整改"


@dataclass
class Accountability:
    """A 问责情形 an item meets (教育督导问责办法): still open after the deadline the earlier round set, or — with no
    deadline to judge by — still open at the next round; with the measures its framework lists."""

    code: str
    name: str
    situation: str
    measures: list[str]
    deadline: dt.date | None  # the earlier round's deadline, when it had one
    basis: str = ACCOUNTABILITY_BASIS


@dataclass
class RoundDiff:
    closed: list[RectificationItem] = field(default_factory=list)  # 销号
    still_open: list[RectificationItem] = field(default_factory=list)
    new: list[RectificationItem] = field(default_factory=list)
    # still open after the deadline the earlier round set (its item, with that deadline)
    overdue: list[RectificationItem] = field(default_factory=list)
    accountability: list[Accountability] = field(default_factory=list)  # 问责情形, in the newer round's order
    scores: list[ScoreChange] = field(default_factory=list)
    total_old: Decimal | None = None
    total_new: Decimal | None = None
    grade_old: str | None = None
    grade_new: str | None = None

    @property
    def empty(self) -> bool:
        """No item closed or new and no score changed."""
        return (
            not self.closed
            and not self.new
            and all(s.delta in (None, 0) and s.old_status == s.new_status for s in self.scores)
            and self.total_old == self.total_new
        )

    def text(self) -> str:
        return "\n".join(self.lines())

    def lines(self) -> list[str]:
        """The comparison as lines of text (each a line of its own: a printer may neutralise each)."""
        out = []
        if self.total_old is not None or self.total_new is not None:
            out.append(
                f"总分：{fmt(self.total_old)} → {fmt(self.total_new)}；等级：{self.grade_old or '—'} → {self.grade_new or '—'}"
            )
        out.append("一级指标得分变化：")
        for s in self.scores:
            d = s.delta
            sign = "" if d is None else (f"（{'+' if d >= 0 else ''}{fmt(d)}）")
            out.append(
                f"  {s.code} {s.name}：{fmt(s.old) if s.old is not None else s.old_status} → {fmt(s.new) if s.new is not None else s.new_status}{sign}"
            )
        late = {item_key(it): it.deadline for it in self.overdue}
        for title, items, marked in (
            ("已销号", self.closed, {}),
            ("仍未整改", self.still_open, late),
            ("新增问题", self.new, {}),
        ):
            out.append(
                f"{title}（{len(items)} 项" + (f"，其中逾期 {len(marked)} 项" if marked else "") + "）："
            )
            for it in items:
                due = marked.get(item_key(it))
                out.append(f"  {it.code} {it.problem}" + (f"（逾期：上轮限期 {fmt(due)}）" if due else ""))
        if self.accountability:
            out.append(f"问责情形（{len(self.accountability)} 项，依据{ACCOUNTABILITY_BASIS}）：")
            for a in self.accountability:
                measures = "、".join(a.measures) if a.measures else "（框架未列出措施）"
                out.append(f"  {a.code} {a.name}：{a.situation} → {measures}")
        return out


def same_unit(old: UnitRef, new: UnitRef) -> bool:
    """Whether two rounds' results are of one unit: the same 单位代码 where both have one, else the same name; and
    the same type where both say it (the 小学部 and 初中部 of one school share its code). Names and codes are
    compared as people type them (全角, spaces, case)."""
    if old.type and new.type and norm_text(old.type) != norm_text(new.type):
        return False
    if old.code and new.code:
        return norm_text(old.code).replace(" ", "") == norm_text(new.code).replace(" ", "")
    return norm_text(old.name) == norm_text(new.name)


def item_key(item: RectificationItem) -> tuple[str, str]:
    """Items of two rounds are the same item when they are about the same indicator (or veto)."""
    return (item.kind if item.kind == "veto" else "indicator", item.code)


def diff(old: Result, new: Result) -> RoundDiff:
    """Items are matched by indicator (or veto) code: a problem on the same indicator is the same item."""
    old_items = {item_key(i): i for i in old.rectification}
    new_items = {item_key(i): i for i in new.rectification}
    d = RoundDiff(total_old=old.total, total_new=new.total, grade_old=old.grade, grade_new=new.grade)
    d.closed = [i for k, i in old_items.items() if k not in new_items]
    d.still_open = [i for k, i in new_items.items() if k in old_items]
    d.new = [i for k, i in new_items.items() if k not in old_items]
    when = new.unit.date
    for k, now in new_items.items():
        before = old_items.get(k)
        if before is None:
            continue
        late = when is not None and before.deadline is not None and before.deadline < when
        if late:
            d.overdue.append(before)
        if late or before.deadline is None:
            situation = OVERDUE if late else AGAIN
            d.accountability.append(
                Accountability(now.code, now.name, situation, list(now.accountability), before.deadline)
            )
    old_top = {i.code: i for i in old.indicators if i.depth == 1}
    for ind in new.indicators:
        if ind.depth != 1:
            continue
        o = old_top.get(ind.code)
        d.scores.append(
            ScoreChange(
                ind.code,
                ind.name,
                o.points if o else None,
                ind.points,
                o.status_zh if o else "—",
                ind.status_zh,
            )
        )
    return d
