"""``checklist``: items each worth points (summed, capped at the indicator's points), or k of n for full points."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .. import expr as ex
from ..model import ChecklistRule, Indicator
from ..text import fmt, half_up
from .base import STATUS_TEXT, ZERO, CheckContext, LeafRule, Outcome, RuleContext, status_by_points


def build(ind: Indicator, rule: Any, ctx: RuleContext, possible: Decimal | None) -> LeafRule:
    items = [(it, e, e.bare, it.points) for it in rule.items for e in [ctx.compile(it.when)]]
    k = rule.at_least
    names = tuple(sorted({n for _, e, _, _ in items for n in e.names}))
    prec = ctx.precision
    full = half_up(possible, prec) if possible is not None else None
    zero = half_up(ZERO, prec)
    scored = full is not None and ctx.method != "pass_fail"

    n = len(items)
    at_least, all_of = f"≥ {k} 项", f"{n} 项"
    counts = [Decimal(i) for i in range(n + 1)]

    def evaluate(
        values: Mapping[str, Any], unit_type: str | None, manual: Any, text: bool = False
    ) -> Outcome:
        done = missing = 0
        earned = ZERO
        marks = []
        get = values.get
        for it, cond, bare, item_points in items:
            v = get(bare) if bare is not None else cond.run(values)
            if v is None:
                missing += 1
            elif v:
                done += 1
                if item_points is not None:
                    earned += item_points
            if text:
                marks.append(f"{it.label}{'缺报' if v is None else '√' if v else '×'}")
        mark = "；".join(marks) if text else ""
        if missing:
            return Outcome(
                "missing", value=counts[done], explanation=f"{mark} → {missing} 项缺报" if text else ""
            )
        if k is not None:
            ok = done >= k
            pts = (full if ok else zero) if scored else None
            status = "met" if ok else "unmet"
            why = ""
            if text:
                tail = f"（{fmt(pts)} 分）" if pts is not None else ""
                why = f"{mark}：{done}/{n} 项，要求至少 {k} 项 → {STATUS_TEXT[status]}{tail}"
            return Outcome(status, pts, counts[done], at_least, None, None if ok else Decimal(k - done), why)
        if possible is None:  # 达标类 without k: every item must be done
            status = "met" if done == n else "unmet"
            why = f"{mark}：{done}/{n} 项 → {STATUS_TEXT[status]}" if text else ""
            return Outcome(status, None, counts[done], all_of, None, None, why)
        capped = earned > possible
        earned_c = possible if capped else earned
        status = status_by_points(earned_c, possible)
        why = ""
        if text:
            note = f"，封顶 {fmt(half_up(possible, prec))}" if capped else ""
            why = f"{mark}：得 {fmt(half_up(earned, prec))} 分{note} → {STATUS_TEXT[status]}"
        return Outcome(status, half_up(earned_c, prec), counts[done], all_of, None, None, why)

    return LeafRule("checklist", evaluate, names, None)


def check(c: CheckContext, ind: Indicator, rule: ChecklistRule) -> None:
    for item in rule.items:
        c.expression(item, ("when",), item.when, ex.BOOL)
    n = len(rule.items)
    with_points = [it for it in rule.items if it.points is not None]
    if rule.at_least is not None:
        if rule.at_least > n:
            c.at(
                rule,
                ("at_least",),
                "checklist-k",
                f"at_least = {rule.at_least}，但只有 {n} 项",
                f"at_least {rule.at_least} exceeds {n} items",
            )
        if with_points:
            c.at(
                rule,
                ("at_least",),
                "checklist-mixed",
                "k-of-n 清单（at_least）的条目不再单独给分",
                "k-of-n checklists give no points per item",
            )
    elif len(with_points) != n and c.fw.settings.method != "pass_fail":
        c.at(
            rule,
            ("items",),
            "checklist-points",
            "清单需要每项给分（points），或用 at_least 表示 n 项中至少 k 项",
            "give every item points, or use at_least (k of n)",
        )
    elif with_points and ind.points is not None:
        total = sum((it.points for it in rule.items if it.points is not None), Decimal(0))
        if total < ind.points:
            c.at(
                rule,
                ("items",),
                "checklist-sum",
                f"各项分数合计 {total} 少于指标分值 {ind.points}，永远得不到满分",
                f"items add up to {total}, less than the indicator's {ind.points}",
                warning=True,
            )
