"""Texts written on first read do not depend on the reader's decimal context: an indicator's explanation, the
整改清单 and the total's explanation read under a context of 5 digits (rounding down) are those read under the
default one, field by field or through ``to_json`` — which computes its texts at the scoring call's precision
and leaves the caller's context as it was."""

from __future__ import annotations

from decimal import ROUND_DOWN, getcontext, localcontext

import pytest

import scoring

from ..helpers import plan_of, run

# Numbers whose texts need more than 5 digits: a ratio with a long expansion (1 ÷ 3), rescaled points, a
# proportional share, a deduction, a group with a 不适用 child (its points rescaled), a waived indicator and an
# overridden one.
BODY = """
scoring: {method: points, precision: 2}
inputs:
  students: {label: 在校生数, type: integer, min: 1}
  teachers: {label: 专任教师数, type: integer, min: 0}
  rooms: {label: 功能室数, type: number, min: 0}
  cases: {label: 安全事故起数, type: integer, min: 0}
  lab: {label: 实验室, type: boolean}
derived:
  ratio: {label: 每百名学生教师数, expr: "teachers / students * 100", precision: 2}
indicators:
  - code: A
    name: 师资
    children:
      - {code: A1, name: 教师配备, points: 10, rule: {threshold: {value: ratio, at_least: 4.2}}}
      - {code: A2, name: 生均教师, points: 7, rule: {threshold: {value: teachers / students * 1000, at_least: 80.123456}}}
      - {code: A3, name: 功能室, points: 3.3333, rule: {proportional: {value: rooms, target: 12.345678}}}
      - code: A4
        name: 初中实验室
        points: 5
        applies_to: [初中]
        rule: {checklist: {items: [{label: 有实验室, when: lab, points: 5}]}}
  - code: B
    name: 安全
    children:
      - {code: B1, name: 安全事故, points: 9.87654, rule: {deduction: {items: [{label: 事故, count: cases, each: 1.234567}]}}}
      - {code: B2, name: 制度, points: 2, rule: {checklist: {items: [{label: 有制度, when: lab, points: 2}]}}}
"""

VALUES = {"students": 2311, "teachers": 97, "rooms": "7.123456", "cases": 3, "lab": False}


def _texts(res: scoring.Result) -> tuple[object, ...]:
    return (
        [(i.code, i.explanation, i.inputs) for i in res.indicators],
        [(r.code, r.problem, r.requirement, r.points_recoverable) for r in res.rectification],
        res.total_explanation,
    )


def _score() -> scoring.Result:
    return run(
        plan_of(BODY),
        VALUES,
        waivers=[{"indicator": "B2", "by": "督学", "reason": "新建校区", "at": "2026-05-01"}],
        overrides=[{"indicator": "A1", "by": "督学", "reason": "复核", "points": "6.666667"}],
    )


@pytest.mark.parametrize("prec", [5, 9])
def test_texts_read_under_a_low_precision_are_the_default_ones(prec: int) -> None:
    expected = _texts(_score())
    res = _score()
    with localcontext() as ctx:
        ctx.prec, ctx.rounding = prec, ROUND_DOWN
        got = _texts(res)
    assert got == expected


@pytest.mark.parametrize("indent", [2, None])
def test_to_json_under_a_low_precision_is_the_default_one(indent: int | None) -> None:
    expected = _score().to_json(indent=indent)
    res = _score()
    with localcontext() as ctx:
        ctx.prec, ctx.rounding = 5, ROUND_DOWN
        assert res.to_json(indent=indent) == expected
        assert (getcontext().prec, getcontext().rounding) == (5, ROUND_DOWN)  # the caller's, as it was
    assert res.to_json(indent=indent) == expected  # written once: read again, the same


def test_texts_read_in_part_before_to_json_under_a_low_precision() -> None:
    """Some texts read by code under the caller's context, the rest by to_json: the same JSON."""
    expected = _score().to_json()
    res = _score()
    with localcontext() as ctx:
        ctx.prec = 5
        assert res.indicator("A2").explanation and res.indicator("A").explanation
        assert res.to_json() == expected
