"""Loading: YAML → models → checks, with every problem of a file located and translated in one run."""

from __future__ import annotations

from decimal import Decimal

import pytest

from scoring.framework import registry
from scoring.framework.load import load_framework, load_text, validate_path
from scoring.framework.model import Framework
from scoring.problems import FrameworkError

from ..conftest import FRAMEWORKS
from ..positions import by_code, line_col, located

FIVE_MISTAKES = """\
id: five
name: 五个错误
version: "1"
scoring: {total: 20}
inputs:
  teachers: {label: 教师数, type: integer, minn: 0}
  students: {label: 学生数, type: integer, min: 1}
  rate: {label: 比率, type: percent}
derived:
  ratio: {label: 师生比, expr: teacher / students * 100}
indicators:
  - code: A1
    name: 一
    points: ten
    rule: {threshold: {value: ratio, at_least: 5}}
  - code: A2
    points: 10
    rule:
      bands:
        value: rate
        steps:
          - {at_least: 90, points: 10}
          - {at_least: 95, points: 8}
          - {points: 0}
"""


def test_five_mistakes_on_five_lines_in_one_run(write):
    path = write("five.yaml", FIVE_MISTAKES)
    fw, problems = validate_path(path)
    assert fw is None
    text = FIVE_MISTAKES
    expected = {
        ("schema-unknown-key", *line_col(text, "minn")),  # 6:41
        ("expr-unknown-name", *line_col(text, "teacher /")),  # 10:29, at the name inside the expression
        ("schema-decimal-parsing", *line_col(text, "ten")),  # 14:13
        ("schema-missing", *line_col(text, "code: A2")),  # 16:5, at the mapping that lacks the key
        ("band-unreachable", *line_col(text, "{at_least: 95")),  # 23:13
    }
    assert expected == {
        ("schema-unknown-key", 6, 41),
        ("expr-unknown-name", 10, 29),
        ("schema-decimal-parsing", 14, 13),
        ("schema-missing", 16, 5),
        ("band-unreachable", 23, 13),
    }
    assert expected <= located(problems)
    assert all(p.file == str(path) for p in problems)
    assert all(p.severity == "error" for p in problems)

    assert by_code(problems, "schema-unknown-key").message_zh == "未知的键 “minn”，是不是 “min”？"
    expr = by_code(problems, "expr-unknown-name")
    assert expr.path == ("derived", "ratio", "expr")
    assert expr.message_zh == "表达式错误：未知名称 “teacher”；是不是 “teachers”？（检查输入项和计算项的 id）"
    assert expr.detail == "teacher / students * 100\n^"
    assert by_code(problems, "schema-decimal-parsing").message_zh == "应为数值（实际为：'ten'）"
    missing = by_code(problems, "schema-missing")
    assert missing.path == ("indicators", 1, "name")
    assert missing.message_zh == "缺少必填项 “name”"
    assert by_code(problems, "band-unreachable").path == ("indicators", 1, "rule", "bands", "steps", 1)

    with pytest.raises(FrameworkError) as info:
        load_framework(path)
    assert expected <= located(info.value.problems)


def test_messages_in_english(write):
    path = write("five.yaml", FIVE_MISTAKES)
    _, problems = validate_path(path)
    en = {p.code: p.message("en") for p in problems}
    assert en["schema-unknown-key"] == "unknown key 'minn'; did you mean 'min'?"
    assert en["schema-decimal-parsing"] == "Input should be a valid decimal"
    assert en["schema-missing"] == "missing required key 'name'"
    assert en["expr-unknown-name"] == "expression error: unknown name 'teacher'; did you mean 'teachers'?"
    assert en["band-unreachable"] == (
        "band 2 [95, +∞) is never used: earlier bands cover it (order bands high to low)"
    )
    p = by_code(problems, "schema-unknown-key")
    assert p.format("en") == (
        f"{path}:6:41: error [schema-unknown-key] (inputs.teachers.minn): unknown key 'minn'; did you mean 'min'?"
    )
    assert p.format("zh") == (
        f"{path}:6:41: 错误 [schema-unknown-key] (inputs.teachers.minn): 未知的键 “minn”，是不是 “min”？"
    )


