"""Semantic checks: one small framework per mistake, each problem with its code, line and column."""

from __future__ import annotations

import pytest

from ..positions import HEADER, at, by_code, located, problems_in


@pytest.fixture
def check(tmp_path):
    """The problems of HEADER + body, and the full text (for computing where they should be)."""

    def _check(body: str) -> tuple[set, list, str]:
        text = HEADER + body
        problems = problems_in(tmp_path, text)
        return located(problems), problems, text

    return _check


def test_a_clean_framework_has_no_problems(check):
    found, _, _ = check("""\
scoring: {total: 10}
inputs:
  a: {label: A, type: number}
indicators:
  - {code: A1, name: 一, points: 10, rule: {threshold: {value: a, at_least: 1}}}
""")
    assert found == set()


# ---------------------------------------------------------------------------------------------- codes and names


def test_duplicate_codes(check):
    found, problems, text = check("""\
scoring: {total: 10}
inputs:
  a: {label: A, type: boolean}
indicators:
  - code: A1
    name: 一
    points: 5
    rule: {threshold: {value: 1, at_least: 1}}
  - code: A1
    name: 二
    points: 5
    rule: {threshold: {value: 1, at_least: 1}}
vetoes:
  - {code: A1, when: a, effect: fail, reason: 同码}
""")
    assert found == {
        at("duplicate-code", text, "A1", 2),  # the second indicator's code
        at("duplicate-code", text, "A1", 3),  # the veto's code
    }
    msgs = sorted(p.message_zh for p in problems)
    assert msgs == ["指标编码 “A1” 重复", "编码 “A1” 重复"]


def test_names_bad_reserved_and_duplicate(check):
    found, problems, text = check("""\
params:
  x: {value: 1.5}
inputs:
  x: {label: 重名, type: number}
  min: {label: 函数名, type: number}
  unit_type: {label: 内置, type: text}
indicators:
  - {code: A1, name: 一, points: 1, rule: {expression: {points: "x if unit_type == 'a' else 0"}}}
""")
    assert found == {
        at("duplicate-name", text, "x:"),  # reported at params, checked after inputs
        at("bad-name", text, "min:"),
        at("reserved-name", text, "unit_type:"),
        at("unused-input", text, "min:"),  # it cannot be written in an expression
    }
    assert by_code(problems, "duplicate-name").message_zh == "名称 “x” 已在 inputs 中定义"
    assert by_code(problems, "reserved-name").message_zh == "“unit_type” 是内置名称"
    assert by_code(problems, "bad-name").message_en == (
        "'min' cannot be a name: letters, digits, CJK, underscores; not reserved"
    )


def test_unknown_names_in_expressions(check):
    found, problems, text = check("""\
scoring: {total: 10}
inputs:
  teachers: {label: 教师数, type: number}
indicators:
  - code: A1
    name: 一
    points: 10
    rule: {threshold: {value: teacher * 2, at_least: "teachers + 学生"}}
""")
    assert found == {
        at("expr-unknown-name", text, "teacher *"),
        at("expr-unknown-name", text, "学生"),  # inside a quoted scalar: after the quote
    }
    value, bound = sorted(problems, key=lambda p: p.column)
    assert value.path == ("indicators", 0, "rule", "threshold", "value")
    assert value.message_en == "expression error: unknown name 'teacher'; did you mean 'teachers'?"
    assert value.detail == "teacher * 2\n^"
    assert bound.path == ("indicators", 0, "rule", "threshold", "at_least")
    assert bound.message_zh == "表达式错误：未知名称 “学生”（检查输入项和计算项的 id）"
    assert bound.detail == "teachers + 学生\n" + " " * 11 + "^"


def test_expression_result_type(check):
    found, problems, text = check("""\
inputs:
  a: {label: A, type: number}
  ok: {label: 好, type: boolean}
indicators:
  - {code: A1, name: 一, points: 1, applicable: a + 1, rule: {threshold: {value: ok == ok, at_least: 1}}}
""")
    assert found == {
        at("expr-result-type", text, "a + 1"),
    }
    assert by_code(problems, "expr-result-type").message_zh == "表达式的结果应为是/否，这里是数值：a + 1"


