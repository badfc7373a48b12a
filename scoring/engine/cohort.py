"""County (cohort) evaluation: many unit results → per-indicator statistics → the county framework's verdict.

Declared in the county framework's ``cohort`` section (see docs/framework.md): which unit-level framework, which
indicators, the weight of each unit (enrolment Pi) and the groups (小学 / 初中). For every indicator and group:

* X̄ = Σ Xi·Pi ÷ P (enrolment-weighted mean; for per-pupil indicators, county resource ÷ county pupils);
* S = √( Σ (Pi ÷ P)·(Xi − X̄)² ),  CV (差异系数) = S ÷ X̄ — computed from the units' **unrounded** values,
  reported and compared at ``cv_precision`` (3); the mean at ``mean_precision`` (2);
* min, max, the number and share of units meeting the indicator.

These statistics become names in the county framework (``L1_小学_cv`` …), so its rules are ordinary rules.

**Every submitted row is accounted for**: it becomes evaluated units (表Ⅱ-2), or it is listed with its row and
why, as one of two kinds:

* *refused* (``failures``; a data error the county must correct, and the county verdict is then 暂定): no unit
  type, or a type the unit framework does not evaluate (大学, 特殊教育学校 …: the official rule evaluates
  县域义务教育学校 only, so such a row should not be in the table); no pupils (the unit's weight is 0 or blank —
  a 小学 with 0 pupils is an error, not an exclusion); a value at or beyond :data:`MAX_MAGNITUDE`; the same
  school twice (an evaluated unit of the same 学校代码 and phase, or of the same name and phase where a code is
  missing) — *every* row of it, because a school counted twice changes X̄ and the 差异系数 and which of its rows
  is right cannot be known; bad values.
* *excluded* (``excluded``, 不参评): a row of a type the framework evaluates, with pupils, that the framework's
  own split rule leaves out — the official 教学点 under 50 pupils. The condition it meets is quoted with the
  row's values.

The aggregation is linear in the number of units (one pass per indicator and group over the units grouped once).
"""

from __future__ import annotations

import ast
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation, localcontext
from typing import Any

from pydantic import TypeAdapter

from ..framework import expr as ex
from ..framework.load import check_cohort, unit_framework, unit_names
from ..framework.model import Cohort, Framework, SplitUnit
from ..framework.text import fmt, half_up
from ..problems import FrameworkError, Lang, Problem, ScoringError, printable
from .plan import Plan, compile_plan
from .result import FrameworkRef, RectificationItem, Result
from .rows import FailureRow
from .score import PRECISION, score, split, values_of
from .submission import Submission, UnitInfo

ZERO = Decimal(0)
# Values and weights at or beyond this are refused: no school has 10^15 pupils, m² or 元, and below it every sum,
# product and rounding of the aggregation stays exact within the engine's 34 significant digits.
MAX_MAGNITUDE = Decimal(10) ** 15
MAX_MAGNITUDE_TEXT = "10^15"


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
class Excluded:
    """A submitted row the unit framework's own rules leave out (不参评), and why, in both languages."""

    name: str
    source: str | None  # where it came from: "file#row" for a table row
    reason_zh: str
    reason_en: str

    def where(self, lang: Lang = "zh") -> str:
        return row_label(self.source, self.name, lang)

    def reason(self, lang: Lang = "zh") -> str:
        return self.reason_zh if lang == "zh" else self.reason_en


@dataclass(slots=True)
class CohortResult:
    framework: FrameworkRef
    unit_framework: FrameworkRef
    units: list[UnitLine]
    failures: list[FailureRow]  # rows refused (data errors): each with its row and every reason
    stats: list[Stat]
    names: dict[str, Decimal | None]  # the statistics as the county framework sees them
    county: Result
    passed: bool | None  # None (暂定) when a row was refused, whatever the county framework decided
    reasons: list[str]
    excluded: list[Excluded] = field(default_factory=list)  # rows 不参评 by the framework's rules

    def to_json(self, indent: int | None = 2) -> str:
        # pydantic writes the JSON itself (the same text as json.dumps of a dump, without building the dump):
        # 5-6 times faster and no second copy of a 100,000-unit result in memory
        return _ADAPTER.dump_json(self, indent=indent).decode("utf-8")


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


