"""Leaf rules: each rule kind compiled once into a closure that scores one indicator for one submission.

A closure called with ``text=True`` also writes the explanation, the way an evaluator would check it by hand;
the engine scores without it and calls again for the text when someone reads it (result.Later). Without text
some rules take a quick path (numeric bounds resolved per unit type, a rating's outcome decided once per plan);
a property test holds both calls to the same decision, so the text explains the numbers it sits next to.

Points come back rounded half-up to the framework's precision (statuses are decided on the unrounded points).
Rules run inside the engine's decimal context (PRECISION digits), so they call ``Expression.run`` directly.
Comparison convention (docs/precision.md): at_least ≥ (以上/不低于), above >, at_most ≤ (不超过), below < (低于).
"""

from __future__ import annotations

import operator
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
ONE = Decimal(1)
EXACT = "\x00exact"  # key in the values mapping: unrounded derived values (never a valid expression name)
_SYM = {"at_least": "≥", "above": ">", "at_most": "≤", "below": "<", "equals": "="}
_NOT = {
    "at_least": "<",
    "above": "≤",
    "at_most": ">",
    "below": "≥",
    "equals": "≠",
}  # what an unmet bound reads as
_TEST: dict[str, Callable[[Any, Any], bool]] = {
    "at_least": operator.ge,
    "above": operator.gt,
    "at_most": operator.le,
    "below": operator.lt,
    "equals": operator.eq,
}
STATUS_TEXT = STATUS_ZH  # one vocabulary of statuses (result.py)


def _short(x: Any) -> str:
    text = fmt(x)
    return text if len(text) <= 12 else text[:12] + "…"


_QUANTUM = {p: Decimal(1).scaleb(-p) for p in range(-6, 29)}


