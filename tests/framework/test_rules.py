"""Every rule kind against hand-computed values (exact Decimals, half-up)."""

from __future__ import annotations

import pytest

from ..helpers import D, plan_of, run

THRESHOLD = """
scoring: {method: points, total: 10}
inputs:
  a: {label: 甲, type: integer, min: 0}
  b: {label: 乙, type: integer, min: 1}
derived:
  r: {label: 每百人, expr: a / b * 100, precision: 2}
indicators:
  - code: L1
    name: 每百名学生拥有高于规定学历教师数
    points: 10
    rule: {threshold: {value: r, at_least: {小学: 4.2, 初中: 5.3}}}
"""


@pytest.mark.parametrize(
    ("a", "b", "type_", "status", "points"),
    [
        (21, 500, "小学", "met", "10.00"),  # 4.20 ≥ 4.2
        (20, 500, "小学", "unmet", "0.00"),  # 4.00 < 4.2
        (53, 1000, "初中", "met", "10.00"),  # 5.30 ≥ 5.3 (以上 includes the bound)
        (52, 1000, "初中", "unmet", "0.00"),
        (4195, 100000, "小学", "met", "10.00"),  # 4.195 → 4.20 half-up, compared rounded
        (4194, 100000, "小学", "unmet", "0.00"),  # 4.194 → 4.19
    ],
)
def test_threshold_per_unit_type_and_rounding(a, b, type_, status, points):
    r = run(plan_of(THRESHOLD), {"a": a, "b": b}, type=type_).indicator("L1")
    assert (r.status, r.points) == (status, D(points))


def test_threshold_trace_reads_like_a_hand_computation():
    r = run(plan_of(THRESHOLD), {"a": 21, "b": 500}).indicator("L1")
    assert (
        r.explanation
        == "L1 每百名学生拥有高于规定学历教师数：每百人 = 21 ÷ 500 × 100 = 4.20 ≥ 4.2 → 达标（10.00 分）"
    )
    assert r.ratio == D("4.20") / D("4.2")


def test_threshold_gap_and_ratio_when_unmet():
    r = run(plan_of(THRESHOLD), {"a": 19, "b": 500}).indicator("L1")  # 3.80
    assert (r.value, r.gap, r.standard) == (D("3.80"), D("0.40"), "≥ 4.2")


def test_half_up_where_bankers_rounding_differs():
    plan = plan_of(
        """
inputs:
  a: {label: 甲, type: number}
  b: {label: 乙, type: number}
derived:
  v: {label: 值, expr: a / b, precision: 1}
indicators:
  - {code: X, name: 边界, points: 1, rule: {threshold: {value: v, at_least: 2.5}}}
"""
    )
    r = run(plan, {"a": 49, "b": 20}).indicator("X")  # 2.45 → 2.5 half-up (banker's: 2.4)
    assert (r.value, r.status) == (D("2.5"), "met")


def test_below_is_strict_and_at_most_inclusive():
    plan = plan_of(
        """
inputs:
  n: {label: 班额, type: integer}
indicators:
  - {code: S, name: 低于, points: 1, rule: {threshold: {value: n, below: 45}}}
  - {code: T, name: 不超过, points: 1, rule: {threshold: {value: n, at_most: 45}}}
"""
    )
    res = run(plan, {"n": 45})
    assert res.indicator("S").status == "unmet"
    assert res.indicator("T").status == "met"


def test_missing_is_never_zero_nor_a_pass():
    res = run(plan_of(THRESHOLD), {"a": 21})
    r = res.indicator("L1")
    assert (r.status, r.points) == ("missing", None)
    assert res.total == D("0.00") and res.provisional
    assert res.completeness.missing_inputs == ["b"]


def test_division_by_zero_is_an_error_with_its_cause():
    plan = plan_of(THRESHOLD.replace("min: 1", "min: 0"))
    r = run(plan, {"a": 3, "b": 0}).indicator("L1")
    assert r.status == "error"
    assert "除数为零" in r.explanation


BANDS = """
inputs:
  rate: {label: 参与率, type: percent, min: 0, max: 100}
indicators:
  - code: B
    name: 课后服务
    points: 10
    rule:
      bands:
        value: rate
        steps: [{at_least: 95, points: 10}, {at_least: 85, points: 8}, {at_least: 70, points: 5}, {points: 0}]
"""


