"""Leaf rules: each rule kind compiled once into a closure that scores one indicator for one submission.

Every outcome carries its explanation, written the way an evaluator would check it by hand.
Comparison convention (docs/precision.md): at_least ≥ (以上/不低于), above >, at_most ≤ (不超过), below < (低于).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from . import expr as ex
from .model import Indicator
from .result import STATUS_ZH
from .trace import Template, fmt

if TYPE_CHECKING:
    from .plan import RuleContext

ZERO = Decimal(0)
EXACT = "\x00exact"  # key in the values mapping: unrounded derived values (never a valid expression name)
_SYM = {"at_least": "≥", "above": ">", "at_most": "≤", "below": "<", "equals": "="}
_NOT = {
    "at_least": "<",
    "above": "≤",
    "at_most": ">",
    "below": "≥",
    "equals": "≠",
}  # what an unmet bound reads as
_TEST: dict[str, Callable[[Decimal, Decimal], bool]] = {
    "at_least": lambda v, b: v >= b,
    "above": lambda v, b: v > b,
    "at_most": lambda v, b: v <= b,
    "below": lambda v, b: v < b,
    "equals": lambda v, b: v == b,
}
STATUS_TEXT = STATUS_ZH  # one vocabulary of statuses (result.py)


def _short(x: Any) -> str:
    text = fmt(x)
    return text if len(text) <= 12 else text[:12] + "…"


def half_up(x: Decimal, places: int) -> Decimal:
    return x.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


@dataclass(slots=True)
class Outcome:
    status: str
    points: Decimal | None = None
    value: Any = None
    standard: str | None = None
    ratio: Decimal | None = None
    gap: Decimal | None = None
    explanation: str = ""
    lower: Decimal | None = None  # the lower standard, for group-condition ratios
    exact: Any = None  # the value before rounding, where rounding changed it


@dataclass(slots=True)
class LeafRule:
    kind: str
    evaluate: Callable[[Mapping[str, Any], str | None, Any], Outcome]  # (values, unit type, manual rating)
    names: tuple[str, ...]  # inputs and derived values it reads (for the report)
    unit: str | None
    lower_bound: bool = False  # a threshold with at_least/above (ratio to standard is defined)


def _status_by_points(points: Decimal, possible: Decimal | None) -> str:
    if possible is None or possible == 0:
        return "met" if points > 0 else "unmet"
    if points >= possible:
        return "met"
    if points <= 0:
        return "unmet"
    return "partial"


class _Value:
    """A rule's value expression with its precision, unit and the way it is explained."""

    def __init__(self, source: str, ctx: RuleContext):
        self.expr: ex.Expression = ctx.compile(source)
        name = source.strip()
        self.name = name if name in ctx.precisions else None
        self.precision = ctx.precisions.get(name) if self.name else None
        self.unit = ctx.units.get(name) if self.name else None
        self.label = ctx.labels.get(name) if self.name else None
        self.derived = ctx.derived.get(name) if self.name else None
        self.template = None if self.name else Template(source)
        self.rounded = ctx.compare_rounded

    def get(self, values: Mapping[str, Any], precision: int | None) -> tuple[Any, Any]:
        """(value as compared, value as computed); raises ex.EvalError."""
        raw = self.expr.evaluate(values)
        if self.derived is not None and raw is not None:
            raw = values.get(EXACT, {}).get(self.name, raw)  # the derived value as computed, before rounding
        p = precision if precision is not None else self.precision
        if raw is None or not ex.is_number(raw) or p is None or not self.rounded:
            return (values.get(self.name, raw) if self.derived is not None else raw), raw
        return half_up(Decimal(raw), p), raw

    def explain(self, values: Mapping[str, Any], shown: Any) -> str:
        if self.derived is not None:
            return f"{self.label} = {self.derived.template.render(values)} = {fmt(shown)}"
        if self.name is not None:
            return f"{self.label} = {fmt(shown)}"
        assert self.template is not None
        if self.template.is_name:  # a name outside inputs and derived values, e.g. a county statistic
            return f"{self.template.plain} = {fmt(shown)}"
        return f"{self.template.render(values)} = {fmt(shown)}"


def _bound_getter(bound: Any, ctx: RuleContext) -> Callable[[Mapping[str, Any], str | None], Any]:
    """A standard as a function of (values, unit type): constant, per unit type, or an expression."""
    if isinstance(bound, dict):
        per_type = {k: (v if isinstance(v, Decimal) else ctx.compile(v)) for k, v in bound.items()}

        def get(values: Mapping[str, Any], unit_type: str | None) -> Any:
            b = per_type.get(unit_type) if unit_type is not None else None
            if b is None:
                return _NO_STANDARD
            return b if isinstance(b, Decimal) else b.evaluate(values)

        return get
    if isinstance(bound, str):
        compiled = ctx.compile(bound)
        return lambda values, unit_type: compiled.evaluate(values)
    return lambda values, unit_type: bound