def row_label(source: str | None, name: str | None, lang: Lang = "zh") -> str:
    """Where a submission came from, as messages name it: ``schools.csv 第 5 行（城关小学）`` for a table row
    (its source is ``file#row``, as io/table.py writes it), else the file or the name. Control characters in a
    name are shown escaped."""
    shown = printable(name) if name else None
    file, row = split_source(source)
    if file is None:
        return shown or ("（未命名）" if lang == "zh" else "(unnamed)")
    file = printable(file)
    if row is None:
        return file if not shown else (f"{file}（{shown}）" if lang == "zh" else f"{file} ({shown})")
    if lang == "zh":
        return f"{file} 第 {row} 行" + (f"（{shown}）" if shown else "")
    return f"{file} row {row}" + (f" ({shown})" if shown else "")


def split_source(source: str | None) -> tuple[str | None, int | None]:
    """``("schools.csv", 5)`` from ``"schools.csv#5"``; ``(source, None)`` when it names no row."""
    if not source:
        return None, None
    file, sep, row = source.rpartition("#")
    if sep and row.isdigit():
        return file, int(row)
    return source, None


def needed_inputs(county: Framework, unit_plan: Plan | None = None) -> list[str]:
    """The unit framework's inputs a county evaluation reads (in framework order): those of the weight, of the
    split conditions, and of the rules of the cohort's indicators and passing indicator, through derived values.
    A statistics table must have a column for each of them (a cell may be blank; the column may not be missing)."""
    c = county.cohort
    if c is None:
        return []
    plan = unit_plan or compile_plan(unit_framework(county))
    env = unit_names(plan.framework)
    names: set[str] = set(ex.compile_expr(c.weight, env).names)
    for when in plan.split_when:
        names |= when.names
    stack = [
        plan.index[code]
        for code in [*c.indicators, *([c.passing] if c.passing else [])]
        if code in plan.index
    ]
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        if node.rule is not None:
            names.update(node.rule.names)
        if node.applicable is not None:
            names |= node.applicable.names
    derived = {d.name: d for d in plan.derived}
    todo = [n for n in names if n in derived]
    while todo:
        for n in derived[todo.pop()].expr.names:
            if n not in names:
                names.add(n)
                if n in derived:
                    todo.append(n)
    return [n for n in plan.inputs if n in names]


def declared_types(fw: Framework) -> list[str]:
    """The unit types a row may declare: the framework's ``units.types`` and ``applies_to``."""
    return list(dict.fromkeys([*(fw.units.types if fw.units else []), *(fw.applies_to or [])]))


def unit_type_problem(fw: Framework, typ: str | None) -> tuple[str, str]:
    """Why a row's type is refused (Chinese, English): blank, or not a type the framework evaluates."""
    types = declared_types(fw)
    if typ is None:
        return (
            f"没有填写学校类型：应为 {'、'.join(types)} 之一",
            f"the unit type is empty: expected one of {', '.join(types)}",
        )
    return (
        f"学校类型“{printable(typ)}”不是框架 {fw.id} 评估的类型（{'、'.join(types)}）："
        "请改正类型；不参加本评估的学校（如特殊教育学校、职业学校）请从表中删去",
        f"unit type '{printable(typ)}' is not one framework {fw.id} evaluates "
        f"({', '.join(types)}): correct it, or delete the row of a school outside this evaluation",
    )


def _ref(plan: Plan) -> FrameworkRef:
    fw = plan.framework
    return FrameworkRef(fw.id, fw.name, fw.version, plan.hash, fw.extends, list(plan.sources))


class _Refused(Exception):
    """A row that cannot be evaluated: a data error, in both languages."""

    def __init__(self, zh: str, en: str, more: Sequence[Problem] = ()):
        super().__init__(en)
        self.zh, self.en = zh, en
        self.more = list(more)  # the row's other problems (its bad values), reported with it

    def text(self, lang: Lang) -> list[str]:
        return [self.zh if lang == "zh" else self.en, *(p.format(lang) for p in self.more)]


