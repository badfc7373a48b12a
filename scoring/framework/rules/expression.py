"""``expression``: anything else — an expression giving the points, and optionally one saying whether it is 达标."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .. import expr as ex
from ..model import ExpressionRule, Indicator
from ..text import fmt, half_up
from .base import STATUS_TEXT, ZERO, CheckContext, LeafRule, Outcome, RuleContext, status_by_points


def build(ind: Indicator, rule: Any, ctx: RuleContext, possible: Decimal | None) -> LeafRule:
    points = ctx.compile(rule.points)
    met = ctx.compile(rule.met) if rule.met else None
    prec = ctx.precision
    names = tuple(sorted(points.names | (met.names if met else frozenset())))
    # an expression of one value (作业时长 → points) reports that value, so {value} and {unit} in its 整改 text
    # and the report's value column say 85 分钟; with several values there is no one value to name
    read = [n for n in names if n in ctx.units]  # inputs and derived values, not parameters
    subject = read[0] if len(read) == 1 else None
    unit = ctx.units.get(subject) if subject is not None else None

    def given(values: Mapping[str, Any]) -> str:
        """The values the expression read, by label with their units: the sentence a 督学 checks."""
        shown = [f"{ctx.labels.get(n, n)} = {fmt(values.get(n))}{_unit(ctx.units.get(n))}" for n in read]
        return "，".join(shown) or "按计分规则"

    def evaluate(
        values: Mapping[str, Any], unit_type: str | None, manual: Any, text: bool = False
    ) -> Outcome:
        p = points.run(values)
        if p is None:
            return Outcome("missing", explanation=f"{given(values)} → 缺报" if text else "")
        p = half_up(Decimal(int(p)) if isinstance(p, bool) else p, prec)
        note = ""
        if possible is not None and p > possible:
            p, note = possible, f"，封顶 {fmt(possible)}"  # rare: written at once
        if p < 0:
            p, note = ZERO, "，不低于 0"
        if met is not None:
            m = met.run(values)
            status = (
                "missing"
                if m is None
                else ("met" if m else status_by_points(p, possible) if p > 0 else "unmet")
            )
            if m is False and status == "met":
                status = "partial"
        else:
            status = status_by_points(p, possible)
        why = ""
        if text:
            why = f"{given(values)}，得 {fmt(half_up(p, prec))} 分{note} → {STATUS_TEXT[status]}"
        value = values.get(subject) if subject is not None else None
        return Outcome(status, half_up(p, prec) if note else p, value, None, None, None, why)

    return LeafRule("expression", evaluate, names, unit)


def _unit(unit: str | None) -> str:
    return f" {unit}" if unit else ""


def check(c: CheckContext, ind: Indicator, rule: ExpressionRule) -> None:
    c.expression(rule, ("points",), rule.points, ex.NUMBER)
    if rule.met:
        c.expression(rule, ("met",), rule.met, ex.BOOL)
