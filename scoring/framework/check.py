"""Semantic checks over a whole (merged) framework: everything the schema alone cannot see.

All problems are collected; nothing stops at the first. Each problem points at the object it concerns via
the source position the loader attached to it.
"""

from __future__ import annotations

import contextlib
import itertools
import string
import weakref
from collections.abc import Container, Iterable
from decimal import MAX_EMAX, MIN_EMIN, Decimal, localcontext
from typing import Any, cast

from ..problems import Problem, Severity
from . import expr as ex
from .model import Framework, Indicator, Input, Model, TestCase, plausible_range, source_of
from .rules.kinds import KINDS

BUILTIN_NAMES = {"unit_type": "单位类型", "school_type": "拆分前学校的类型"}
GRADE_NAMES = {
    "total": "总分",
    "count_met": "达标项数",
    "count_partial": "部分达标项数",
    "count_unmet": "未达标项数",
    "count_na": "不适用项数",
    "count_missing": "缺报项数",
    "lowest_rate": "一级指标最低得分率（%）",
}
GRADE_FLAGS = {"passed": "一级指标均达标（是/否；有未判定的为缺报）"}
VETO_RECTIFY_FIELDS = {"name", "code", "reason", "status"}


def _value_filled(kind: str, spec: Any, values: Container[str]) -> str | None:
    """The rule's value: every kind has one, but an expression only when it reads exactly one value."""
    if kind != "expression":
        return None
    found: set[str] = set()
    for source in (spec.points, spec.met):
        try:
            found |= ex.parse(source).names if source is not None else set()
        except ex.ExprError:
            return None  # reported where the expression is checked
    n = len({name for name in found if name in values})
    return None if n == 1 else f"“表达式”规则中没有值（它读取 {n} 个数据项，不是一个）"


def _standard_filled(kind: str, spec: Any, values: Container[str]) -> str | None:
    return (
        None
        if kind in ("threshold", "bands", "proportional", "checklist")
        else f"“{KIND_ZH[kind]}”规则中没有标准"
    )


def _gap_filled(kind: str, spec: Any, values: Container[str]) -> str | None:
    if kind in ("threshold", "proportional") or (kind == "checklist" and spec.at_least is not None):
        return None
    return f"“{KIND_ZH[kind]}”规则中没有差距"


KIND_ZH = {
    "threshold": "阈值",
    "bands": "分档",
    "levels": "等级评定",
    "checklist": "清单",
    "boolean": "是否",
    "deduction": "扣分",
    "proportional": "按比例",
    "expression": "表达式",
    "manual": "督学评定",
}
_FILLED_BY = {"value": _value_filled, "standard": _standard_filled, "gap": _gap_filled}

RECTIFY_FIELDS = {"name", "code", "value", "standard", "gap", "unit", "points", "lost", "reason", "status"}
_INPUT_TYPES = {
    "number": ex.NUMBER,
    "integer": ex.NUMBER,
    "percent": ex.NUMBER,
    "boolean": ex.BOOL,
    "choice": ex.TEXT,
    "level": ex.TEXT,
    "text": ex.TEXT,
    "date": ex.DATE,
}


def input_type(kind: str) -> str:
    return _INPUT_TYPES[kind]


