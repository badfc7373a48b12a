"""The framework file format as pydantic models: types as documentation, unknown keys forbidden.

These models check the *shape* of a framework. What needs the whole file (references, sums, band coverage,
expression types) is checked in :mod:`scoring.framework.check`. Every model remembers where it was written
(``source_of``) so that later checks can point at the file, line and column.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

InputType = Literal["number", "integer", "percent", "boolean", "choice", "level", "text", "date"]
Level = Literal["school", "kindergarten", "county", "government"]
Provenance = Literal["national", "local", "sample", "draft"]
Priority = Literal["高", "中", "低"]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, arbitrary_types_allowed=True)
    _src: Any = PrivateAttr(default=None)  # (SourceMap, path) set by the loader
    _dir: Any = PrivateAttr(
        default=None
    )  # the folder a framework file was read from (for relative references)


def _number_or_text(value: Any) -> Any:
    if isinstance(value, bool):
        raise PydanticCustomError(
            "bound_type", "expected a number, an expression or a mapping of unit type to number"
        )
    if isinstance(value, int | float):
        return Decimal(str(value))
    if isinstance(value, Decimal | str):
        return value
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if isinstance(v, bool) or not isinstance(v, int | float | Decimal | str):
                raise PydanticCustomError(
                    "bound_type", "expected a number, an expression or a mapping of unit type to number"
                )
            out[str(k)] = Decimal(str(v)) if isinstance(v, int | float) else v
        return out
    raise PydanticCustomError(
        "bound_type", "expected a number, an expression or a mapping of unit type to number"
    )


_BOUND_SCHEMA = {
    "anyOf": [
        {"type": "number"},
        {"type": "string", "description": "expression or parameter name"},
        {
            "type": "object",
            "description": "per unit type, e.g. {小学: 4.2, 初中: 5.3}",
            "additionalProperties": {"anyOf": [{"type": "number"}, {"type": "string"}]},
        },
    ]
}
Bound = Annotated[Any, BeforeValidator(_number_or_text), WithJsonSchema(_BOUND_SCHEMA)]
"""A standard: a number, an expression / parameter name, or ``{unit type: number}``."""
OptionalBound = Annotated[
    Any,
    BeforeValidator(lambda v: None if v is None else _number_or_text(v)),
    WithJsonSchema({"anyOf": [*_BOUND_SCHEMA["anyOf"], {"type": "null"}]}),
]
"""A standard that may be left out (``None``, as a dumped model writes it)."""

Expr = Annotated[
    str,
    BeforeValidator(lambda v: str(v) if isinstance(v, int | Decimal) and not isinstance(v, bool) else v),
    WithJsonSchema({"type": "string", "description": "expression (see docs/expressions.md)"}),
]


def _to_text(value: Any) -> Any:
    return str(value) if isinstance(value, int | Decimal) and not isinstance(value, bool) else value


Text = Annotated[str, BeforeValidator(_to_text)]


class Source(Model):
    """An official document the framework encodes."""

    title: str
    number: str | None = Field(None, description="文号, e.g. 教督〔2017〕6号")
    issuer: str | None = None
    date: Text | None = None
    url: str | None = None
    grade: str | None = Field(None, description="how well verified: V-off, V-sec, LOCAL, UNVERIFIED …")
    note: str | None = None

    def cite(self) -> str:
        """The document as a report cites it: 发文机关《标题》（文号，日期）, marked （待核） when unverified."""
        details = "，".join(str(x) for x in (self.number, self.date) if x)
        text = f"{self.issuer or ''}《{self.title}》" + (f"（{details}）" if details else "")
        return text + ("（待核）" if self.grade and self.grade.upper().startswith("UNVERIFIED") else "")


class Plausible(Model):
    """The range a value is expected in (合理范围), beside the range it must be in (``min``/``max``).

    A value outside is most likely mistyped (a unit slip, a digit too many: 10^30 pupils); it is reported with the
    result as a data warning (``severity: warning``, the default) or refuses the submission (``severity: error``).
    A side left out keeps the default bound for the input's unit (see :func:`plausible_range`)."""

    min: Decimal | None = None
    max: Decimal | None = None
    severity: Literal["warning", "error"] = Field(
        "warning", description="warning: scored, and the result says so; error: the submission is refused"
    )


