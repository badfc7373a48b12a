"""Scoring: a pure function of (plan, submission, options) → Result. No global state; safe across threads.

Aggregation policy (docs/precision.md):
* leaf points are rounded half-up to the framework's precision; parents add their children's rounded points;
* 不适用 / 已豁免 children leave the denominator: the parent's points are rescaled to its full points
  (得分 × 满分 ÷ 适用项满分), and the explanation says so;
* 缺报 / 待评 / 无法计算 earn nothing but stay in the denominator: never 0 shown as a score, never a pass;
  the result is marked provisional and completeness is reported;
* weights are turned into points at compile time (a node's share of its parent), so one aggregation serves both.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal, getcontext, localcontext
from functools import wraps
from typing import Any, Literal

from ..framework import expr as ex
from ..framework.model import Framework
from ..framework.rules.base import EXACT, STATUS_BY_ZH, STATUS_TEXT, Outcome
from ..framework.text import fmt, half_up
from ..framework.values import coerce
from ..problems import Problem, SubmissionError
from ..version import __version__
from .plan import InputSpec, Node, Plan, compile_plan
from .result import (
    AppliedChange,
    BonusResult,
    Completeness,
    DataWarning,
    FrameworkRef,
    GapFlag,
    IndicatorResult,
    Later,
    Result,
    UnitRef,
    VetoResult,
    indicator_result,
)
from .submission import Submission

ENGINE = f"duping-scoring {__version__}"
PRECISION = ex.PRECISION  # significant digits for intermediate results; reported values are rounded half-up
ZERO = Decimal(0)
UNSCORED = ("missing", "pending", "error")
OUT_OF_DENOMINATOR = ("not_applicable", "waived")


@dataclass(frozen=True)
class Options:
    """How to score. ``values``: final (督评 where given, else 自评), self (自评 only) or evaluator (督评 only)."""

    values: Literal["final", "self", "evaluator"] = "final"
    gap_threshold: Decimal = Decimal("0.10")  # 自评 above 督评 by more than this share is flagged
    compare_self: bool = True  # with 督评 values present, also score the 自评 values (self_total)


def score(
    framework: Plan | Framework,
    submission: Submission,
    options: Options = Options(),
    extra: Mapping[str, Any] | None = None,
) -> Result:
    """Score one submission. Raises SubmissionError listing every bad value (with the input and reason).

    ``extra``: further named values for the framework's expressions (the cohort statistics of a county framework).
    """
    plan = framework if isinstance(framework, Plan) else compile_plan(framework)
    with localcontext() as ctx:  # thread-local: every calculation of this call at 34 significant digits
        ctx.prec = PRECISION
        return _Scorer(plan, submission, options, extra).run()


def values_of(framework: Plan | Framework, submission: Submission) -> dict[str, Any]:
    """The named values a submission gives the framework's expressions: inputs, parameters, derived values."""
    plan = framework if isinstance(framework, Plan) else compile_plan(framework)
    with localcontext() as dctx:
        dctx.prec = PRECISION
        scorer = _Scorer(plan, submission, Options())
        given, problems = scorer.values("final")
        if problems:
            raise SubmissionError(problems)
        return scorer.context(given)


def split(framework: Plan | Framework, submission: Submission) -> list[Submission]:
    """The units a submitted row is evaluated as (framework ``units.split``): a 九年一贯制学校 → 小学部 + 初中部.

    A framework without a split, or a unit already split from a school, gives itself; a row that no split
    applies to (e.g. a 教学点 under 50 pupils) gives no units.
    """
    plan = framework if isinstance(framework, Plan) else compile_plan(framework)
    units = plan.framework.units
    if units is None or not units.split or submission.unit.school_type is not None:
        return [submission]
    ctx = values_of(plan, submission)
    with localcontext() as dctx:
        dctx.prec = PRECISION
        out = []
        for part, when in zip(units.split, plan.split_when, strict=True):
            try:
                hit = when.evaluate(ctx)
            except ex.EvalError:
                hit = None
            if hit:
                name = f"{submission.unit.name}（{part.suffix}）" if part.suffix else submission.unit.name
                unit = submission.unit.model_copy(
                    update={"type": part.type, "name": name, "school_type": submission.unit.type}
                )
                out.append(submission.model_copy(update={"unit": unit}))
    return out