class Checker:
    def __init__(self, fw: Framework):
        self.fw = fw
        self.problems: list[Problem] = []
        self.env: dict[str, ex.VarInfo] = {}
        # expressions compiled while checking, by source text: compile_plan reuses them (same code, whatever
        # the env they were checked against)
        self.compiled: dict[str, ex.Expression] = {}
        self.used: set[str] = set()
        # the unit types the indicator being checked applies to, narrowed by each ancestor's applies_to
        self.scope: list[str] | None = None

    # -- locating ---------------------------------------------------------------------------------

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
        smap, path = source_of(obj) if obj is not None else (None, ())
        full = (*path, *sub)
        sev: Severity = "warning" if warning else "error"
        if smap is None:
            self.problems.append(Problem(code, zh, en, sev, file=None, path=full, detail=detail))
            return
        self.problems.append(
            smap.problem(
                full, code, zh, en, severity=sev, key=key, column_offset=column_offset, detail=detail
            )
        )

    # -- expressions ------------------------------------------------------------------------------

    def expression(
        self,
        owner: Model,
        sub: tuple[Any, ...],
        source: Any,
        want: str | None,
        env: dict[str, ex.VarInfo] | None = None,
    ) -> ex.Expression | None:
        try:
            compiled = ex.compile_expr(source, env or self.env)
        except ex.ExprError as err:
            with contextlib.suppress(ex.ExprError):  # an input named in a faulty expression is not unused
                self.used |= ex.parse(source).names
            for issue in err.issues:
                self.at(
                    owner,
                    sub,
                    issue.code,
                    f"表达式错误：{issue.zh}",
                    f"expression error: {issue.en}",
                    column_offset=issue.column,
                    detail=ex.caret(str(err.source), issue.column),
                )
            return None
        if isinstance(source, str):
            self.compiled[source] = compiled
        self.used |= compiled.names
        if (
            want
            and compiled.type not in (want, ex.ANY)
            and not (want == ex.NUMBER and compiled.type == ex.BOOL)
        ):
            self.at(
                owner,
                sub,
                "expr-result-type",
                f"表达式的结果应为{_TZ[want]}，这里是{_TZ[compiled.type]}：{source}",
                f"the expression must give a {want}, it gives a {compiled.type}: {source}",
            )
        return compiled

    # -- the checks -------------------------------------------------------------------------------

    def run(self) -> list[Problem]:
        fw = self.fw
        if not fw.indicators:
            self.at(
                fw, ("indicators",), "no-indicators", "框架没有任何指标", "the framework has no indicators"
            )
        self.names()
        self.inputs()
        self.derived()
        codes = self.codes()
        for top in fw.indicators:
            self.indicator(top, depth=1)
        self.units()
        self.sums()
        self.grades()
        self.vetoes()
        for c in self.fw.checks:
            self.expression(c, ("when",), c.when, ex.BOOL)
        self.bonus()
        self.tests(codes)
        self.unused()
        return self.problems

    def names(self) -> None:
        fw = self.fw
        seen: dict[str, str] = {}
        for group, table in (("inputs", fw.inputs), ("params", fw.params), ("derived", fw.derived)):
            for name in table:
                if not ex.valid_name(name):
                    self.at(
                        fw,
                        (group, name),
                        "bad-name",
                        f"“{name}” 不能用作名称：须以字母或汉字开头，只含字母、数字、汉字和下划线，且不是保留字（{', '.join(sorted(ex.FUNCTIONS))}）",
                        f"'{name}' cannot be a name: letters, digits, CJK, underscores; not reserved",
                        key=True,
                    )
                if name in BUILTIN_NAMES:
                    self.at(
                        fw,
                        (group, name),
                        "reserved-name",
                        f"“{name}” 是内置名称",
                        f"'{name}' is built in",
                        key=True,
                    )
                if name in seen:
                    self.at(
                        fw,
                        (group, name),
                        "duplicate-name",
                        f"名称 “{name}” 已在 {seen[name]} 中定义",
                        f"name '{name}' is already defined in {seen[name]}",
                        key=True,
                    )
                seen[name] = group
        types = tuple(fw.applies_to) if fw.applies_to else None
        self.env["unit_type"] = ex.VarInfo(ex.TEXT, types, "单位类型")
        declared = tuple(fw.units.types) if fw.units else types
        self.env["school_type"] = ex.VarInfo(ex.TEXT, declared, "拆分前学校的类型")
        if fw.cohort:
            for name in fw.cohort.names():
                self.env[name] = ex.VarInfo(ex.NUMBER, None, "县域汇总统计")
        for name, p in fw.params.items():
            t = (
                ex.BOOL
                if isinstance(p.value, bool)
                else ex.NUMBER
                if isinstance(p.value, Decimal)
                else ex.TEXT
            )
            self.env[name] = ex.VarInfo(t, None, p.label)

    def inputs(self) -> None:
        fw = self.fw
        for name, inp in fw.inputs.items():
            choices = None
            if inp.type == "choice":
                if not inp.choices:
                    self.at(
                        inp,
                        (),
                        "choice-without-choices",
                        f"选择题 {name} 需要 choices",
                        f"choice input {name} needs choices",
                    )
                choices = tuple(inp.choices or ())
            elif inp.type == "level":
                if not inp.scale:
                    self.at(
                        inp,
                        (),
                        "level-without-scale",
                        f"等级输入 {name} 需要 scale",
                        f"level input {name} needs a scale",
                    )
                elif inp.scale not in fw.scales:
                    self.at(
                        inp,
                        ("scale",),
                        "unknown-scale",
                        f"未定义的等级量表 “{inp.scale}”（已定义：{', '.join(fw.scales) or '无'}）",
                        f"unknown scale '{inp.scale}'",
                    )
                else:
                    choices = tuple(fw.scales[inp.scale])
            elif inp.choices:
                self.at(
                    inp,
                    ("choices",),
                    "choices-unused",
                    "只有 choice 类型的输入才有 choices",
                    "only choice inputs have choices",
                )
            if inp.min is not None and inp.max is not None and inp.min > inp.max:
                self.at(
                    inp,
                    ("min",),
                    "min-max",
                    f"min（{inp.min}）大于 max（{inp.max}）",
                    "min is greater than max",
                )
            if inp.type == "percent" and inp.max is not None and inp.max > 100:
                self.at(
                    inp,
                    ("max",),
                    "percent-max",
                    "百分比输入以 0–100 表示，max 不应超过 100",
                    "percent inputs are 0–100",
                    warning=True,
                )
            self.unit_types(inp, inp.applies_to)
            self.plausible(name, inp)
            if inp.adverse and inp.type != "boolean":
                self.at(
                    inp,
                    ("adverse",),
                    "adverse-type",
                    f"只有是/否填报项才能标 adverse（“是”为不利情形），{name} 的类型是 {inp.type}",
                    f"only boolean inputs can be adverse; {name} is a {inp.type}",
                )
            self.env[name] = ex.VarInfo(input_type(inp.type), choices, inp.label)

    def plausible(self, name: str, inp: Input) -> None:
        """An input's own plausible range (合理范围): for numbers only, not empty, and overlapping its valid one."""
        own = inp.plausible
        if own is None:
            return
        if inp.type not in ("number", "integer", "percent"):
            self.at(
                inp,
                ("plausible",),
                "plausible-type",
                f"只有数值、整数、百分比填报项才有合理范围（plausible），{name} 的类型是 {inp.type}",
                f"only number, integer and percent inputs have a plausible range; {name} is a {inp.type}",
            )
            return
        low, high, _ = plausible_range(inp, self.fw.level)
        if low is not None and high is not None and low > high:
            self.at(
                own,
                ("min",) if own.min is not None else ("max",),
                "plausible-range",
                f"合理范围的下限 {low} 大于上限 {high}（省略的一端取默认值）",
                f"the plausible range's min {low} is above its max {high} (a side left out takes the default)",
            )
        elif (high is not None and inp.min is not None and high < inp.min) or (
            low is not None and inp.max is not None and low > inp.max
        ):
            self.at(
                own,
                (),
                "plausible-range",
                f"合理范围 {low}–{high} 与取值范围 {inp.min}–{inp.max} 不相交：每个有效值都会被当作不合理",
                f"the plausible range {low}–{high} misses the valid range {inp.min}–{inp.max}",
            )

    def derived(self) -> None:
        fw = self.fw
        parsed: dict[str, ex.Parsed] = {}
        for name, d in fw.derived.items():
            with contextlib.suppress(ex.ExprError):  # reported when compiling below
                parsed[name] = ex.parse(d.expr)
        # Order derived values by dependency; a cycle is reported once, where it closes.
        deps = {n: [d for d in sorted(p.names) if d in fw.derived] for n, p in parsed.items()}
        order: list[str] = []
        state: dict[str, int] = {}
        for name in fw.derived:
            for cycle in _visit(name, [], deps, state, order):
                self.at(
                    fw.derived[cycle[0]],
                    ("expr",),
                    "derived-cycle",
                    f"计算项循环引用：{' → '.join(cycle)}",
                    f"derived values form a cycle: {' -> '.join(cycle)}",
                )
        self.derived_order = order
        for name in order:
            d = fw.derived[name]
            # In dependency order every derived name used here is typed already, except those on a cycle
            # (reported above): give them an unknown type rather than calling them unknown names.
            local_env = {**{k: ex.VarInfo(ex.ANY) for k in fw.derived if k not in self.env}, **self.env}
            compiled = self.expression(d, ("expr",), d.expr, None, local_env)
            t = compiled.type if compiled else ex.ANY
            self.env[name] = ex.VarInfo(t, None, d.label)

    def codes(self) -> set[str]:
        seen: dict[str, Model] = {}
        for ind in self.fw.walk():
            if ind.code in seen:
                self.at(
                    ind,
                    ("code",),
                    "duplicate-code",
                    f"指标编码 “{ind.code}” 重复",
                    f"duplicate indicator code '{ind.code}'",
                )
            seen[ind.code] = ind
        for group in (self.fw.vetoes, self.fw.bonus.items if self.fw.bonus else [], self.fw.checks):
            for item in group:
                if item.code in seen:
                    self.at(
                        item,
                        ("code",),
                        "duplicate-code",
                        f"编码 “{item.code}” 重复",
                        f"duplicate code '{item.code}'",
                    )
                seen[item.code] = item
        return set(seen)

    def unit_types(self, obj: Model, types: list[str] | None, sub: tuple[Any, ...] = ("applies_to",)) -> None:
        allowed = self.fw.applies_to
        if not types:
            return
        if not allowed:
            self.at(
                obj,
                sub,
                "applies-to-undeclared",
                "使用了单位类型，但框架没有声明 applies_to",
                "unit types are used but the framework declares no applies_to",
            )
            return
        for i, t in enumerate(types):
            if t not in allowed:
                self.at(
                    obj,
                    (*sub, i),
                    "unknown-unit-type",
                    f"未知的单位类型 “{t}”（框架适用于：{'、'.join(allowed)}）",
                    f"unknown unit type '{t}' (the framework applies to: {', '.join(allowed)})",
                )

    def indicator(self, ind: Indicator, depth: int) -> None:
        self.unit_types(ind, ind.applies_to)
        if ind.applicable:
            self.expression(ind, ("applicable",), ind.applicable, ex.BOOL)
        if ind.rectify:
            self.rectify_template(ind.rectify)
            if ind.rule is not None:
                self.rectify_resolves(ind)
        if ind.children:
            if ind.require:
                self.require(ind)
            outer = self.scope
            self.scope = self.applicable_types(ind)
            for child in ind.children:
                self.indicator(child, depth + 1)
            self.scope = outer
            return
        assert ind.rule is not None
        method = self.fw.settings.method
        if method == "points" and ind.points is None and ind.rule.kind != "manual":
            self.at(
                ind,
                (),
                "leaf-without-points",
                f"指标 {ind.code} 没有分值（points）",
                f"indicator {ind.code} has no points",
            )
        if (
            method == "points"
            and ind.points is None
            and ind.rule.manual is not None  # the manual kind
            and not ind.rule.manual.levels
        ):
            self.at(
                ind,
                (),
                "leaf-without-points",
                f"指标 {ind.code} 没有分值（points）",
                f"indicator {ind.code} has no points",
            )
        KINDS[ind.rule.kind].check(self, ind, ind.rule.spec)

    def applicable_types(self, ind: Indicator) -> list[str]:
        """The unit types ``ind`` is scored for: its own applies_to within its ancestors' (a leaf under a 区县-only
        group needs no standard for 小学)."""
        outer = self.scope if self.scope is not None else list(self.fw.applies_to or [])
        return [t for t in outer if t in ind.applies_to] if ind.applies_to else outer

    def bound(self, ind: Indicator, sub: tuple[Any, ...], value: Any) -> None:
        assert ind.rule is not None  # bounds belong to a leaf's rule
        owner = ind.rule.spec
        if isinstance(value, dict):
            if not self.fw.applies_to:
                self.at(
                    owner,
                    sub,
                    "applies-to-undeclared",
                    "按单位类型给出了标准，但框架没有声明 applies_to",
                    "a standard is given per unit type but the framework declares no applies_to",
                )
            for t, v in value.items():
                if self.fw.applies_to and t not in self.fw.applies_to:
                    self.at(
                        owner,
                        (*sub, t),
                        "unknown-unit-type",
                        f"未知的单位类型 “{t}”（框架适用于：{'、'.join(self.fw.applies_to)}）",
                        f"unknown unit type '{t}'",
                        key=True,
                    )
                if isinstance(v, str):
                    self.expression(owner, (*sub, t), v, ex.NUMBER)
            missing = [t for t in self.applicable_types(ind) if t not in value]
            if missing:
                self.at(
                    owner,
                    sub,
                    "bound-unit-types",
                    f"按单位类型给出的标准缺少：{'、'.join(missing)}",
                    f"the per-unit-type standard does not cover: {', '.join(missing)}",
                )
        elif isinstance(value, str):
            self.expression(owner, sub, value, ex.NUMBER)

    def require(self, ind: Indicator) -> None:
        req = ind.require
        assert req is not None and ind.children
        n = len(ind.children)
        if req.at_least > n:
            self.at(
                req,
                ("at_least",),
                "require-k",
                f"要求至少 {req.at_least} 项达标，但只有 {n} 项下级指标",
                f"requires {req.at_least} of {n} children",
            )
        if req.others_at_least_ratio is not None:
            for child in ind.children:
                rule = child.rule
                if (
                    rule is None
                    or rule.kind != "threshold"
                    or not ({"at_least", "above"} & set(rule.spec.bounds()))
                ):
                    self.at(
                        child,
                        ("rule",),
                        "require-ratio",
                        f"组条件要求余项达到标准的一定比例，下级指标 {child.code} 必须是带下限（at_least/above）的阈值规则",
                        f"others_at_least_ratio needs child {child.code} to be a threshold rule with a lower bound",
                    )

    def rectify_template(self, rect: Any, fields: frozenset[str] | set[str] = RECTIFY_FIELDS) -> None:
        for fieldname in ("problem", "requirement"):
            text = getattr(rect, fieldname)
            if not text:
                continue
            try:
                names = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
            except ValueError as err:
                self.at(
                    rect, (fieldname,), "rectify-template", f"整改模板格式错误：{err}", f"bad template: {err}"
                )
                continue
            self.used.update(names)  # an input quoted in a 整改 text is used
            for name in names:
                if name not in fields and name not in self.env and name not in self.fw.derived:
                    self.at(
                        rect,
                        (fieldname,),
                        "rectify-placeholder",
                        f"整改模板中的占位符 {{{name}}} 未知（可用：{', '.join(sorted(fields))}，或输入项、计算项的 id）",
                        f"unknown placeholder {{{name}}}",
                    )

    def rectify_resolves(self, ind: Indicator) -> None:
        """A placeholder this rule kind never fills ({standard} of a checklist-less rating, {value} of an
        expression over several values) would print "—" or nothing in every 整改 text: warned, so --strict fails."""
        assert ind.rule is not None and ind.rectify is not None
        kind, spec = ind.rule.kind, ind.rule.spec
        for fieldname in ("problem", "requirement"):
            text = getattr(ind.rectify, fieldname)
            try:
                names = {f for _, f, _, _ in string.Formatter().parse(text or "") if f}
            except ValueError:
                continue  # reported by rectify_template
            for name in sorted(names & set(_FILLED_BY)):
                why = _FILLED_BY[name](kind, spec, {*self.fw.inputs, *self.fw.derived})
                if why is None:
                    continue
                self.at(
                    ind.rectify,
                    (fieldname,),
                    "rectify-placeholder-empty",
                    f"整改模板中的 {{{name}}} 在这条{why}，整改文字里会是“—”或空白：请改用输入项的 id 或直接写出",
                    f"{{{name}}} is never filled for this {kind} rule",
                    warning=True,
                )

    def units(self) -> None:
        u = self.fw.units
        if u is None:
            return
        for i, t in enumerate(u.types):
            if not isinstance(t, str) or not t:
                self.at(u, ("types", i), "unit-type", "单位类型必须是文本", "unit types are text")
        for part in u.split:
            self.expression(part, ("when",), part.when, ex.BOOL)
            if self.fw.applies_to and part.type not in self.fw.applies_to:
                self.at(
                    part,
                    ("type",),
                    "unknown-unit-type",
                    f"拆分出的单位类型 “{part.type}” 不在 applies_to（{'、'.join(self.fw.applies_to)}）中",
                    f"split unit type '{part.type}' is not in applies_to",
                )

    def sums(self) -> None:
        fw = self.fw
        s = fw.settings
        if s.method == "points":
            if s.check_sums:
                for ind in fw.walk():
                    if ind.children and ind.points is not None:
                        got = sum((_points(c) for c in ind.children), Decimal(0))
                        if got != ind.points:
                            self.at(
                                ind,
                                ("points",),
                                "points-sum",
                                f"{ind.code} {ind.name} 的分值为 {ind.points}，但下级指标合计 {got}",
                                f"{ind.code} has {ind.points} points but its children add up to {got}",
                            )
            top = sum((_points(i) for i in fw.indicators), Decimal(0))
            if s.total is not None and top != s.total and s.check_sums:
                self.at(
                    fw,
                    ("scoring", "total"),
                    "points-total",
                    f"满分为 {s.total}，但一级指标分值合计 {top}",
                    f"total is {s.total} but first-level indicators add up to {top}",
                )
        elif s.method == "weights":
            groups = [("indicators", fw, fw.indicators)] + [
                ("children", i, i.children) for i in fw.walk() if i.children
            ]
            for _, owner, kids in groups:
                ws = [k.weight for k in kids]
                if any(w is None for w in ws):
                    for k in kids:
                        if k.weight is None:
                            self.at(
                                k,
                                (),
                                "weight-missing",
                                f"指标 {k.code} 没有权重（weight）",
                                f"indicator {k.code} has no weight",
                            )
                    continue
                total = sum((w for w in ws if w is not None), Decimal(0))
                if s.check_sums and total not in (Decimal(1), Decimal(100)):
                    code = getattr(owner, "code", "一级指标")
                    self.at(
                        owner,
                        ("children",) if isinstance(owner, Indicator) else ("indicators",),
                        "weights-sum",
                        f"{code} 的下级权重合计 {total}，应为 1 或 100%",
                        f"weights under {code} add up to {total}, not 1 or 100",
                    )

    def grades(self) -> None:
        fw = self.fw
        grades = fw.grades
        names = [g.name for g in grades]
        for i, g in enumerate(grades):
            if names.count(g.name) > 1 and names.index(g.name) != i:
                self.at(
                    g, ("name",), "grade-duplicate", f"等级 “{g.name}” 重复", f"duplicate grade '{g.name}'"
                )
            if g.when:
                self.expression(g, ("when",), g.when, ex.BOOL, self.grade_env())
        cuts = [(g, g.at_least) for g in grades if g.at_least is not None]
        for (a, a_min), (b, b_min) in itertools.pairwise(cuts):
            if b_min >= a_min:
                self.at(
                    b,
                    ("at_least",),
                    "grade-order",
                    f"等级须从高到低排列：“{b.name}”（{b.at_least}）不低于前面的 “{a.name}”（{a.at_least}）",
                    f"grades go best first: '{b.name}' ({b.at_least}) is not below '{a.name}' ({a.at_least})",
                )
        maximum = self.max_total()
        for g, at_least in cuts:
            if maximum is not None and at_least > maximum:
                self.at(
                    g,
                    ("at_least",),
                    "grade-unreachable",
                    f"等级 “{g.name}” 需要 {g.at_least} 分，但最高只能得 {maximum} 分",
                    f"grade '{g.name}' needs {g.at_least} but the maximum is {maximum}",
                )
        last = grades[-1] if grades else None
        if last is not None and not (last.when is None and (last.at_least is None or last.at_least <= 0)):
            self.at(
                last,
                (),
                "grade-catch-all",
                f"最后一个等级 “{last.name}” 应不设条件，作为兜底（否则低分无等级）",
                f"the last grade '{last.name}' should have no condition, so every total gets a grade",
            )

    def grade_env(self) -> dict[str, ex.VarInfo]:
        env = dict(self.env)
        env.update({k: ex.VarInfo(ex.NUMBER, None, v) for k, v in GRADE_NAMES.items()})
        env.update({k: ex.VarInfo(ex.BOOL, None, v) for k, v in GRADE_FLAGS.items()})
        return env

    def max_total(self) -> Decimal | None:
        s = self.fw.settings
        if s.method == "pass_fail":
            return None
        if s.total is not None:
            base = s.total
        elif s.method == "points":
            base = sum((_points(i) for i in self.fw.indicators), Decimal(0))
        else:
            base = Decimal(100)
        return base + (self.fw.bonus.cap if self.fw.bonus else Decimal(0))

    def vetoes(self) -> None:
        names = [g.name for g in self.fw.grades]
        for v in self.fw.vetoes:
            self.expression(v, ("when",), v.when, ex.BOOL)
            self.unit_types(v, v.applies_to)
            if v.rectify:
                self.rectify_template(v.rectify, VETO_RECTIFY_FIELDS)
            e = v.effect
            if e.cap is not None and e.cap not in names:
                self.at(
                    v,
                    ("effect", "cap"),
                    "veto-grade",
                    f"否决效果引用了未定义的等级 “{e.cap}”（已定义：{'、'.join(names) or '无'}）",
                    f"veto caps at unknown grade '{e.cap}'",
                )
            if e.downgrade is not None and len(names) < 2:
                self.at(
                    v,
                    ("effect",),
                    "veto-grade",
                    "降等次需要至少两个等级",
                    "downgrade needs at least two grades",
                )

    def bonus(self) -> None:
        b = self.fw.bonus
        if not b:
            return
        for item in b.items:
            if item.when:
                self.expression(item, ("when",), item.when, ex.BOOL)
            if isinstance(item.points, str):
                self.expression(item, ("points",), item.points, ex.NUMBER)
            elif isinstance(item.points, dict):
                self.at(
                    item,
                    ("points",),
                    "bonus-points",
                    "加分项的分数应为数值或表达式",
                    "bonus points are a number or expression",
                )

    def tests(self, codes: set[str]) -> None:
        grades = {g.name for g in self.fw.grades}
        for case in self.fw.tests:
            self.case_context(case)
            self.case_inputs(case)
            self.case_unit(case)
            self.case_expected_codes(case, codes)
            self.case_grade(case, grades)
            self.case_manual(case, codes)

    def case_context(self, case: TestCase) -> None:
        """A case's context stands in for what comes from outside the unit (cohort statistics, say); inputs
        come from the case's values and derived values from the framework, never from the context."""
        fw = self.fw
        for name in case.context:
            if name not in self.env or name in fw.inputs or name in fw.derived:
                self.at(
                    case,
                    ("context", name),
                    "test-unknown-name",
                    f"测试用例的 context 中 “{name}” 不是可由外部提供的名称（如县域汇总统计）",
                    f"context name '{name}' is not an external name such as a cohort statistic",
                    key=True,
                )

    def case_inputs(self, case: TestCase) -> None:
        """A value for an input the framework lacks is most likely a mistyped id: name the nearest one."""
        fw = self.fw
        for name in [*case.values, *case.evaluator_values]:
            if name not in fw.inputs:
                near = _near(name, fw.inputs)
                self.at(
                    case,
                    ("values", name),
                    "test-unknown-input",
                    f"测试用例 “{case.name}” 填了未知的输入项 “{name}”{near[0]}",
                    f"test '{case.name}' fills unknown input '{name}'{near[1]}",
                    key=True,
                )

    def case_unit(self, case: TestCase) -> None:
        """A case's unit type must be one a submission could declare, or the case tests nothing real."""
        fw = self.fw
        allowed = [*(fw.applies_to or []), *(fw.units.types if fw.units else [])]
        if case.unit.type and allowed and case.unit.type not in allowed:
            self.at(
                case,
                ("unit", "type"),
                "unknown-unit-type",
                f"未知的单位类型 “{case.unit.type}”",
                f"unknown unit type '{case.unit.type}'",
            )

    def case_expected_codes(self, case: TestCase, codes: set[str]) -> None:
        """An expectation about an indicator, veto or check that does not exist could never be compared."""
        fw = self.fw
        for group in ("status", "points"):
            for code in getattr(case.expect, group):
                if code not in codes:
                    self.at(
                        case,
                        ("expect", group, code),
                        "test-unknown-code",
                        f"测试用例引用了不存在的指标 “{code}”",
                        f"test refers to unknown indicator '{code}'",
                        key=True,
                    )
        for code in case.expect.vetoes or []:
            if code not in {v.code for v in fw.vetoes}:
                self.at(
                    case,
                    ("expect", "vetoes"),
                    "test-unknown-code",
                    f"测试用例引用了不存在的否决项 “{code}”",
                    f"test refers to unknown veto '{code}'",
                )
        for code in case.expect.checks or []:
            if code not in {c.code for c in fw.checks} and code != "implausible":  # a value out of 合理范围
                self.at(
                    case,
                    ("expect", "checks"),
                    "test-unknown-code",
                    f"测试用例引用了不存在的数据核查 “{code}”",
                    f"test refers to unknown check '{code}'",
                )

    def case_grade(self, case: TestCase, grades: set[str]) -> None:
        """An expected grade the framework does not define could never be met."""
        if case.expect.grade and case.expect.grade not in grades:
            self.at(
                case,
                ("expect", "grade"),
                "test-unknown-grade",
                f"测试用例期望的等级 “{case.expect.grade}” 未定义",
                f"expected grade '{case.expect.grade}' is not defined",
            )

    def case_manual(self, case: TestCase, codes: set[str]) -> None:
        """A rating for an indicator the framework lacks is most likely a mistyped code."""
        for code in case.manual:
            if code not in codes:
                self.at(
                    case,
                    ("manual", code),
                    "test-unknown-code",
                    f"测试用例给不存在的指标 “{code}” 评分",
                    f"test rates unknown indicator '{code}'",
                    key=True,
                )

    def unused(self) -> None:
        for name, inp in self.fw.inputs.items():
            if name not in self.used:
                self.at(
                    inp,
                    (),
                    "unused-input",
                    f"输入项 “{name}”（{inp.label}）没有被任何计算项、规则、否决项或数据核查使用",
                    f"input '{name}' ({inp.label}) is not used by any derived value, rule or veto",
                    warning=True,
                    key=True,
                )