def score_cohort(
    county: Framework,
    submissions: Iterable[Submission],
    county_submission: Submission | None = None,
    *,
    failures: list[FailureRow] | None = None,
    lang: Lang = "zh",
) -> CohortResult:
    """Score every unit, aggregate, and score the county framework on the statistics (and its own inputs).

    ``failures``: rows the reader already refused; the rows refused here are added to them (reasons in ``lang``).
    Every submission becomes units, a failure or an :class:`Excluded` row (see the module's docstring)."""
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
    rows = _Rows(unit_plan, c)
    subs = list(submissions)
    refused: list[tuple[int, FailureRow]] = []
    excluded: list[Excluded] = []
    made: list[tuple[int, list[UnitLine]]] = []  # (row, its units)
    for i, sub in enumerate(subs):
        got, reasons = rows.evaluate(sub, lang)
        if reasons:
            refused.append((i, FailureRow(row_label(sub.source, sub.unit.name, lang), reasons)))
        elif isinstance(got, Excluded):
            excluded.append(got)
        else:
            made.append((i, got))
    duplicates = _duplicates(subs, made, lang)
    refused += [
        (i, FailureRow(row_label(subs[i].source, subs[i].unit.name, lang), [why]))
        for i, why in duplicates.items()
    ]
    lines = [ln for i, units in made if i not in duplicates for ln in units]
    failures = [*(failures or []), *(f for _, f in sorted(refused, key=lambda x: x[0]))]
    stats, names = _aggregate(lines, c, unit_fw)
    county_sub = county_submission or Submission(unit=UnitInfo(name="本县"), source="cohort")
    county_result = score(county_plan, county_sub, extra=names)
    reasons = [
        f"{i.code} {i.name}：{i.status_zh}（{i.explanation.split('：', 1)[-1]}）"
        for i in county_result.indicators
        if i.kind != "group" and i.status not in ("met", "not_applicable", "waived")
    ] + [f"一票否决：{v.reason}" for v in county_result.vetoes if v.triggered]
    passed = county_result.passed
    if failures:
        # a refused row is a school the statistics do not hold: neither 通过 nor 不予认定 can be certain
        passed = None
        reasons.append(
            f"有 {len(failures)} 行（或文件）未能评估（见“无法读取”），其中的学校不在统计之内：结论暂定，改正后重新评估"
        )
    return CohortResult(
        _ref(county_plan),
        _ref(unit_plan),
        lines,
        failures,
        stats,
        names,
        county_result,
        passed,
        reasons,
        excluded,
    )


def _norm(text: str | None) -> str:
    """A name or code as people mean it: 全角 as 半角, runs of spaces as one, case ignored."""
    return " ".join(unicodedata.normalize("NFKC", text or "").split()).casefold()


def _duplicates(
    subs: Sequence[Submission], made: list[tuple[int, list[UnitLine]]], lang: Lang
) -> dict[int, str]:
    """Rows whose units are units of another row too, each with why (naming the other rows): the same 学校代码 and
    phase; or the same school name and phase where one of them has no code (two schools may share a name when their
    codes differ). Compared per evaluated unit, so a 九年一贯制学校 and a 小学 row of one code count the 小学部 twice,
    while a school reported as a 小学 row and an 初中 row of one code is two units. One pass with dictionaries."""
    by_code: dict[tuple[str, str | None], list[int]] = {}
    by_name: dict[tuple[str, str | None], list[int]] = {}
    for i, units in made:
        code = _norm(subs[i].unit.code).replace(" ", "")
        name = _norm(subs[i].unit.name)
        for ln in units:
            if code:
                by_code.setdefault((code, ln.group), []).append(i)
            by_name.setdefault((name, ln.group), []).append(i)
    groups: list[tuple[list[int], str, str]] = [
        (idx, f"学校代码 {printable(code)}，{phase}", f"school code {printable(code)}, {phase}")
        for (code, phase), idx in by_code.items()
        if len(set(idx)) > 1
    ]
    for (_, phase), idx in by_name.items():
        if len(set(idx)) > 1 and any(not subs[i].unit.code for i in idx):  # all coded: the codes decide
            name = printable(subs[idx[0]].unit.name)
            groups.append((idx, f"名称和学段相同：{name}，{phase}", f"same name and phase: {name}, {phase}"))
    out: dict[int, str] = {}
    for idx, zh_key, en_key in groups:
        rows = list(dict.fromkeys(idx))
        for i in rows:
            if i in out:
                continue
            others = [_which(subs[j], j, lang) for j in rows if j != i]
            out[i] = (
                f"与{'、'.join(others)}是同一所学校（{zh_key}）：同一学校只能计入一次，重复计入会改变加权平均值和差异系数；"
                "这几行都未计入，请删去重复的行后重新评估"
                if lang == "zh"
                else f"the same school as {', '.join(others)} ({en_key}): a school may be counted once only (counted "
                "twice it changes the weighted mean and the coefficient of variation); none of these rows was "
                "counted, delete the duplicates and run again"
            )
    return out