def test_derived_cycle_is_reported_once_and_nothing_else(check):
    found, problems, text = check("""\
inputs:
  n: {label: N, type: number}
derived:
  a: {label: 甲, expr: b + 1}
  b: {label: 乙, expr: a * 2 + n}
  self: {label: 自己, expr: self + n}
  late: {label: 后, expr: early * 2}
  early: {label: 先, expr: n + 1}
indicators:
  - {code: A1, name: 一, points: 1, rule: {threshold: {value: late + a + self, at_least: 1}}}
""")
    # No "unknown name 'a'" for b: a exists, it is on the cycle (regression).
    assert found == {
        at("derived-cycle", text, "b + 1"),
        at("derived-cycle", text, "self + n"),
    }
    msgs = sorted(p.message_zh for p in problems)
    assert msgs == ["计算项循环引用：a → b → a", "计算项循环引用：self → self"]
    assert sorted(p.message_en for p in problems) == [
        "derived values form a cycle: a -> b -> a",
        "derived values form a cycle: self -> self",
    ]


# ---------------------------------------------------------------------------------------------- sums


def test_points_sums(check):
    found, problems, text = check("""\
scoring: {total: 100}
inputs:
  a: {label: A, type: number}
indicators:
  - code: A
    name: 甲
    points: 30
    children:
      - {code: A.1, name: 一, points: 10, rule: {threshold: {value: a, at_least: 1}}}
      - {code: A.2, name: 二, points: 15, rule: {threshold: {value: a, at_least: 1}}}
  - code: B
    name: 乙
    points: 60
    rule: {threshold: {value: a, at_least: 1}}
""")
    assert found == {
        at("points-sum", text, "30"),
        at("points-total", text, "100"),
    }
    assert by_code(problems, "points-sum").message_zh == "A 甲 的分值为 30，但下级指标合计 25"
    assert by_code(problems, "points-total").message_en == (
        "total is 100 but first-level indicators add up to 90"
    )


def test_sums_can_be_switched_off(check):
    found, _, _ = check("""\
scoring: {total: 100, check_sums: false}
inputs:
  a: {label: A, type: number}
indicators:
  - code: A
    name: 甲
    points: 30
    children:
      - {code: A.1, name: 一, points: 10, rule: {threshold: {value: a, at_least: 1}}}
""")
    assert found == set()


def test_weights_sums(check):
    found, problems, text = check("""\
scoring: {method: weights}
inputs:
  a: {label: A, type: number}
indicators:
  - code: A
    name: 甲
    weight: 0.5
    children:
      - {code: A.1, name: 一, weight: 0.3, rule: {threshold: {value: a, at_least: 1}}}
      - {code: A.2, name: 二, weight: 0.6, rule: {threshold: {value: a, at_least: 1}}}
  - code: B
    name: 乙
    weight: 0.4
    rule: {threshold: {value: a, at_least: 1}}
  - code: C
    name: 丙
    weight: 0.1
    children:
      - {code: C.1, name: 一, weight: 60, rule: {threshold: {value: a, at_least: 1}}}
      - {code: C.2, name: 二, weight: 40, rule: {threshold: {value: a, at_least: 1}}}
""")
    # Top level 0.5 + 0.4 + 0.1 = 1 and C's 60 + 40 = 100 are fine.
    assert found == {at("weights-sum", text, "- {code: A.1")}  # at the list of children
    assert by_code(problems, "weights-sum").message_zh == "A 的下级权重合计 0.9，应为 1 或 100%"