def _near(name: str, options: Iterable[str]) -> tuple[str, str]:
    import difflib

    near = difflib.get_close_matches(name, list(options), n=1)
    return (f"，是不是 “{near[0]}”？", f"; did you mean '{near[0]}'?") if near else ("", "")


def _points(ind: Indicator) -> Decimal:
    """An indicator's full points as the engine counts them (engine/plan._by_points): written, the children's
    sum, or a 督学 rating's highest level."""
    if ind.points is not None:
        return ind.points
    if ind.children:
        return sum((_points(c) for c in ind.children), Decimal(0))
    manual = ind.rule.manual if ind.rule is not None else None
    if manual is not None and manual.levels:
        return max(manual.levels.values())
    return Decimal(0)


_TZ = {ex.NUMBER: "数值", ex.BOOL: "是/否", ex.TEXT: "文本", ex.DATE: "日期", ex.ANY: "任意值"}


def check(fw: Framework) -> list[Problem]:
    """Every semantic problem of a framework, errors and warnings."""
    return checked(fw).problems


def _visit(
    n: str, stack: list[str], deps: dict[str, list[str]], state: dict[str, int], order: list[str]
) -> list[list[str]]:
    """Depth-first: append ``n`` to ``order`` after what it depends on; return the cycles closed at it.

    A module function, not a closure: a recursive closure refers to itself, and whatever it holds (here the
    checker and its framework) would wait for the cycle collector."""
    if state.get(n) == 2:
        return []
    if state.get(n) == 1:
        return [[*stack[stack.index(n) :], n]]
    state[n] = 1
    cycles = [c for dep in deps.get(n, ()) for c in _visit(dep, [*stack, n], deps, state, order)]
    state[n] = 2
    order.append(n)
    return cycles