def _which(sub: Submission, index: int, lang: Lang) -> str:
    """Another row, as a duplicate's message names it: 第 12 行 (or the file, or the n-th submission)."""
    file, row = split_source(sub.source)
    if row is not None:
        return f"第 {row} 行" if lang == "zh" else f"row {row}"
    if file is not None:
        return printable(file)
    return f"第 {index + 1} 份" if lang == "zh" else f"submission {index + 1}"


class _Rows:
    """Turns one submitted row into evaluated units, or says why it is refused or excluded."""

    def __init__(self, plan: Plan, c: Cohort):
        fw = plan.framework
        self.plan = plan
        self.c = c
        self.env = unit_names(fw)
        self.weight = ex.compile_expr(c.weight, self.env)
        self.floor = _floor(fw, c.passing)
        self.declared = declared_types(fw)
        self.labels: dict[str, str] = {n: i.label for n, i in plan.inputs.items()}
        self.labels.update({d.name: d.label for d in plan.derived})
        self.labels.update({"unit_type": "单位类型", "school_type": "学校类型"})
        self._parts: dict[int, list[tuple[str, ex.Expression | None, bool]]] = {}

    def evaluate(self, sub: Submission, lang: Lang) -> tuple[list[UnitLine] | Excluded, list[str]]:
        """The row's units or its exclusion; or, when it is refused, every reason (in ``lang``)."""
        try:
            return self.row(sub), []
        except _Refused as err:
            return [], err.text(lang)
        except ScoringError as err:
            return [], [p.format(lang) for p in err.problems]
        except ArithmeticError as err:  # a number no computation holds, from a caller that did not check
            name = type(err).__name__
            return [], [
                f"无法计算：数值超出可计算的范围（{name}）"
                if lang == "zh"
                else f"cannot compute: a number out of range ({name})"
            ]

    def row(self, sub: Submission) -> list[UnitLine] | Excluded:
        fw = self.plan.framework
        typ = sub.unit.type
        if self.declared and typ not in self.declared:
            try:  # the row's bad values too, so that one run lists all of them
                values_of(
                    self.plan, sub.model_copy(update={"unit": sub.unit.model_copy(update={"type": None})})
                )
                more: list[Problem] = []
            except ScoringError as err:
                more = err.problems
            raise _Refused(*unit_type_problem(fw, typ), more)
        self.check_magnitudes(sub)
        units = split(self.plan, sub)
        if not units:
            return self.no_units(sub)
        return [self.line(sub, u) for u in units]

    def check_magnitudes(self, sub: Submission) -> None:
        for values in (sub.values, sub.evaluator_values):
            for name, v in values.items():
                if isinstance(v, Decimal | int | float) and not isinstance(v, bool):
                    d = Decimal(repr(v)) if isinstance(v, float) else Decimal(v)
                    if d.is_finite() and d.copy_abs() >= MAX_MAGNITUDE:
                        label = self.labels.get(name, name)
                        raise _Refused(
                            f"{label}（{name}）的值 {d:E} 太大：应小于 {MAX_MAGNITUDE_TEXT}",
                            f"{label} ({name}): {d:E} is too large: expected less than {MAX_MAGNITUDE_TEXT}",
                        )

    def line(self, sub: Submission, unit: Submission) -> UnitLine:
        line = _line(
            self.plan, unit, self.weight, self.c.indicators, self.c.passing, self.floor, sub.unit.name
        )
        w = line.weight
        if w is None or w <= 0:
            raise self.no_pupils(unit, w)
        if w >= MAX_MAGNITUDE:
            raise _Refused(
                f"{unit.unit.name}：权重 {self.c.weight} 为 {w:E}，太大：应小于 {MAX_MAGNITUDE_TEXT}",
                f"{unit.unit.name}: weight {self.c.weight} is {w:E}, too large: expected less than "
                f"{MAX_MAGNITUDE_TEXT}",
            )
        for code, x in line.exact.items():
            if x is not None and x.copy_abs() >= MAX_MAGNITUDE:
                raise _Refused(
                    f"{unit.unit.name}：指标 {code} 的值 {x:E} 太大（应小于 {MAX_MAGNITUDE_TEXT}），请核对数据",
                    f"{unit.unit.name}: indicator {code} is {x:E}, too large (expected less than "
                    f"{MAX_MAGNITUDE_TEXT}); check the data",
                )
        return line

    def no_pupils(self, unit: Submission, w: Any) -> _Refused:
        """A unit whose weight (its pupils) is 0 or blank: a data error — no 差异系数 can weigh it."""
        values = values_of(self.plan, unit)
        shown = self.shown(self.weight.names, values)
        weight = self.c.weight.strip()
        label = self.labels.get(weight)
        what_zh = f"{weight}（{label}）" if label else f"{weight} "
        part = unit.unit.type or ""
        return _Refused(
            f"按{part}评估，权重 {what_zh}为 {fmt(w) if w is not None else '空'}（{shown[0]}）：没有在校生的学校"
            "无法参与按在校生数加权的统计。这是数据错误，不是按规定不参评：请填写在校生数，或删去这一行",
            f"as {part}: the weight {weight} is {fmt(w) if w is not None else 'blank'} ({shown[1]}): a school "
            "without pupils cannot be weighted by enrolment. This is a data error, not an exclusion: fill in "
            "the pupils or delete the row",
        )

    def shown(self, names: Iterable[str], values: dict[str, Any]) -> tuple[str, str]:
        """The inputs among ``names`` (through derived values) with their values: ``小学在校生数 = 0``."""
        used = self.closure(names)
        inputs = [n for n in self.plan.inputs if n in used]
        filled = [n for n in inputs if values.get(n) is not None] or inputs
        zh = "，".join(f"{self.labels[n]} = {_shown(values.get(n), 'zh')}" for n in filled)
        en = ", ".join(f"{n} = {_shown(values.get(n), 'en')}" for n in filled)
        return zh or "—", en or "-"

    def closure(self, names: Iterable[str]) -> set[str]:
        derived = {d.name: d for d in self.plan.derived}
        out: set[str] = set()
        todo = list(names)
        while todo:
            n = todo.pop()
            if n not in out:
                out.add(n)
                if n in derived:
                    todo.extend(derived[n].expr.names)
        return out

    def parts(self, index: int, part: SplitUnit) -> list[tuple[str, ex.Expression | None, bool]]:
        """A split condition's ``and``-terms: (source, compiled, whether it tests the row's type)."""
        got = self._parts.get(index)
        if got is None:
            tree = ast.parse(part.when.strip(), mode="eval").body
            terms = tree.values if isinstance(tree, ast.BoolOp) and isinstance(tree.op, ast.And) else [tree]
            got = []
            for t in terms:
                source = ast.unparse(t)
                try:
                    compiled: ex.Expression | None = ex.compile_expr(source, self.env)
                except ex.ExprError:
                    compiled = None
                names = {n.id for n in ast.walk(t) if isinstance(n, ast.Name)}
                got.append((source, compiled, bool(names & {"school_type", "unit_type"})))
            self._parts[index] = got
        return got

    def no_units(self, sub: Submission) -> Excluded:
        """A row of a declared type that the split turns into no unit: refused when it has no pupils for any unit
        its type could make, else excluded by the framework's rule (the terms it fails, with the row's values)."""
        fw = self.plan.framework
        units = fw.units
        assert units is not None
        ctx = values_of(self.plan, sub)
        candidates = []
        for k, part in enumerate(units.split):
            terms = self.parts(k, part)
            if all(_holds(e, ctx) for _, e, is_type in terms if is_type):
                candidates.append((part, terms))
        if not candidates:
            raise _Refused(
                f"框架 {fw.id} 的评估单位规则（units.split）没有适用于“{sub.unit.type}”的评估单位",
                f"no evaluated unit of framework {fw.id} (units.split) applies to '{sub.unit.type}'",
            )
        weights = []
        for part, _ in candidates:
            unit = sub.model_copy(
                update={"unit": sub.unit.model_copy(update={"type": part.type, "school_type": sub.unit.type})}
            )
            try:
                w = self.weight.evaluate(values_of(self.plan, unit))
            except ex.EvalError:
                w = None
            weights.append((unit, w))
        if not any(ex.is_number(w) and w > 0 for _, w in weights):
            raise self.no_pupils(*weights[0])
        zh, en = [], []
        for part, terms in candidates:
            unmet = [(s, e) for s, e, is_type in terms if not is_type and not _holds(e, ctx)]
            names: set[str] = set()
            for s, _ in unmet:
                names |= {n.id for n in ast.walk(ast.parse(s, mode="eval")) if isinstance(n, ast.Name)}
            shown = self.shown(names, ctx)
            what = part.suffix or part.type
            zh.append(f"{what}：" + "；".join(self.term(s, "zh") for s, _ in unmet) + f"（{shown[0]}）")
            en.append(f"{what}: " + "; ".join(self.term(s, "en") for s, _ in unmet) + f" ({shown[1]})")
        return Excluded(
            sub.unit.name,
            sub.source,
            f"按框架 {fw.id} 的评估单位规则不参评：" + "；".join(zh),
            f"not evaluated under the unit rules of framework {fw.id}: " + "; ".join(en),
        )

    def term(self, source: str, lang: Lang) -> str:
        """A failed term of a split condition, readable: ``not (P)`` → 符合“P”; else 不满足“P”."""
        tree = ast.parse(source, mode="eval").body
        if isinstance(tree, ast.UnaryOp) and isinstance(tree.op, ast.Not):
            inner = self.readable(tree.operand, lang)
            return f"符合“{inner}”" if lang == "zh" else f"meets `{inner}`"
        text = self.readable(tree, lang)
        return f"不满足“{text}”" if lang == "zh" else f"does not meet `{text}`"

    def readable(self, node: ast.expr, lang: Lang) -> str:
        labels = self.labels if lang == "zh" else {}

        class _Plain(ast.NodeTransformer):
            def visit_Call(self, call: ast.Call) -> ast.AST:
                if isinstance(call.func, ast.Name) and call.func.id == "coalesce" and call.args:
                    first: ast.AST = self.visit(call.args[0])
                    return first
                self.generic_visit(call)
                return call

            def visit_Name(self, name: ast.Name) -> ast.AST:
                return ast.Name(id=labels.get(name.id, name.id), ctx=ast.Load())

        text = ast.unparse(_Plain().visit(ast.parse(ast.unparse(node), mode="eval")))
        ops = [(" <= ", " ≤ "), (" >= ", " ≥ "), (" != ", " ≠ "), (" == ", " = ")]
        if lang == "zh":
            ops += [(" and ", " 且 "), (" or ", " 或 "), ("not ", "非 "), ("True", "是"), ("False", "否")]
        for a, b in ops:
            text = text.replace(a, b)
        return text