_NO_STANDARD = object()


def _na(unit_type: str | None) -> Outcome:
    return Outcome("not_applicable", explanation=f"没有适用于“{unit_type or '未注明类型'}”的标准 → 不适用")


def build_rule(ind: Indicator, ctx: RuleContext, possible: Decimal | None) -> LeafRule:
    """Compile a leaf's rule; ``possible`` is its full points (derived from weights where the framework uses them)."""
    assert ind.rule is not None
    return _BUILDERS[ind.rule.kind](ind, ind.rule.spec, ctx, possible)


def _threshold(ind: Indicator, rule: Any, ctx: RuleContext, possible: Decimal | None) -> LeafRule:
    value = _Value(rule.value, ctx)
    bounds = [(k, _bound_getter(b, ctx)) for k, b in rule.bounds().items()]
    points_method = ctx.method != "pass_fail"
    precision = rule.precision
    lower_key = next((k for k, _ in bounds if k in ("at_least", "above")), None)
    unit = value.unit or ""

    def evaluate(values: Mapping[str, Any], unit_type: str | None, manual: Any) -> Outcome:
        v, raw = value.get(values, precision)
        if v is None:
            return Outcome(
                "missing",
                value=None,
                explanation=f"{value.explain(values, None)} → 缺报（数据未填，不计为 0）",
            )
        met = True
        parts = []
        shown = []
        lower = None
        gap = ZERO
        for key, get in bounds:
            b = get(values, unit_type)
            if b is _NO_STANDARD:
                return _na(unit_type)
            if b is None:
                return Outcome("missing", value=v, explanation="标准所需的数据未填 → 缺报")
            ok = _TEST[key](v, b)
            met = met and ok
            parts.append(f"{_SYM[key]} {fmt(b)}")
            shown.append(f"{_SYM[key] if ok else _NOT[key]} {fmt(b)}")
            if key == lower_key:
                lower = b
            if not ok:
                gap = max(gap, abs(b - v))
        standard = " 且 ".join(parts)
        ratio = (v / lower) if lower not in (None, ZERO) else None
        status = "met" if met else "unmet"
        points = (possible if met else ZERO) if points_method and possible is not None else None
        rounded = "" if raw == v else f"（{_short(raw)} 四舍五入）"
        relation = standard if met else f"{' 且 '.join(shown)}（标准 {standard}）"
        explanation = f"{value.explain(values, v)}{rounded} {relation} → {STATUS_TEXT[status]}"
        if points is not None:
            explanation += f"（{fmt(points)} 分）"
        return Outcome(
            status,
            points,
            v,
            standard,
            ratio,
            None if met else gap,
            explanation,
            lower,
            None if raw == v else raw,
        )

    return LeafRule("threshold", evaluate, tuple(value.expr.names), unit or None, lower_key is not None)


def _bands(ind: Indicator, rule: Any, ctx: RuleContext, possible: Decimal | None) -> LeafRule:
    value = _Value(rule.value, ctx)
    steps = []
    for step in rule.steps:
        tests = [
            (k, getattr(step, k))
            for k in ("at_least", "above", "at_most", "below")
            if getattr(step, k) is not None
        ]
        label = " 且 ".join(f"{_SYM[k]} {fmt(b)}" for k, b in tests) or "其他"
        steps.append((tests, step, label))
    top = steps[0][2] if steps else None

    def evaluate(values: Mapping[str, Any], unit_type: str | None, manual: Any) -> Outcome:
        v, _ = value.get(values, rule.precision)
        if v is None:
            return Outcome("missing", explanation=f"{value.explain(values, None)} → 缺报")
        for i, (tests, step, label) in enumerate(steps):
            if all(_TEST[k](v, b) for k, b in tests):
                pts = step.points
                if pts is not None:
                    status = _status_by_points(pts, possible)
                else:
                    status = "met" if i == 0 else ("unmet" if i == len(steps) - 1 else "partial")
                what = f"{fmt(pts)} 分" if pts is not None else step.level
                if step.level and pts is not None:
                    what = f"{step.level}，{what}"
                return Outcome(
                    status,
                    pts,
                    v,
                    top,
                    None,
                    None,
                    f"{value.explain(values, v)}，落在第 {i + 1} 档（{label}）→ {what}",
                )
        return Outcome("error", value=v, explanation=f"{value.explain(values, v)} 不在任何一档内")

    return LeafRule("bands", evaluate, tuple(value.expr.names), value.unit)


