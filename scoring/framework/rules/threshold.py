"""``threshold``: a value against a standard (≥ 以上/不低于, >, ≤ 不超过, < 低于, =), per unit type if needed."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .. import expr as ex
from ..intervals import Interval
from ..model import Indicator, ThresholdRule
from ..text import fmt, half_up
from .base import (
    ANY_TYPE,
    EXACT,
    NEGATED,
    NO_STANDARD,
    STATUS_TEXT,
    SYMBOL,
    TEST,
    ZERO,
    CheckContext,
    LeafRule,
    Outcome,
    RuleContext,
    Value,
    bound_getter,
    fixed_bounds,
    not_applicable,
    short,
)


def build(ind: Indicator, rule: Any, ctx: RuleContext, possible: Decimal | None) -> LeafRule:
    value = Value(rule.value, ctx)
    bounds = [(k, bound_getter(b, ctx)) for k, b in rule.bounds().items()]
    points_method = ctx.method != "pass_fail"
    precision = rule.precision
    lower_key = next((k for k, _ in bounds if k in ("at_least", "above")), None)
    unit = value.unit or ""
    standards: dict[
        tuple[Any, ...], str
    ] = {}  # bounds → "≥ 4.2 且 ≤ 10"; a few entries (bounds per unit type)
    fixed = fixed_bounds(rule.bounds(), lower_key)
    same = fixed.get(ANY_TYPE) if fixed is not None else None  # bounds alike for every unit type
    name = value.plain_name if precision is None else None
    full = half_up(possible, ctx.precision) if points_method and possible is not None else None
    zero = half_up(ZERO, ctx.precision)

    def evaluate(
        values: Mapping[str, Any], unit_type: str | None, manual: Any, text: bool = False
    ) -> Outcome:
        if fixed is not None and name is not None and not text:  # the common case, without the general walk
            at = same if same is not None else fixed.get(unit_type)
            v = values.get(name)
            if at is not None and v is not None:
                tests, standard, lower = at
                met = True
                gap = ZERO
                target = tests[0][1]
                for test, b in tests:
                    if not test(v, b):
                        g = abs(b - v)
                        if met or g > gap:
                            gap, target = g, b
                        met = False
                exact = values.get(EXACT)
                raw = exact.get(name, v) if exact else v
                return Outcome(
                    "met" if met else "unmet",
                    (full if met else zero) if full is not None else None,
                    v,
                    standard,
                    v / lower if lower else None,
                    None if met else gap,
                    "",
                    lower,
                    None if raw == v else raw,
                    target=target,
                )
        return general(values, unit_type, text)

    def general(values: Mapping[str, Any], unit_type: str | None, text: bool) -> Outcome:
        """Any standard (an expression, a parameter, per unit type), and the explanation when asked."""
        v, raw = value.get(values, precision)
        if v is None:
            why = f"{value.explain(values, None)} → 缺报（数据未填，不计为 0）" if text else ""
            return Outcome("missing", value=None, explanation=why)
        compared = _compare(bounds, values, unit_type, v, lower_key, text)
        if isinstance(compared, Outcome):
            return compared
        at, lower, met, gap, missed = compared
        standard = standards.get(at)
        if standard is None:
            standard = " 且 ".join(f"{SYMBOL[k]} {fmt(b)}" for (k, _), b in zip(bounds, at, strict=True))
            if len(standards) < 16:
                standards[at] = standard
        status = "met" if met else "unmet"
        points = (full if met else zero) if full is not None else None
        explanation = ""
        if text:
            rounded = "" if raw == v else f"（{short(raw)} 四舍五入）"
            relation = standard if met else f"{_missed(bounds, at, v)}（标准 {standard}）"
            explanation = f"{value.explain(values, v)}{rounded} {relation} → {STATUS_TEXT[status]}"
            if points is not None:
                explanation += f"（{fmt(points)} 分）"  # as the points column shows them
        return Outcome(
            status,
            points,
            v,
            standard,
            (v / lower) if lower not in (None, ZERO) else None,
            None if met else gap,
            explanation,
            lower,
            None if raw == v else raw,
            target=at[0] if met else missed,
        )

    return LeafRule("threshold", evaluate, tuple(value.expr.names), unit or None, lower_key is not None)


def _missed(bounds: list[tuple[str, Any]], at: tuple[Any, ...], v: Any) -> str:
    """An unmet value against each bound, as its explanation reads: ``< 4.2 且 ≤ 10`` (only an unmet one needs it)."""
    return " 且 ".join(
        f"{SYMBOL[k] if TEST[k](v, b) else NEGATED[k]} {fmt(b)}" for (k, _), b in zip(bounds, at, strict=True)
    )


def _compare(
    bounds: list[tuple[str, Any]],
    values: Mapping[str, Any],
    unit_type: str | None,
    v: Any,
    lower_key: str | None,
    text: bool,
) -> Outcome | tuple[tuple[Any, ...], Any, bool, Decimal, Any]:
    """The value against each bound: (bounds as resolved, the lower one, met, the largest gap, the bound missed by
    most — the one a 整改 text cites), or the outcome when a bound has no standard or lacks its data."""
    met = True
    got = []
    lower = None
    gap = ZERO
    missed: Any = None
    for key, get in bounds:
        b = get(values, unit_type)
        if b is NO_STANDARD:
            return not_applicable(unit_type, text)
        if b is None:
            return Outcome("missing", value=v, explanation="标准所需的数据未填 → 缺报")
        ok = TEST[key](v, b)
        got.append(b)
        if key == lower_key:
            lower = b
        if not ok and (met or abs(b - v) > gap):
            gap, missed = abs(b - v), b
        met = met and ok
    return tuple(got), lower, met, gap, missed


def check(c: CheckContext, ind: Indicator, rule: ThresholdRule) -> None:
    c.expression(rule, ("value",), rule.value, ex.NUMBER)
    bounds = rule.bounds()
    for key, value in bounds.items():
        c.bound(ind, (key,), value)
    lows = [k for k in ("at_least", "above") if k in bounds]
    highs = [k for k in ("at_most", "below") if k in bounds]
    if len(lows) > 1 or len(highs) > 1:
        c.at(
            rule,
            (),
            "threshold-bounds",
            "下限（at_least/above）和上限（at_most/below）各只能给一个",
            "at most one lower and one upper bound",
        )
    if lows and highs:
        lo, hi = bounds[lows[0]], bounds[highs[0]]
        if (
            isinstance(lo, Decimal)
            and isinstance(hi, Decimal)
            and Interval.of(**{lows[0]: lo, highs[0]: hi}).empty
        ):
            c.at(rule, (), "threshold-empty", f"区间为空：{lo} 到 {hi}", f"empty range: {lo} to {hi}")