@pytest.mark.parametrize(
    ("rate", "points", "status"),
    [
        ("100", "10", "met"),
        ("95", "10", "met"),
        ("94.99", "8", "partial"),
        ("85", "8", "partial"),
        ("70", "5", "partial"),
        ("69.9", "0", "unmet"),
    ],
)
def test_bands(rate, points, status):
    r = run(plan_of(BANDS), {"rate": rate}).indicator("B")
    assert (r.points, r.status) == (D(points).quantize(D("0.01")), status)


def test_levels_and_manual():
    plan = plan_of(
        """
scales:
  四级: [优秀, 良好, 合格, 不合格]
inputs:
  m: {label: 德育评价, type: level, scale: 四级}
indicators:
  - code: L
    name: 德育
    points: 10
    rule: {levels: {value: m, points: {优秀: 10, 良好: 8, 合格: 6, 不合格: 0}}}
  - code: M
    name: 特色
    points: 5
    rule: {manual: {levels: {A: 5, B: 4, C: 2, D: 0}}}
"""
    )
    res = run(plan, {"m": "良好"}, manual={"M": "C"})
    assert (res.indicator("L").points, res.indicator("L").status) == (D("8.00"), "partial")
    assert (res.indicator("M").points, res.total) == (D("2.00"), D("10.00"))
    pending = run(plan, {"m": "优秀"})
    assert pending.indicator("M").status == "pending" and pending.provisional


CHECKLIST = """
inputs:
  a: {label: 甲, type: boolean}
  b: {label: 乙, type: boolean}
  c: {label: 丙, type: boolean}
indicators:
  - code: P
    name: 逐项给分
    points: 5
    rule: {checklist: {items: [{label: 甲, when: a, points: 2}, {label: 乙, when: b, points: 2}, {label: 丙, when: c, points: 2}]}}
  - code: K
    name: 三选二
    points: 4
    rule: {checklist: {at_least: 2, items: [{label: 甲, when: a}, {label: 乙, when: b}, {label: 丙, when: c}]}}
"""


def test_checklist_points_capped_and_k_of_n():
    res = run(plan_of(CHECKLIST), {"a": "是", "b": "√", "c": "有"})
    assert res.indicator("P").points == D("5.00")  # 6, capped at 5
    assert res.indicator("K").status == "met"
    res = run(plan_of(CHECKLIST), {"a": True, "b": False, "c": False})
    assert (res.indicator("P").points, res.indicator("K").points) == (D("2.00"), D("0.00"))


def test_checklist_with_a_missing_item_is_missing():
    r = run(plan_of(CHECKLIST), {"a": True, "b": True}).indicator("K")
    assert r.status == "missing"


def test_deduction_floor_and_item_cap():
    plan = plan_of(
        """
inputs:
  acc: {label: 事故, type: integer, min: 0}
  comp: {label: 投诉, type: integer, min: 0}
indicators:
  - code: D
    name: 安全
    points: 10
    rule:
      deduction:
        floor: 2
        items: [{label: 事故, count: acc, each: 3}, {label: 投诉, count: comp, each: 0.5, max: 2}]
"""
    )
    assert run(plan, {"acc": 1, "comp": 3}).indicator("D").points == D("5.50")  # 10 − 3 − 1.5
    assert run(plan, {"acc": 1, "comp": 9}).indicator("D").points == D("5.00")  # complaints capped at 2
    assert run(plan, {"acc": 5, "comp": 0}).indicator("D").points == D("2.00")  # floor


def test_proportional_and_expression():
    plan = plan_of(
        """
inputs:
  books: {label: 生均图书, type: number}
  minutes: {label: 作业时间, type: number}
indicators:
  - {code: P, name: 图书, points: 5, rule: {proportional: {value: books, target: {小学: 25, 初中: 35}}}}
  - code: E
    name: 作业
    points: 10
    rule: {expression: {points: "10 if minutes <= 60 else max(0, 10 - ceil((minutes - 60) / 10) * 2)", met: minutes <= 60}}
"""
    )
    res = run(plan, {"books": 17, "minutes": 75}, type="初中")
    assert res.indicator("P").points == D("2.43")  # 5 × 17 ÷ 35 = 2.428… → 2.43
    assert (res.indicator("E").points, res.indicator("E").status) == (D("6.00"), "partial")  # 10 − 2 × 2
    # labels and values, then the result: never the expression itself ("10 if 75 ≤ 60 else …")
    assert res.indicator("E").explanation == "E 作业：作业时间 = 75，得 6.00 分 → 部分达标"
    assert res.indicator("E").value == D("75")


