"""A scheme's own rounding of the total and its own order of veto effects (issue 14): leaves half-up to 2
decimals, the total to 1 (89.95 → 90.0 → 优秀); a cap applied before a downgrade (95 with both → 合格).

The scheme is written with documented keys only, and carries its cases in its ``tests:`` section, as a framework
author would write it; the cases run here through the same runner as ``scoring test``."""

from __future__ import annotations

import pytest

import scoring
from scoring.jobs.cases import run_cases

from ..helpers import D, plan_of, run

SCHEME = """
scoring: {method: points, total: 100, precision: 2, total_precision: 1, veto_order: [cap, downgrade, fail]}
inputs:
  a: {label: 甲项得分, type: number}
  b: {label: 乙项得分, type: number}
  hype: {label: 炒作升学率, type: boolean}
  tutoring: {label: 在职教师有偿补课, type: boolean}
indicators:
  - {code: A, name: 甲项, points: 50, rule: {expression: {points: a}}}
  - {code: B, name: 乙项, points: 50, rule: {expression: {points: b}}}
grades:
  - {name: 优秀, at_least: 90}
  - {name: 良好, at_least: 80}
  - {name: 合格, at_least: 60}
  - {name: 不合格}
vetoes:
  - {code: V1, when: hype, effect: {cap: 良好}, reason: 炒作升学率，不得评为优秀}
  - {code: V2, when: tutoring, effect: {downgrade: 1}, reason: 查实在职教师有偿补课，降低一个等次}
tests:
  - name: 叶指标保留两位、总分保留一位：44.98 + 44.97 = 89.95 → 90.0 → 优秀
    unit: {type: 小学}
    values: {a: 44.975, b: 44.974, hype: 否, tutoring: 否}
    expect: {total: 90.0, grade: 优秀, points: {A: 44.98, B: 44.97}}
  - name: 先封顶后降等：95 分 → 封顶良好 → 降一等为合格
    unit: {type: 小学}
    values: {a: 50, b: 45, hype: 是, tutoring: 是}
    expect: {total: 95.0, grade: 合格, vetoes: [V1, V2]}
"""

DEFAULTS = SCHEME.replace(", total_precision: 1, veto_order: [cap, downgrade, fail]", "").split("tests:")[0]


def test_the_schemes_own_cases_pass():
    outcomes = run_cases(scoring.load_text(_HEADER + SCHEME, "scheme.yaml"))
    assert [o.failures for o in outcomes] == [[], []]


def test_the_total_is_rounded_once_at_its_own_precision_and_decides_the_grade():
    result = run(plan_of(SCHEME), {"a": "44.975", "b": "44.974", "hype": False, "tutoring": False})
    assert (result.indicator("A").points, result.indicator("B").points) == (D("44.98"), D("44.97"))
    assert (result.total, result.grade, result.total_precision) == (D("90.0"), "优秀", 1)


def test_without_total_precision_the_total_keeps_the_leaves_places():
    result = run(plan_of(DEFAULTS), {"a": "44.975", "b": "44.974", "hype": False, "tutoring": False})
    assert (result.total, result.grade, result.total_precision) == (D("89.95"), "良好", 2)


@pytest.mark.parametrize(
    ("scheme", "grade"),
    [(SCHEME, "合格"), (DEFAULTS, "良好")],  # cap then downgrade; the default: downgrade, then the cap
)
def test_the_order_of_veto_effects_is_the_schemes(scheme, grade):
    result = run(plan_of(scheme), {"a": 50, "b": 45, "hype": True, "tutoring": True})
    assert (result.grade_before_vetoes, result.grade) == ("优秀", grade)


def test_fail_wins_in_any_order():
    scheme = SCHEME.replace("effect: {downgrade: 1}", "effect: fail")
    result = run(plan_of(scheme), {"a": 50, "b": 45, "hype": True, "tutoring": True})
    assert (result.grade, result.passed) == ("不合格", False)


def test_an_effect_named_twice_is_refused_at_its_line(tmp_path):
    from ..positions import at, located, problems_in

    text = _HEADER + SCHEME.replace("veto_order: [cap, downgrade, fail]", "veto_order: [cap, cap]")
    problems = problems_in(tmp_path, text)
    assert [(p.code, p.message_zh) for p in problems] == [
        ("schema-veto-order-twice", "veto_order 中每种效果只能写一次：cap")
    ]
    assert at("schema-veto-order-twice", text, "[cap, cap]") in located(problems)


_HEADER = 'id: t\nname: 测试方案\nversion: "1"\napplies_to: [小学, 初中]\n'