class Input(Model):
    """One 填报项 in the data dictionary."""

    label: str
    type: InputType
    unit: str | None = None
    min: Decimal | None = None
    max: Decimal | None = None
    choices: list[Text] | None = None
    scale: str | None = Field(None, description="for type: level, the name of a scale in `scales`")
    required: bool = True
    help: str | None = None
    applies_to: list[str] | None = None
    precision: int | None = Field(None, ge=0, le=10)
    by: Literal["self", "evaluator"] = Field(
        "self", description="who fills it: the unit (自评) or the evaluator"
    )
    plausible: Plausible | None = Field(
        None,
        description="the range a value is expected in (合理范围); default: by type and unit. Outside: a data "
        "warning, or a refusal with severity: error",
    )
    adverse: bool = Field(
        False,
        description="for type: boolean, 是 is the unfavourable answer (an incident, a violation): a 自评 否 "
        "against a 督评 是 is flagged 自评虚高, not the reverse",
    )


_D = Decimal
# Default plausible ranges by unit, for a school or kindergarten and for a county or government (or a framework
# that does not say its level): generous, so that only a value no unit could have is flagged.
_PLAUSIBLE_BY_UNIT: tuple[tuple[tuple[str, ...], tuple[Decimal, Decimal], tuple[Decimal, Decimal]], ...] = (
    (("万元",), (_D(0), _D("1e6")), (_D(0), _D("1e9"))),  # before 元
    (("元",), (_D(0), _D("1e10")), (_D(0), _D("1e13"))),
    (("人", "名"), (_D(0), _D(50_000)), (_D(0), _D("2e7"))),  # 人, 人次, 名, 人/班
    (("m²", "㎡", "平方米", "m2"), (_D(0), _D("1e7")), (_D(0), _D("1e10"))),
    (("册",), (_D(0), _D("1e7")), (_D(0), _D("1e9"))),
    (("分钟",), (_D(0), _D(1440)), (_D(0), _D(1440))),  # a day
    (("百分点",), (_D(-100), _D(100)), (_D(-100), _D(100))),
    (("%",), (_D(0), _D(100)), (_D(0), _D(100))),
    (
        ("间", "个", "所", "项", "件", "起", "份", "台", "套", "座", "班", "次", "门", "节", "篇", "本"),
        (_D(0), _D(100_000)),
        (_D(0), _D("1e7")),
    ),
)
PLAUSIBLE_LIMIT = _D("1e12")  # any other number: no count, area, sum of money or rate of a unit is larger


def plausible_range(inp: Input, level: str | None) -> tuple[Decimal | None, Decimal | None, bool]:
    """The plausible range of a number, percent or integer input: (min, max, refuse outside), the framework's
    own ``plausible`` where it says so, else the default for its type and unit (scaled by the framework's level:
    a school's counts are smaller than a county's); (None, None, False) for other types."""
    if inp.type not in ("number", "integer", "percent"):
        return None, None, False
    low, high = _default_plausible(inp, level in ("school", "kindergarten"))
    own = inp.plausible
    if own is None:
        return low, high, False
    return (
        own.min if own.min is not None else low,
        own.max if own.max is not None else high,
        own.severity == "error",
    )


def _default_plausible(inp: Input, small: bool) -> tuple[Decimal, Decimal]:
    unit = (inp.unit or "").replace(" ", "")
    if inp.type == "percent" and not unit.startswith("百分点"):
        unit = "%"
    for starts, school, county in _PLAUSIBLE_BY_UNIT:
        if unit.startswith(starts):
            return school if small else county
    return -PLAUSIBLE_LIMIT, PLAUSIBLE_LIMIT


class Derived(Model):
    """A 计算项: a named expression over inputs, parameters and other derived values."""

    label: str
    expr: Expr
    precision: int | None = Field(None, ge=0, le=10)
    unit: str | None = None
    help: str | None = None


class Param(Model):
    """A named constant that tailoring may change (e.g. a funding standard where sources disagree)."""

    value: Decimal | bool | str  # an integer stays a number: plain str, no coercion from numbers
    label: str | None = None
    unit: str | None = None
    note: str | None = None


