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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, Protocol

from .. import expr as ex
from ..model import Framework, Indicator, Model
from ..text import Template, fmt, half_up

Status = Literal["met", "unmet", "partial", "not_applicable", "missing", "pending", "waived", "error"]

STATUS_ZH: dict[str, str] = {
    "met": "达标",
    "unmet": "未达标",
    "partial": "部分达标",
    "not_applicable": "不适用",
    "missing": "缺报",
    "pending": "待评",
    "waived": "已豁免",
    "error": "无法计算",
}

STATUS_BY_ZH = {v: k for k, v in STATUS_ZH.items()}

ZERO = Decimal(0)
ONE = Decimal(1)
EXACT = "\x00exact"  # key in the values mapping: unrounded derived values (never a valid expression name)
SYMBOL = {"at_least": "≥", "above": ">", "at_most": "≤", "below": "<", "equals": "="}
NEGATED = {
    "at_least": "<",
    "above": "≤",
    "at_most": ">",
    "below": "≥",
    "equals": "≠",
}  # what an unmet bound reads as
TEST: dict[str, Callable[[Any, Any], bool]] = {
    "at_least": operator.ge,
    "above": operator.gt,
    "at_most": operator.le,
    "below": operator.lt,
    "equals": operator.eq,
}
STATUS_TEXT = STATUS_ZH  # one vocabulary of statuses (result.py)


def short(x: Any) -> str:
    text = fmt(x)
    return text if len(text) <= 12 else text[:12] + "…"


class CheckContext(Protocol):
    """What a rule kind's check uses of the framework checker (framework.check.Checker)."""

    fw: Framework
    env: dict[str, ex.VarInfo]  # every name an expression may use, with its type

    def at(
        self,
        obj: Model | None,
        sub: Iterable[Any],
        code: str,
        zh: str,
        en: str,
        *,
        warning: bool = False,
        key: bool = False,
        column_offset: int | None = None,
        detail: str | None = None,
    ) -> None:
        """Report a problem at ``obj`` (and the key path ``sub`` under it), located in its YAML source."""

    def expression(
        self,
        owner: Model,
        sub: tuple[Any, ...],
        source: Any,
        want: str | None,
        env: dict[str, ex.VarInfo] | None = None,
    ) -> ex.Expression | None:
        """Compile and type-check an expression written at ``owner``/``sub``; None when it has errors."""

    def bound(self, ind: Indicator, sub: tuple[Any, ...], value: Any) -> None:
        """Check a standard: a number, an expression, or one per unit type covering the applicable types."""


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
    target: Decimal | None = (
        None  # the standard as a number, beside its text: the bound missed (by most), else the first
    )


@dataclass(slots=True)
class LeafRule:
    kind: str
    evaluate: Callable[..., Outcome]  # (values, unit type, manual rating, text=False)
    names: tuple[str, ...]  # inputs and derived values it reads (for the report)
    unit: str | None
    lower_bound: bool = False  # a threshold with at_least/above (ratio to standard is defined)
    manual: bool = False  # reads the 督学's rating


def status_by_points(points: Decimal, possible: Decimal | None) -> str:
    if possible is None or possible == 0:
        return "met" if points > 0 else "unmet"
    if points >= possible:
        return "met"
    if points <= 0:
        return "unmet"
    return "partial"


class Value:
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
        # a name outside inputs and derived values with a label of its own (a county statistic: L1_小学_cv)
        self.other_label = ctx.labels.get(name) if self.name is None else None
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
            return f"{self.other_label or self.template.plain} = {fmt(shown)}"
        return f"{self.template.render(values)} = {fmt(shown)}"


def bound_getter(bound: Any, ctx: RuleContext) -> Callable[[Mapping[str, Any], str | None], Any]:
    """A standard as a function of (values, unit type): constant, per unit type, or an expression."""
    if isinstance(bound, dict):
        per_type = {k: (v if isinstance(v, Decimal) else ctx.compile(v)) for k, v in bound.items()}

        def get(values: Mapping[str, Any], unit_type: str | None) -> Any:
            b = per_type.get(unit_type) if unit_type is not None else None
            if b is None:
                return NO_STANDARD
            return b if isinstance(b, Decimal) else b.run(values)

        return get
    if isinstance(bound, str):
        compiled = ctx.compile(bound)
        return lambda values, unit_type: compiled.run(values)
    return lambda values, unit_type: bound


NO_STANDARD = object()
ANY_TYPE = object()  # key of bounds that are the same for every unit type


def fixed_bounds(
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
        types = {ANY_TYPE}
    out: dict[Any, tuple[tuple[tuple[Callable[[Any, Any], bool], Decimal], ...], str, Decimal | None]] = {}
    for t in types:
        got: dict[str, Any] = {k: (b.get(t) if isinstance(b, dict) else b) for k, b in bounds.items()}
        if any(b is None for b in got.values()):
            continue  # no standard for this type: the general walk reports 不适用
        tests = tuple((TEST[k], b) for k, b in got.items())
        standard = " 且 ".join(f"{SYMBOL[k]} {fmt(b)}" for k, b in got.items())
        out[t] = (tests, standard, got.get(lower_key) if lower_key else None)
    return out


def not_applicable(unit_type: str | None, text: bool) -> Outcome:
    why = f"没有适用于“{unit_type or '未注明类型'}”的标准 → 不适用" if text else ""
    return Outcome("not_applicable", explanation=why)


def level_outcome(
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
        status = status_by_points(pts, possible if possible is not None else max(table.values()))
    why = f"{prefix}{level} → {fmt(rounded[level])} 分（{STATUS_TEXT[status]}）" if text else ""
    return Outcome(status, rounded[level], level, None, None, None, why)


@dataclass(frozen=True, slots=True)
class DerivedSpec:
    name: str
    label: str
    expr: ex.Expression
    template: Template
    precision: int | None
    unit: str | None


@dataclass(frozen=True)
class RuleContext:
    """What rule builders need from the framework, without depending on the plan being finished."""

    compile: Any
    method: str
    precision: int
    compare_rounded: bool
    precisions: dict[str, int | None]
    units: dict[str, str | None]
    labels: dict[str, str]
    derived: dict[str, DerivedSpec]
    integers: frozenset[str] = frozenset()  # integer inputs: whole numbers, never rounded again


def check_level_map(
    c: CheckContext,
    ind: Indicator,
    rule: Any,
    scale: tuple[str, ...] | None,
    points: dict[str, Any],
    met: list[Any] | None,
) -> None:
    if scale is not None:
        unknown = [k for k in points if k not in scale]
        missing = [k for k in scale if k not in points]
        for k in unknown:
            c.at(
                rule,
                ("points" if hasattr(rule, "points") else "levels", k),
                "level-unknown",
                f"“{k}” 不是量表中的等级（{'、'.join(scale)}）",
                f"'{k}' is not a level of the scale",
                key=True,
            )
        if missing:
            c.at(
                rule,
                ("points" if hasattr(rule, "points") else "levels",),
                "level-coverage",
                f"等级没有全部给分：缺少 {'、'.join(missing)}",
                f"levels not covered: {', '.join(missing)}",
            )
    if ind.points is not None:
        for k, v in points.items():
            if v > ind.points:
                c.at(
                    rule,
                    ("points", k),
                    "level-points",
                    f"等级 {k} 的分数 {v} 超过指标分值 {ind.points}",
                    f"level {k} gives more than the indicator's points",
                )
    for i, m in enumerate(met or []):
        if m not in points:
            c.at(
                rule,
                ("met", i),
                "level-met",
                f"met 中的 “{m}” 没有对应分数",
                f"'{m}' in met has no points",
            )
