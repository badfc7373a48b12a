"""Invariants of the engine over generated submissions of the demo framework (which uses every rule kind)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import scoring

PLAN = scoring.compile_plan(scoring.load_framework("demo-school"))
MAX = PLAN.total + PLAN.bonus_cap  # type: ignore[operator]

counts = st.integers(min_value=0, max_value=20)
flags = st.booleans()
maybe = lambda s: st.one_of(st.none(), s)  # noqa: E731 - missing values are part of the space
pct = st.decimals(min_value=0, max_value=100, places=2)


@st.composite
def submissions(draw, unit_type=None):
    students = draw(st.integers(min_value=1, max_value=3000))
    values = {
        "students": students,  # the framework's 数据核查 K1: no more qualified teachers than pupils
        "teachers_qualified": draw(maybe(st.integers(min_value=0, max_value=min(300, students)))),
        "sports_area": draw(maybe(st.decimals(min_value=0, max_value=50000, places=1))),
        "after_school_rate": draw(maybe(pct)),
        "homework_minutes": draw(maybe(st.integers(min_value=0, max_value=200))),
        "moral_rating": draw(maybe(st.sampled_from(["优秀", "良好", "合格", "不合格"]))),
        "reading_books": draw(maybe(st.decimals(min_value=0, max_value=80, places=1))),
        "pe_pass_rate": draw(maybe(pct)),
        "safety_incidents": draw(maybe(counts)),
        "complaints_verified": draw(maybe(counts)),
        "ethics_violations": draw(maybe(counts)),
        "city_award": draw(maybe(counts)),
    }
    for b in (
        "has_charter",
        "has_plan",
        "has_council",
        "has_open_day",
        "labour_base",
        "labour_course",
        "labour_teacher",
        "has_boarding",
        "dorm_manager",
        "night_patrol",
        "major_accident",
        "paid_tutoring",
        "innovation_case",
    ):
        values[b] = draw(maybe(flags))
    manual = {"A4.3": draw(st.sampled_from(["A", "B", "C", "D"]))} if draw(st.booleans()) else {}
    utype = unit_type or draw(st.sampled_from(["小学", "初中"]))
    return scoring.Submission(
        unit={"name": "生成的学校", "type": utype, "date": "2026-06-01"}, values=values, manual=manual
    )


common = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@common
@given(submissions())
def test_scores_stay_within_zero_and_max(sub):
    res = scoring.score(PLAN, sub)
    assert Decimal(0) <= res.total <= MAX
    for ind in res.indicators:
        if ind.points is not None:
            assert Decimal(0) <= ind.points <= ind.possible, ind.explanation


@common
@given(submissions(), st.integers(min_value=1, max_value=50))
def test_a_monotone_rule_never_lowers_the_score_when_the_value_improves(sub, extra):
    better = sub.model_copy(deep=True)
    for name in ("teachers_qualified", "after_school_rate", "reading_books", "pe_pass_rate"):
        v = better.values.get(name)
        if v is not None:
            better.values[name] = (
                min(Decimal(v) + extra, Decimal(100)) if name.endswith("rate") else Decimal(v) + extra
            )
    if better.values.get("teachers_qualified") is not None:  # 数据核查 K1: not more than the pupils
        better.values["teachers_qualified"] = min(
            better.values["teachers_qualified"], better.values["students"]
        )
    a, b = scoring.score(PLAN, sub), scoring.score(PLAN, better)
    for code in ("A1.1", "A2.1", "A4.1", "A4.2"):
        pa, pb = a.indicator(code).points, b.indicator(code).points
        if pa is not None and pb is not None:
            assert pb >= pa, code
    assert b.total >= a.total


@common
@given(submissions(unit_type="小学"))
def test_not_applicable_never_changes_other_indicators_points(sub):
    boarding = sub.model_copy(deep=True)
    boarding.values["has_boarding"] = True
    day = sub.model_copy(deep=True)
    day.values["has_boarding"] = False
    a, b = scoring.score(PLAN, boarding), scoring.score(PLAN, day)
    assert b.indicator("A4.4").status == "not_applicable"
    for ra, rb in zip(a.indicators, b.indicators, strict=True):
        if ra.code != "A4.4" and ra.kind != "group":
            assert (ra.points, ra.status) == (rb.points, rb.status), ra.code


@common
@given(submissions())
def test_results_survive_a_json_round_trip(sub):
    res = scoring.score(PLAN, sub)
    assert scoring.result_from_json(res.to_json()) == res


@common
@given(submissions())
def test_diff_of_a_result_with_itself_is_empty(sub):
    res = scoring.score(PLAN, sub)
    assert scoring.diff(res, res).empty


@settings(max_examples=300, deadline=None)
def _general_path_only() -> scoring.Plan:
    """The demo plan with every leaf scored through the engine's general path (as with waivers or overrides)."""
    plan = scoring.compile_plan(scoring.load_framework("demo-school"))
    for node in plan.nodes:
        node.plain_leaves, node.plain_full, node.other_children = (), Decimal(0), list(node.children)
    return plan