def test_top_level_weights_and_missing_weight(check):
    found, problems, text = check("""\
scoring: {method: weights}
inputs:
  a: {label: A, type: number}
indicators:
  - {code: A, name: 甲, weight: 0.5, rule: {threshold: {value: a, at_least: 1}}}
  - {code: B, name: 乙, weight: 0.3, rule: {threshold: {value: a, at_least: 1}}}
  - code: C
    name: 丙
    weight: 0.2
    children:
      - {code: C.1, name: 一, weight: 1, rule: {threshold: {value: a, at_least: 1}}}
      - {code: C.2, name: 二, rule: {threshold: {value: a, at_least: 1}}}
""")
    assert found == {at("weight-missing", text, "{code: C.2")}
    found, problems, text = check("""\
scoring: {method: weights}
inputs:
  a: {label: A, type: number}
indicators:
  - {code: A, name: 甲, weight: 0.5, rule: {threshold: {value: a, at_least: 1}}}
  - {code: B, name: 乙, weight: 0.3, rule: {threshold: {value: a, at_least: 1}}}
""")
    assert found == {at("weights-sum", text, "- {code: A")}
    assert by_code(problems, "weights-sum").message_en == "weights under 一级指标 add up to 0.8, not 1 or 100"


def test_leaf_without_points_and_no_indicators(check):
    found, _, text = check("""\
inputs:
  a: {label: A, type: number}
indicators:
  - {code: A1, name: 一, rule: {threshold: {value: a, at_least: 1}}}
""")
    assert found == {at("leaf-without-points", text, "{code: A1")}
    found, problems, _ = check("inputs: {}\n")
    assert [(p.code, p.line, p.column) for p in problems] == [("no-indicators", 1, 1)]


# ---------------------------------------------------------------------------------------------- bands


BANDS = """\
scoring: {total: 50}
inputs:
  r: {label: 比率, type: percent}
  v: {label: 值, type: number}
indicators:
  - code: A1
    name: 不可达
    points: 10
    rule:
      bands:
        value: r
        steps:
          - {at_least: 80, points: 8}
          - {at_least: 90, points: 10}
          - {points: 0}
  - code: A2
    name: 缺口
    points: 10
    rule:
      bands:
        value: v
        steps:
          - {at_least: 90, points: 10}
          - {below: 80, points: 0}
  - code: A3
    name: 重叠
    points: 10
    rule:
      bands:
        value: v
        steps:
          - {at_least: 80, below: 90, points: 8}
          - {at_least: 85, below: 95, points: 9}
          - {points: 0}
  - code: A4
    name: 空档与超分
    points: 10
    rule:
      bands:
        value: v
        steps:
          - {at_least: 90, below: 90, points: 10}
          - {at_least: 50, points: 12}
          - {label: 无结果}
          - {points: 0}
  - code: A5
    name: 百分比覆盖
    points: 10
    rule:
      bands:
        value: r
        steps:
          - {at_least: 60, points: 10}
          - {below: 60, points: 0}
"""


def test_bands(check):
    found, problems, text = check(BANDS)
    assert found == {
        at("band-unreachable", text, "{at_least: 90, points: 10}"),
        at("band-gap", text, "- {at_least: 90, points: 10}", 2),  # at the steps of A2
        at("band-overlap", text, "{at_least: 85"),
        at("band-empty", text, "{at_least: 90, below: 90"),
        at("band-points", text, "12"),
        at("band-outcome", text, "{label: 无结果}"),
        at("band-unreachable", text, "{points: 0}", 3),  # after A4's catch-all without outcome
    }
    msg = {p.code: p.message_zh for p in problems}
    unreachable = sorted(p.message_zh for p in problems if p.code == "band-unreachable")
    assert unreachable == [
        "第 2 档 [90, +∞) 永远不会被用到：前面的档已覆盖它（各档按顺序匹配，请按从高到低排列）",
        "第 4 档 (-∞, +∞) 永远不会被用到：前面的档已覆盖它（各档按顺序匹配，请按从高到低排列）",
    ]
    assert msg["band-gap"] == "分档不连续：取值 [80, 90) 不属于任何一档（可加一档不设界限的兜底档）"
    assert msg["band-overlap"] == "第 2 档 [85, 95) 与第 1 档 [80, 90) 重叠"
    assert msg["band-empty"] == "第 1 档的区间为空 [90, 90)"
    assert msg["band-points"] == "第 2 档的分数 12 超过指标分值 10"
    gap = by_code(problems, "band-gap")
    assert gap.path == ("indicators", 1, "rule", "bands", "steps")
    assert (
        gap.message_en == "bands leave a gap: values in [80, 90) match no band (add a final catch-all band)"
    )


