"""``deduction``: start from full points, deduct per occurrence (each item capped), never below the floor."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .. import expr as ex
from ..model import DeductionRule, Indicator
from ..text import fmt, half_up
from .base import ONE, STATUS_TEXT, ZERO, CheckContext, LeafRule, Outcome, RuleContext, status_by_points


def build(ind: Indicator, rule: Any, ctx: RuleContext, possible: Decimal | None) -> LeafRule:
    items = [(it, e, e.bare, it.each, it.max) for it in rule.items for e in [ctx.compile(it.count)]]
    pass_fail = possible is None  # 达标类: met when nothing is deducted
    possible = possible or ZERO
    floor = rule.floor
    names = tuple(sorted({n for _, e, _, _, _ in items for n in e.names}))
    prec = ctx.precision

    def evaluate(
        values: Mapping[str, Any], unit_type: str | None, manual: Any, text: bool = False
    ) -> Outcome:
        total = ZERO
        parts = []
        get = values.get
        for it, count, bare, each, most in items:
            c = get(bare) if bare is not None else count.run(values)
            if c is None:
                return Outcome("missing", explanation=f"{it.label}：未填 → 缺报" if text else "")
            if type(c) is bool:
                c = ONE if c else ZERO
            d = c * each
            capped = most is not None and d > most
            if capped:
                d = most
            total += d
            if text:
                cap = f"，本项最多扣 {fmt(most)}" if capped else ""
                parts.append(f"{it.label} {fmt(c)} × {fmt(each)} = {fmt(d)}{cap}")
        if pass_fail:
            status = "met" if total == 0 else "unmet"
            why = f"{'；'.join(parts)} → {STATUS_TEXT[status]}" if text else ""
            return Outcome(status, None, total, "无扣分", None, None, why)
        pts = possible - total
        floored = pts < floor
        if floored:
            pts = floor
        status = status_by_points(pts, possible)
        why = ""
        if text:
            low = f"，不低于 {fmt(floor)}" if floored else ""
            why = f"{fmt(possible)} − ({'；'.join(parts)}) = {fmt(half_up(pts, prec))}{low} → {STATUS_TEXT[status]}"
        return Outcome(status, half_up(pts, prec), total, None, None, None, why)

    return LeafRule("deduction", evaluate, names, None)


def check(c: CheckContext, ind: Indicator, rule: DeductionRule) -> None:
    for item in rule.items:
        c.expression(item, ("count",), item.count, ex.NUMBER)
    if ind.points is not None and rule.floor > ind.points:
        c.at(
            rule,
            ("floor",),
            "deduction-floor",
            "扣分下限高于指标分值",
            "floor is above the indicator's points",
        )
