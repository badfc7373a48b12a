"""Every placeholder of a 整改 text resolves for the rule it stands in, or ``validate`` says it cannot (issue 14:
demo-school A2.3 once printed "书面作业平均完成时间—分钟")."""

from __future__ import annotations

import pytest

from ..helpers import plan_of, run
from ..positions import HEADER, problems_in

HOMEWORK = """
inputs:
  homework_minutes: {label: 书面作业平均完成时间, type: number, unit: 分钟, min: 0}
  pupils: {label: 学生数, type: integer, min: 0}
indicators:
  - code: A
    name: 作业管理
    points: 10
    rule:
      expression:
        points: "10 if homework_minutes <= 60 else max(0, 10 - ceil((homework_minutes - 60) / 10) * 2)"
        met: homework_minutes <= 60
    rectify:
      problem: 书面作业平均完成时间{value}{unit}，超过60分钟
"""


def test_an_expression_of_one_value_reports_that_value_and_its_unit():
    result = run(plan_of(HOMEWORK), {"homework_minutes": 85})
    a = result.indicator("A")
    assert (a.value, a.unit, a.points) == (85, "分钟", 4)  # 10 − ceil(25 ÷ 10) × 2
    assert [item.problem for item in result.rectification] == ["书面作业平均完成时间85分钟，超过60分钟"]


def _empty(tmp_path, text: str) -> list[str]:
    return [
        p.message_zh
        for p in problems_in(tmp_path, HEADER + text)
        if p.code == "rectify-placeholder-empty" and p.severity == "warning"
    ]


def test_a_template_that_resolves_is_not_flagged(tmp_path):
    assert _empty(tmp_path, HOMEWORK) == []


def test_value_of_an_expression_over_two_values_is_flagged(tmp_path):
    text = HOMEWORK.replace("else max(0,", "else max(pupils * 0,")
    assert _empty(tmp_path, text) == [
        "整改模板中的 {value} 在这条“表达式”规则中没有值（它读取 2 个数据项，不是一个），整改文字里会是“—”或空白："
        "请改用输入项的 id 或直接写出"
    ]


@pytest.mark.parametrize(
    ("rule", "placeholder", "why"),
    [
        ("{levels: {value: grade, points: {A: 10, B: 5}}}", "standard", "“等级评定”规则中没有标准"),
        ("{deduction: {items: [{label: 事故, count: pupils, each: 2}]}}", "gap", "“扣分”规则中没有差距"),
        (
            "{bands: {value: pupils, steps: [{at_least: 10, points: 10}, {points: 0}]}}",
            "gap",
            "“分档”规则中没有差距",
        ),
    ],
)
def test_standard_and_gap_where_the_kind_has_none_are_flagged(tmp_path, rule, placeholder, why):
    text = f"""
inputs:
  pupils: {{label: 学生数, type: integer, min: 0}}
  grade: {{label: 评定等级, type: level, choices: [A, B]}}
indicators:
  - code: A
    name: 甲
    points: 10
    rule: {rule}
    rectify: {{problem: "差{{{placeholder}}}"}}
"""
    assert _empty(tmp_path, text) == [
        f"整改模板中的 {{{placeholder}}} 在这条{why}，整改文字里会是“—”或空白：请改用输入项的 id 或直接写出"
    ]


def test_strict_validation_fails_on_it(tmp_path):
    from click.testing import CliRunner

    from scoring.cli import main

    path = tmp_path / "f.yaml"
    path.write_text(HEADER + HOMEWORK.replace("else max(0,", "else max(pupils * 0,"), encoding="utf-8")
    assert CliRunner().invoke(main, ["validate", str(path)]).exit_code == 0
    assert CliRunner().invoke(main, ["validate", "--strict", str(path)]).exit_code == 1


def test_standard_of_bands_is_the_first_bands_number_as_for_a_threshold():
    plan = plan_of(
        """
inputs:
  r: {label: 参与率, type: percent}
indicators:
  - code: A
    name: 课后服务
    points: 10
    rule: {bands: {value: r, steps: [{at_least: 95, points: 10}, {at_least: 70, points: 5}, {points: 0}]}}
    rectify: {problem: "参与率{value}%，未达到{standard}%"}
"""
    )
    result = run(plan, {"r": 80})
    assert [i.problem for i in result.rectification] == ["参与率80%，未达到95%"]  # once "未达到≥ 95%"