def test_band_gap_within_the_inputs_range(check):
    found, problems, text = check("""\
inputs:
  r: {label: 比率, type: percent}
  n: {label: 数, type: number, min: 0, max: 10}
indicators:
  - code: A1
    name: 一
    points: 10
    rule:
      bands:
        value: r
        steps:
          - {at_least: 60, points: 10}
          - {above: 0, below: 60, points: 5}
  - code: A2
    name: 二
    points: 10
    rule:
      bands:
        value: n
        steps:
          - {at_least: 5, points: 10}
          - {at_least: 0, below: 4, points: 5}
""")
    assert found == {
        at("band-gap", text, "- {at_least: 60"),
        at("band-gap", text, "- {at_least: 5,"),
    }
    assert sorted(p.message_en for p in problems) == [
        "bands leave a gap: values in [0, 0] match no band (add a final catch-all band)",
        "bands leave a gap: values in [4, 5) match no band (add a final catch-all band)",
    ]


# ---------------------------------------------------------------------------------------------- levels and scales


def test_levels_must_cover_the_scale(check):
    found, problems, text = check("""\
scales:
  四级: [优秀, 良好, 合格, 不合格]
inputs:
  lv: {label: 等级, type: level, scale: 四级}
indicators:
  - code: A1
    name: 等级
    points: 10
    rule:
      levels:
        value: lv
        points: {优秀: 10, 良好: 8, 及格: 6}
        met: [优秀, 满分]
""")
    assert found == {
        at("level-unknown", text, "及格"),
        at("level-coverage", text, "{优秀: 10"),
        at("level-met", text, "满分"),
    }
    assert by_code(problems, "level-coverage").message_zh == "等级没有全部给分：缺少 合格、不合格"
    assert (
        by_code(problems, "level-unknown").message_zh == "“及格” 不是量表中的等级（优秀、良好、合格、不合格）"
    )


def test_inputs_choices_and_scales(check):
    found, problems, text = check("""\
inputs:
  c: {label: 选择, type: choice}
  l: {label: 等级, type: level}
  s: {label: 量表, type: level, scale: 五级}
  n: {label: 数, type: number, choices: [a], min: 5, max: 1}
  p: {label: 比例, type: percent, max: 120}
indicators:
  - {code: A1, name: 一, points: 1, rule: {expression: {points: "1 if c == l and s == s and n > p else 0"}}}
""")
    assert found == {
        at("choice-without-choices", text, "{label: 选择"),
        at("level-without-scale", text, "{label: 等级"),
        at("unknown-scale", text, "五级"),
        at("choices-unused", text, "[a]"),
        at("min-max", text, "5, max"),
        at("percent-max", text, "120"),
    }
    assert by_code(problems, "percent-max").severity == "warning"
    assert by_code(problems, "unknown-scale").message_zh == "未定义的等级量表 “五级”（已定义：无）"


# ---------------------------------------------------------------------------------------------- grades and vetoes


def test_grades(check):
    found, problems, text = check("""\
scoring: {total: 30}
inputs:
  a: {label: A, type: number}
indicators:
  - {code: A1, name: 一, points: 30, rule: {threshold: {value: a, at_least: 1}}}
grades:
  - {name: 合格, at_least: 20}
  - {name: 优秀, at_least: 25}
  - {name: 卓越, at_least: 50}
  - {name: 合格, at_least: 5}
  - {name: 不合格, at_least: 1}
""")
    assert found == {
        at("grade-order", text, "25"),
        at("grade-order", text, "50"),
        at("grade-unreachable", text, "50"),
        at("grade-duplicate", text, "合格", 2),
        at("grade-catch-all", text, "{name: 不合格"),
    }
    msg = {(p.code, p.path): p.message_zh for p in problems}
    assert (
        msg[("grade-unreachable", ("grades", 2, "at_least"))] == "等级 “卓越” 需要 50 分，但最高只能得 30 分"
    )
    assert msg[("grade-order", ("grades", 1, "at_least"))] == (
        "等级须从高到低排列：“优秀”（25）不低于前面的 “合格”（20）"
    )
    assert msg[("grade-duplicate", ("grades", 3, "name"))] == "等级 “合格” 重复"
    assert msg[("grade-catch-all", ("grades", 4))] == (
        "最后一个等级 “不合格” 应不设条件，作为兜底（否则低分无等级）"
    )