class ThresholdRule(Model):
    """Value against a standard. ``at_least``: ≥ (以上/不低于); ``above``: >; ``at_most``: ≤ (不超过); ``below``: <."""

    value: Expr
    at_least: OptionalBound = None
    above: OptionalBound = None
    at_most: OptionalBound = None
    below: OptionalBound = None
    equals: OptionalBound = None
    precision: int | None = Field(None, ge=0, le=10, description="compare at this precision (half-up)")

    @model_validator(mode="after")
    def _one_bound(self) -> ThresholdRule:
        given = [
            k for k in ("at_least", "above", "at_most", "below", "equals") if getattr(self, k) is not None
        ]
        if not given:
            raise PydanticCustomError(
                "threshold_bound", "give a standard: at_least, above, at_most, below or equals"
            )
        if "equals" in given and len(given) > 1:
            raise PydanticCustomError("threshold_equals", "equals cannot be combined with other bounds")
        return self

    def bounds(self) -> dict[str, Any]:
        return {
            k: getattr(self, k)
            for k in ("at_least", "above", "at_most", "below", "equals")
            if getattr(self, k) is not None
        }


class BandStep(Model):
    """One band: the value range it covers and what it gives. Steps are tried in order; first match wins."""

    at_least: Decimal | None = None
    above: Decimal | None = None
    at_most: Decimal | None = None
    below: Decimal | None = None
    points: Decimal | None = None
    level: str | None = None
    label: str | None = None


class BandsRule(Model):
    value: Expr
    steps: list[BandStep] = Field(min_length=1)
    precision: int | None = Field(None, ge=0, le=10)


class LevelsRule(Model):
    """A rubric rating (A/B/C/D, 优秀/良好/…) mapped to points."""

    value: Expr = Field(description="a level or choice input")
    points: dict[Text, Decimal] = Field(min_length=1)
    met: list[Text] | None = Field(
        None, description="levels counted as 达标 (default: those worth full points)"
    )


class ChecklistItem(Model):
    label: str
    when: Expr = Field(description="yes/no expression: is the item done?")
    points: Decimal | None = None


class ChecklistRule(Model):
    """Items each worth points (sum, capped at the indicator's points), or k-of-n for full points."""

    items: list[ChecklistItem] = Field(min_length=1)
    at_least: int | None = Field(None, ge=1, description="k of n items give full points")


class BooleanRule(Model):
    """One yes/no answer gives the points: 是 → ``if_yes``, 否 → ``if_no``, either way round."""

    when: Expr = Field(description="yes/no expression, usually one boolean input")
    if_yes: Decimal | None = Field(None, ge=0, description="points for 是 (default: the indicator's points)")
    if_no: Decimal = Field(Decimal(0), ge=0, description="points for 否 (default 0)")


class DeductionItem(Model):
    label: str
    count: Expr = Field(description="number of occurrences (a yes/no counts as 1)")
    each: Decimal = Field(gt=0)
    max: Decimal | None = Field(None, gt=0, description="most this item may deduct")


class DeductionRule(Model):
    """Start from full points, deduct per occurrence, never below ``floor``."""

    items: list[DeductionItem] = Field(min_length=1)
    floor: Decimal = Decimal(0)


class ProportionalRule(Model):
    """points × min(value ÷ target, 1)."""

    value: Expr
    target: Bound


class ExpressionRule(Model):
    """Anything else: an expression giving the points, and optionally one saying whether it is 达标."""

    points: Expr
    met: Expr | None = None


class ManualRule(Model):
    """An evaluator's judgement, entered in the submission as a level or as points."""

    levels: dict[Text, Decimal] | None = None
    met: list[Text] | None = None
    guidance: str | None = None


RULE_KINDS = (
    "threshold",
    "bands",
    "levels",
    "checklist",
    "boolean",
    "deduction",
    "proportional",
    "expression",
    "manual",
)


