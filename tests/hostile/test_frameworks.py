"""Hostile framework files and submissions (issue 13): the real ``scoring`` command on YAML built to hurt the
reader, expressions that pass a casual look and fail every submission, implausible values, and a submission
made for another framework.

The promises: a framework's problems are reported by ``scoring validate`` with ``file:line:column`` (exit 1) and
never as a traceback; a submission that cannot be read or is refused is named with the reason (exit 1); deep
YAML up to the 4 MiB size limit is refused in under 2 s with the position of the level that passes the limit;
an arithmetic fault at scoring time is the indicator's 无法计算 with its reason. The harness checks no traceback
or 内部错误, the exit code, nothing changed outside ``-o``, and the time bound.
"""

from __future__ import annotations

import json
import re

import pytest

from ..conftest import ROOT
from ..positions import line_col
from .harness import EXIT_FINDINGS, EXIT_OK, Case

LIMIT = 4 * 1024 * 1024  # the reader's size limit: every deep text below is just under it
WEAK = json.loads((ROOT / "examples" / "demo-school" / "weak.json").read_text("utf-8"))

BASE = """\
id: h
name: 敌意测试
version: "1"
level: school
scoring: {total: 10}
inputs:
  s: {label: 在校生数, type: integer, unit: 人, min: 1}
  t: {label: 专任教师数, type: integer, unit: 人, min: 0}
derived:
  比值: {label: 生师比, expr: "EXPR", precision: 2}
indicators:
  - {code: A, name: 生师比, points: 10, rule: {threshold: {value: 比值, at_most: 19}}}
"""


def framework(case: Case, expr: str = "s / t", name: str = "f.yaml", base: str = BASE) -> str:
    """A small framework whose derived value is ``expr`` (as a double-quoted YAML scalar): its file name."""
    case.file(name, base.replace("EXPR", expr.replace("\\", "\\\\").replace('"', '\\"')))
    return name


def expr_column(expr: str, at: str) -> int:
    """The 1-based column in BASE's line 10 where ``at`` (a part of ``expr``) stands."""
    line = BASE.splitlines()[9]
    return line.index('"EXPR"') + 2 + expr.index(at)


def assert_at(text: str, file: str, line: int, column: int, code: str) -> None:
    """A problem line names the file, line and column, and its code."""
    assert re.search(rf"{re.escape(file)}:{line}:{column}: (错误|error) \[{re.escape(code)}\]", text), text[
        -2000:
    ]


def school(**changes: object) -> str:
    """demo-school's weak submission (JSON) with some fields changed."""
    data = json.loads(json.dumps(WEAK))
    values = changes.pop("values", {})
    data["values"].update(values)
    data.update(changes)
    return json.dumps(data, ensure_ascii=False)


# ------------------------------------------------------------------------------- 1. deep YAML at 4 MiB


def _block_lines(step: str, item: str) -> str:
    """Nested block collections, one level a line (indented ``step`` more each time), up to the size limit."""
    out, size, depth = [], 0, 0
    while True:
        line = step * depth + item + "\n"
        if size + len(line) > LIMIT - 16:
            return "".join(out)
        out.append(line)
        size += len(line)
        depth += 1