WRONG_TYPES = """\
id: types
name: 类型
version: "1"
scoring: {method: point, total: 10, precison: 2}
inputs:
  a: {label: A, type: number, required: maybe, choices: 5}
  b: [1, 2]
  c: {label: C, type: integr}
indicators:
  - code: A1
    name: 一
    points: 10
    rule: {threshold: {value: a}}
  - code: A2
    name: 二
    points: 0
    rule: {threshold: {value: a, at_least: 1}, manual: {}}
  - code: A3
    name: 三
    points: 0
vetoes:
  - {code: V1, when: a > 1, effect: explode, reason: x}
"""


def test_wrong_types_are_translated_and_located(write):
    path = write("types.yaml", WRONG_TYPES)
    _, problems = validate_path(path)
    got = {(p.code, p.line, p.column): (p.message_zh, p.message_en) for p in problems}
    assert got[("schema-literal-error", 4, 19)] == (
        "取值无效，应为 points, weights or pass_fail（实际为：'point'）",
        "Input should be 'points', 'weights' or 'pass_fail'",
    )
    assert got[("schema-unknown-key", 4, 37)] == (
        "未知的键 “precison”，是不是 “precision”？",
        "unknown key 'precison'; did you mean 'precision'?",
    )
    assert got[("schema-bool-parsing", 6, 41)][0] == "应为是/否（true / false）（实际为：'maybe'）"
    assert got[("schema-list-type", 6, 57)] == ("应为列表（实际为：5）", "Input should be a valid list")
    assert got[("schema-model-type", 7, 6)][0] == "应为映射（键: 值）"
    assert got[("schema-literal-error", 8, 23)][0] == (
        "取值无效，应为 number, integer, percent, boolean, choice, level, text or date（实际为：'integr'）"
    )
    assert got[("schema-threshold-bound", 13, 23)][1] == (
        "give a standard: at_least, above, at_most, below or equals"
    )
    assert got[("schema-threshold-bound", 13, 23)][0].startswith(
        "阈值规则需要给出标准：at_least（≥，以上/不低于）"
    )
    assert got[("schema-rule-kind", 17, 11)] == (
        "一条规则必须恰好有一种类型（threshold, bands, levels, checklist, boolean, deduction, proportional, expression, manual），"
        "这里是：threshold, manual",
        "a rule has exactly one kind (threshold, bands, levels, checklist, boolean, deduction, proportional, expression, "
        "manual); found threshold, manual",
    )
    assert got[("schema-indicator-shape", 18, 5)][0] == (
        "指标要么有规则（rule），要么有下级指标（children），且只能二选一"
    )
    assert got[("schema-veto-effect", 22, 37)][0] == (
        "否决效果应为 fail（不予认定）、{downgrade: 1}（降低等次）或 {cap: 等级}（不得评为高于该等级）（实际为：'explode'）"
    )
    paths = {p.code + str(p.line): p.path for p in problems}
    assert paths["schema-literal-error4"] == ("scoring", "method")
    assert paths["schema-model-type7"] == ("inputs", "b")
    assert paths["schema-threshold-bound13"] == ("indicators", 0, "rule", "threshold")


def test_veto_effect_message_in_english(write):
    _, problems = validate_path(write("types.yaml", WRONG_TYPES))
    assert by_code(problems, "schema-veto-effect").message_en == "effect is fail, downgrade: N or cap: GRADE"


def test_unknown_key_without_a_close_match_lists_the_allowed_keys(write):
    text = "id: k\nname: 键\nversion: '1'\ninputs:\n  a: {label: A, type: number, zzzzz: 1}\n"
    _, problems = validate_path(write("k.yaml", text))
    p = by_code(problems, "schema-unknown-key")
    assert (p.line, p.column, p.path) == (5, 31, ("inputs", "a", "zzzzz"))
    assert p.message_zh.startswith("未知的键 “zzzzz”（可用的键：label, type, unit, min, max, choices,")
    assert p.message_en.startswith("unknown key 'zzzzz' (allowed: label, type, unit, min, max, choices,")


def test_top_level_unknown_key_has_did_you_mean(write):
    text = "id: k\nname: 键\nversion: '1'\nindicator: []\n"
    _, problems = validate_path(write("k.yaml", text))
    p = by_code(problems, "schema-unknown-key")
    assert (p.line, p.column, p.path) == (4, 1, ("indicator",))
    assert p.message_en == "unknown key 'indicator'; did you mean 'indicators'?"