def half_up(x: Decimal, places: int) -> Decimal:
    """四舍五入 to ``places`` decimals (Python's round() rounds half to even)."""
    q = _QUANTUM.get(places)
    return x.quantize(q if q is not None else Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


@dataclass(slots=True)
class Outcome:
    """A leaf's (or group's) outcome. Treated as immutable once returned: a rule may return one object to many
    calls (a rating's outcome is the same for every submission that gives it)."""

    status: str
    points: Decimal | None = None
    value: Any = None
    standard: str | None = None
    ratio: Decimal | None = None
    gap: Decimal | None = None
    explanation: str = ""
    lower: Decimal | None = None  # the lower standard, for group-condition ratios
    exact: Any = None  # the value before rounding, where rounding changed it
    possible: Decimal | None = None  # a group's full points (a leaf's are its node's)


@dataclass(slots=True)
class LeafRule:
    kind: str
    evaluate: Callable[..., Outcome]  # (values, unit type, manual rating, text=False)
    names: tuple[str, ...]  # inputs and derived values it reads (for the report)
    unit: str | None
    lower_bound: bool = False  # a threshold with at_least/above (ratio to standard is defined)
    manual: bool = False  # reads the 督学's rating


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
        # an input read as given: no precision of its own, or an integer (already whole)
        self.as_given: bool = (
            self.name is not None
            and self.derived is None
            and (self.precision is None or (self.precision == 0 and self.name in ctx.integers))
        )
        # the name to read when the rule sets no precision of its own: the value is in ``values`` as compared
        self.plain_name = self.name if self.as_given or self.derived is not None else None

    def get(self, values: Mapping[str, Any], precision: int | None) -> tuple[Any, Any]:
        """(value as compared, value as computed); raises ex.EvalError."""
        if precision is None:
            if self.as_given:
                v = values.get(self.name)  # type: ignore[arg-type]
                return v, v
            if self.derived is not None:  # already rounded to its own precision
                v = values.get(self.name)  # type: ignore[arg-type]
                return v, (values.get(EXACT) or {}).get(self.name, v)
        raw = self.expr.run(values)
        if self.derived is not None and raw is not None:
            raw = values.get(EXACT, {}).get(self.name, raw)  # the derived value as computed, before rounding
        p = precision if precision is not None else self.precision
        if raw is None or not ex.is_number(raw) or p is None or not self.rounded:
            return (
                values.get(self.name, raw) if self.name is not None and self.derived is not None else raw
            ), raw
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
            return b if isinstance(b, Decimal) else b.run(values)

        return get
    if isinstance(bound, str):
        compiled = ctx.compile(bound)
        return lambda values, unit_type: compiled.run(values)
    return lambda values, unit_type: bound


_NO_STANDARD = object()
_ANY_TYPE = object()  # key of bounds that are the same for every unit type


def _fixed_bounds(
    bounds: dict[str, Any], lower_key: str | None
) -> dict[Any, tuple[tuple[tuple[Callable[[Any, Any], bool], Decimal], ...], str, Decimal | None]] | None:
    """Bounds written as numbers (or numbers per unit type), resolved once: unit type → (tests, standard, lower).

    None when a bound is an expression, or per unit type for some types only: those take the general walk."""
    types: set[Any] = set()
    for b in bounds.values():
        if isinstance(b, str) or (isinstance(b, dict) and any(isinstance(x, str) for x in b.values())):
            return None
        if isinstance(b, dict):
            types.update(b)
    if not types:
        types = {_ANY_TYPE}
    out: dict[Any, tuple[tuple[tuple[Callable[[Any, Any], bool], Decimal], ...], str, Decimal | None]] = {}
    for t in types:
        got: dict[str, Any] = {k: (b.get(t) if isinstance(b, dict) else b) for k, b in bounds.items()}
        if any(b is None for b in got.values()):
            continue  # no standard for this type: the general walk reports 不适用
        tests = tuple((_TEST[k], b) for k, b in got.items())
        standard = " 且 ".join(f"{_SYM[k]} {fmt(b)}" for k, b in got.items())
        out[t] = (tests, standard, got.get(lower_key) if lower_key else None)
    return out


def _na(unit_type: str | None, text: bool) -> Outcome:
    why = f"没有适用于“{unit_type or '未注明类型'}”的标准 → 不适用" if text else ""
    return Outcome("not_applicable", explanation=why)


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
    standards: dict[
        tuple[Any, ...], str
    ] = {}  # bounds → "≥ 4.2 且 ≤ 10"; a few entries (bounds per unit type)
    fixed = _fixed_bounds(rule.bounds(), lower_key)
    same = fixed.get(_ANY_TYPE) if fixed is not None else None  # bounds alike for every unit type
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
                for test, b in tests:
                    if not test(v, b):
                        met = False
                        g = abs(b - v)
                        if g > gap:
                            gap = g
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
                )
        v, raw = value.get(values, precision)
        if v is None:
            why = f"{value.explain(values, None)} → 缺报（数据未填，不计为 0）" if text else ""
            return Outcome("missing", value=None, explanation=why)
        met = True
        got = []
        lower = None
        gap = ZERO
        for key, get in bounds:
            b = get(values, unit_type)
            if b is _NO_STANDARD:
                return _na(unit_type, text)
            if b is None:
                return Outcome("missing", value=v, explanation="标准所需的数据未填 → 缺报")
            ok = _TEST[key](v, b)
            met = met and ok
            got.append(b)
            if key == lower_key:
                lower = b
            if not ok:
                gap = max(gap, abs(b - v))
        at = tuple(got)
        written = standards.get(at)
        if written is None:
            written = " 且 ".join(f"{_SYM[k]} {fmt(b)}" for (k, _), b in zip(bounds, at, strict=True))
            if len(standards) < 16:
                standards[at] = written
        standard = written
        ratio = (v / lower) if lower not in (None, ZERO) else None
        status = "met" if met else "unmet"
        points = (full if met else zero) if full is not None else None
        explanation = ""
        if text:
            rounded = "" if raw == v else f"（{_short(raw)} 四舍五入）"
            shown = [
                f"{_SYM[k] if _TEST[k](v, b) else _NOT[k]} {fmt(b)}"
                for (k, _), b in zip(bounds, at, strict=True)
            ]
            relation = standard if met else f"{' 且 '.join(shown)}（标准 {standard}）"
            explanation = f"{value.explain(values, v)}{rounded} {relation} → {STATUS_TEXT[status]}"
            if points is not None:
                explanation += f"（{fmt(possible if met else ZERO)} 分）"  # as written, not rounded
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
        written = [
            (k, getattr(step, k))
            for k in ("at_least", "above", "at_most", "below")
            if getattr(step, k) is not None
        ]
        label = " 且 ".join(f"{_SYM[k]} {fmt(b)}" for k, b in written) or "其他"
        steps.append((tuple((_TEST[k], b) for k, b in written), step, label))
    top = steps[0][2] if steps else None
    rounded = {
        id(step): half_up(step.points, ctx.precision) for _, step, _ in steps if step.points is not None
    }

    name = value.plain_name if rule.precision is None else None
    last = len(steps) - 1

    def evaluate(
        values: Mapping[str, Any], unit_type: str | None, manual: Any, text: bool = False
    ) -> Outcome:
        v = values.get(name) if name is not None else value.get(values, rule.precision)[0]
        if v is None:
            return Outcome("missing", explanation=f"{value.explain(values, None)} → 缺报" if text else "")
        for i, (tests, step, label) in enumerate(steps):
            for test, b in tests:
                if not test(v, b):
                    break
            else:
                pts = step.points
                if pts is not None:
                    status = _status_by_points(pts, possible)
                else:
                    status = "met" if i == 0 else ("unmet" if i == last else "partial")
                why = ""
                if text:
                    what = f"{fmt(pts)} 分" if pts is not None else step.level
                    if step.level and pts is not None:
                        what = f"{step.level}，{what}"
                    why = f"{value.explain(values, v)}，落在第 {i + 1} 档（{label}）→ {what}"
                return Outcome(
                    status, rounded[id(step)] if pts is not None else None, v, top, None, None, why
                )
        why = f"{value.explain(values, v)} 不在任何一档内" if text else ""
        return Outcome("error", value=v, explanation=why)

    return LeafRule("bands", evaluate, tuple(value.expr.names), value.unit)


