"""Which rows a 自评表 template holds for a unit type: an indicator's inputs and 督学 rating rows only where the
indicator applies — by its own applies_to and every ancestor's."""

from __future__ import annotations

from scoring.io.template import rows

from ..helpers import plan_of

BODY = """
applies_to: [小学, 区县]
inputs:
  h: {label: 作业时长, type: number}
  n: {label: 培训机构数, type: integer}
indicators:
  - code: S
    name: 学校部分
    points: 10
    applies_to: [小学]
    children:
      - {code: S1, name: 作业, points: 5, rule: {threshold: {value: h, at_most: 60}}}
      - {code: S2, name: 督学评定, rule: {manual: {levels: {A: 5, B: 3}}}}
  - code: C
    name: 区县部分
    points: 10
    applies_to: [区县]
    children:
      - {code: C1, name: 培训治理, points: 10, rule: {threshold: {value: n, at_least: 1}}}
"""
HEADER = 'id: t\nname: 测试\nversion: "1"\n'


def _shown(unit_type: str) -> list[str]:
    plan = plan_of(BODY, HEADER)
    return [
        r.spec.label if r.spec is not None else f"评定 {r.manual.code}" for r in rows(plan, unit_type, True)
    ]


def test_a_county_template_holds_no_school_rows_and_no_school_rating():
    assert _shown("区县") == ["培训机构数"]


def test_a_school_template_holds_the_school_rows_and_its_rating():
    assert _shown("小学") == ["作业时长", "评定 S2"]


def test_completeness_does_not_count_another_unit_types_data_as_missing():
    from ..helpers import run

    plan = plan_of(BODY, HEADER)
    assert plan.required_for("区县", False)[0] == ["n"]
    result = run(plan, {"n": 3}, type="区县")
    assert (result.completeness.filled, result.completeness.required) == (1, 1)