def _precise(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``fn`` in the scoring call's decimal context: a text written later shows the numbers it explains.

    Checked here first: a result read whole (``to_json``) sets that context once for its hundreds of texts."""

    @wraps(fn)
    def run(*args: Any) -> Any:
        if getcontext().prec == PRECISION:
            return fn(*args)
        return ex.at_precision(fn, *args)

    return run


def _fault(exc: BaseException, names: tuple[str, ...], ctx: Mapping[str, Any], plan: Plan) -> str:
    """Why a rule could not be computed: the arithmetic fault, and the values it read that are too large to
    compute with (no rounding fits them, or they overflow), by their labels."""
    err = ex.arithmetic_error(exc)
    if isinstance(exc, ex.EvalError):
        return err.zh
    labels = {d.name: d.label for d in plan.derived}
    large = [
        f"{spec.label if (spec := plan.inputs.get(n)) else labels.get(n, n)} = {ex.brief(v)}"
        for n in names
        if type(v := ctx.get(n)) is Decimal and v.adjusted() >= 20
    ]
    return err.zh + (f"（{'，'.join(large)}）" if large else "")


def _plausible_text(spec: InputSpec) -> str:
    """An input's plausible range as a sentence shows it: 0–50000人, 不低于 0人, 不超过 100%."""
    low, high, unit = spec.plausible_min, spec.plausible_max, spec.unit or ""
    if low is not None and high is not None:
        return f"{ex.brief(low)}–{ex.brief(high)}{unit}"
    return (
        f"不低于 {ex.brief(low)}{unit}"
        if low is not None
        else f"不超过 {ex.brief(high)}{unit}"
        if high is not None
        else ""
    )


def _holds(condition: ex.Expression, values: Mapping[str, Any]) -> bool:
    """Whether a condition is true; one that cannot be computed (or is missing) does not hold."""
    try:
        return condition.evaluate(values) is True
    except ex.EvalError:
        return False


def _percent(share: Decimal) -> str:
    """A share as a percentage at 1 place; one too large to round (a value 10^40 times another) as it is."""
    try:
        return fmt(half_up(share * 100, 1))
    except ArithmeticError:
        return ex.brief(share * 100)


def _inputs(values: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {n: values.get(n) for n in names}


def _possible(node: Node, out: Outcome) -> Decimal | None:
    """The full points of a counted node: a leaf's are fixed by the plan, a group's by its counted children."""
    return node.leaf_possible if node.rule is not None else out.possible


def _shown(out: Outcome) -> str:
    """An outcome as an override's old → new shows it: 部分达标 3 分."""
    return (
        f"{STATUS_TEXT[out.status]} {fmt(out.points)} 分"
        if out.points is not None
        else STATUS_TEXT[out.status]
    )


def _amended(text: Later, after: str, owner: IndicatorResult, field: str) -> str:
    written: str = text(owner, field)
    return written + after


def _apply_effects(
    grade: int, order: tuple[str, ...], fail: bool, downgrade: int, cap: int | None, last: int
) -> int:
    """The grade after the triggered effects, in the framework's order (grades are indexed best first): a scheme
    that caps before it downgrades gives 合格 where downgrading first gives 良好, for a school with both at 95."""
    g = grade
    for effect in order:
        if effect == "fail" and fail:
            g = last
        elif effect == "downgrade":
            g = min(g + downgrade, last)
        elif effect == "cap" and cap is not None:
            g = max(g, cap)
    return g


def _total_text(
    counted: list[tuple[Node, Outcome]],
    earned: Decimal,
    full: Decimal,
    base: Decimal,
    result: Result,
    field: str,
) -> str:
    """How the total was reached (the numbers _Scorer.total used): first-level points added, rescaled to the
    framework's total, plus bonus."""
    terms = " + ".join(
        fmt(o.points) if o.points is not None else f"0（{n.code} {STATUS_TEXT[o.status]}）"
        for n, o in counted
    )
    text = f"一级指标得分 {terms} = {fmt(earned)}（满分 {fmt(full)}）"
    target = result.possible
    if full and full != target:
        text += f"，按 {fmt(target)} 分折算：{fmt(earned)} × {fmt(target)} ÷ {fmt(full)} = {fmt(base)}"
    if result.bonus_total:
        text += f"；加分 {fmt(result.bonus_total)}"
    return f"{text}；总分 {fmt(result.total)}"


@_precise
def _rectification(plan: Plan, ctx: dict[str, Any], date: Any, result: Result, field: str) -> list[Any]:
    from .rectify import rectification_list

    return rectification_list(plan, result, ctx, date)


# A group's tally of its children that count: how many, points earned, full points, their statuses.
_Tally = tuple[int, Decimal, Decimal, set[str]]


class _Scorer:
    def __init__(self, plan: Plan, sub: Submission, options: Options, extra: Mapping[str, Any] | None = None):
        self.plan = plan
        self.sub = sub
        self.options = options
        self.extra = extra or {}
        self.unit_type = sub.unit.type
        self.out: list[Outcome] = [None] * len(plan.nodes)  # type: ignore[list-item]  # pre-order, as plan.nodes
        self.notes: dict[int, Any] = {}  # node index → how its text differs from the common case (note_text)
        self.changes: list[AppliedChange] = []
        self.errors: dict[str, str] = {}
        self.checking = True  # apply the framework's 数据核查
        self.doubts: list[DataWarning] = []  # values outside their plausible range (合理范围)

    # -- values ------------------------------------------------------------------------------------

    def values(self, which: str) -> tuple[dict[str, Any], list[Problem]]:
        plan, sub = self.plan, self.sub
        problems: list[Problem] = []
        sources: list[tuple[str, Mapping[str, Any]]] = []
        if which in ("final", "self"):
            sources.append(("values", sub.values))
        if which in ("final", "evaluator"):
            sources.append(("evaluator_values", sub.evaluator_values))
        out: dict[str, Any] = {}
        plain = plan.plain
        doubtful: dict[str, str] = {}  # typed on the slow path and outside the plausible range: input → group
        for group, given in sources:
            for name, raw in given.items():
                # Most values are plain: a number in range, yes/no, one of the choices as written — and every value
                # a reader typed (a Decimal, whole for an integer input). They are taken as they come; anything
                # else (text to read, out of range or of the plausible range, wrong type) goes through coerce.
                fast = plain.get(name)
                if fast is not None:
                    kind, low, high, choices = fast
                    t = type(raw)
                    if t is bool or t is str:
                        if (kind == "b" and t is bool) or (choices is not None and raw in choices):
                            out[name] = raw
                            continue
                    elif (
                        (t is Decimal and (kind == "n" or (kind == "i" and raw.as_tuple().exponent == 0)))
                        or (t is float and kind == "n")
                        or (t is int and (kind == "n" or kind == "i"))
                    ):
                        value = raw if t is Decimal else Decimal(repr(raw)) if t is float else Decimal(raw)
                        if (
                            value.is_finite()
                            and (low is None or value >= low)
                            and (high is None or value <= high)
                        ):
                            out[name] = value
                            continue
                self.typed(group, name, raw, out, problems, doubtful)
        if doubtful:
            problems += self.implausible(out, doubtful)
        return out, problems

    def typed(
        self,
        group: str,
        name: str,
        raw: Any,
        out: dict[str, Any],
        problems: list[Problem],
        doubtful: dict[str, str],
    ) -> None:
        """A value off the fast path, typed by coerce: into ``out``, or a problem saying why not."""
        plan, sub = self.plan, self.sub
        spec = plan.inputs.get(name)
        if spec is None:
            problems.append(
                Problem(
                    "unknown-input",
                    f"框架 {plan.framework.id} 没有填报项 “{name}”",
                    f"framework {plan.framework.id} has no input '{name}'",
                    file=sub.source,
                    path=(group, name),
                )
            )
            return
        value, why = coerce(spec.kind, raw, choices=spec.choices, minimum=spec.min, maximum=spec.max)
        if why:
            problems.append(
                Problem(
                    "bad-value",
                    f"{spec.label}（{name}）：{why}",
                    f"{spec.label} ({name}): {why}",
                    file=sub.source,
                    path=(group, name),
                )
            )
            return
        if value is None:
            return
        out[name] = value
        if ex.is_number(value) and spec.implausible(value):
            doubtful[name] = group

    def implausible(self, out: dict[str, Any], doubtful: dict[str, str]) -> list[Problem]:
        """The values to be scored that lie outside their plausible range (合理范围): a data warning with the
        result (self.doubts), or a problem that refuses the submission where the framework says so."""
        problems: list[Problem] = []
        for name, group in doubtful.items():
            spec = self.plan.inputs[name]
            value = out.get(name)
            if value is None or not spec.implausible(value):  # a later value (督评) replaced it
                continue
            if spec.applies_to is not None and self.unit_type not in spec.applies_to:
                continue  # not this unit's to fill: read as unfilled

            unit = spec.unit or ""
            shown, bound = f"{ex.brief(value)}{unit}", _plausible_text(spec)
            if not spec.plausible_refuse:
                self.doubts.append(
                    DataWarning(
                        "implausible",
                        f"{spec.label}为 {shown}，超出合理范围（{bound}），请核实是否填错（单位、位数）",
                        f"{spec.label} {shown}",
                    )
                )
            elif self.checking:  # the 自评 run beside a 督评 one (compare_self) judges nothing again
                problems.append(
                    Problem(
                        "implausible-value",
                        f"{spec.label}（{name}）：{shown} 超出合理范围（{bound}），框架规定不予评分；请核实后重新填报",
                        f"{spec.label} ({name}): {shown} is outside the plausible range ({bound}); the framework "
                        "refuses it: check it and submit again",
                        file=self.sub.source,
                        path=(group, name),
                    )
                )
        return problems

    def context(self, given: dict[str, Any]) -> dict[str, Any]:
        plan = self.plan
        unit_type = self.unit_type
        if self.extra:
            ctx: dict[str, Any] = dict(plan.params)
            ctx.update(self.extra)
            ctx.update(plan.blank)  # every input, unfilled
        else:
            ctx = plan.base.copy()  # the same, in one copy
        ctx["unit_type"] = unit_type
        ctx["school_type"] = self.sub.unit.school_type or unit_type
        ctx.update(given)
        for name, applies_to in plan.limited:
            if unit_type not in applies_to:
                ctx[name] = None
        exact: dict[str, Any] = {}
        ctx[EXACT] = (
            exact  # unrounded derived values: for traces and for 差异系数 (not a valid name in expressions)
        )
        for d, name, evaluate, quantum in plan.derived_steps:
            try:
                v = evaluate(ctx)
                if quantum is not None and v is not None:
                    if type(v) is Decimal:
                        rounded = v.quantize(quantum, ROUND_HALF_UP)
                    elif ex.is_number(v):
                        rounded = Decimal(v).quantize(quantum, ROUND_HALF_UP)
                    else:
                        rounded = v
                    if rounded != v:
                        exact[name] = v
                    v = rounded
            except (ex.EvalError, ArithmeticError) as exc:  # e.g. a value too large to round to its places
                err = ex.arithmetic_error(exc)
                self.errors[name] = f"{d.label}：{err.zh}（{d.template.render(ctx)}）"
                v = None
            ctx[name] = v
        return ctx

    # -- the tree ----------------------------------------------------------------------------------

    def run(self) -> Result:
        plan, sub = self.plan, self.sub
        given, problems = self.values(self.options.values)
        problems = [*self.framework_problems(), *problems, *self.unit_problems()]
        if problems:
            raise SubmissionError(problems)
        ctx = self.context(given)
        self.ctx = ctx
        self.waivers = {w.indicator: w for w in sub.waivers if not self.expired(w)}
        self.overrides = {o.indicator: o for o in sub.overrides}
        unknown = [c for c in [*self.waivers, *self.overrides, *sub.manual] if c not in plan.index]
        problems, warnings = self.data_checks(ctx) if plan.checks and self.checking else ([], [])
        problems += [
            Problem("unknown-indicator", f"没有编码为 “{c}” 的指标", f"no indicator '{c}'", file=sub.source)
            for c in unknown
        ]
        problems += [
            Problem(
                "unknown-evidence",
                f"佐证材料的编码 “{c}” 不是本框架的指标、否决项、加分项或填报项",
                f"evidence for '{c}', which is no indicator, veto, bonus item or input of this framework",
                file=sub.source,
                path=("evidence", c),
            )
            for c in sub.evidence
            if c not in plan.index and c not in plan.inputs and c not in plan.other_codes
        ]
        if problems:
            raise SubmissionError(problems)
        for root in plan.roots:
            self.node(root)
        outcomes = self.out
        counts = dict.fromkeys(STATUS_TEXT, 0)
        for i in plan.leaf_indexes:
            counts[outcomes[i].status] += 1
        total, possible, parts = self.total()
        bonus, bonus_total = self.bonus(ctx)
        if bonus_total is not None:
            bonus_total = half_up(bonus_total, plan.precision)
            if total is not None:
                total = half_up(total + bonus_total, plan.total_precision)
        grade_index = self.grade(ctx, total, counts)
        vetoes, grade_after, passed = self.vetoes(ctx, grade_index)
        if plan.method == "pass_fail":
            top = [s for s in (outcomes[r.index].status for r in plan.roots) if s not in OUT_OF_DENOMINATOR]
            passed = (
                passed
                if passed is False
                else (all(s == "met" for s in top) if all(s not in UNSCORED for s in top) else None)
            )
        grades = [g.grade.name for g in plan.grades]
        result = Result(
            framework=FrameworkRef(
                plan.framework.id,
                plan.framework.name,
                plan.framework.version,
                plan.hash,
                plan.framework.extends,
                list(plan.sources),
            ),
            engine=ENGINE,
            unit=UnitRef(sub.unit.name, sub.unit.code, sub.unit.type, sub.unit.region, sub.unit.date),
            method=plan.method,
            total=total,
            possible=possible,
            grade=grades[grade_after] if grade_after is not None else None,
            grade_before_vetoes=grades[grade_index] if grade_index is not None else None,
            passed=passed,
            provisional=any(counts[s] for s in UNSCORED) or any(v.triggered is None for v in vetoes),
            counts={k: v for k, v in counts.items() if v},
            completeness=self.completeness(given),
            indicators=Later((_Scorer.indicators, self)),  # type: ignore[arg-type]
            vetoes=vetoes,
            bonus=bonus,
            bonus_total=bonus_total,
            changes=self.changes,
            source=sub.source,
            evidence={code: list(refs) for code, refs in sub.evidence.items() if refs},
            data_warnings=[
                *self.doubts,
                *warnings,
                *(DataWarning(n.code, n.message, n.place or "") for n in sub.notes),
            ],
            precision=plan.precision,
            total_precision=plan.total_precision,
            labels=plan.labels,
        )
        if sub.evaluator_values and self.options.values == "final":
            result.gap_flags = self.gap_flags()
            if self.options.compare_self:
                own = _Scorer(plan, sub, Options("self", self.options.gap_threshold, False), self.extra)
                own.checking = False  # 数据核查 judged the values scored above
                mine = own.run()
                result.self_total = mine.total
        result.rectification = Later((_rectification, plan, ctx, sub.unit.date))  # type: ignore[assignment]
        if total is not None:
            result.total_explanation = Later((_total_text, *parts))  # type: ignore[assignment]
        return result

    def data_checks(self, ctx: dict[str, Any]) -> tuple[list[Problem], list[DataWarning]]:
        """The framework's 数据核查 conditions the values do not meet: errors refuse the submission, warnings are
        reported with the result. A condition whose values are missing (or cannot be computed) is not judged."""
        problems: list[Problem] = []
        warnings: list[DataWarning] = []
        for spec in self.plan.checks:
            try:
                ok = spec.when.run(ctx)
            except ex.EvalError:
                continue
            if ok is None or ok:
                continue
            c = spec.check
            detail = "，".join(f"{label} {fmt(ctx.get(name))}" for name, label in spec.shown)
            if c.severity == "warning":
                warnings.append(DataWarning(c.code, c.message, detail))
            else:
                problems.append(
                    Problem(
                        "inconsistent-values",
                        f"数据核查 {c.code}：{c.message}（填报：{detail}）",
                        f"check {c.code} not met: {c.when}",
                        file=self.sub.source,
                        path=("checks", c.code),
                    )
                )
        return problems, warnings

    def expired(self, waiver: Any) -> bool:
        """Whether a waiver ran out before the evaluation date; recorded, the indicator is scored as usual.

        Without an evaluation date the expiry cannot be checked: the waiver applies, and the change says so."""
        date = self.sub.unit.date
        if waiver.expires is None or date is None or date <= waiver.expires:
            return False
        self.changes.append(
            AppliedChange(
                "waiver",
                waiver.indicator,
                waiver.by,
                waiver.at,
                waiver.reason,
                f"已豁免（至 {waiver.expires.isoformat()}）",
                f"豁免已于评估日 {date.isoformat()} 前到期，参与评分",
            )
        )
        return True

    def framework_problems(self) -> list[Problem]:
        """A submission made for another framework, or another version of this one, is not scored with this
        plan: its values were asked for by other indicators (its own ``framework`` field says which)."""
        fw, sub = self.plan.framework, self.sub
        if sub.framework is not None and sub.framework != fw.id:
            about = f"{sub.framework}" + (
                f"（版本 {sub.framework_version}）" if sub.framework_version else ""
            )
            return [
                Problem(
                    "other-framework",
                    f"填报数据的 framework 字段是 “{about}”，评分用的框架是 “{fw.id}”（{fw.name}，版本 {fw.version}）："
                    f"这份数据不是为这个框架填报的，已拒绝。请用 {sub.framework} 评分，或改正 framework 字段",
                    f"the submission's framework field says '{sub.framework}', but it is being scored with "
                    f"'{fw.id}' version {fw.version}: it was not made for this framework; refused",
                    file=sub.source,
                    path=("framework",),
                )
            ]
        if sub.framework_version is not None and sub.framework_version != fw.version:
            return [
                Problem(
                    "other-framework-version",
                    f"填报数据的 framework_version 字段是 “{sub.framework_version}”，评分用的框架 {fw.id} 是版本 "
                    f"“{fw.version}”：这份数据是为另一版本填报的，已拒绝。请按当前版本重新填报，或改正 framework_version 字段",
                    f"the submission's framework_version field says '{sub.framework_version}', but framework "
                    f"{fw.id} is version '{fw.version}': it was made for another version; refused",
                    file=sub.source,
                    path=("framework_version",),
                )
            ]
        return []

    def unit_problems(self) -> list[Problem]:
        fw = self.plan.framework
        allowed = list(fw.applies_to or [])
        if not allowed or self.unit_type in allowed:
            return []
        declared = fw.units.types if fw.units else []
        if self.unit_type in declared:
            zh = f"“{self.unit_type}”需先拆分为评估单位（{'、'.join(allowed)}）：请用 scoring.split() 或批量评分"
            en = f"'{self.unit_type}' must be split into evaluated units first (scoring.split)"
        else:
            types = "、".join(dict.fromkeys([*allowed, *declared]))
            zh = f"单位类型“{self.unit_type or '（未填写）'}”不在框架 {fw.id} 的适用范围内（{types}）"
            en = f"unit type '{self.unit_type}' is not one framework {fw.id} applies to ({types})"
        return [Problem("unit-type", zh, en, file=self.sub.source, path=("unit", "type"))]

    def node(self, node: Node) -> Outcome:
        out = self.leaf(node) if node.rule is not None else self.parent(node)
        self.out[node.index] = out
        return out

    def leaf(self, node: Node) -> Outcome:
        pre = self.applicability(node, False) if node.checks or self.waivers else None
        if pre is None:
            out = self.outcome(node, False)
        else:
            out = pre
            self.notes[node.index] = pre
        if self.overrides:
            out = self.override(node, out, pre)
        return out

    def outcome(self, node: Node, text: bool) -> Outcome:
        """A leaf's outcome from its rule (applicability already settled); ``text``: with its explanation."""
        rule = node.rule
        assert rule is not None
        try:
            out = rule.evaluate(
                self.ctx, self.unit_type, self.sub.manual.get(node.code) if rule.manual else None, text
            )
        except (ex.EvalError, ArithmeticError) as exc:  # an arithmetic fault: this indicator, with the reason
            out = Outcome("error", explanation=f"无法计算：{_fault(exc, rule.names, self.ctx, self.plan)}")
        if self.errors and out.status == "missing":
            causes = [self.errors[n] for n in rule.names if n in self.errors]
            if causes:
                out = Outcome("error", explanation="无法计算：" + "；".join(causes))
        if out.points is not None and node.leaf_possible is None:
            out = replace(out, points=None)  # 达标类: statuses, no points (rules give them rounded otherwise)
        return out

    # -- the results, built when first read ---------------------------------------------------------

    def indicators(self, owner: Result, field: str) -> list[IndicatorResult]:
        """Result.indicators, once read: each node's outcome with the fields of its node; texts still later."""
        out = []
        notes = self.notes
        written = _Scorer.written
        for node, o, p in zip(self.plan.nodes, self.out, self.plan.value_places, strict=True):
            note = notes.get(node.index)
            if node.rule is not None:
                later = Later((written, self, node, None))
                possible = node.leaf_possible if o.status not in OUT_OF_DENOMINATOR else None
                text = later if note is None else self.note_text(node, note)
                out.append(indicator_result(node, o, possible, text, later, p))
            else:
                text = Later((_Scorer.group_text, self, node)) if note is None else self.note_text(node, note)
                out.append(indicator_result(node, o, o.possible, text, {}))
        return out

    def note_text(self, node: Node, note: Any) -> str | Later:
        """The explanation of a node scored off the common path (``self.notes``): not applicable, waived,
        overridden, under a parent that does not apply."""
        if isinstance(note, str):
            return note
        if isinstance(note, Outcome):  # its applicability
            return Later((_Scorer.written, self, node, note))
        pre, after = note  # an override
        return Later((_amended, Later((_Scorer.written, self, node, pre)), after))

    def written(self, node: Node, pre: Outcome | None, owner: IndicatorResult, field: str) -> Any:
        """A deferred field, once read: a leaf's inputs, or the explanation of a leaf (its rule run again, writing
        the text) or of a node that does not apply (``pre``: its applicability outcome, the test run again)."""
        if field == "inputs":
            return _inputs(self.ctx, node.rule.names) if node.rule else {}
        return self.text(node, pre)

    @_precise
    def text(self, node: Node, pre: Outcome | None) -> str:
        out = self.outcome(node, True) if pre is None else (self.applicability(node, True) or pre)
        return f"{node.code} {node.name}：{out.explanation}"

    def applicability(self, node: Node, text: bool) -> Outcome | None:
        """None when the node is scored; else 不适用 / 已豁免, or 缺报 / 无法计算 for its applicability test."""
        if node.applies_to is not None and self.unit_type not in node.applies_to:
            return Outcome("not_applicable", explanation=f"不适用于{self.unit_type or '未注明类型的单位'}")
        if node.applicable is not None:
            try:
                ok = node.applicable.evaluate(self.ctx)
            except ex.EvalError as err:
                return Outcome("error", explanation=f"适用条件无法计算：{err.zh}")
            if ok is None:
                return Outcome("missing", explanation="判断是否适用所需的数据未填 → 缺报")
            if not ok:
                labels = self.plan.labels
                read = [n for n in sorted(node.applicable.names) if n in labels]
                given = "，".join(f"{labels[n]}：{fmt(self.ctx.get(n))}" for n in read)
                return Outcome("not_applicable", explanation=f"{given or '适用条件不成立'} → 不适用")
        waiver = self.waivers.get(node.code)
        if waiver is not None:
            if not text:
                new = "已豁免"
                if waiver.expires is not None:
                    new += f"（至 {waiver.expires.isoformat()}"
                    new += "，评估日期未填，未核对是否到期）" if self.sub.unit.date is None else "）"
                self.changes.append(
                    AppliedChange("waiver", node.code, waiver.by, waiver.at, waiver.reason, "参与评分", new)
                )
            return Outcome("waived", explanation=f"已豁免（{waiver.by}：{waiver.reason}）")
        return None

    def override(self, node: Node, out: Outcome, pre: Outcome | None) -> Outcome:
        """The outcome a 督学 set by hand (a copy: rules may hand out one outcome object to many calls)."""
        o = self.overrides.get(node.code)
        if o is None:
            return out
        out = replace(out)
        possible = node.leaf_possible if out.status not in OUT_OF_DENOMINATOR else None
        old = _shown(out)
        if o.points is not None:
            if o.points < 0 or (possible is not None and o.points > possible):
                raise SubmissionError(
                    [
                        Problem(
                            "bad-override",
                            f"{node.code} 的改判分数 {fmt(o.points)} 超出 0–{fmt(possible)}",
                            "override out of range",
                            file=self.sub.source,
                        )
                    ]
                )
            out.points = o.points
            out.status = (
                "met" if possible and o.points >= possible else ("unmet" if o.points == 0 else "partial")
            )
        if o.status is not None:
            st = STATUS_BY_ZH.get(o.status, o.status)
            if st not in STATUS_TEXT:
                raise SubmissionError(
                    [
                        Problem(
                            "bad-override",
                            f"{node.code} 的改判状态 “{o.status}” 无效",
                            "bad override status",
                            file=self.sub.source,
                        )
                    ]
                )
            out.status = st
        new = _shown(out)
        self.notes[node.index] = (pre, f"；督学改判：{old} → {new}（{o.by}：{o.reason}）")
        self.changes.append(AppliedChange("override", node.code, o.by, o.at, o.reason, old, new))
        return out

    def parent(self, node: Node) -> Outcome:
        pre = self.applicability(node, False) if node.checks or self.waivers else None
        if pre is not None and pre.status in OUT_OF_DENOMINATOR:
            self.skip(node.children, pre)  # a 不适用 / 已豁免 parent takes its whole subtree out
            self.notes[node.index] = pre
            return pre
        if self.waivers or self.overrides:
            tally = self.children(node.children, 0, ZERO, ZERO, set())
        else:  # the leaves that always apply first, without leaf()'s calls: most leaves of most submissions
            tally = self.children(node.other_children, *self.plain_leaves(node))
        counted, earned, full, statuses = tally
        if not counted:
            self.notes[node.index] = f"{node.code} {node.name}：下级指标均不适用"
            return Outcome("not_applicable")
        points = possible = None
        if self.plan.method != "pass_fail":
            possible = node.points if node.points is not None else full
            rescaled = counted != len(node.children) and full > 0
            points = half_up(earned * possible / full, self.plan.precision) if rescaled else earned
        req = node.indicator.require
        status = self.require(node, req)[0] if req is not None else self.group_status(statuses, points)
        return Outcome(status, points, possible=possible)

    def plain_leaves(self, node: Node) -> _Tally:
        """Score a group's leaves that always apply in one tight loop (a hypothesis test holds it equal to leaf())."""
        results = self.out
        ctx, unit_type, manual, errors = self.ctx, self.unit_type, self.sub.manual, self.errors
        statuses: set[str] = set()
        counted = 0
        earned = ZERO
        full = node.plain_full
        for i, evaluate, code, possible in node.plain_leaves:
            try:
                o = evaluate(ctx, unit_type, manual.get(code) if code else None, False)
            except (ex.EvalError, ArithmeticError):
                o = self.outcome(self.plan.nodes[i], False)  # says why
            else:
                if o.status == "missing" and errors:  # a derived value it reads could not be computed?
                    o = self.outcome(self.plan.nodes[i], False)
                elif o.points is not None and possible is None:
                    o = replace(o, points=None)
            results[i] = o
            st = o.status
            if st in OUT_OF_DENOMINATOR:  # a rule with no standard for this unit type
                if possible is not None:
                    full -= possible
                continue
            counted += 1
            statuses.add(st)
            if o.points is not None:
                earned += o.points
        return counted, earned, full, statuses

    def children(
        self, nodes: list[Node], counted: int, earned: Decimal, full: Decimal, statuses: set[str]
    ) -> _Tally:
        """Score ``nodes`` (groups recursively, leaves by leaf()) and add them to a group's tally."""
        results = self.out
        for c in nodes:
            if c.rule is None:
                o = self.parent(c)
                possible = o.possible
            else:
                o = self.leaf(c)
                possible = c.leaf_possible
            results[c.index] = o
            st = o.status
            if st not in OUT_OF_DENOMINATOR:
                counted += 1
                statuses.add(st)
                if o.points is not None:
                    earned += o.points
                if possible is not None:
                    full += possible
        return counted, earned, full, statuses

    def counted(self, nodes: list[Node]) -> list[tuple[Node, Outcome]]:
        """The nodes that count (not 不适用 / 已豁免), with their outcomes."""
        results = self.out
        return [(c, results[c.index]) for c in nodes if results[c.index].status not in OUT_OF_DENOMINATOR]

    @_precise
    def group_text(self, node: Node, owner: IndicatorResult, field: str) -> str:
        out = self.out[node.index]
        counted = self.counted(node.children)
        parts: list[str] = []
        if out.possible is not None:
            terms = " + ".join(
                fmt(o.points) if o.points is not None else f"0（{c.code} {STATUS_TEXT[o.status]}）"
                for c, o in counted
            )
            full = sum([p for c, o in counted if (p := _possible(c, o)) is not None], ZERO)
            if len(counted) != len(node.children) and full > 0:
                parts.append(
                    f"({terms}) × {fmt(out.possible)} ÷ {fmt(full)}（不适用项不计，按适用项满分折算）= {fmt(out.points)}"
                )
            else:
                parts.append(f"{terms} = {fmt(out.points)}（满分 {fmt(out.possible)}）")
        req = node.indicator.require
        if req is not None:
            parts.append(self.require(node, req)[1])
        elif self.plan.method == "pass_fail":
            tally: dict[str, int] = {}
            for _, o in counted:
                tally[STATUS_TEXT[o.status]] = tally.get(STATUS_TEXT[o.status], 0) + 1
            parts.append(f"{len(counted)} 项中 " + "，".join(f"{v} 项{k}" for k, v in tally.items()))
        return f"{node.code} {node.name}：{'；'.join(parts)} → {STATUS_TEXT[out.status]}"

    def skip(self, nodes: list[Node], why: Outcome) -> None:
        """Mark a whole subtree with its parent's 不适用 / 已豁免: nothing under it is scored or rectified."""
        for n in nodes:
            self.out[n.index] = Outcome(why.status)
            self.notes[n.index] = f"{n.code} {n.name}：上级指标{STATUS_TEXT[why.status]}"
            self.skip(n.children, why)

    def group_status(self, statuses: set[str], points: Decimal | None) -> str:
        """A group's status from its counted children's statuses (and its points)."""
        if len(statuses) == 1 and "met" in statuses:
            return "met"
        if self.plan.method == "pass_fail":
            if "unmet" in statuses or "partial" in statuses:
                return "unmet"
            return "missing"
        if not statuses.isdisjoint(UNSCORED) and "unmet" not in statuses and "partial" not in statuses:
            return "missing"
        if points is not None and points <= 0:
            return "unmet"
        return "partial"

    def require(self, node: Node, req: Any) -> tuple[str, str]:
        """A group condition (k of n, others at least a share of their standard): (status, its text)."""
        counted = self.counted(node.children)
        k = req.at_least
        met = [o for _, o in counted if o.status == "met"]
        others = [(c, o) for c, o in counted if o.status != "met"]
        undecided = [o for _, o in others if o.status in UNSCORED]
        text = f"{len(counted)} 项中 {len(met)} 项达标（要求至少 {k} 项）"
        if len(met) < k:
            status = "missing" if len(met) + len(undecided) >= k else "unmet"
            return status, text
        if req.others_at_least_ratio is None or not others:
            return "met", text
        floor = req.others_at_least_ratio
        notes, failed, unknown = [], False, False
        for c, o in others:
            if o.ratio is None:
                unknown = True
                notes.append(f"{c.code} {STATUS_TEXT[o.status]}")
                continue
            r = half_up(o.ratio, req.ratio_precision)
            ok = r >= floor
            failed = failed or not ok
            notes.append(f"{c.code} 达到标准的 {fmt(r)}（{'≥' if ok else '<'} {fmt(floor)}）")
        text += "；其余：" + "，".join(notes)
        return ("unmet" if failed else "missing" if unknown else "met"), text

    # -- totals, bonus, grades, vetoes ------------------------------------------------------------

    def total(self) -> tuple[Decimal | None, Decimal | None, tuple[Any, ...]]:
        """(total before bonus, the total it is out of, the parts its explanation shows)."""
        plan = self.plan
        if plan.method == "pass_fail":
            return None, None, ()
        counted = self.counted(plan.roots)
        full = sum((_possible(r, o) or ZERO for r, o in counted), ZERO)
        earned = sum((o.points or ZERO for _, o in counted), ZERO)
        target = plan.total if plan.total is not None else full
        exact = earned * target / full if full and full != target else earned
        base = half_up(exact, plan.total_precision)  # from the exact value: rounded once
        return base, target, (counted, earned, full, base)

    def bonus(self, ctx: dict[str, Any]) -> tuple[list[BonusResult], Decimal | None]:
        plan = self.plan
        if not plan.bonus:
            return [], None
        out, total = [], ZERO
        for b in plan.bonus:
            try:
                ok = b.when.evaluate(ctx) if b.when is not None else True
                pts = b.points.evaluate(ctx) if ok else ZERO
            except ex.EvalError as err:
                out.append(BonusResult(b.code, b.name, None, f"无法计算：{err.zh}"))
                continue
            if ok is None or pts is None:
                out.append(BonusResult(b.code, b.name, None, "数据未填，不加分"))
                continue
            pts = max(Decimal(pts), ZERO)
            total += pts
            out.append(
                BonusResult(b.code, b.name, pts, f"{b.name}：+{fmt(pts)}" if pts else f"{b.name}：不加分")
            )
        assert plan.bonus_cap is not None
        if total > plan.bonus_cap:
            out.append(
                BonusResult("cap", "加分封顶", None, f"加分合计 {fmt(total)}，封顶 {fmt(plan.bonus_cap)}")
            )
            total = plan.bonus_cap
        return out, total

    def first_level_passed(self) -> bool | None:
        """True when every counted first-level indicator is 达标; None while any is undecided."""
        tops = [self.out[r.index].status for r in self.plan.roots]
        tops = [t for t in tops if t not in OUT_OF_DENOMINATOR]
        if any(t in ("unmet", "partial") for t in tops):
            return False
        if any(t in UNSCORED for t in tops):
            return None
        return True

    def lowest_rate(self) -> Decimal | None:
        """The lowest 得分率 (points ÷ full points × 100, unrounded) of the counted first-level indicators, e.g.
        福建 标准化学校: every 管理职责 at least 85 %. None while any of them is unscored."""
        rates = []
        for root, out in self.counted(self.plan.roots):
            possible = _possible(root, out)
            if out.points is None or not possible:
                return None
            rates.append(out.points / possible * 100)
        return min(rates, default=None)

    def grade(self, ctx: dict[str, Any], total: Decimal | None, counts: dict[str, int]) -> int | None:
        if not self.plan.grades:
            return None
        gctx = ChainMap({}, ctx)  # the grade's own names over the submission's (no copy of them)
        gctx.maps[0].update(
            total=total,
            count_met=Decimal(counts.get("met", 0)),
            count_partial=Decimal(counts.get("partial", 0)),
            count_unmet=Decimal(counts.get("unmet", 0)),
            count_na=Decimal(counts.get("not_applicable", 0)),
            count_missing=Decimal(
                counts.get("missing", 0) + counts.get("pending", 0) + counts.get("error", 0)
            ),
            passed=self.first_level_passed(),
        )
        if "lowest_rate" in self.plan.grade_names:
            gctx.maps[0]["lowest_rate"] = self.lowest_rate()
        for i, g in enumerate(self.plan.grades):
            if g.grade.at_least is not None and (total is None or total < g.grade.at_least):
                continue
            if g.when is not None and not _holds(g.when, gctx):
                continue
            return i
        return len(self.plan.grades) - 1

    def vetoes(
        self, ctx: dict[str, Any], grade: int | None
    ) -> tuple[list[VetoResult], int | None, bool | None]:
        out = []
        names = [g.grade.name for g in self.plan.grades]
        last = len(names) - 1
        passed: bool | None = None
        downgrade, cap, fail = 0, None, False
        for v in self.plan.vetoes:
            e = v.veto.effect
            detail = {
                "fail": "不予认定",
                "downgrade": f"降低 {e.downgrade} 个等次",
                "cap": f"不得评为高于“{e.cap}”",
            }[e.kind]
            types = v.veto.applies_to
            if types and self.unit_type not in types:
                hit, why = False, f"只适用于{'、'.join(types)}，本单位不适用 → 未触发"
            else:
                hit, why = self.veto_hit(v, ctx)
            out.append(
                VetoResult(
                    v.veto.code,
                    v.veto.reason,
                    e.kind,
                    detail,
                    None if hit is None else bool(hit),
                    why,
                    v.veto.local,
                    v.veto.verified,
                )
            )
            if not hit:
                continue
            if e.kind == "fail":
                fail = True
            elif e.kind == "downgrade":
                downgrade = max(downgrade, e.downgrade or 0)  # 情形之一 → one step: vetoes do not stack
            elif e.cap in names:
                cap = max(cap or 0, names.index(e.cap))
        if fail:
            passed = False
        if grade is None:
            return out, None, passed
        return out, _apply_effects(grade, self.plan.veto_order, fail, downgrade, cap, last), passed

    def veto_hit(self, v: Any, ctx: dict[str, Any]) -> tuple[Any, str]:
        """Whether a veto's condition holds, and the sentence saying so: the values it read, by label."""
        try:
            hit = v.when.evaluate(ctx)
        except ex.EvalError as err:
            return None, f"无法计算：{err.zh}"
        labels = self.plan.labels
        read = [n for n in sorted(v.when.names) if n in labels]
        given = "，".join(f"{labels[n]}：{fmt(ctx.get(n))}" for n in read) or v.template.render(ctx)
        return hit, f"{given} → {'触发' if hit else '未触发' if hit is False else '数据未填，无法判断'}"

    # -- reporting helpers -------------------------------------------------------------------------

    def completeness(self, given: dict[str, Any]) -> Completeness:
        required, names = self.plan.required_for(self.unit_type, self.options.values == "self")
        unfilled = names.difference(given)  # ``given`` holds filled values only
        missing = [name for name in required if name in unfilled] if unfilled else []
        n = len(required)
        ratio = half_up(Decimal(n - len(missing)) / n, 4) if n else Decimal(1)
        return Completeness(n - len(missing), n, ratio, missing)

    def gap_flags(self) -> list[GapFlag]:
        flags = []
        threshold = self.options.gap_threshold
        for name, ev in self.sub.evaluator_values.items():
            spec = self.plan.inputs.get(name)
            if spec is None or name not in self.sub.values:
                continue
            mine, _ = coerce(spec.kind, self.sub.values[name], choices=spec.choices)
            theirs, _ = coerce(spec.kind, ev, choices=spec.choices)
            if mine is None or theirs is None or mine == theirs:
                continue
            if ex.is_number(mine) and ex.is_number(theirs):
                base = abs(theirs) if theirs else Decimal(1)
                share = abs(mine - theirs) / base
                if share > threshold:
                    flags.append(
                        GapFlag(
                            name,
                            spec.label,
                            mine,
                            theirs,
                            f"自评 {fmt(mine)}，督评 {fmt(theirs)}，相差 {_percent(share)}%",
                        )
                    )
            elif (
                isinstance(mine, bool)
                and isinstance(theirs, bool)
                and mine is not theirs
                and mine is not spec.adverse
            ):
                # the 自评 claims the favourable answer the 督评 did not find
                flags.append(
                    GapFlag(name, spec.label, mine, theirs, f"自评为“{fmt(mine)}”，督评为“{fmt(theirs)}”")
                )
            elif (
                spec.kind == "level"
                and spec.choices
                and mine in spec.choices
                and theirs in spec.choices
                and spec.choices.index(mine) < spec.choices.index(theirs)
            ):
                flags.append(GapFlag(name, spec.label, mine, theirs, f"自评“{mine}”，督评“{theirs}”"))
        return flags