def _holds(e: ex.Expression | None, ctx: dict[str, Any]) -> bool:
    if e is None:
        return False
    try:
        return bool(e.evaluate(ctx))
    except ex.EvalError:
        return False


def _shown(value: Any, lang: Lang) -> str:
    if value is None:
        return "未填" if lang == "zh" else "blank"
    if isinstance(value, bool) and lang == "en":
        return "yes" if value else "no"
    return printable(fmt(value))


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
    school: str | None = None,
) -> UnitLine:
    result = score(plan, unit)
    ctx = values_of(plan, unit)
    w = weight.evaluate(ctx)
    by_code = {i.code: i for i in result.indicators}
    values: dict[str, Decimal | None] = {}
    exact: dict[str, Decimal | None] = {}
    statuses: dict[str, str] = {}
    floor_only: list[str] = []
    for code in codes:
        r = by_code[code]
        values[code] = _number(r.value)
        exact[code] = r.exact if r.exact is not None else values[code]
        statuses[code] = r.status
        if floor is not None and r.status == "unmet" and r.ratio is not None and half_up(r.ratio, 3) >= floor:
            floor_only.append(code)
    if passing:
        p = by_code[passing].status
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
        school=school if school is not None else unit.unit.name.split("（")[0],
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


def _rounded(x: Decimal | None, places: int) -> Decimal | None:
    """``x`` half-up at ``places``, or None when it has more digits than the engine's precision holds."""
    if x is None:
        return None
    try:
        return half_up(x, places)
    except InvalidOperation:
        return None