DEEP = {
    # shape: (text, line, column of the 65th level)
    "flow sequences [[[[": ("[" * (LIMIT - 16), 1, 65),
    "flow sequences, closed": ("[" * (LIMIT // 2 - 8) + "]" * (LIMIT // 2 - 8), 1, 65),
    "flow mappings {a: {a:": ("{a: " * (LIMIT // 4 - 4), 1, 257),
    "JSON-like mappings": ('{"a":' * (LIMIT // 5 - 4), 1, 321),
    "a key's flow value": ("x: " + "[" * (LIMIT - 16), 1, 67),
    "flow behind block levels": ("a:\n  b:\n    c: " + "[ " * (LIMIT // 2 - 16), 3, 130),
    "block mappings by indentation": (_block_lines(" ", "a:"), 65, 65),
    "block sequences by indentation": (_block_lines(" ", "-"), 65, 65),
    "block sequences - - - -": ("- " * (LIMIT // 2 - 8), 1, 129),
    "explicit keys ? ? ? ?": ("? " * (LIMIT // 2 - 8), 1, 129),
    "anchored levels &a [": ("&a [" * (LIMIT // 4 - 4), 1, 257),
}


@pytest.mark.slow
@pytest.mark.parametrize(("text", "line", "column"), DEEP.values(), ids=DEEP.keys())
def test_deep_framework_is_refused_quickly_at_the_level_past_the_limit(case, text, line, column):
    assert len(text.encode("utf-8")) <= LIMIT
    case.file("deep.yaml", text)
    ran = case.run("validate", "deep.yaml", expect=EXIT_FINDINGS, timeout=20)
    assert_at(ran.out, "deep.yaml", line, column, "yaml-too-deep")
    assert "嵌套超过 64 层，已拒绝读取" in ran.out
    assert ran.seconds < 2.0, ran.seconds


@pytest.mark.slow
@pytest.mark.parametrize(
    "shape", ["flow mappings {a: {a:", "block mappings by indentation", "block sequences - - - -"]
)
def test_deep_yaml_submission_is_refused_quickly_with_its_position(case, shape):
    text, line, column = DEEP[shape]
    case.file("deep.yaml", text)
    ran = case.run("score", "demo-school", "deep.yaml", expect=EXIT_FINDINGS, timeout=20)
    assert_at(ran.text, "deep.yaml", line, column, "yaml-too-deep")
    assert ran.seconds < 2.0, ran.seconds


@pytest.mark.slow
@pytest.mark.parametrize("name", ["deep.json", "deep.yaml"])
def test_deep_json_submission_is_refused_quickly_with_its_position(case, name):
    case.file(name, "[" * (LIMIT - 16))
    ran = case.run("score", "demo-school", name, expect=EXIT_FINDINGS, timeout=20)
    # JSON first (the text starts like JSON), by the submission reader: its own code for the same limit
    assert re.search(rf"{re.escape(name)}:1:65: 错误 \[(json|yaml)-too-deep\]", ran.text), ran.text[-500:]
    assert ran.seconds < 2.0, ran.seconds


@pytest.mark.slow
def test_a_huge_framework_of_small_values_is_refused_at_the_node_limit(case):
    case.file("big.yaml", "notes:\n" + "  - 1\n" * ((LIMIT - 16) // 6))
    ran = case.run("validate", "big.yaml", expect=EXIT_FINDINGS, timeout=20)
    assert_at(ran.out, "big.yaml", 200_000, 5, "yaml-too-large")  # the 200 001st value: root, list, items
    assert "节点（值）超过 200000 个" in ran.out
    assert ran.seconds < 2.0, ran.seconds


LATE = {
    # shape: (text, line, column of the error)
    "many small values": ("notes:\n" + ("  - " + "x" * 16 + "\n") * 199_000 + "x: b: c\n", 199_002, 5),
    "one line of flow": ("[" + "xxxxxxxxxxxxxxxxxx, " * 199_000 + "]]", 1, 3_980_003),
    "long lines": ("notes:\n" + ("  - " + "长" * 1000 + "\n") * 1390 + "x: b: c\n", 1392, 5),
}


@pytest.mark.slow
@pytest.mark.parametrize(("text", "line", "column"), LATE.values(), ids=LATE.keys())
def test_a_syntax_error_at_the_end_of_a_huge_file_is_found_quickly(case, text, line, column):
    assert len(text.encode("utf-8")) <= LIMIT
    case.file("late.yaml", text)
    ran = case.run("validate", "late.yaml", expect=EXIT_FINDINGS, timeout=20)
    assert_at(ran.out, "late.yaml", line, column, "yaml-syntax")
    assert ran.seconds < 2.0, ran.seconds


# ------------------------------------------------------------------------------- 2. YAML that attacks the reader


def test_alias_bomb_is_refused_at_the_list_that_explodes(case):
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        text += f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]\n"
    case.file("bomb.yaml", text)
    ran = case.run("validate", "bomb.yaml", expect=EXIT_FINDINGS, timeout=10)
    assert_at(ran.out, "bomb.yaml", 6, 4, "yaml-too-large")
    assert "可能是别名炸弹" in ran.out
    assert ran.seconds < 2.0


def test_recursive_alias_is_refused_as_too_deep(case):
    case.file("loop.yaml", 'id: h\nname: x\nversion: "1"\nnotes: &n [*n]\n')
    ran = case.run("validate", "loop.yaml", expect=EXIT_FINDINGS)
    assert_at(ran.out, "loop.yaml", 4, 8, "yaml-too-deep")


@pytest.mark.parametrize(
    ("tag", "column"),
    [
        ('!!python/object/apply:os.system ["touch pwned"]', 8),
        ("!!python/name:os.system", 8),
        ('!!python/object/new:subprocess.Popen [["touch", "pwned"]]', 8),
        ("!include other.yaml", 8),
    ],
)
def test_python_and_custom_tags_are_refused_and_nothing_runs(case, tag, column):
    case.file("tag.yaml", f'id: h\nname: x\nversion: "1"\nnotes: {tag}\n')
    ran = case.run("validate", "tag.yaml", expect=EXIT_FINDINGS)
    assert_at(ran.out, "tag.yaml", 4, column, "yaml-unsafe-tag")
    assert not (case.root / "pwned").exists()


def test_unknown_key_is_named_with_a_suggestion(case):
    case.file("f.yaml", BASE.replace("EXPR", "s / t").replace("name: 敌意测试", "nmae: 敌意测试"))
    ran = case.run("validate", "f.yaml", expect=EXIT_FINDINGS)
    assert_at(ran.out, "f.yaml", 2, 1, "schema-unknown-key")
    assert "未知的键 “nmae”，是不是 “name”？" in ran.out
    ran = case.run("validate", "f.yaml", expect=EXIT_FINDINGS, lang="en")
    assert "unknown key" in ran.out.lower()


def test_duplicate_key_is_refused_where_it_repeats(case):
    case.file(
        "f.yaml", BASE.replace("EXPR", "s / t").replace("  t: {", "  s: {label: 重复, type: integer}\n  t: {")
    )
    ran = case.run("validate", "f.yaml", expect=EXIT_FINDINGS)
    assert_at(ran.out, "f.yaml", 8, 3, "yaml-duplicate-key")
    assert "重复的键 “s”（第 7 行已出现）" in ran.out


def test_tab_indentation_is_a_located_syntax_error(case):
    case.file("f.yaml", BASE.replace("EXPR", "s / t").replace("  t: {", "\tt: {"))
    ran = case.run("validate", "f.yaml", expect=EXIT_FINDINGS)
    assert_at(ran.out, "f.yaml", 8, 1, "yaml-syntax")
    assert "制表符" in ran.out


@pytest.mark.parametrize(
    ("old", "new", "marker", "code"),
    [
        ("points: 10, rule", "points: 十, rule", "十", "schema-decimal-parsing"),
        ("min: 1}", "min: [1]}", "[1]", "schema-decimal-type"),
        ("precision: 2}", "precision: 是}", "是}", "schema-int-parsing"),
        ("indicators:\n  - {code: A", "indicators: 5\nx:\n  - {code: A", "5\nx", "schema-list-type"),
    ],
)
def test_wrong_types_are_located(case, old, new, marker, code):
    text = BASE.replace("EXPR", "s / t").replace(old, new)
    case.file("f.yaml", text)
    ran = case.run("validate", "f.yaml", expect=EXIT_FINDINGS)
    line, column = line_col(text, marker)
    assert re.search(rf"f\.yaml:{line}:{column}: 错误 \[schema-", ran.out), ran.out


def test_extends_cycle_names_the_whole_circle(case):
    case.file("a.yaml", 'id: a\nname: A\nversion: "1"\nextends: b.yaml\n')
    case.file("b.yaml", 'id: b\nname: B\nversion: "1"\nextends: c.yaml\n')
    case.file("c.yaml", 'id: c\nname: C\nversion: "1"\nextends: a.yaml\n')
    ran = case.run("validate", "a.yaml", expect=EXIT_FINDINGS)
    assert_at(ran.out, "a.yaml", 4, 10, "extends-cycle")
    assert "a → b → c → a" in ran.out


def test_derived_cycle_names_the_whole_circle(case):
    text = BASE.replace(
        '  比值: {label: 生师比, expr: "EXPR", precision: 2}',
        "  x: {label: 甲, expr: y + 1}\n  y: {label: 乙, expr: x * 2}\n  比值: {label: 生师比, expr: x / t}",
    )
    case.file("f.yaml", text)
    ran = case.run("validate", "f.yaml", expect=EXIT_FINDINGS)
    assert_at(ran.out, "f.yaml", *line_col(text, "y + 1"), "derived-cycle")
    assert "x → y → x" in ran.out


# ------------------------------------------------------------------------------- 3. expressions


EXPRESSIONS = {
    # name: (expression, the part the column points at, code, words in the message)
    "attribute access": ("s.__class__", "s", "expr-not-allowed", "不允许访问属性"),
    "dunder escape": ("t.__class__.__mro__", "t", "expr-not-allowed", "不允许访问属性"),
    "lambda": ("(lambda: 1)()", "(lambda", "expr-unknown-function", "未知函数"),
    "lambda as a value": ("s + (lambda: 1)", "lambda", "expr-not-allowed", "lambda"),
    "subscript": ("s[0] / t", "s[0]", "expr-not-allowed", "不允许下标访问"),
    "import": ("__import__('os').system('touch pwned')", "__import__", "expr-unknown-function", "未知函数"),
    "huge power": ("s ** 99999", "99999", "expr-not-allowed", "乘方的指数"),
    "power of a name": ("s ** t", "t", "expr-not-allowed", "乘方的指数"),
    "huge constant": ("1e400 * s", "1e400", "expr-range", "常数 1E+400 超出可计算的范围"),
    "huge constant part": ("s * (1e15 * 1e15)", "1e15 *", "expr-range", "常数部分的值 1E+30"),
    "division by zero": ("s / 0", "0", "expr-zero-division", "除数是常数 0"),
    "remainder by a zero part": ("s % (2 - 2)", "2 - 2", "expr-zero-division", "除数是常数 0"),
    "absurd round precision": ("round(s / t, 999999)", "999999", "expr-range", "round 的小数位数"),
    "square root of a negative constant": ("s + sqrt(-4)", "sqrt", "expr-constant", "不能对负数开平方"),
    "unknown name": ("studnets / t", "studnets", "expr-unknown-name", "未知名称 “studnets”"),
    "type error": ("s + '文本'", "'文本'", "expr-type", "需要数值"),
    "walrus": ("(x := s) / t", "x := s", "expr-not-allowed", "不允许赋值表达式"),
    "comprehension": ("sum([x for x in [s, t]])", "[x for", "expr-not-allowed", "推导式"),
}


@pytest.mark.parametrize(("expr", "at", "code", "words"), EXPRESSIONS.values(), ids=EXPRESSIONS.keys())
def test_expression_problems_are_reported_with_the_column_under_them(case, expr, at, code, words):
    name = framework(case, expr)
    ran = case.run("validate", name, expect=EXIT_FINDINGS)
    assert_at(ran.out, name, 10, expr_column(expr, at), code)
    assert words in ran.out
    assert "^" in ran.out  # the expression with a caret under the fault
    assert not (case.root / "pwned").exists()


def test_expression_problems_in_english(case):
    name = framework(case, "round(s, 999999) + 1e400 / 0")
    ran = case.run("validate", name, expect=EXIT_FINDINGS, lang="en")
    assert "round() takes whole places from -34 to 34, got 999999" in ran.out
    assert "the constant 1E+400 is out of range" in ran.out
    assert "the divisor is the constant 0" in ran.out


def test_arithmetic_faults_at_scoring_time_are_the_indicators_no_exception(case):
    name = framework(case, "s * 1e20 * 1e20 / t")  # valid constants; the value is too large to round
    case.run("validate", name, expect=EXIT_OK)
    case.file("sub.json", json.dumps({"unit": {"name": "甲校"}, "values": {"s": 5, "t": 1}}))
    ran = case.run("score", name, "sub.json", "--explain", "A", expect=EXIT_OK)
    assert "A 生师比：无法计算：生师比：数值过大，超出 34 位有效数字的计算精度" in ran.out
    case.file("zero.json", json.dumps({"unit": {"name": "乙校"}, "values": {"s": 5, "t": 0}}))
    name = framework(case, "s / t", "g.yaml")
    ran = case.run("score", name, "zero.json", "--explain", "A", expect=EXIT_OK)
    assert "A 生师比：无法计算：生师比：除数为零（5 ÷ 0）" in ran.out


def test_an_overflowing_value_is_the_indicators_error(case):
    name = framework(case, "((((s ** 16) ** 16) ** 16) ** 16) ** 16 / t")  # 10 ** 16 ** 5: past 10 ** 999999
    case.run("validate", name, expect=EXIT_OK)
    case.file("sub.json", json.dumps({"unit": {"name": "甲校"}, "values": {"s": 10, "t": 1}}))
    ran = case.run("score", name, "sub.json", "--explain", "A", "-o", case.out, expect=EXIT_OK)
    assert "A 生师比：无法计算：生师比：数值过大，超出可计算的范围（溢出）" in ran.out
    result = json.loads(next(case.out.glob("*.result.json")).read_text("utf-8"))
    assert result["indicators"][0]["status"] == "error"


# ------------------------------------------------------------------------------- 4. implausible values


def test_an_implausible_value_is_scored_with_a_warning_naming_it(case):
    case.file("sub.json", school(values={"students": 10**12}))  # a million times any school
    ran = case.run("score", "demo-school", "sub.json", "-o", case.out, expect=EXIT_OK)
    assert "评分 1 份" in ran.err
    result = json.loads(next(case.out.glob("*.result.json")).read_text("utf-8"))
    [warning] = [w for w in result["data_warnings"] if w["code"] == "implausible"]
    assert (
        warning["message"]
        == "在校生数为 1000000000000人，超出合理范围（0–50000人），请核实是否填错（单位、位数）"
    )
    report = next(case.out.glob("*.report.md")).read_text("utf-8")
    assert "在校生数为 1000000000000人，超出合理范围" in report


def test_an_implausible_value_is_refused_where_the_framework_says_so(case):
    text = BASE.replace("EXPR", "s / t").replace(
        "min: 1}", "min: 1, plausible: {max: 5000, severity: error}}"
    )
    case.file("f.yaml", text)
    case.run("validate", "f.yaml", expect=EXIT_OK)
    case.file("sub.json", json.dumps({"unit": {"name": "甲校"}, "values": {"s": 600000, "t": 30}}))
    ran = case.run("score", "f.yaml", "sub.json", expect=EXIT_FINDINGS)
    assert (
        "sub.json: 错误 [implausible-value] (values.s): 在校生数（s）：600000人 超出合理范围（0–5000人）"
        in ran.err
    )
    ran = case.run("score", "f.yaml", "sub.json", expect=EXIT_FINDINGS, lang="en")
    assert "is outside the plausible range (0–5000人)" in ran.err


def test_a_plausible_range_that_makes_no_sense_is_a_located_error(case):
    text = BASE.replace("EXPR", "s / t").replace("min: 1}", "min: 1, plausible: {min: 9, max: 3}}")
    case.file("f.yaml", text)
    ran = case.run("validate", "f.yaml", expect=EXIT_FINDINGS)
    assert_at(ran.out, "f.yaml", *line_col(text, "9, max"), "plausible-range")


# ------------------------------------------------------------------------------- 5. another framework


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("framework", "ysjh-2017", "填报数据的 framework 字段是 “ysjh-2017”，评分用的框架是 “demo-school”"),
        (
            "framework_version",
            "0.9",
            "填报数据的 framework_version 字段是 “0.9”，评分用的框架 demo-school 是版本 “1.0”",
        ),
    ],
)
def test_a_submission_for_another_framework_is_refused(case, field, value, words):
    case.file("sub.json", school(**{field: value}))
    ran = case.run("score", "demo-school", "sub.json", expect=EXIT_FINDINGS)
    assert f"sub.json: 错误 [other-{field.replace('_', '-')}] ({field}): {words}" in ran.err
    ran = case.run("score", "demo-school", "sub.json", expect=EXIT_FINDINGS, lang="en")
    assert "refused" in ran.err