def test_missing_required_key_is_located_at_its_parent(write):
    text = "id: m\nversion: '1'\ninputs:\n  a: {type: number}\n  b:\n    type: number\n"
    _, problems = validate_path(write("m.yaml", text))
    missing = {
        p.path: (p.line, p.column, p.message_zh, p.message_en) for p in problems if p.code == "schema-missing"
    }
    assert missing == {
        ("name",): (1, 1, "缺少必填项 “name”", "missing required key 'name'"),
        ("inputs", "a", "label"): (4, 6, "缺少必填项 “label”", "missing required key 'label'"),
        ("inputs", "b", "label"): (6, 5, "缺少必填项 “label”", "missing required key 'label'"),
    }


def test_missing_descriptive_text_does_not_hide_semantic_problems(write):
    text = """\
id: m
version: '1'
inputs:
  a: {type: number}
indicators:
  - code: A1
    points: 10
    rule: {threshold: {value: nope, at_least: 1}}
"""
    _, problems = validate_path(write("m.yaml", text))
    assert located(problems) == {
        ("schema-missing", 1, 1),
        ("schema-missing", 4, 6),
        ("schema-missing", 6, 5),
        ("expr-unknown-name", 8, 31),
    }


def test_a_bad_id_or_version_does_not_hide_semantic_problems(write):
    text = """\
id: bad id!
name: 坏编号
version: [1]
inputs:
  a: {label: A, type: number}
indicators:
  - {code: A1, name: 甲, points: 10, rule: {threshold: {value: nope, at_least: 1}}}
"""
    _, problems = validate_path(write("m.yaml", text))
    assert located(problems) == {
        ("schema-string-pattern-mismatch", 1, 5),
        ("schema-string-type", 3, 10),
        ("expr-unknown-name", 7, 63),
    }


def test_missing_structural_key_stops_before_semantics(write):
    # Without a type the input cannot be checked; only the schema problem is reported.
    text = "id: m\nname: 缺\nversion: '1'\ninputs:\n  a: {label: A}\nindicators: []\n"
    _, problems = validate_path(write("m.yaml", text))
    assert located(problems) == {("schema-missing", 5, 6)}


def test_top_level_must_be_a_mapping(write):
    for text in ("- a\n- b\n", "", "just text\n"):
        _, problems = validate_path(write("l.yaml", text))
        assert [(p.code, p.line) for p in problems] == [("not-mapping", 1)]
        assert problems[0].message_zh == "框架文件的顶层必须是映射（键: 值）"


def test_yaml_problems_come_through_with_the_file(write):
    path = write("y.yaml", "id: y\nname: 重复\nid: z\n")
    _, problems = validate_path(path)
    assert [(p.code, p.file, p.line, p.column) for p in problems] == [("yaml-duplicate-key", str(path), 3, 1)]


def test_encoding_problem_through_validate(tmp_path):
    path = tmp_path / "gbk.yaml"
    path.write_bytes(b"id: g\nname: " + "督导".encode("gbk") + b"\n")
    fw, problems = validate_path(path)
    assert fw is None
    assert [(p.code, p.line) for p in problems] == [("encoding", 2)]


def test_load_framework_raises_with_every_error(write):
    path = write("five.yaml", FIVE_MISTAKES)
    with pytest.raises(FrameworkError) as info:
        load_framework(path)
    assert len(info.value.problems) >= 5
    assert all(p.severity == "error" for p in info.value.problems)
    assert f"{path}:6:41: 错误 [schema-unknown-key]" in str(info.value)


def test_load_text():
    fw = load_text(
        "id: t\nname: 文本\nversion: 2\ninputs:\n  a: {label: A, type: number}\nindicators:\n"
        "  - {code: A1, name: 一, points: 4.5, rule: {threshold: {value: a, at_least: 4.2}}}\n"
    )
    assert isinstance(fw, Framework)
    assert fw.version == "2"
    [ind] = fw.indicators
    assert ind.points == Decimal("4.5")
    assert ind.rule.threshold.at_least == Decimal("4.2")
    with pytest.raises(FrameworkError) as info:
        load_text("id: t\nname: x\n", "mem.yaml")
    assert [(p.code, p.file, p.path) for p in info.value.problems] == [
        ("schema-missing", "mem.yaml", ("version",))
    ]


