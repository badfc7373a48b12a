from __future__ import annotations

import scoring

from .helpers import D, plan_of, run

BODY = """
inputs:
  a: {label: 甲, type: boolean}
  b: {label: 乙, type: boolean}
indicators:
  - code: A
    name: 一级
    points: 10
    children:
      - {code: A1, name: 甲, points: 5, rule: {checklist: {items: [{label: 甲, when: a, points: 5}]}}}
      - {code: A2, name: 乙, points: 5, rule: {checklist: {items: [{label: 乙, when: b, points: 5}]}}}
"""


def test_closed_open_and_new_items():
    plan = plan_of(BODY)
    old = run(plan, {"a": False, "b": True})
    new = run(plan, {"a": True, "b": False})
    d = scoring.diff(old, new)
    assert [i.code for i in d.closed] == ["A1"]
    assert [i.code for i in d.new] == ["A2"]
    assert d.still_open == []
    assert [(s.code, s.delta) for s in d.scores] == [("A", D("0.00"))]


def test_diff_of_a_result_with_itself_is_empty():
    plan = plan_of(BODY)
    r = run(plan, {"a": False, "b": True})
    assert scoring.diff(r, r).empty
