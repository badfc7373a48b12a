"""The ``boolean`` rule: one yes/no answer to points, either way round, and its checks."""

from __future__ import annotations

import pytest

from ..helpers import D, plan_of, run
from ..positions import HEADER, at, located, problems_in

BOOLEAN = """
scoring: {method: points, total: 20}
inputs:
  has_charter: {label: 已制定学校章程, type: boolean}
  accident: {label: 发生安全责任事故, type: boolean}
indicators:
  - code: B1
    name: 学校章程
    points: 10
    rule: {boolean: {when: has_charter}}
  - code: B2
    name: 安全
    points: 10
    rule: {boolean: {when: accident, if_yes: 0, if_no: 10}}
"""


@pytest.mark.parametrize(
    ("charter", "accident", "b1", "b2"),
    [
        (True, False, ("met", "10.00"), ("met", "10.00")),
        (False, True, ("unmet", "0.00"), ("unmet", "0.00")),
        (True, True, ("met", "10.00"), ("unmet", "0.00")),
    ],
)
def test_yes_and_no_give_their_points_either_way_round(charter, accident, b1, b2):
    result = run(plan_of(BOOLEAN), {"has_charter": charter, "accident": accident})
    for code, (status, points) in (("B1", b1), ("B2", b2)):
        r = result.indicator(code)
        assert (r.status, r.points) == (status, D(points))


def test_the_explanation_names_the_question_and_the_answer():
    result = run(plan_of(BOOLEAN), {"has_charter": True, "accident": True})
    assert result.indicator("B1").explanation == "B1 学校章程：已制定学校章程：是，得 10.00 分 → 达标"
    assert result.indicator("B2").explanation == "B2 安全：发生安全责任事故：是，得 0.00 分 → 未达标"


def test_a_missing_answer_is_missing_never_no():
    r = run(plan_of(BOOLEAN), {"accident": False}).indicator("B1")
    assert (r.status, r.points) == ("missing", None)


def test_partial_points_for_a_yes_worth_less_than_full():
    text = BOOLEAN.replace(
        "rule: {boolean: {when: has_charter}}", "rule: {boolean: {when: has_charter, if_yes: 4}}"
    )
    r = run(plan_of(text), {"has_charter": True, "accident": False}).indicator("B1")
    assert (r.status, r.points) == ("partial", D("4.00"))


def test_pass_fail_frameworks_count_a_yes_as_met():
    text = """
scoring: {method: pass_fail}
inputs:
  has_charter: {label: 已制定学校章程, type: boolean}
indicators:
  - {code: B1, name: 学校章程, rule: {boolean: {when: has_charter}}}
"""
    plan = plan_of(text)
    assert run(plan, {"has_charter": True}).indicator("B1").status == "met"
    assert run(plan, {"has_charter": False}).indicator("B1").status == "unmet"


def test_points_beyond_the_indicator_are_an_error_at_the_key(tmp_path):
    text = HEADER + BOOLEAN.replace("if_yes: 0, if_no: 10", "if_yes: 0, if_no: 12")
    problems = problems_in(tmp_path, text)
    assert at("boolean-points", text, "12}}") in located(problems)
    assert next(p for p in problems if p.code == "boolean-points").severity == "error"


def test_equal_answers_are_a_warning(tmp_path):
    text = HEADER + BOOLEAN.replace("if_yes: 0, if_no: 10", "if_yes: 10, if_no: 10")
    problem = next(p for p in problems_in(tmp_path, text) if p.code == "boolean-same")
    assert problem.severity == "warning"


def test_when_must_be_a_yes_no_expression(tmp_path):
    text = HEADER + BOOLEAN.replace("when: has_charter}", "when: has_charter + 1}")
    assert [p.code for p in problems_in(tmp_path, text) if p.severity == "error"]