def test_warnings_do_not_stop_loading(write):
    text = """\
id: w
name: 警告
version: "1"
inputs:
  a: {label: A, type: number}
  spare: {label: 备用, type: number}
indicators:
  - {code: A1, name: 一, points: 1, rule: {threshold: {value: a, at_least: 1}}}
"""
    path = write("w.yaml", text)
    fw, problems = validate_path(path)
    assert fw is not None and fw.id == "w"
    assert [(p.code, p.severity, p.line, p.column) for p in problems] == [("unused-input", "warning", 6, 3)]
    assert problems[0].message_zh == "输入项 “spare”（备用）没有被任何计算项、规则、否决项或数据核查使用"
    assert load_framework(path).id == "w"


def test_shipped_id_loads():
    fw = load_framework("demo-school")
    assert fw.id == "demo-school"
    assert fw.name == "中小学办学质量考评（演示）"
    assert fw.version == "1.0"
    assert [i.code for i in fw.indicators] == ["A1", "A2", "A3", "A4"]
    assert {"A1.1", "A2.1", "A3.3", "A4.3"} <= {i.code for i in fw.walk()}
    assert fw.settings.total == Decimal(100)
    assert fw.applies_to == ["小学", "初中"]
    a11 = next(i for i in fw.walk() if i.code == "A1.1")
    assert a11.rule.threshold.at_least == {"小学": Decimal("4.2"), "初中": Decimal("5.3")}
    assert load_framework(FRAMEWORKS / "demo-school.yaml").id == "demo-school"


def test_shipped_framework_is_clean():
    fw, problems = validate_path("demo-school")
    assert fw is not None
    assert problems == []


def test_unknown_id_is_not_found():
    with pytest.raises(FrameworkError) as info:
        load_framework("no-such-framework")
    [p] = info.value.problems
    assert (p.code, p.file, p.line) == ("not-found", "no-such-framework", None)
    shipped = ", ".join(e.id for e in registry.entries())
    assert "demo-school" in shipped
    assert p.message_zh == f"找不到框架文件或框架 id “no-such-framework”（已内置：{shipped}）"
    assert p.message_en == f"no framework file or shipped id 'no-such-framework' (shipped: {shipped})"


def test_absurd_numbers_are_a_problem_not_a_traceback(write):
    text = """\
id: big
name: 大数
version: "1"
scoring: {total: 10}
inputs:
  a: {label: A, type: number}
indicators:
  - {code: A1, name: 一, points: 1.0e+999999999, rule: {threshold: {value: a, at_least: 1}}}
"""
    _, problems = validate_path(write("big.yaml", text))
    assert [(p.code, p.line, p.column) for p in problems] == [("points-total", 4, 18)]


def test_integer_parameter_is_a_number(write):
    text = """\
id: p
name: 参数
version: "1"
params:
  标准: {value: 5}
inputs:
  a: {label: A, type: number}
indicators:
  - {code: A1, name: 一, points: 1, rule: {threshold: {value: a, at_least: 标准}}}
"""
    fw = load_framework(write("p.yaml", text))
    assert fw.params["标准"].value == Decimal(5)


@pytest.mark.parametrize("path", sorted(FRAMEWORKS.glob("*.yaml")), ids=lambda p: p.stem)
def test_a_framework_built_in_code_compiles_like_the_loaded_one(path):
    """An embedder may build a framework from data (here: the loaded one's dump, with its explicit nulls):
    it is checked when compiled and gives the same plan."""
    import scoring

    loaded = load_framework(path)
    built = Framework.model_validate(loaded.model_dump())
    assert scoring.compile_plan(built).hash == scoring.compile_plan(loaded).hash
    assert loaded == load_framework(path)  # the kept check takes no part in comparisons


@pytest.mark.parametrize("path", sorted(FRAMEWORKS.glob("*.yaml")), ids=lambda p: p.stem)
def test_loading_and_compiling_leave_nothing_for_the_cycle_collector(path):
    """A framework and its plan are freed as soon as they are dropped (a service reloads frameworks; cyclic
    garbage would wait for full collections, which also slowed loading itself)."""
    import gc

    import scoring

    scoring.compile_plan(load_framework(path))  # warm: first-use caches are not garbage
    gc.collect()
    gc.disable()
    try:
        plan = scoring.compile_plan(load_framework(path))
        del plan
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_a_framework_pickles_and_its_copy_is_checked_again():
    import pickle

    import scoring
    from scoring.framework.check import kept

    fw = load_framework("demo-school")
    back = pickle.loads(pickle.dumps(fw))
    assert back == fw and kept(fw) is not None and kept(back) is None
    assert scoring.compile_plan(back).hash == scoring.compile_plan(fw).hash