def _stat(code: str, name: str, g: str, group: list[UnitLine], c: Cohort) -> Stat:
    """One indicator in one group, in one pass over the group's units."""
    points: list[tuple[Decimal, Decimal]] = []  # (unrounded value, weight) of each usable unit
    rounded: list[Decimal] = []
    missing: list[str] = []
    met = 0
    for ln in group:
        if ln.statuses.get(code) == "met":
            met += 1
        x, w = ln.exact.get(code), ln.weight
        if x is not None and w is not None and w > 0:
            points.append((x, w))
            v = ln.values[code]
            if v is not None:
                rounded.append(v)
        else:
            missing.append(ln.name)
    share = half_up(Decimal(met) / len(group), 4) if group else None
    if not points:
        return Stat(code, name, g, 0, ZERO, None, None, None, None, None, None, None, met, None, missing)
    mean, sd, cv = weighted_stats(points)
    return Stat(
        code,
        name,
        g,
        len(points),
        sum((w for _, w in points), ZERO),
        _rounded(mean, c.mean_precision),
        _rounded(cv, c.cv_precision),
        mean,
        sd,
        cv,
        min(rounded) if rounded else None,
        max(rounded) if rounded else None,
        met,
        share,
        missing,
    )


def _aggregate(
    lines: list[UnitLine], c: Cohort, unit_fw: Framework
) -> tuple[list[Stat], dict[str, Decimal | None]]:
    names: dict[str, Decimal | None] = {}
    stats = []
    labels = {i.code: i.name for i in unit_fw.walk()}
    by_group: dict[str, list[UnitLine]] = {g: [] for g in c.groups}
    for ln in lines:
        members = by_group.get(ln.group) if ln.group is not None else None
        if members is not None:
            members.append(ln)
    for code in c.indicators:
        for g in c.groups:
            st = _stat(code, labels.get(code, code), g, by_group[g], c)
            stats.append(st)
            names[f"{code}_{g}_mean"] = st.mean
            names[f"{code}_{g}_cv"] = st.cv
            names[f"{code}_{g}_min"] = st.min
            names[f"{code}_{g}_max"] = st.max
            names[f"{code}_{g}_met_share"] = st.met_share
    for g in [*c.groups, "all"]:
        group = lines if g == "all" else by_group[g]
        passed = sum(1 for ln in group if ln.passed)
        undecided = any(ln.passed is None for ln in group)
        names[f"units_{g}"] = Decimal(len(group))
        names[f"passed_{g}"] = Decimal(passed)
        names[f"passed_share_{g}"] = None if not group or undecided else Decimal(passed) / len(group)
    return stats, names