class Rule(Model):
    """Exactly one rule kind per leaf indicator."""

    threshold: ThresholdRule | None = None
    bands: BandsRule | None = None
    levels: LevelsRule | None = None
    checklist: ChecklistRule | None = None
    boolean: BooleanRule | None = None
    deduction: DeductionRule | None = None
    proportional: ProportionalRule | None = None
    expression: ExpressionRule | None = None
    manual: ManualRule | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Rule:
        given = [k for k in RULE_KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise PydanticCustomError(
                "rule_kind",
                "a rule has exactly one kind ({kinds}); found {found}",
                {"kinds": ", ".join(RULE_KINDS), "found": ", ".join(given) or "none"},
            )
        return self

    @property
    def kind(self) -> str:
        return next(k for k in RULE_KINDS if getattr(self, k) is not None)

    @property
    def spec(self) -> Any:
        return getattr(self, self.kind)


class Rectify(Model):
    """整改 metadata: the problem text is a template (see docs/framework.md for placeholders)."""

    problem: str | None = None
    requirement: str | None = None
    basis: str | None = None
    owner: str | None = None
    within_days: int | None = Field(None, ge=0)
    priority: Priority | None = None
    accountability: list[Text] | None = Field(
        None,
        description="问责 measures when the item is still open after its deadline or at the next round "
        "(教育督导问责办法, 国教督〔2021〕2号), e.g. [约谈, 督导通报]; default: 约谈, 督导通报",
    )


class Require(Model):
    """A group condition on a parent: at least k children 达标, and the rest at least a ratio of standard."""

    at_least: int = Field(ge=1)
    others_at_least_ratio: Decimal | None = Field(None, gt=0, le=1)
    ratio_precision: int = Field(3, ge=0, le=10)


class Indicator(Model):
    """A node of the indicator tree: a parent with children, or a leaf with a rule."""

    code: Text
    name: str
    points: Decimal | None = Field(None, ge=0)
    weight: Decimal | None = Field(None, ge=0)
    rule: Rule | None = None
    children: list[Indicator] | None = None
    require: Require | None = None
    applies_to: list[str] | None = None
    applicable: Expr | None = Field(None, description="yes/no expression; false → 不适用")
    rectify: Rectify | None = None
    basis: str | None = Field(None, description="依据: the source clause")
    evidence: str | None = Field(None, description="佐证材料")
    note: str | None = None
    local: bool = Field(False, description="a local (not national) addition or variant")
    verified: bool = Field(True, description="false where the wording or number is not confirmed in a source")

    @model_validator(mode="after")
    def _leaf_or_parent(self) -> Indicator:
        if self.rule is not None and self.children:
            raise PydanticCustomError(
                "indicator_shape", "an indicator has either a rule or children, not both"
            )
        if self.rule is None and not self.children:
            raise PydanticCustomError("indicator_shape", "an indicator needs a rule or children")
        if self.points is not None and self.weight is not None:
            raise PydanticCustomError("indicator_weight", "give points or weight, not both")
        if self.require is not None and not self.children:
            raise PydanticCustomError("indicator_require", "require (group condition) needs children")
        return self

    def walk(self) -> Iterator[Indicator]:
        yield self
        for child in self.children or ():
            yield from child.walk()


def _effect(value: Any) -> Any:
    if value == "fail" or value == "不予认定":
        return {"fail": True}
    if isinstance(value, str):
        raise PydanticCustomError("veto_effect", "effect is fail, downgrade: N or cap: GRADE")
    return value


class Effect(Model):
    fail: bool = False
    downgrade: int | None = Field(None, ge=1)
    cap: str | None = None

    @model_validator(mode="after")
    def _one(self) -> Effect:
        n = int(self.fail) + (self.downgrade is not None) + (self.cap is not None)
        if n != 1:
            raise PydanticCustomError("veto_effect", "effect is fail, downgrade: N or cap: GRADE")
        return self

    @property
    def kind(self) -> str:
        return "fail" if self.fail else "downgrade" if self.downgrade else "cap"


EffectField = Annotated[
    Effect,
    BeforeValidator(_effect),
    WithJsonSchema(
        {
            "anyOf": [
                {"const": "fail", "description": "不予认定"},
                {
                    "type": "object",
                    "properties": {"downgrade": {"type": "integer", "minimum": 1}},
                    "required": ["downgrade"],
                    "additionalProperties": False,
                    "description": "降低 N 个等次",
                },
                {
                    "type": "object",
                    "properties": {"cap": {"type": "string"}},
                    "required": ["cap"],
                    "additionalProperties": False,
                    "description": "不得评为高于该等级",
                },
            ]
        }
    ),
]


class DataCheck(Model):
    """A condition the submitted values must meet together (数据核查), e.g. 高学历教师数 ≤ 专任教师数."""

    code: Text
    when: Expr = Field(description="what must hold, e.g. teachers_qualified <= teachers")
    message: str = Field(
        description="what is wrong when it does not hold, for the unit that filled the values"
    )
    severity: Literal["error", "warning"] = Field(
        "error", description="error: the submission is refused; warning: scored, and the result says so"
    )


class Veto(Model):
    """一票否决 in one of the three official forms."""

    code: Text
    when: Expr
    effect: EffectField
    reason: str
    basis: str | None = None
    rectify: Rectify | None = None
    local: bool = Field(False, description="a local (not national) rule")
    verified: bool = Field(True, description="false where the wording is not confirmed in a source")
    applies_to: list[str] | None = Field(None, description="unit types the veto is judged for (default: all)")


class BonusItem(Model):
    code: Text
    name: str
    points: Bound = Field(description="points, or an expression giving them")
    when: Expr | None = None


class Bonus(Model):
    """加分项, capped in total."""

    cap: Decimal = Field(gt=0)
    items: list[BonusItem] = Field(min_length=1)


class Grade(Model):
    """A grade, best first. ``at_least``: minimum total; ``when``: an extra condition (counts of statuses …)."""

    name: str
    at_least: Decimal | None = None
    when: Expr | None = None


class SplitUnit(Model):
    """One evaluated unit made from a submitted row, e.g. the 小学部 of a 九年一贯制学校."""

    type: str = Field(description="the evaluated unit's type (one of applies_to)")
    when: Expr = Field(description="yes/no over the row; school_type is the type the row declares")
    suffix: str | None = Field(None, description="added to the unit's name, e.g. 小学部")


class Units(Model):
    """Which unit types a submission may declare, and how one submitted row splits into evaluated units."""

    types: list[str] = Field(min_length=1, description="types a submission may declare, e.g. 九年一贯制学校")
    split: list[SplitUnit] = Field(default_factory=list)


COHORT_STATS = ("mean", "cv", "min", "max", "met_share")
_STAT_ZH = {"mean": "平均值", "cv": "差异系数", "min": "最小值", "max": "最大值", "met_share": "达标学校比例"}


class Cohort(Model):
    """County aggregation: many units of another framework → statistics usable as names in this framework.

    For every indicator c and group g: ``{c}_{g}_mean`` (enrolment-weighted), ``{c}_{g}_cv`` (差异系数),
    ``{c}_{g}_min``, ``{c}_{g}_max``, ``{c}_{g}_met_share``; per group ``units_{g}``, ``passed_{g}``,
    ``passed_share_{g}``; over all units ``units_all``, ``passed_all``, ``passed_share_all``.
    """

    framework: Text = Field(description="id or relative path of the unit-level framework")
    weight: Expr = Field(description="each unit's weight Pi (enrolment), an expression in the unit framework")
    groups: list[str] = Field(min_length=1, description="unit types to aggregate separately, e.g. 小学, 初中")
    indicators: list[Text] = Field(min_length=1, description="leaf codes of the unit framework")
    passing: Text | None = Field(
        None, description="code whose 达标 means the unit passes (default: all first-level)"
    )
    mean_precision: int = Field(2, ge=0, le=10)
    cv_precision: int = Field(3, ge=0, le=10)

    def labels(self, names: dict[str, str]) -> dict[str, str]:
        """What a 督学 calls each statistic, given the unit framework's indicator names by code: an explanation
        says 小学每百名学生拥有高于规定学历教师数差异系数 = 0.081, never L1_小学_cv."""
        out = {
            f"{c}_{g}_{s}": f"{g}{names.get(c, c)}{_STAT_ZH[s]}"
            for c in self.indicators
            for g in self.groups
            for s in COHORT_STATS
        }
        for g in [*self.groups, "all"]:
            whose = "全县" if g == "all" else g
            out |= {
                f"units_{g}": f"{whose}参评学校数",
                f"passed_{g}": f"{whose}达标学校数",
                f"passed_share_{g}": f"{whose}达标学校比例",
            }
        return out

    def names(self) -> list[str]:
        out = [f"{c}_{g}_{s}" for c in self.indicators for g in self.groups for s in COHORT_STATS]
        for g in [*self.groups, "all"]:
            out += [f"units_{g}", f"passed_{g}", f"passed_share_{g}"]
        return out


VetoEffect = Literal["downgrade", "cap", "fail"]
VETO_EFFECTS: tuple[VetoEffect, ...] = (
    "downgrade",
    "cap",
    "fail",
)  # the engine's order unless a framework says


class Scoring(Model):
    method: Literal["points", "weights", "pass_fail"] = Field(
        "points", description="points: 分值 add up; weights: weighted share of each parent; pass_fail: 达标类"
    )
    total: Decimal | None = Field(None, description="the full score, e.g. 100")
    precision: int = Field(2, ge=0, le=10, description="places for reported points (half-up)")
    compare: Literal["rounded", "exact"] = Field(
        "rounded", description="compare values with standards after rounding to their precision, or unrounded"
    )
    check_sums: bool = Field(True, description="children's points must add up to the parent's")
    total_precision: int | None = Field(
        None,
        ge=0,
        le=10,
        description="places for the total and the grade it decides (half-up); default: precision",
    )
    veto_order: list[VetoEffect] = Field(
        default_factory=lambda: list(VETO_EFFECTS),
        min_length=1,
        description="the order veto effects apply to the grade: 降等 (downgrade) and 封顶 (cap) in the scheme's order",
    )

    @field_validator("veto_order")
    @classmethod
    def _each_once(cls, order: list[str]) -> list[str]:
        twice = sorted({k for k in order if order.count(k) > 1})
        if twice:
            raise PydanticCustomError(
                "veto_order_twice",
                "each effect may appear once in veto_order: {twice}",
                {"twice": ", ".join(twice)},
            )
        return order

    @property
    def total_places(self) -> int:
        return self.precision if self.total_precision is None else self.total_precision

    @property
    def effect_order(self) -> tuple[str, ...]:
        """Every effect once, in the framework's order; effects it does not name follow in the default order."""
        named = tuple(dict.fromkeys(self.veto_order))
        return named + tuple(k for k in VETO_EFFECTS if k not in named)


class Unit(Model):
    """The unit being evaluated, as given in a test case or a submission."""

    name: str = "测试单位"
    code: Text | None = None
    type: str | None = None
    region: str | None = None
    date: Text | None = None
    school_type: str | None = Field(None, description="for a unit split from a school row: the school's type")


class Expect(Model):
    total: Decimal | None = None
    self_total: Decimal | None = Field(None, description="the 自评 total, when evaluator_values are given")
    grade: str | None = None
    status: dict[Text, str] = Field(default_factory=dict)
    points: dict[Text, Decimal] = Field(default_factory=dict)
    vetoes: list[Text] | None = None
    checks: list[Text] | None = Field(
        None, description="the 数据核查 codes not met (errors refuse the submission, warnings are flagged)"
    )


class TestCase(Model):
    """An example submission with the results it must give (run by ``scoring test``)."""

    __test__ = False  # not a pytest class

    name: str
    unit: Unit = Field(default_factory=Unit)
    values: dict[str, Any] = Field(default_factory=dict)
    evaluator_values: dict[str, Any] = Field(default_factory=dict)
    manual: dict[Text, Any] = Field(default_factory=dict)
    context: dict[str, Any] = Field(
        default_factory=dict,
        description="values of names that are not inputs, e.g. cohort statistics (L1_小学_cv)",
    )
    expect: Expect


class Addition(Model):
    parent: Text | None = Field(None, description="code of the parent; omitted: a new first-level indicator")
    indicator: Indicator


class Regroup(Model):
    """A new parent over indicators of the extended framework, which move under it as they are (rules, points,
    sources): a province's areas over the national first-level indicators, without copying them."""

    code: Text
    name: str
    points: Decimal | None = Field(None, ge=0)
    weight: Decimal | None = Field(None, ge=0)
    members: list[Text] = Field(
        min_length=1, description="codes of the indicators that move under it, in order"
    )
    basis: str | None = None
    note: str | None = None
    local: bool = True
    verified: bool = True


class VetoChange(Model):
    """Fields of an inherited veto a tailoring replaces (a province's wording, owner or effect)."""

    when: Expr | None = None
    effect: EffectField | None = None
    reason: str | None = None
    basis: str | None = None
    rectify: Rectify | None = None
    local: bool | None = None
    verified: bool | None = None


class IndicatorChange(Model):
    name: str | None = None
    points: Decimal | None = Field(None, ge=0)
    weight: Decimal | None = Field(None, ge=0)
    rule: Rule | None = None
    rectify: Rectify | None = None
    applies_to: list[str] | None = None
    require: Require | None = None
    note: str | None = None
    local: bool | None = Field(
        None,
        description="mark as a local variant; a change to points, weight, rule, applies_to or require implies it",
    )
    verified: bool | None = None


class Tailoring(Model):
    """How a framework that ``extends`` another changes it (select/unselect, parameters, points, additions)."""

    unselect: list[Text] = Field(default_factory=list)
    select: list[Text] = Field(default_factory=list)
    params: dict[str, Decimal | bool | str] = Field(default_factory=dict)
    change: dict[Text, IndicatorChange] = Field(default_factory=dict)
    add: list[Addition] = Field(default_factory=list)
    group: list[Regroup] = Field(
        default_factory=list, description="new parents over existing indicators (applied after add)"
    )
    change_vetoes: dict[Text, VetoChange] = Field(
        default_factory=dict, description="fields of inherited vetoes to replace, by code"
    )
    remove_vetoes: list[Text] = Field(default_factory=list)
    remove_checks: list[Text] = Field(default_factory=list, description="数据核查 codes to drop")
    remove_inputs: list[Text] = Field(
        default_factory=list, description="inputs no longer collected (nothing left may use them)"
    )


class Framework(Model):
    """An indicator framework (指标体系)."""

    id: Text = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    name: str
    version: Text
    level: Level | None = None
    applies_to: list[str] | None = Field(None, description="unit types, e.g. 小学, 初中, 九年一贯制学校")
    provenance: Provenance | None = None
    description: str | None = None
    source: list[Source] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    extends: Text | None = Field(None, description="id or relative path of the framework this one tailors")
    scoring: Scoring | None = None
    scales: dict[str, list[Text]] = Field(default_factory=dict)
    params: dict[str, Param] = Field(default_factory=dict)
    inputs: dict[str, Input] = Field(default_factory=dict)
    derived: dict[str, Derived] = Field(default_factory=dict)
    indicators: list[Indicator] = Field(default_factory=list)
    vetoes: list[Veto] = Field(default_factory=list)
    checks: list[DataCheck] = Field(default_factory=list, description="数据核查: conditions across inputs")
    bonus: Bonus | None = None
    grades: list[Grade] = Field(default_factory=list)
    rectify: Rectify | None = Field(None, description="defaults for every indicator's 整改 metadata")
    units: Units | None = None
    cohort: Cohort | None = None
    tailor: Tailoring | None = None
    tests: list[TestCase] = Field(default_factory=list)

    def __getstate__(self) -> dict[Any, Any]:
        """Pickled without the loader's kept check (check.keep): compile_plan checks a copy again."""
        state = super().__getstate__()
        state["__dict__"] = {k: v for k, v in state["__dict__"].items() if k != "_checked"}
        return state

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int | Decimal) and not isinstance(v, bool) else v

    def walk(self) -> Iterator[Indicator]:
        """Every indicator, depth first."""
        for ind in self.indicators:
            yield from ind.walk()

    @property
    def settings(self) -> Scoring:
        return self.scoring or Scoring()


def source_of(obj: Model) -> tuple[Any, tuple[Any, ...]]:
    """The (SourceMap, path) an object was loaded from, or (None, ())."""
    return obj._src or (None, ())


def attach_sources(obj: Any, smap: Any, path: tuple[Any, ...]) -> None:
    """Record on every model where it was written, so later checks can point at it."""
    if isinstance(obj, Model):
        obj._src = (smap, path)
        for name in type(obj).model_fields:
            value = getattr(obj, name)
            if value is not None:
                attach_sources(value, smap, (*path, name))
    elif isinstance(obj, list):
        for i, item in enumerate(obj):
            attach_sources(item, smap, (*path, i))
    elif isinstance(obj, dict):
        for k, item in obj.items():
            attach_sources(item, smap, (*path, k))