def _level_outcome(
    level: str,
    table: Mapping[str, Decimal],
    met: list[str] | None,
    possible: Decimal | None,
    prefix: str,
    text: bool,
    rounded: Mapping[str, Decimal],
) -> Outcome:
    if level not in table:
        why = f"{prefix}“{level}” 没有对应分数（可选：{'、'.join(table)}）" if text else ""
        return Outcome("error", value=level, explanation=why)
    pts = table[level]
    if met is not None:
        status = "met" if level in met else ("unmet" if pts <= 0 else "partial")
    else:
        status = _status_by_points(pts, possible if possible is not None else max(table.values()))
    why = f"{prefix}{level} → {fmt(pts)} 分（{STATUS_TEXT[status]}）" if text else ""
    return Outcome(status, rounded[level], level, None, None, None, why)


def _levels(ind: Indicator, rule: Any, ctx: RuleContext, possible: Decimal | None) -> LeafRule:
    value = _Value(rule.value, ctx)
    table = dict(rule.points)
    rounded = {k: half_up(v, ctx.precision) for k, v in table.items()}
    label = value.label or rule.value
    bare = value.expr.bare
    read = value.expr.run
    prefix = f"{label}："
    decided = {k: _level_outcome(k, table, rule.met, possible, prefix, False, rounded) for k in table}

    def evaluate(
        values: Mapping[str, Any], unit_type: str | None, manual: Any, text: bool = False
    ) -> Outcome:
        v = values.get(bare) if bare is not None else read(values)
        if v is None:
            return Outcome("missing", explanation=f"{label}：未评定 → 缺报" if text else "")
        if not text and type(v) is str:
            out = decided.get(v)
            if out is not None:
                return out
        return _level_outcome(
            v if type(v) is str else str(v), table, rule.met, possible, prefix, text, rounded
        )

    return LeafRule("levels", evaluate, tuple(value.expr.names), None)


def _checklist(ind: Indicator, rule: Any, ctx: RuleContext, possible: Decimal | None) -> LeafRule:
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
                tail = f"（{fmt(possible if ok else ZERO)} 分）" if pts is not None else ""
                why = f"{mark}：{done}/{n} 项，要求至少 {k} 项 → {STATUS_TEXT[status]}{tail}"
            return Outcome(status, pts, counts[done], at_least, None, None if ok else Decimal(k - done), why)
        if possible is None:  # 达标类 without k: every item must be done
            status = "met" if done == n else "unmet"
            why = f"{mark}：{done}/{n} 项 → {STATUS_TEXT[status]}" if text else ""
            return Outcome(status, None, counts[done], all_of, None, None, why)
        capped = earned > possible
        earned_c = possible if capped else earned
        status = _status_by_points(earned_c, possible)
        why = ""
        if text:
            note = f"，封顶 {fmt(possible)}" if capped else ""
            why = f"{mark}：得 {fmt(earned)} 分{note} → {STATUS_TEXT[status]}"
        return Outcome(status, half_up(earned_c, prec), counts[done], all_of, None, None, why)

    return LeafRule("checklist", evaluate, names, None)


def _deduction(ind: Indicator, rule: Any, ctx: RuleContext, possible: Decimal | None) -> LeafRule:
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
        status = _status_by_points(pts, possible)
        why = ""
        if text:
            low = f"，不低于 {fmt(floor)}" if floored else ""
            why = f"{fmt(possible)} − ({'；'.join(parts)}) = {fmt(pts)}{low} → {STATUS_TEXT[status]}"
        return Outcome(status, half_up(pts, prec), total, None, None, None, why)

    return LeafRule("deduction", evaluate, names, None)