def test_grade_conditions_are_typed_with_grade_names(check):
    found, _, text = check("""\
inputs:
  a: {label: A, type: number}
indicators:
  - {code: A1, name: 一, points: 10, rule: {threshold: {value: a, at_least: 1}}}
grades:
  - {name: 优秀, at_least: 9, when: count_unmet == 0 and total >= 9}
  - {name: 良好, when: count_met}
  - {name: 合格, when: count_mett > 0}
  - {name: 不合格}
""")
    assert found == {
        at("expr-result-type", text, "count_met}"),
        at("expr-unknown-name", text, "count_mett"),
    }


def test_a_bonus_raises_the_reachable_maximum(check):
    found, _, _ = check("""\
scoring: {total: 10}
inputs:
  a: {label: A, type: number}
indicators:
  - {code: A1, name: 一, points: 10, rule: {threshold: {value: a, at_least: 1}}}
bonus:
  cap: 2
  items:
    - {code: B1, name: 加分, points: 2, when: a > 5}
grades:
  - {name: 满分以上, at_least: 12}
  - {name: 其他}
""")
    assert found == set()


def test_vetoes(check):
    found, problems, text = check("""\
inputs:
  bad: {label: 事故, type: boolean}
indicators:
  - {code: A1, name: 一, points: 10, rule: {threshold: {value: 1, at_least: 1}}}
vetoes:
  - {code: V1, when: bad, effect: {cap: 良好}, reason: 封顶}
  - {code: V2, when: bad, effect: {downgrade: 1}, reason: 降等}
  - {code: V3, when: bad + 1, effect: fail, reason: 类型错}
grades:
  - {name: 合格}
""")
    assert found == {
        at("veto-grade", text, "良好"),
        at("veto-grade", text, "{downgrade"),
        at("expr-type", text, "bad + 1"),
    }
    msg = {p.line: p.message_zh for p in problems}
    assert msg[9] == "否决效果引用了未定义的等级 “良好”（已定义：合格）"
    assert msg[10] == "降等次需要至少两个等级"


def test_data_checks(check):
    found, _, text = check("""\
inputs:
  a: {label: 甲, type: integer}
indicators:
  - {code: A1, name: 一, points: 10, rule: {threshold: {value: a, at_least: 1}}}
checks:
  - {code: K1, when: a <= teachers, message: 多于教师数}
  - {code: K2, when: a + 1, message: 不是条件}
  - {code: A1, when: a >= 0, message: 编码重复, severity: fatal}
""")
    assert found == {
        at("expr-unknown-name", text, "teachers"),
        at("expr-result-type", text, "a + 1"),
        at("duplicate-code", text, "A1, when"),
        at("schema-literal-error", text, "fatal"),
    }


# ---------------------------------------------------------------------------------------------- unit types


UNIT_TYPES = """\
applies_to: [小学, 初中]
inputs:
  v: {label: 值, type: number}
indicators:
  - code: A1
    name: 缺类型
    points: 10
    rule:
      threshold: {value: v, at_least: {小学: 4.2}}
  - code: A2
    name: 未知类型
    points: 10
    applies_to: [小学, 高中]
    rule:
      threshold: {value: v, at_least: {小学: 4.2, 高中: 6}}
  - code: A3
    name: 只适用于小学
    points: 10
    applies_to: [小学]
    rule:
      proportional: {value: v, target: {小学: 25}}
tests:
  - name: 类型
    unit: {type: 中职}
    values: {v: 1}
    expect: {total: 0}
"""


def test_per_unit_type_standards(check):
    found, problems, text = check(UNIT_TYPES)
    assert found == {
        at("bound-unit-types", text, "{小学: 4.2}"),  # A1 applies to 初中 too
        at("unknown-unit-type", text, "高中]"),
        at("unknown-unit-type", text, "高中: 6"),
        at("unknown-unit-type", text, "中职"),
    }
    assert by_code(problems, "bound-unit-types").message_zh == "按单位类型给出的标准缺少：初中"
    msgs = sorted(p.message_zh for p in problems if p.code == "unknown-unit-type")
    assert msgs == [
        "未知的单位类型 “中职”",
        "未知的单位类型 “高中”（框架适用于：小学、初中）",
        "未知的单位类型 “高中”（框架适用于：小学、初中）",
    ]


