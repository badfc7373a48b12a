from __future__ import annotations

import datetime as dt

import scoring

from ..helpers import D, plan_of, run

BODY = """
inputs:
  area: {label: 体育场馆面积, type: number}
  students: {label: 学生数, type: integer}
  m: {label: 德育, type: choice, choices: [优, 良, 差]}
  x: {label: 事故, type: boolean}
derived:
  L5: {label: 生均体育运动场馆面积, expr: area / students, precision: 2, unit: m²}
indicators:
  - code: L5
    name: 生均体育运动场馆面积
    points: 10
    rule: {threshold: {value: L5, at_least: 7.5}}
    rectify:
      problem: "{name}{value}㎡，低于标准{standard}㎡，差{gap}㎡"
      owner: 计划财务科
      within_days: 365
  - {code: M, name: 德育, points: 3, rule: {levels: {value: m, points: {优: 3, 良: 2, 差: 0}}}}
  - {code: N, name: 缺报项, points: 1, rule: {threshold: {value: students, at_least: 1}}}
vetoes:
  - {code: V1, when: x, effect: fail, reason: 重大安全责任事故}
rectify: {owner: 学校, within_days: 30}
"""


def test_problem_text_uses_actual_numbers_and_the_order_is_vetoes_then_points():
    res = run(plan_of(BODY), {"area": 3060, "students": 500, "m": "良", "x": True})
    items = [(i.no, i.code, i.kind, i.problem, i.owner, i.deadline, i.priority) for i in res.rectification]
    assert items == [
        (1, "V1", "veto", "重大安全责任事故（一票否决：不予认定）", "学校", dt.date(2026, 7, 1), "高"),
        (
            2,
            "L5",
            "indicator",
            "生均体育运动场馆面积6.12㎡，低于标准7.5㎡，差1.38㎡",
            "计划财务科",
            dt.date(2027, 6, 1),
            "高",
        ),
        (3, "M", "indicator", "德育得2.00分（满分3分），失1.00分", "学校", dt.date(2026, 7, 1), "中"),
    ]
    assert res.rectification[1].points_recoverable == D(10)


def test_missing_data_gives_a_low_priority_item():
    res = run(plan_of(BODY), {"area": 4000, "m": "优", "x": False})
    assert [(i.code, i.kind, i.priority) for i in res.rectification] == [
        ("L5", "missing", "低"),
        ("N", "missing", "低"),
    ]


def test_the_standard_in_a_rectification_text_is_the_rules_own_number():
    """{standard} is the number the rule compared with, kept beside its text (never read back out of it)."""
    body = """
inputs:
  minutes: {label: 书面作业平均完成时间, type: number, unit: 分钟}
  base: {label: 基准, type: number}
indicators:
  - code: H
    name: 书面作业时间
    points: 5
    rule: {threshold: {value: minutes, at_most: {小学: "base * 1.5", 初中: 90}, above: 0}}
    rectify: {problem: "{name}{value}分钟，超过{standard}分钟"}
"""
    plan = plan_of(body)
    primary = run(plan, {"minutes": 75, "base": 40}, type="小学")
    item = primary.rectification[0]
    assert item.problem == "书面作业时间75分钟，超过60.0分钟"
    assert primary.indicator("H").target == D("60.0")
    assert primary.indicator("H").standard == "> 0 且 ≤ 60.0"
    back = scoring.result_from_json(primary.to_json())
    assert back.indicator("H").target == D("60.0")
    junior = run(plan, {"minutes": 95, "base": 40}, type="初中")
    assert junior.rectification[0].problem == "书面作业时间95分钟，超过90分钟"