GENERAL = _general_path_only()


@common
@given(submissions())
def test_the_common_path_and_the_general_path_agree(sub):
    """Groups score the leaves that always apply in a tight loop of their own; it must decide as leaf() does."""
    assert scoring.score(PLAN, sub).to_json() == scoring.score(GENERAL, sub).to_json()


@common
@given(submissions())
def test_a_rule_decides_the_same_with_and_without_its_text(sub):
    """Rules take quick paths when no text is asked for (numeric bounds resolved per unit type, a rating's
    outcome decided once per plan); the call that writes the text must reach the same decision."""
    from dataclasses import astuple, replace
    from decimal import localcontext

    from scoring.engine.score import values_of

    ctx = values_of(PLAN, sub)
    with localcontext() as dctx:
        dctx.prec = 34
        for node in PLAN.nodes:
            if node.rule is None:
                continue
            manual = sub.manual.get(node.code)
            quick = node.rule.evaluate(ctx, sub.unit.type, manual, False)
            written = node.rule.evaluate(ctx, sub.unit.type, manual, True)
            assert written.explanation, node.code
            assert astuple(replace(quick, explanation="")) == astuple(replace(written, explanation="")), (
                node.code
            )


@given(st.decimals(min_value=-1000, max_value=1000, places=3))
def test_round_is_half_up(x):
    from decimal import ROUND_HALF_UP

    from scoring.framework.expr import VarInfo, compile_expr

    e = compile_expr("round(x, 2)", {"x": VarInfo("number")})
    assert e.evaluate({"x": x}) == x.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


_KINDS = scoring.compile_plan(
    scoring.load_text(
        """
id: kinds
name: 各类填报项
version: "1"
inputs:
  n: {label: 数值, type: number, min: 0, max: 100}
  p: {label: 比例, type: percent, min: 0, max: 100}
  i: {label: 整数, type: integer, min: 1}
  j: {label: 整数（界不是整数）, type: integer, min: 0.5, max: 99.5}
  b: {label: 是否, type: boolean}
  c: {label: 选项, type: choice, choices: [有, 无]}
indicators:
  - {code: A, name: 数值, points: 1, rule: {threshold: {value: n, at_least: 1}}}
  - {code: B, name: 比例, points: 1, rule: {threshold: {value: p, at_least: 1}}}
  - {code: C, name: 整数, points: 1, rule: {threshold: {value: i, at_least: 1}}}
  - {code: F, name: 整数二, points: 1, rule: {threshold: {value: j, at_least: 1}}}
  - {code: D, name: 是否, points: 1, rule: {checklist: {items: [{label: 是, when: b, points: 1}]}}}
  - {code: E, name: 选项, points: 1, rule: {expression: {points: "1 if c == '有' else 0"}}}
""",
        "kinds.yaml",
    )
)
raw_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-5, max_value=200),
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.decimals(allow_nan=False, places=3, min_value=-5, max_value=200),
    st.sampled_from(["有", "无", " 有 ", "ｙ", "95%", "1,234", "", "是", "否", "3.0", "abc"]),
)


@settings(max_examples=400, deadline=None)
@given(st.fixed_dictionaries({k: raw_values for k in ("n", "p", "i", "j", "b", "c")}))
@example(
    {"n": None, "p": None, "i": 1.000000062271131e28, "b": None, "c": None}
)  # beyond 28 digits: once raised
@example({"n": 10**40, "p": "95%", "i": 10**40, "b": 1, "c": " 有 "})
@example({"n": -1, "p": 101, "i": 0, "j": 0, "b": None, "c": None})  # each just outside its bounds
@example({"n": 0, "p": 100, "i": 1, "j": 99, "b": True, "c": "有"})  # each on or inside them
@example({"n": 100.5, "p": -0.0, "i": -1, "j": 100, "b": False, "c": "无"})
def test_the_engines_quick_reading_agrees_with_coerce(values):
    """The engine takes plain values without coerce(); whatever it takes or refuses, coerce agrees."""
    from scoring.engine.score import Options, _Scorer
    from scoring.framework.values import coerce

    sub = scoring.Submission(unit={"name": "x", "type": "小学"}, values=values)
    got, problems = _Scorer(_KINDS, sub, Options()).values("final")
    want, bad = {}, set()
    for name, raw in values.items():
        spec = _KINDS.inputs[name]
        value, why = coerce(spec.kind, raw, choices=spec.choices, minimum=spec.min, maximum=spec.max)
        if why:
            bad.add(name)
        elif value is not None:
            want[name] = value
    as_written = lambda d: {k: (type(v), str(v)) for k, v in d.items()}  # noqa: E731 - "1.0" is not "1"
    assert as_written(got) == as_written(want)
    assert {p.path[-1] for p in problems} == bad