def test_unit_types_need_applies_to(check):
    found, problems, text = check("""\
inputs:
  v: {label: 值, type: number, applies_to: [小学]}
indicators:
  - {code: A1, name: 一, points: 10, rule: {threshold: {value: v, at_least: {小学: 4.2}}}}
""")
    assert found == {
        at("applies-to-undeclared", text, "[小学]"),
        at("applies-to-undeclared", text, "{小学: 4.2}"),
    }
    assert sorted(p.message_en for p in problems) == [
        "a standard is given per unit type but the framework declares no applies_to",
        "unit types are used but the framework declares no applies_to",
    ]


# ---------------------------------------------------------------------------------------------- rules


def test_threshold_bounds(check):
    found, _, text = check("""\
inputs:
  v: {label: 值, type: number}
indicators:
  - {code: A1, name: 一, points: 1, rule: {threshold: {value: v, at_least: 5, above: 4}}}
  - {code: A2, name: 二, points: 1, rule: {threshold: {value: v, at_least: 5, below: 3}}}
""")
    assert found == {
        at("threshold-bounds", text, "{value: v, at_least: 5, above"),
        at("threshold-empty", text, "{value: v, at_least: 5, below"),
    }


def test_checklists(check):
    found, problems, text = check("""\
inputs:
  b1: {label: 甲, type: boolean}
  b2: {label: 乙, type: boolean}
indicators:
  - code: A1
    name: 至少
    points: 10
    rule:
      checklist:
        at_least: 3
        items:
          - {label: 甲, when: b1}
          - {label: 乙, when: b2}
  - code: A2
    name: 混合
    points: 10
    rule:
      checklist:
        at_least: 1
        items:
          - {label: 甲, when: b1, points: 5}
  - code: A3
    name: 缺分
    points: 10
    rule:
      checklist:
        items:
          - {label: 甲, when: b1, points: 5}
          - {label: 乙, when: b2}
  - code: A4
    name: 不足
    points: 10
    rule:
      checklist:
        items:
          - {label: 甲, when: b1, points: 3}
          - {label: 乙, when: b2, points: 3}
""")
    assert found == {
        at("checklist-k", text, "3"),
        at("checklist-mixed", text, "at_least: 1", shift=10),
        at("checklist-points", text, "- {label: 甲, when: b1, points: 5}", 2),
        at("checklist-sum", text, "- {label: 甲, when: b1, points: 3}"),
    }
    assert by_code(problems, "checklist-k").message_zh == "at_least = 3，但只有 2 项"
    assert by_code(problems, "checklist-sum").severity == "warning"


def test_require(check):
    found, problems, text = check("""\
inputs:
  v: {label: 值, type: number}
  ok: {label: 好, type: boolean}
indicators:
  - code: A
    name: 组
    points: 10
    require: {at_least: 3, others_at_least_ratio: 0.85}
    children:
      - {code: A.1, name: 一, points: 5, rule: {threshold: {value: v, at_least: 1}}}
      - {code: A.2, name: 二, points: 5, rule: {checklist: {at_least: 1, items: [{label: 好, when: ok}]}}}
""")
    assert found == {
        at("require-k", text, "3, others"),
        at("require-ratio", text, "{checklist"),
    }
    assert by_code(problems, "require-k").message_zh == "要求至少 3 项达标，但只有 2 项下级指标"


def test_deduction_and_proportional(check):
    found, _, text = check("""\
inputs:
  n: {label: 次数, type: integer}
indicators:
  - {code: A1, name: 一, points: 5, rule: {deduction: {floor: 6, items: [{label: 事故, count: n, each: 1}]}}}
  - {code: A2, name: 二, points: 5, rule: {proportional: {value: n, target: 0}}}
""")
    assert found == {
        at("deduction-floor", text, "6,"),
        at("target-positive", text, "0}"),
    }