def _level_outcome(
    level: str, table: Mapping[str, Decimal], met: list[str] | None, possible: Decimal | None, prefix: str
) -> Outcome:
    if level not in table:
        return Outcome(
            "error", value=level, explanation=f"{prefix}“{level}” 没有对应分数（可选：{'、'.join(table)}）"
        )
    pts = table[level]
    if met is not None:
        status = "met" if level in met else ("unmet" if pts <= 0 else "partial")
    else:
        status = _status_by_points(pts, possible if possible is not None else max(table.values()))
    return Outcome(
        status, pts, level, None, None, None, f"{prefix}{level} → {fmt(pts)} 分（{STATUS_TEXT[status]}）"
    )


def _levels(ind: Indicator, rule: Any, ctx: RuleContext, possible: Decimal | None) -> LeafRule:
    value = _Value(rule.value, ctx)
    table = dict(rule.points)
    label = value.label or rule.value

    def evaluate(values: Mapping[str, Any], unit_type: str | None, manual: Any) -> Outcome:
        v = value.expr.evaluate(values)
        if v is None:
            return Outcome("missing", explanation=f"{label}：未评定 → 缺报")
        return _level_outcome(str(v), table, rule.met, possible, f"{label}：")

    return LeafRule("levels", evaluate, tuple(value.expr.names), None)


def _checklist(ind: Indicator, rule: Any, ctx: RuleContext, possible: Decimal | None) -> LeafRule:
    items = [(it, ctx.compile(it.when)) for it in rule.items]
    k = rule.at_least
    names = tuple(sorted({n for _, e in items for n in e.names}))

    def evaluate(values: Mapping[str, Any], unit_type: str | None, manual: Any) -> Outcome:
        done, missing, earned = [], [], ZERO
        for it, cond in items:
            v = cond.evaluate(values)
            if v is None:
                missing.append(it.label)
            elif v:
                done.append(it.label)
                if it.points is not None:
                    earned += it.points
        n = len(items)
        marks = "；".join(
            f"{it.label}{'√' if it.label in done else ('缺报' if it.label in missing else '×')}"
            for it, _ in items
        )
        if missing:
            return Outcome(
                "missing", value=Decimal(len(done)), explanation=f"{marks} → {len(missing)} 项缺报"
            )
        if k is not None:
            ok = len(done) >= k
            pts = (possible if ok else ZERO) if possible is not None and ctx.method != "pass_fail" else None
            status = "met" if ok else "unmet"
            tail = f"（{fmt(pts)} 分）" if pts is not None else ""
            return Outcome(
                status,
                pts,
                Decimal(len(done)),
                f"≥ {k} 项",
                None,
                None if ok else Decimal(k - len(done)),
                f"{marks}：{len(done)}/{n} 项，要求至少 {k} 项 → {STATUS_TEXT[status]}{tail}",
            )
        if possible is None:  # 达标类 without k: every item must be done
            status = "met" if len(done) == n else "unmet"
            return Outcome(
                status,
                None,
                Decimal(len(done)),
                f"{n} 项",
                None,
                None,
                f"{marks}：{len(done)}/{n} 项 → {STATUS_TEXT[status]}",
            )
        if earned > possible:
            earned_c, note = possible, f"，封顶 {fmt(possible)}"
        else:
            earned_c, note = earned, ""
        status = _status_by_points(earned_c, possible)
        return Outcome(
            status,
            earned_c,
            Decimal(len(done)),
            f"{n} 项",
            None,
            None,
            f"{marks}：得 {fmt(earned)} 分{note} → {STATUS_TEXT[status]}",
        )

    return LeafRule("checklist", evaluate, names, None)


def _deduction(ind: Indicator, rule: Any, ctx: RuleContext, possible: Decimal | None) -> LeafRule:
    items = [(it, ctx.compile(it.count)) for it in rule.items]
    pass_fail = possible is None  # 达标类: met when nothing is deducted
    possible = possible or ZERO
    floor = rule.floor
    names = tuple(sorted({n for _, e in items for n in e.names}))

    def evaluate(values: Mapping[str, Any], unit_type: str | None, manual: Any) -> Outcome:
        total = ZERO
        parts = []
        for it, count in items:
            c = count.evaluate(values)
            if c is None:
                return Outcome("missing", explanation=f"{it.label}：未填 → 缺报")
            c = Decimal(int(c)) if isinstance(c, bool) else c
            d = c * it.each
            capped = ""
            if it.max is not None and d > it.max:
                d, capped = it.max, f"，本项最多扣 {fmt(it.max)}"
            total += d
            parts.append(f"{it.label} {fmt(c)} × {fmt(it.each)} = {fmt(d)}{capped}")
        if pass_fail:
            status = "met" if total == 0 else "unmet"
            return Outcome(
                status, None, total, "无扣分", None, None, f"{'；'.join(parts)} → {STATUS_TEXT[status]}"
            )
        pts = possible - total
        floored = ""
        if pts < floor:
            pts, floored = floor, f"，不低于 {fmt(floor)}"
        status = _status_by_points(pts, possible)
        return Outcome(
            status,
            pts,
            total,
            None,
            None,
            None,
            f"{fmt(possible)} − ({'；'.join(parts)}) = {fmt(pts)}{floored} → {STATUS_TEXT[status]}",
        )

    return LeafRule("deduction", evaluate, names, None)


