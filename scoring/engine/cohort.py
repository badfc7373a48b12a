"""County (cohort) evaluation: many unit results → per-indicator statistics → the county framework's verdict.

Declared in the county framework's ``cohort`` section (see docs/framework.md): which unit-level framework, which
indicators, the weight of each unit (enrolment Pi) and the groups (小学 / 初中). For every indicator and group:

* X̄ = Σ Xi·Pi ÷ P (enrolment-weighted mean; for per-pupil indicators, county resource ÷ county pupils);
* S = √( Σ (Pi ÷ P)·(Xi − X̄)² ),  CV (差异系数) = S ÷ X̄ — computed from the units' **unrounded** values,
  reported and compared at ``cv_precision`` (3); the mean at ``mean_precision`` (2);
* min, max, the number and share of units meeting the indicator.

These statistics become names in the county framework (``L1_小学_cv`` …), so its rules are ordinary rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import Any

from pydantic import TypeAdapter

from ..framework import expr as ex
from ..framework.load import check_cohort, unit_framework, unit_names
from ..framework.model import Cohort, Framework
from ..framework.text import half_up
from ..problems import FrameworkError, Problem, ScoringError
from .plan import Plan, compile_plan
from .result import FrameworkRef, RectificationItem, Result
from .rows import FailureRow
from .score import PRECISION, score, split, values_of
from .submission import Submission, UnitInfo

ZERO = Decimal(0)


@dataclass(slots=True)
class UnitLine:
    """One evaluated unit in the county table (表Ⅱ-2): a school, or one phase of a multi-phase school."""

    name: str
    school: str
    school_type: str | None
    group: str | None
    weight: Decimal | None
    values: dict[str, Decimal | None]  # as reported (rounded)
    exact: dict[str, Decimal | None]  # unrounded, for the statistics
    statuses: dict[str, str]
    met: int
    passed: bool | None
    floor_only: list[str]  # indicators not met but at least the floor ratio (e.g. 85 %) of the standard
    rectification: list[RectificationItem]
    file: str | None = None


@dataclass(slots=True)
class Stat:
    """One indicator in one group (表Ⅲ)."""

    indicator: str
    name: str
    group: str
    units: int
    weight_total: Decimal
    mean: Decimal | None
    cv: Decimal | None
    mean_exact: Decimal | None
    sd_exact: Decimal | None
    cv_exact: Decimal | None
    min: Decimal | None
    max: Decimal | None
    met: int
    met_share: Decimal | None
    missing: list[str] = field(default_factory=list)  # units left out: value missing or weight not positive


@dataclass(slots=True)
class CohortResult:
    framework: FrameworkRef
    unit_framework: FrameworkRef
    units: list[UnitLine]
    failures: list[FailureRow]
    stats: list[Stat]
    names: dict[str, Decimal | None]  # the statistics as the county framework sees them
    county: Result
    passed: bool | None
    reasons: list[str]

    def to_json(self, indent: int | None = 2) -> str:
        import json

        return json.dumps(_ADAPTER.dump_python(self, mode="json"), ensure_ascii=False, indent=indent)


_ADAPTER: TypeAdapter[CohortResult] = TypeAdapter(CohortResult)


def cohort_from_json(text: str | bytes) -> CohortResult:
    return _ADAPTER.validate_json(text)


def weighted_stats(points: list[tuple[Decimal, Decimal]]) -> tuple[Decimal, Decimal, Decimal | None]:
    """(mean, standard deviation, coefficient of variation) of (value, weight) pairs, weights > 0."""
    with localcontext() as ctx:
        ctx.prec = PRECISION
        total = sum((w for _, w in points), ZERO)
        mean = sum((x * w for x, w in points), ZERO) / total
        var = sum(((w / total) * (x - mean) ** 2 for x, w in points), ZERO)
        sd = var.sqrt()
        return mean, sd, (sd / mean if mean != 0 else None)


def _ref(plan: Plan) -> FrameworkRef:
    fw = plan.framework
    return FrameworkRef(fw.id, fw.name, fw.version, plan.hash, fw.extends, list(plan.sources))


def score_cohort(
    county: Framework,
    submissions: Iterable[Submission],
    county_submission: Submission | None = None,
    *,
    failures: list[FailureRow] | None = None,
) -> CohortResult:
    """Score every unit, aggregate, and score the county framework on the statistics (and its own inputs)."""
    if county.cohort is None:
        raise FrameworkError(
            [
                Problem(
                    "no-cohort",
                    f"框架 {county.id} 没有 cohort（县域汇总）部分",
                    f"framework {county.id} has no cohort section",
                )
            ]
        )
    c = county.cohort
    unit_fw = unit_framework(county)
    problems = check_cohort(county, unit_fw)
    if problems:
        raise FrameworkError(problems)
    unit_plan = compile_plan(unit_fw)
    county_plan = compile_plan(county)
    weight = ex.compile_expr(c.weight, unit_names(unit_fw))
    floor = _floor(unit_fw, c.passing)
    failures = list(failures or [])
    lines: list[UnitLine] = []
    for sub in submissions:
        try:
            for unit in split(unit_plan, sub):
                lines.append(_line(unit_plan, unit, weight, c.indicators, c.passing, floor))
        except ScoringError as err:
            failures.append(FailureRow(sub.source or sub.unit.name, [p.format("zh") for p in err.problems]))
    stats, names = _aggregate(lines, c, unit_fw)
    county_sub = county_submission or Submission(unit=UnitInfo(name="本县"), source="cohort")
    county_result = score(county_plan, county_sub, extra=names)
    reasons = [
        f"{i.code} {i.name}：{i.status_zh}（{i.explanation.split('：', 1)[-1]}）"
        for i in county_result.indicators
        if i.kind != "group" and i.status not in ("met", "not_applicable", "waived")
    ] + [f"一票否决：{v.reason}" for v in county_result.vetoes if v.triggered]
    return CohortResult(
        _ref(county_plan),
        _ref(unit_plan),
        lines,
        failures,
        stats,
        names,
        county_result,
        county_result.passed,
        reasons,
    )


def _floor(unit_fw: Framework, passing: str | None) -> Decimal | None:
    for ind in unit_fw.walk():
        if (passing is None or ind.code == passing) and ind.require and ind.require.others_at_least_ratio:
            return ind.require.others_at_least_ratio
    return None


def _line(
    plan: Plan,
    unit: Submission,
    weight: ex.Expression,
    codes: list[str],
    passing: str | None,
    floor: Decimal | None,
) -> UnitLine:
    result = score(plan, unit)
    ctx = values_of(plan, unit)
    w = weight.evaluate(ctx)
    values: dict[str, Decimal | None] = {}
    exact: dict[str, Decimal | None] = {}
    statuses: dict[str, str] = {}
    floor_only: list[str] = []
    for code in codes:
        r = result.indicator(code)
        values[code] = _number(r.value)
        exact[code] = r.exact if r.exact is not None else values[code]
        statuses[code] = r.status
        if floor is not None and r.status == "unmet" and r.ratio is not None and half_up(r.ratio, 3) >= floor:
            floor_only.append(code)
    if passing:
        p = result.indicator(passing).status
    else:
        tops = [
            i.status
            for i in result.indicators
            if i.depth == 1 and i.status not in ("not_applicable", "waived")
        ]
        p = (
            "met"
            if all(s == "met" for s in tops)
            else ("missing" if any(s in ("missing", "pending", "error") for s in tops) else "unmet")
        )
    passed = True if p == "met" else (None if p in ("missing", "pending", "error") else False)
    return UnitLine(
        name=unit.unit.name,
        school=unit.unit.name.split("（")[0],
        school_type=unit.unit.school_type or unit.unit.type,
        group=unit.unit.type,
        weight=Decimal(w) if ex.is_number(w) else None,
        values=values,
        exact=exact,
        statuses=statuses,
        met=sum(1 for s in statuses.values() if s == "met"),
        passed=passed,
        floor_only=floor_only,
        rectification=result.rectification,
        file=unit.source,
    )


def _number(value: Any) -> Decimal | None:
    """A reported value if it is a number, else None."""
    return value if ex.is_number(value) else None


def _aggregate(
    lines: list[UnitLine], c: Cohort, unit_fw: Framework
) -> tuple[list[Stat], dict[str, Decimal | None]]:
    names: dict[str, Decimal | None] = {}
    stats = []
    labels = {i.code: i.name for i in unit_fw.walk()}
    for code in c.indicators:
        for g in c.groups:
            group = [ln for ln in lines if ln.group == g]
            usable: list[UnitLine] = []
            points: list[tuple[Decimal, Decimal]] = []  # (unrounded value, weight) of each usable unit
            for ln in group:
                x, w = ln.exact.get(code), ln.weight
                if x is not None and w is not None and w > 0:
                    usable.append(ln)
                    points.append((x, w))
            missing = [ln.name for ln in group if ln not in usable]
            met = sum(1 for ln in group if ln.statuses.get(code) == "met")
            if usable:
                mean, sd, cv = weighted_stats(points)
                rounded = [v for v in (ln.values[code] for ln in usable) if v is not None]
                st = Stat(
                    code,
                    labels.get(code, code),
                    g,
                    len(usable),
                    sum((w for _, w in points), ZERO),
                    half_up(mean, c.mean_precision),
                    half_up(cv, c.cv_precision) if cv is not None else None,
                    mean,
                    sd,
                    cv,
                    min(rounded),
                    max(rounded),
                    met,
                    half_up(Decimal(met) / len(group), 4) if group else None,
                    missing,
                )
            else:
                st = Stat(
                    code,
                    labels.get(code, code),
                    g,
                    0,
                    ZERO,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    met,
                    None,
                    missing,
                )
            stats.append(st)
            names[f"{code}_{g}_mean"] = st.mean
            names[f"{code}_{g}_cv"] = st.cv
            names[f"{code}_{g}_min"] = st.min
            names[f"{code}_{g}_max"] = st.max
            names[f"{code}_{g}_met_share"] = st.met_share
    for g in [*c.groups, "all"]:
        group = [ln for ln in lines if g == "all" or ln.group == g]
        passed = sum(1 for ln in group if ln.passed)
        undecided = any(ln.passed is None for ln in group)
        names[f"units_{g}"] = Decimal(len(group))
        names[f"passed_{g}"] = Decimal(passed)
        names[f"passed_share_{g}"] = None if not group or undecided else Decimal(passed) / len(group)
    return stats, names
