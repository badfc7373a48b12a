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


def test_overdue_items_meet_a_situation_of_the_accountability_rules_with_the_frameworks_measures():
    plan = plan_of(
        BODY.replace(
            "rule: {checklist: {items: [{label: 甲, when: a, points: 5}]}}}",
            "rule: {checklist: {items: [{label: 甲, when: a, points: 5}]}}, "
            "rectify: {accountability: [责令检查, 通报批评]}}",
        )
        + "rectify: {within_days: 90}\n"
    )
    old = run(plan, {"a": False, "b": False})  # deadlines 2026-08-30
    later = scoring.Submission(
        unit={"name": "测试学校", "type": "小学", "date": "2026-12-01"}, values={"a": False, "b": False}
    )
    d = scoring.diff(old, scoring.score(plan, later))
    assert [(a.code, a.situation, a.measures, a.deadline.isoformat()) for a in d.accountability] == [
        ("A1", "整改不力：逾期未完成整改", ["责令检查", "通报批评"], "2026-08-30"),
        ("A2", "整改不力：逾期未完成整改", ["约谈", "督导通报"], "2026-08-30"),  # the default measures
    ]
    assert d.lines()[-3:] == [
        "问责情形（2 项，依据教育督导问责办法（国教督〔2021〕2号））：",
        "  A1 甲：整改不力：逾期未完成整改 → 责令检查、通报批评",
        "  A2 乙：整改不力：逾期未完成整改 → 约谈、督导通报",
    ]
    before_deadline = scoring.Submission(
        unit={**later.unit.model_dump(), "date": "2026-08-30"}, values={"a": False, "b": False}
    )
    assert scoring.diff(old, scoring.score(plan, before_deadline)).accountability == []


def test_without_a_deadline_an_item_still_open_at_the_next_round_is_accountable():
    plan = plan_of(BODY)  # no within_days: no deadline to judge by
    old = run(plan, {"a": False, "b": True})
    d = scoring.diff(old, run(plan, {"a": False, "b": False}))
    assert [(a.code, a.situation, a.deadline) for a in d.accountability] == [
        ("A1", "整改不力：下一轮督导仍未整改", None)
    ]  # A2 is new this round: nothing to hold anyone to yet