def _proportional(ind: Indicator, rule: Any, ctx: RuleContext, possible: Decimal | None) -> LeafRule:
    value = _Value(rule.value, ctx)
    target = _bound_getter(rule.target, ctx)
    pass_fail = possible is None  # 达标类: met when the target is reached
    possible = possible or ZERO
    prec = ctx.precision

    standards: dict[Any, str] = {}  # target → "目标 95"; a few entries (targets per unit type)
    name = value.plain_name
    fixed = _fixed_bounds({"at_least": rule.target}, "at_least")  # numeric targets, resolved per unit type

    def evaluate(
        values: Mapping[str, Any], unit_type: str | None, manual: Any, text: bool = False
    ) -> Outcome:
        v = values.get(name) if name is not None else value.get(values, None)[0]
        if v is None:
            return Outcome("missing", explanation=f"{value.explain(values, None)} → 缺报" if text else "")
        at = (fixed.get(unit_type) or fixed.get(_ANY_TYPE)) if fixed is not None else None
        t = at[2] if at is not None else target(values, unit_type)
        if t is _NO_STANDARD:
            return _na(unit_type, text)
        if t is None or t <= 0:
            return Outcome("error", value=v, explanation="目标值缺失或不大于 0")
        ratio = v / t
        share = ONE if ratio > ONE else ZERO if ratio < ZERO else ratio
        pts = half_up(possible * share, prec)
        status = ("met" if v >= t else "unmet") if pass_fail else _status_by_points(pts, possible)
        standard = standards.get(t)
        if standard is None:
            standard = f"目标 {fmt(t)}"
            if len(standards) < 16:
                standards[t] = standard
        why = ""
        if text:
            why = f"{value.explain(values, v)}；{fmt(possible)} × min({fmt(v)} ÷ {fmt(t)}, 1) = {fmt(pts)} → {STATUS_TEXT[status]}"
        return Outcome(status, pts, v, standard, ratio, None if v >= t else t - v, why)

    return LeafRule("proportional", evaluate, tuple(value.expr.names), value.unit)


def _expression(ind: Indicator, rule: Any, ctx: RuleContext, possible: Decimal | None) -> LeafRule:
    points = ctx.compile(rule.points)
    met = ctx.compile(rule.met) if rule.met else None
    template = Template(rule.points)
    prec = ctx.precision
    names = tuple(sorted(points.names | (met.names if met else frozenset())))

    def evaluate(
        values: Mapping[str, Any], unit_type: str | None, manual: Any, text: bool = False
    ) -> Outcome:
        p = points.run(values)
        if p is None:
            return Outcome("missing", explanation=f"{template.render(values)} → 缺报" if text else "")
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
                else ("met" if m else _status_by_points(p, possible) if p > 0 else "unmet")
            )
            if m is False and status == "met":
                status = "partial"
        else:
            status = _status_by_points(p, possible)
        why = ""
        if text:
            why = f"{template.render(values)} = {fmt(p)}{note} → {STATUS_TEXT[status]}"
        return Outcome(status, half_up(p, prec) if note else p, None, None, None, None, why)

    return LeafRule("expression", evaluate, names, None)


def _manual(ind: Indicator, rule: Any, ctx: RuleContext, possible: Decimal | None) -> LeafRule:
    table = dict(rule.levels) if rule.levels else None
    rounded = {k: half_up(v, ctx.precision) for k, v in table.items()} if table else {}
    possible = possible if possible is not None else (max(table.values()) if table else None)
    prefix = "督学评定："
    decided = (
        {k: _level_outcome(k, table, rule.met, possible, prefix, False, rounded) for k in table}
        if table
        else {}
    )

    def evaluate(
        values: Mapping[str, Any], unit_type: str | None, manual: Any, text: bool = False
    ) -> Outcome:
        if manual is None or manual == "":
            return Outcome("pending", explanation="督学尚未评定 → 待评")
        if table is not None:
            if not text and type(manual) is str:
                out = decided.get(manual)
                if out is not None:
                    return out
            return _level_outcome(str(manual).strip(), table, rule.met, possible, prefix, text, rounded)
        try:
            p = Decimal(str(manual))
        except Exception:
            return Outcome("error", value=manual, explanation=f"督学评分 “{manual}” 不是数值")
        if p < 0 or (possible is not None and p > possible):
            return Outcome("error", value=p, explanation=f"督学评分 {fmt(p)} 超出 0–{fmt(possible)} 的范围")
        status = _status_by_points(p, possible)
        why = f"督学评分 {fmt(p)} 分 → {STATUS_TEXT[status]}" if text else ""
        return Outcome(status, half_up(p, ctx.precision), p, None, None, None, why)

    return LeafRule("manual", evaluate, (), None, manual=True)


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