def test_not_applicable_leaves_the_denominator_and_rescales():
    plan = plan_of(
        """
inputs:
  x: {label: 甲, type: boolean}
  y: {label: 乙, type: boolean}
indicators:
  - code: A
    name: 一级
    points: 10
    children:
      - {code: A1, name: 甲, points: 6, rule: {checklist: {items: [{label: 甲, when: x, points: 6}]}}}
      - {code: A2, name: 乙, points: 4, applies_to: [初中], rule: {checklist: {items: [{label: 乙, when: y, points: 4}]}}}
"""
    )
    res = run(plan, {"x": True, "y": True}, type="小学")
    assert res.indicator("A2").status == "not_applicable"
    assert res.indicator("A").points == D("10.00")  # 6 × 10 ÷ 6
    assert res.total == D("10.00")


def test_weights_become_exact_points():
    plan = plan_of(
        """
scoring: {method: weights, total: 100}
inputs:
  x: {label: 甲, type: percent}
indicators:
  - code: A
    name: 甲
    weight: 0.6
    children:
      - {code: A1, name: 甲一, weight: 0.5, rule: {proportional: {value: x, target: 100}}}
      - {code: A2, name: 甲二, weight: 0.5, rule: {threshold: {value: x, at_least: 90}}}
  - {code: B, name: 乙, weight: 0.4, rule: {threshold: {value: x, at_least: 50}}}
"""
    )
    res = run(plan, {"x": 80})
    assert res.indicator("A1").possible == D(30)
    assert res.indicator("A1").points == D("24.00")  # 30 × 0.8
    assert res.total == D("64.00")  # 24 + 0 + 40


def test_group_condition_six_of_seven_with_85_percent_floor():
    body = "inputs:\n" + "".join(f"  v{i}: {{label: 值{i}, type: number}}\n" for i in range(1, 8))
    body += "scoring: {method: pass_fail}\nindicators:\n  - code: G\n    name: 资源配置\n    require: {at_least: 6, others_at_least_ratio: 0.85}\n    children:\n"
    body += "".join(
        f"      - {{code: L{i}, name: 指标{i}, rule: {{threshold: {{value: v{i}, at_least: 10}}}}}}\n"
        for i in range(1, 8)
    )
    plan = plan_of(body)
    full = {f"v{i}": 10 for i in range(1, 8)}
    assert run(plan, full).indicator("G").status == "met"
    assert run(plan, {**full, "v7": "8.5"}).indicator("G").status == "met"  # 0.850 ≥ 0.85
    assert run(plan, {**full, "v7": "8.49"}).indicator("G").status == "unmet"  # 0.849
    assert run(plan, {**full, "v6": 9, "v7": 9}).indicator("G").status == "unmet"  # 5 of 7
    assert run(plan, {**full, "v7": None}).indicator("G").status == "missing"


def test_a_not_applicable_parent_takes_its_subtree_out():
    plan = plan_of(
        """
inputs:
  a: {label: 甲, type: number, required: false}
  x: {label: 乙, type: boolean}
indicators:
  - code: G
    name: 组
    points: 4
    applicable: filled(a)
    children:
      - {code: G1, name: 一, points: 4, rule: {threshold: {value: a, at_least: 1}}}
  - {code: H, name: 二, points: 6, rule: {checklist: {items: [{label: 乙, when: x, points: 6}]}}}
"""
    )
    res = run(plan, {"x": True})
    assert [(i.code, i.status) for i in res.indicators] == [
        ("G", "not_applicable"),
        ("G1", "not_applicable"),
        ("H", "met"),
    ]
    assert res.total == D("10.00") and res.rectification == []


def test_every_rule_kind_of_the_language_has_its_check_and_builder_in_the_table():
    """A kind added to the model without its module (or the reverse) is caught here, not by a KeyError at load."""
    from scoring.framework.model import RULE_KINDS
    from scoring.framework.rules import kinds

    assert list(kinds.KINDS) == list(RULE_KINDS)
    for name, kind in kinds.KINDS.items():
        module = getattr(kinds, name)
        assert (kind.check, kind.build) == (module.check, module.build)
