"""``proportional``: points × min(value ÷ target, 1)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .. import expr as ex
from ..model import Indicator, ProportionalRule
from ..text import fmt, half_up
from .base import (
    ANY_TYPE,
    NO_STANDARD,
    ONE,
    STATUS_TEXT,
    ZERO,
    CheckContext,
    LeafRule,
    Outcome,
    RuleContext,
    Value,
    bound_getter,
    fixed_bounds,
    not_applicable,
    status_by_points,
)


def build(ind: Indicator, rule: Any, ctx: RuleContext, possible: Decimal | None) -> LeafRule:
    value = Value(rule.value, ctx)
    target = bound_getter(rule.target, ctx)
    pass_fail = possible is None  # 达标类: met when the target is reached
    possible = possible or ZERO
    prec = ctx.precision

    standards: dict[Any, str] = {}  # target → "目标 95"; a few entries (targets per unit type)
    name = value.plain_name
    fixed = fixed_bounds({"at_least": rule.target}, "at_least")  # numeric targets, resolved per unit type

    def evaluate(
        values: Mapping[str, Any], unit_type: str | None, manual: Any, text: bool = False
    ) -> Outcome:
        v = values.get(name) if name is not None else value.get(values, None)[0]
        if v is None:
            return Outcome("missing", explanation=f"{value.explain(values, None)} → 缺报" if text else "")
        at = (fixed.get(unit_type) or fixed.get(ANY_TYPE)) if fixed is not None else None
        t = at[2] if at is not None else target(values, unit_type)
        if t is NO_STANDARD:
            return not_applicable(unit_type, text)
        if t is None or t <= 0:
            return Outcome("error", value=v, explanation="目标值缺失或不大于 0")
        ratio = v / t
        share = ONE if ratio > ONE else ZERO if ratio < ZERO else ratio
        pts = half_up(possible * share, prec)
        status = ("met" if v >= t else "unmet") if pass_fail else status_by_points(pts, possible)
        standard = standards.get(t)
        if standard is None:
            standard = f"目标 {fmt(t)}"
            if len(standards) < 16:
                standards[t] = standard
        why = ""
        if text:
            why = f"{value.explain(values, v)}；{fmt(possible)} × min({fmt(v)} ÷ {fmt(t)}, 1) = {fmt(pts)} → {STATUS_TEXT[status]}"
        return Outcome(status, pts, v, standard, ratio, None if v >= t else t - v, why, target=t)

    return LeafRule("proportional", evaluate, tuple(value.expr.names), value.unit)


def check(c: CheckContext, ind: Indicator, rule: ProportionalRule) -> None:
    c.expression(rule, ("value",), rule.value, ex.NUMBER)
    c.bound(ind, ("target",), rule.target)
    targets = rule.target.values() if isinstance(rule.target, dict) else [rule.target]
    for t in targets:
        if isinstance(t, Decimal) and t <= 0:
            c.at(rule, ("target",), "target-positive", "目标值必须大于 0", "target must be positive")