def test_rectify_templates(check):
    found, problems, text = check("""\
inputs:
  v: {label: 值, type: number}
derived:
  d: {label: 倍, expr: v * 2}
indicators:
  - code: A1
    name: 一
    points: 10
    rule: {threshold: {value: v, at_least: 1}}
    rectify:
      problem: "{name}为{value}，差{gapp}，输入{v}，计算{d}"
      requirement: "补足{"
vetoes:
  - code: V1
    when: v > 100
    effect: fail
    reason: 过大
    rectify: {problem: "{值}"}
""")
    assert found == {
        at("rectify-placeholder", text, '"{name}'),
        at("rectify-template", text, '"补足'),
        at("rectify-placeholder", text, '"{值}'),
    }
    msg = {p.line: p.message_zh for p in problems}
    assert msg[14] == (
        "整改模板中的占位符 {gapp} 未知（可用：code, gap, lost, name, points, reason, standard, status, unit, "
        "value，或输入项、计算项的 id）"
    )
    assert msg[15].startswith("整改模板格式错误：")


def test_unused_input_is_a_warning(check):
    found, problems, text = check("""\
inputs:
  used: {label: 用到, type: number}
  spare: {label: 备用, type: number}
  in_veto: {label: 否决用, type: boolean}
indicators:
  - {code: A1, name: 一, points: 1, rule: {threshold: {value: used, at_least: 1}}}
vetoes:
  - {code: V1, when: in_veto, effect: fail, reason: 否决}
""")
    assert found == {at("unused-input", text, "spare")}
    [p] = problems
    assert p.severity == "warning"
    assert p.path == ("inputs", "spare")
    assert p.message_en == "input 'spare' (备用) is not used by any derived value, rule or veto"


# ---------------------------------------------------------------------------------------------- test cases


def test_tests_refer_to_known_things(check):
    found, problems, text = check("""\
inputs:
  v: {label: 值, type: number}
indicators:
  - {code: A1, name: 一, points: 10, rule: {threshold: {value: v, at_least: 1}}}
  - {code: A2, name: 二, points: 0, rule: {manual: {levels: {A: 0}}}}
grades:
  - {name: 合格}
tests:
  - name: 例一
    values: {vv: 1}
    manual: {A3: A}
    expect:
      status: {A9: met}
      points: {A1: 10, A8: 1}
      vetoes: [V9]
      grade: 超级
""")
    assert found == {
        at("test-unknown-input", text, "vv"),
        at("test-unknown-code", text, "A3"),
        at("test-unknown-code", text, "A9"),
        at("test-unknown-code", text, "A8"),
        at("test-unknown-code", text, "[V9]"),
        at("test-unknown-grade", text, "超级"),
    }
    assert (
        by_code(problems, "test-unknown-input").message_zh
        == "测试用例 “例一” 填了未知的输入项 “vv”，是不是 “v”？"
    )
    assert by_code(problems, "test-unknown-grade").message_en == "expected grade '超级' is not defined"
    manual = next(p for p in problems if p.path == ("tests", 0, "manual", "A3"))
    assert manual.message_zh == "测试用例给不存在的指标 “A3” 评分"


# ---------------------------------------------------------------------------------------------- plausible ranges


def test_plausible_ranges(check):
    found, problems, text = check("""\
inputs:
  a: {label: 人数, type: integer, unit: 人, plausible: {min: 9, max: 3}}
  b: {label: 面积, type: number, unit: m², min: 100, plausible: {max: 50}}
  c: {label: 选项, type: boolean, plausible: {max: 1}}
  d: {label: 人数二, type: integer, unit: 人, plausible: {min: 30000000}}
  e: {label: 比例, type: percent, plausible: {max: 90, severity: error}}
indicators:
  - {code: A1, name: 一, points: 1, rule: {expression: {points: "1 if c and a + b + d + e > 0 else 0"}}}
""")
    assert found == {
        at("plausible-range", text, "9, max"),  # min 9 above max 3
        at("plausible-range", text, "{max: 50}"),  # every valid area (≥ 100) is implausible
        at("plausible-type", text, "{max: 1}"),
        at("plausible-range", text, "30000000"),  # above the default max (2e7 人: no level, a county's)
    }
    assert by_code(problems, "plausible-type").message_zh.startswith(
        "只有数值、整数、百分比填报项才有合理范围"
    )
    assert all(p.severity == "error" for p in problems)