def _proportional(ind: Indicator, rule: Any, ctx: RuleContext, possible: Decimal | None) -> LeafRule:
    value = _Value(rule.value, ctx)
    target = _bound_getter(rule.target, ctx)
    pass_fail = possible is None  # 达标类: met when the target is reached
    possible = possible or ZERO
    prec = ctx.precision

    def evaluate(values: Mapping[str, Any], unit_type: str | None, manual: Any) -> Outcome:
        v, _ = value.get(values, None)
        if v is None:
            return Outcome("missing", explanation=f"{value.explain(values, None)} → 缺报")
        t = target(values, unit_type)
        if t is _NO_STANDARD:
            return _na(unit_type)
        if t is None or t <= 0:
            return Outcome("error", value=v, explanation="目标值缺失或不大于 0")
        share = min(v / t, Decimal(1))
        share = max(share, ZERO)
        pts = half_up(possible * share, prec)
        status = ("met" if v >= t else "unmet") if pass_fail else _status_by_points(pts, possible)
        return Outcome(
            status,
            pts,
            v,
            f"目标 {fmt(t)}",
            v / t,
            None if v >= t else t - v,
            f"{value.explain(values, v)}；{fmt(possible)} × min({fmt(v)} ÷ {fmt(t)}, 1) = {fmt(pts)} → {STATUS_TEXT[status]}",
        )

    return LeafRule("proportional", evaluate, tuple(value.expr.names), value.unit)


def _expression(ind: Indicator, rule: Any, ctx: RuleContext, possible: Decimal | None) -> LeafRule:
    points = ctx.compile(rule.points)
    met = ctx.compile(rule.met) if rule.met else None
    template = Template(rule.points)
    prec = ctx.precision
    names = tuple(sorted(points.names | (met.names if met else frozenset())))

    def evaluate(values: Mapping[str, Any], unit_type: str | None, manual: Any) -> Outcome:
        p = points.evaluate(values)
        if p is None:
            return Outcome("missing", explanation=f"{template.render(values)} → 缺报")
        p = Decimal(int(p)) if isinstance(p, bool) else half_up(p, prec)
        note = ""
        if possible is not None and p > possible:
            p, note = possible, f"，封顶 {fmt(possible)}"
        if p < 0:
            p, note = ZERO, "，不低于 0"
        if met is not None:
            m = met.evaluate(values)
            status = (
                "missing"
                if m is None
                else ("met" if m else _status_by_points(p, possible) if p > 0 else "unmet")
            )
            if m is False and status == "met":
                status = "partial"
        else:
            status = _status_by_points(p, possible)
        return Outcome(
            status,
            p,
            None,
            None,
            None,
            None,
            f"{template.render(values)} = {fmt(p)}{note} → {STATUS_TEXT[status]}",
        )

    return LeafRule("expression", evaluate, names, None)


def _manual(ind: Indicator, rule: Any, ctx: RuleContext, possible: Decimal | None) -> LeafRule:
    table = dict(rule.levels) if rule.levels else None
    possible = possible if possible is not None else (max(table.values()) if table else None)

    def evaluate(values: Mapping[str, Any], unit_type: str | None, manual: Any) -> Outcome:
        if manual is None or manual == "":
            return Outcome("pending", explanation="督学尚未评定 → 待评")
        if table is not None:
            return _level_outcome(str(manual).strip(), table, rule.met, possible, "督学评定：")
        try:
            p = Decimal(str(manual))
        except Exception:
            return Outcome("error", value=manual, explanation=f"督学评分 “{manual}” 不是数值")
        if p < 0 or (possible is not None and p > possible):
            return Outcome("error", value=p, explanation=f"督学评分 {fmt(p)} 超出 0–{fmt(possible)} 的范围")
        status = _status_by_points(p, possible)
        return Outcome(status, p, p, None, None, None, f"督学评分 {fmt(p)} 分 → {STATUS_TEXT[status]}")

    return LeafRule("manual", evaluate, (), None)


_BUILDERS: dict[str, Callable[[Indicator, Any, Any, Decimal | None], LeafRule]] = {
    "threshold": _threshold,
    "bands": _bands,
    "levels": _levels,
    "checklist": _checklist,
    "deduction": _deduction,
    "proportional": _proportional,
    "expression": _expression,
    "manual": _manual,
}
