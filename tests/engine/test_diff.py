from __future__ import annotations

import scoring

from ..helpers import D, plan_of, run

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


def test_items_still_open_after_their_deadline_are_overdue():
    plan = plan_of(BODY + "rectify: {within_days: 90}\n")
    old = run(plan, {"a": False, "b": False})  # evaluated 2026-06-01: deadlines 2026-08-30
    later = {"name": "测试学校", "type": "小学", "date": "2026-12-01"}
    d = scoring.diff(old, scoring.score(plan, scoring.Submission(unit=later, values={"a": False, "b": True})))
    assert [i.code for i in d.closed] == ["A2"]
    assert [(i.code, i.deadline.isoformat()) for i in d.overdue] == [("A1", "2026-08-30")]
    assert "仍未整改（1 项，其中逾期 1 项）：" in d.text()
    assert "（逾期：上轮限期 2026-08-30）" in d.text()
    on_time = scoring.Submission(unit={**later, "date": "2026-08-30"}, values={"a": False, "b": True})
    assert scoring.diff(old, scoring.score(plan, on_time)).overdue == []  # on the deadline day: not late