def test_a_misspelt_plausible_key_is_an_unknown_key(check):
    _, problems, _ = check("""\
inputs:
  a: {label: 人数, type: integer, unit: 人, plausible: {maximum: 3}}
indicators:
  - {code: A1, name: 一, points: 1, rule: {threshold: {value: a, at_least: 1}}}
""")
    assert len(problems) == 1 and problems[0].line == 5, [(p.code, p.line, p.column) for p in problems]


# ---------------------------------------------------------------------------------------------- expressions that always fail


def test_expressions_that_would_fail_every_submission_are_errors(check):
    found, problems, text = check("""\
inputs:
  s: {label: 在校生数, type: integer, unit: 人, min: 0}
derived:
  d1: {label: 大常数, expr: 1e400 * s}
  d2: {label: 除零, expr: s / 0}
  d3: {label: 位数, expr: "round(s, 999999)"}
  d4: {label: 开方, expr: "s + sqrt(-4)"}
indicators:
  - {code: A1, name: 一, points: 1, rule: {expression: {points: "min(d1 + d2 + d3 + d4, 1)"}}}
""")
    assert found == {
        at("expr-range", text, "1e400"),
        at("expr-zero-division", text, "s / 0", shift=4),
        at("expr-range", text, "999999"),
        at("expr-constant", text, "sqrt(-4)"),
    }
    assert by_code(problems, "expr-zero-division").detail == "s / 0\n    ^"
    assert (
        by_code(problems, "expr-constant").message_en
        == "expression error: this part always fails: square root of a negative number"
    )


def test_a_test_case_may_expect_an_implausible_value(check):
    found, _, text = check("""\
inputs:
  a: {label: 人数, type: integer, unit: 人}
indicators:
  - {code: A1, name: 一, points: 1, rule: {threshold: {value: a, at_least: 1}}}
tests:
  - name: 多打了几位
    values: {a: 100000000000}
    expect: {checks: [implausible]}
  - name: 写错了编码
    values: {a: 1}
    expect: {checks: [implausibel]}
""")
    assert found == {at("test-unknown-code", text, "[implausibel]")}


def test_a_rating_without_points_counts_its_highest_level_in_the_sums(tmp_path):
    """docs/framework.md: a manual rule with levels and no points is worth its top level (issue 14's lide-shuren
    had to write points on each rating to satisfy points-sum)."""
    text = (
        HEADER
        + """
scoring: {total: 10}
indicators:
  - code: A
    name: 甲
    points: 10
    children:
      - {code: A1, name: 一, points: 5, rule: {manual: {levels: {A: 5, B: 3}}}}
      - {code: A2, name: 二, rule: {manual: {levels: {A: 5, B: 3, C: 0}}}}
"""
    )
    assert [p.code for p in problems_in(tmp_path, text)] == []


def test_a_per_type_standard_needs_only_the_types_its_ancestors_apply_to(tmp_path):
    text = (
        HEADER
        + """
applies_to: [小学, 初中, 区县]
inputs:
  h: {label: 时长, type: number}
indicators:
  - code: S
    name: 学校部分
    points: 10
    applies_to: [小学, 初中]
    children:
      - {code: S1, name: 作业, points: 10, rule: {threshold: {value: h, at_most: {小学: 60, 初中: 90}}}}
  - code: C
    name: 区县部分
    points: 10
    applies_to: [区县]
    children:
      - {code: C1, name: 培训, points: 10, rule: {threshold: {value: h, at_most: {小学: 21}}}}
"""
    )
    problems = problems_in(tmp_path, text)
    assert [(p.code, p.message_zh) for p in problems] == [
        (
            "bound-unit-types",
            "按单位类型给出的标准缺少：区县",
        )  # C1 is for 区县 only; S1 needs no 区县 standard
    ]