class _Kept:
    """A framework's own clean check (compared by identity: pydantic's ``==`` then compares the fields)."""

    __slots__ = ("checker", "ref")

    def __init__(self, ref: weakref.ref[Framework], checker: Checker):
        self.ref = ref
        self.checker = checker


def keep(fw: Framework, checker: Checker) -> None:
    """Remember a clean check on the framework it checked, for compile_plan and the cohort to reuse.

    Kept outside the model's fields (and private attributes), so it takes no part in ``==``, dumps or pickles;
    by weak references both ways, so a framework dropped is freed at once, without the cycle collector."""
    checker.fw = cast(Framework, weakref.proxy(fw))
    fw.__dict__["_checked"] = _Kept(weakref.ref(fw), checker)


def kept(fw: Framework) -> Checker | None:
    """The check :func:`keep` remembered, while it is about this very object (a copy, or a framework built in
    code, has none)."""
    got = fw.__dict__.get("_checked")
    return got.checker if isinstance(got, _Kept) and got.ref() is fw else None


def checked(fw: Framework) -> Checker:
    """A Checker that has run over ``fw``: its problems, and the typed names compile_plan reuses."""
    checker = Checker(fw)
    with localcontext() as ctx:
        # Sums of absurd numbers (points: 1e999999999) are reported as wrong sums, not a decimal.Overflow.
        ctx.Emax, ctx.Emin = MAX_EMAX, MIN_EMIN
        checker.run()
    return checker
