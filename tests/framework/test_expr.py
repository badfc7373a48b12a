"""The expression language: exact Decimal arithmetic, half-up rounding, missing values, a whitelist with columns."""

from __future__ import annotations

import doctest
import warnings
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.framework.expr import (
    BOOL,
    DATE,
    MAX_NODES,
    MAX_SOURCE,
    NUMBER,
    TEXT,
    EvalError,
    ExprError,
    Expression,
    VarInfo,
    caret,
    compile_expr,
    constant,
    parse,
    valid_name,
)

D = Decimal
ENV = {
    "教师数": VarInfo(NUMBER),
    "学生数": VarInfo(NUMBER),
    "a": VarInfo(NUMBER),
    "b": VarInfo(NUMBER),
    "x": VarInfo(NUMBER),
    "flag": VarInfo(BOOL),
    "other": VarInfo(BOOL),
    "name": VarInfo(TEXT),
    "kind": VarInfo(TEXT, ("小学", "初中")),
    "day": VarInfo(DATE),
}


def ev(source: str, values: dict | None = None, env: dict = ENV):
    return compile_expr(source, env).evaluate(values or {})


def issues(source, env: dict = ENV) -> list[tuple[int, str]]:
    """(column, code) of every issue in ``source``."""
    with pytest.raises(ExprError) as info:
        compile_expr(source, env)
    assert info.value.source == str(source)
    return [(i.column, i.code) for i in info.value.issues]


def one_issue(source, env: dict = ENV):
    with pytest.raises(ExprError) as info:
        compile_expr(source, env)
    assert len(info.value.issues) == 1, info.value.issues
    return info.value.issues[0]


# ---------------------------------------------------------------------------------------------- arithmetic


def test_decimal_arithmetic_is_exact():
    assert ev("0.1 + 0.2") == D("0.3")
    assert ev("0.1 + 0.2 == 0.3") is True
    assert ev("4.2 * 3") == D("12.6")
    assert ev("1 - 0.9") == D("0.1")
    assert ev("1_000 + 0.5") == D("1000.5")
    assert type(ev("1 + 1")) is Decimal


def test_values_are_used_exactly():
    assert ev("a * 3", {"a": D("0.1")}) == D("0.3")
    assert ev("a + b", {"a": 1, "b": D("0.5")}) == D("1.5")  # a plain int value works too
    assert ev("教师数 / 学生数 * 100", {"教师数": D(3), "学生数": D(7)}) == D(
        "42.85714285714285714285714285714286"
    )


def test_operators():
    assert ev("7 // 2") == D(3)
    assert ev("7 % 3") == D(1)
    assert ev("2 ** 3") == D(8)
    assert ev("2 ** -2") == D("0.25")
    assert ev("(-2) ** 3") == D(-8)
    assert ev("-a", {"a": D(2)}) == D(-2)
    assert ev("+a", {"a": D(2)}) == D(2)
    assert ev("1 < a < 3", {"a": D(2)}) is True
    assert ev("1 < a < 3", {"a": D(3)}) is False
    assert ev("a if a > 0 else -a", {"a": D(-4)}) == D(4)
    assert ev("not flag", {"flag": False}) is True
    assert ev("flag and other or not flag", {"flag": True, "other": False}) is False
    assert ev("True and flag", {"flag": True}) is True


def test_leading_whitespace_keeps_numbers_exact():
    # Regression: the constants' source text was read at shifted positions ("12." instead of "12.5").
    assert ev(" 12.5 + 1") == D("13.5")
    assert ev("  12.5") == D("12.5")
    assert ev("\t0.25 * 4") == D("1.00")
    assert ev(" (1 +\n 12.5)") == D("13.5")
    assert compile_expr("  a + 1 ", ENV).source == "a + 1"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("round(2.345, 2)", "2.35"),
        ("round(2.5)", "3"),
        ("round(3.5)", "4"),
        ("round(-2.5)", "-3"),  # half away from zero (ROUND_HALF_UP), not to even
        ("round(-2.345, 2)", "-2.35"),
        ("round(1.005, 2)", "1.01"),  # the float 1.005 would give 1.0
        ("round(2.675, 2)", "2.68"),
        ("round(0.125, 2)", "0.13"),
        ("round(2.344, 2)", "2.34"),
        ("round(1250, -2)", "1.3E+3"),
        ("ceil(2.1)", "3"),
        ("floor(-2.1)", "-3"),
        ("abs(-1.5)", "1.5"),
        ("min(3, 1, 2)", "1"),
        ("max([1, 5], 2)", "5"),
        ("sum([1, 2], 3.5)", "6.5"),
        ("count(True, False, True)", "2"),
        ("sqrt(16)", "4"),
    ],
)
def test_functions(source, expected):
    result = ev(source)
    assert result == D(expected)
    assert str(result) == expected


def test_round_value_is_exact_decimal():
    assert str(ev("round(a, 2)", {"a": D("2.675")})) == "2.68"
    assert str(ev("round(a, 2)", {"a": D("2")})) == "2.00"


def test_round_places_bounded_not_a_hang():
    # int(Decimal("1e99999999")) would build a hundred-million-digit integer.
    with pytest.raises(EvalError) as info:
        ev("round(x, a)", {"x": D("1.25"), "a": D("1E+99999999")})
    assert "round" in info.value.zh and "-34 到 34" in info.value.zh
    with pytest.raises(EvalError):
        ev("round(x, a)", {"x": D("0.5"), "a": D(35)})
    assert ev("round(x, 34)", {"x": D("0.5")}) == D("0.5")
    assert ev("round(x, -34)", {"x": D("0.5")}) == D(0)


@pytest.mark.parametrize(
    ("source", "column", "zh"),
    [
        ("round(x, 999999)", 9, "round 的小数位数必须是 -34 到 34 之间的整数，这里是 999999"),
        ("round(x, 35)", 9, "这里是 35"),
        ("round(x, -35)", 9, "这里是 -35"),
        ("round(x, 1.5)", 9, "这里是 1.5"),
        ("round(x, 30 + 5)", 9, "这里是 35"),
        ("round(1, 99)", 9, "这里是 99"),  # reported once, not again as a constant that fails
        ("round(x, 1e99999999)", 9, "常数 1E+99999999 超出可计算的范围"),
    ],
)
def test_round_places_written_as_a_constant_are_checked_when_compiling(source, column, zh):
    i = one_issue(source)
    assert (i.column, i.code) == (column, "expr-range")
    assert zh in i.zh


@pytest.mark.parametrize(
    ("source", "column", "code", "zh"),
    [
        ("1e400 * x", 0, "expr-range", "常数 1E+400 超出可计算的范围"),
        ("x * 1e21", 4, "expr-range", "常数 1E+21 超出"),
        ("x / 1e-21", 4, "expr-range", "常数 1E-21 超出"),
        ("x + 123456789012345678901", 4, "expr-range", "常数 1.235E+20 超出"),
        ("x * (1e10 * 1e11)", 5, "expr-range", "常数部分的值 1E+21 超出可计算的范围"),
        ("x * (10 ** 16 * 10 ** 16)", 5, "expr-range", "常数部分的值 1E+32"),
        ("x / 0", 4, "expr-zero-division", "除数是常数 0"),
        ("x // 0.0", 5, "expr-zero-division", "除数是常数 0"),
        ("x % (1 - 1)", 5, "expr-zero-division", "除数是常数 0"),
        ("x / -0", 4, "expr-zero-division", "除数是常数 0"),
        ("1 / 0", 4, "expr-zero-division", "除数是常数 0"),
        ("x + 0 ** -1", 4, "expr-zero-division", "这一部分总是无法计算：除数为零（0 的负数次方）"),
        ("x + sqrt(-1)", 4, "expr-constant", "这一部分总是无法计算：不能对负数开平方"),
        ("max(x, 1 / 0)", 11, "expr-zero-division", "除数是常数 0"),
    ],
)
def test_constant_parts_that_always_fail_are_reported_when_compiling(source, column, code, zh):
    i = one_issue(source)
    assert (i.column, i.code) == (column, code)
    assert zh in i.zh
    assert i.en


def test_every_constant_fault_is_reported():
    assert issues("1e400 * x + x / 0 + round(x, 99)") == [
        (0, "expr-range"),
        (16, "expr-zero-division"),
        (29, "expr-range"),
    ]


def test_constants_within_the_range_compile():
    assert ev("x * 1e20 / 1e20", {"x": D(3)}) == D(3)
    assert ev("x * 0.00000000000000000001", {"x": D(3)}) == D("3E-20")
    assert ev("x / (2 - 1)", {"x": D(3)}) == D(3)
    assert ev("x * 0", {"x": D(3)}) == D(0)
    assert ev("0 / x", {"x": D(3)}) == D(0)
    assert ev("round(x, 2 - 1)", {"x": D("2.25")}) == D("2.3")
    assert ev("x / 1_000", {"x": D(3)}) == D("0.003")


def test_chinese_identifiers():
    assert ev("教师数 + 学生数", {"教师数": D(2), "学生数": D(3)}) == D(5)
    c = compile_expr("教师数 / 学生数", ENV)
    assert c.names == frozenset({"教师数", "学生数"})
    assert c.strict_names == ("学生数", "教师数")
    assert c.type == NUMBER


# ---------------------------------------------------------------------------------------------- missing values


def test_missing_name_makes_the_result_missing():
    assert ev("教师数 / 学生数", {"教师数": D(3)}) is None  # absent
    assert ev("教师数 / 学生数", {"教师数": D(3), "学生数": None}) is None  # given as missing
    assert ev("a + 1") is None
    assert ev("flag or True") is None  # a missing value is never silently false
    assert ev("a if flag else 0", {"flag": True}) is None  # the branch taken needs its names
    assert ev("a if flag else 0", {"flag": False}) == D(0)  # the branch not taken does not
    assert (
        ev("(a == 1) if flag else False", {"flag": True}) is None
    )  # missing never compares equal or unequal
    assert ev("0 if a > 1 else 1", {}) is None  # the condition always needs its names


def test_coalesce_and_filled_accept_missing():
    assert ev("coalesce(a, 0)") == D(0)
    assert ev("coalesce(a, b, 5)", {"b": D(2)}) == D(2)
    assert ev("coalesce(a, b, 5)", {"a": None, "b": None}) == D(5)
    assert ev("coalesce(a, b)") is None
    assert ev("coalesce(a + 1, 0)", {"a": None}) == D(0)
    assert ev("filled(a)") is False
    assert ev("filled(a)", {"a": D(0)}) is True  # zero is filled in
    assert ev("filled(a)", {"a": None}) is False
    assert ev("coalesce(a, 0) + b", {"b": D(1)}) == D(1)
    c = compile_expr("coalesce(a, 0) + b", ENV)
    assert c.strict_names == ("b",)
    assert c.names == frozenset({"a", "b"})


def test_division_by_zero_is_an_evaluation_error():
    for source in ("a / b", "a // b", "a % b"):
        with pytest.raises(EvalError) as info:
            ev(source, {"a": D(1), "b": D(0)})
        assert info.value.zh == "除数为零"
        assert info.value.en == "division by zero"
    with pytest.raises(EvalError) as info:
        ev("a % b", {"a": D(0), "b": D(0)})
    assert info.value.zh == "除数为零"
    with pytest.raises(EvalError) as info:
        ev("a / b", {"a": D(0), "b": D(0)})  # decimal's DivisionUndefined
    assert info.value.zh == "除数为零"


def test_other_arithmetic_faults_are_evaluation_errors():
    with pytest.raises(EvalError) as info:
        ev("sqrt(a)", {"a": D(-1)})
    assert info.value.zh == "不能对负数开平方"
    with pytest.raises(EvalError) as info:
        ev("a * a", {"a": D("1e999999")})
    assert info.value.zh == "数值过大，超出可计算的范围（溢出）"
    assert info.value.en == "a number too large to compute with (overflow)"
    with pytest.raises(EvalError) as info:
        ev("round(a, 2)", {"a": D("1e40")})  # 43 digits to write at 2 places
    assert info.value.zh == "数值过大，超出 34 位有效数字的计算精度"


# ---------------------------------------------------------------------------------------------- static errors


def test_unknown_name_column_counts_characters():
    i = one_issue("教师数 + 学生")
    assert (i.column, i.code) == (6, "expr-unknown-name")
    assert i.zh == "未知名称 “学生”；是不是 “学生数”？（检查输入项和计算项的 id）"
    assert i.en == "unknown name '学生'; did you mean '学生数'?"
    assert [(i.column, i.code) for i in [one_issue("教师数 + 学生数 + foo")]] == [(12, "expr-unknown-name")]
    assert one_issue("  教师数 + 学生").column == 8  # leading spaces count
    assert one_issue(" 学生 + 1").column == 1


def test_unknown_name_hint_is_customisable():
    with pytest.raises(ExprError) as info:
        compile_expr("foo", ENV, names_hint="可用：总分")
    assert info.value.issues[0].zh == "未知名称 “foo”（可用：总分）"


def test_every_type_issue_is_reported():
    assert issues("a and b") == [(0, "expr-type"), (6, "expr-type")]
    assert issues("foo + 学生") == [(0, "expr-unknown-name"), (6, "expr-unknown-name")]
    with pytest.raises(ExprError) as info:
        compile_expr("foo + 学生", ENV)
    assert str(info.value) == "unknown name 'foo'; unknown name '学生'; did you mean '学生数'?"


@pytest.mark.parametrize(
    ("source", "column", "zh"),
    [
        ("a.b", 0, "不允许访问属性（“.”）"),
        ("().__class__", 0, "不允许访问属性（“.”）"),
        ("a[0]", 0, "不允许下标访问（“[]”）"),
        ("lambda: 1", 0, "不允许 lambda"),
        ("[x for x in a]", 0, "不允许推导式"),
        ("sum(x for x in a)", 3, "不允许生成器表达式"),
        ("f'{a}'", 0, "不允许 f-字符串"),
        ("(x := 1)", 1, "不允许赋值表达式"),
        ("教师数 + (y := 1)", 7, "不允许赋值表达式"),
        ("[1, 2]", 0, "列表只能作为 sum/count/min/max 的参数"),
        ("a @ b", 0, "不允许的语法 BinOp"),
        ("a << 1", 0, "不允许的语法 BinOp"),
        ("~a", 0, "不允许的语法 UnaryOp"),
        ("{1: 2}", 0, "不允许的语法 Dict"),
        ("a is None", 0, "不支持的比较运算（is / is not）"),
        ("None", 0, "不支持的常量 None"),
        ("1j", 0, "不支持的常量 1j"),
        ("b'x'", 0, "不支持的常量 b'x'"),
        ("min", 0, "函数 min 需要带括号调用"),
        ("sum(*a)", 4, "不支持 * 展开参数"),
        ("round(a, ndigits=2)", 0, "函数不接受关键字参数"),
        ("a in b", 5, "in 后面必须是常量列表"),
        ("a in [b]", 5, "in 后面必须是常量列表"),
        ("'x' in [None]", 8, "不支持的常量 None"),  # the list's constants are whitelisted too
        ("'x' in [b'x']", 8, "不支持的常量 b'x'"),
    ],
)
def test_not_allowed(source, column, zh):
    i = one_issue(source)
    assert (i.column, i.code) == (column, "expr-not-allowed")
    assert zh in i.zh


@pytest.mark.parametrize(
    "source", ["foo(1)", "__import__('os')", "eval('1')", "a.b(1)", "open('/etc/passwd')"]
)
def test_unknown_function(source):
    i = one_issue(source)
    assert (i.column, i.code) == (0, "expr-unknown-function")
    assert "可用：min、max、abs、round、ceil、floor、sqrt、sum、count、coalesce、filled" in i.zh
    assert i.en.startswith("unknown function ")


@pytest.mark.parametrize(
    ("source", "column"),
    [("a ** b", 5), ("a ** 17", 5), ("a ** 2.0", 5), ("a ** -17", 5), ("9**9**9", 3), ("2 ** (1 + 1)", 6)],
)
def test_power_needs_a_small_integer_constant(source, column):
    i = one_issue(source)
    assert (i.column, i.code) == (column, "expr-not-allowed")
    assert i.zh == "乘方的指数必须是不超过 16 的整数常量"


def test_power_at_the_bound():
    assert ev("a ** 16", {"a": D(2)}) == D(65536)
    assert ev("a ** -16", {"a": D(2)}) == D(1) / D(65536)


@pytest.mark.parametrize(
    ("source", "zh"),
    [
        ("round()", "函数 round（四舍五入）需要 1–2 个参数，这里有 0 个"),
        ("round(1, 2, 3)", "函数 round（四舍五入）需要 1–2 个参数，这里有 3 个"),
        ("abs(1, 2)", "函数 abs（绝对值）需要 1 个参数，这里有 2 个"),
        ("coalesce(a)", "函数 coalesce（取第一个已填写的值）需要 至少 2 个参数，这里有 1 个"),
        ("min()", "函数 min（最小值）需要 至少 1 个参数，这里有 0 个"),
        ("min([])", "函数 min（最小值）需要 至少 1 个参数，这里有 0 个"),
        ("filled(a, b)", "函数 filled（是否已填写）需要 1 个参数，这里有 2 个"),
    ],
)
def test_arity(source, zh):
    i = one_issue(source)
    assert (i.column, i.code, i.zh) == (0, "expr-arity", zh)


@pytest.mark.parametrize(
    ("source", "column", "zh"),
    [
        ("flag + 1", 0, "运算 + 需要数值，这里是是/否"),
        ("1 - flag", 4, "运算 - 需要数值，这里是是/否"),
        ("name * 2", 0, "运算 × 需要数值，这里是文本"),
        ("name < name", 7, "文本只能用 == 或 != 比较"),
        ("flag > other", 7, "是/否只能用 == 或 != 比较"),
        ("a < name", 4, "不能比较数值和文本"),
        ("a == flag", 5, "不能比较数值和是/否"),
        ("a in ['x']", 6, "不能比较数值和文本"),
        ("not a", 4, "not 需要是/否，这里是数值"),
        ("-flag", 1, "正负号需要数值，这里是是/否"),
        ("a if b else 0", 5, "条件（if 后）需要是/否，这里是数值"),
        ("1 if flag else 'x'", 0, "条件表达式两个分支类型不同（数值 与 文本）"),
        ("coalesce(a, name)", 0, "函数 coalesce 的参数类型必须一致"),
        ("round(flag)", 6, "函数 round 的参数需要数值，这里是是/否"),
        ("count(a)", 6, "函数 count 的参数需要是/否，这里是数值"),
        ("day + 1", 0, "运算 + 需要数值，这里是日期"),
    ],
)
def test_type_mismatch(source, column, zh):
    i = one_issue(source)
    assert (i.column, i.code, i.zh) == (column, "expr-type", zh)


def test_choice_constants_must_be_among_the_choices():
    i = one_issue("kind == '高中'")
    assert (i.column, i.code) == (8, "expr-choice")
    assert i.zh == "“高中” 不是 kind 的可选值（小学、初中）"
    assert i.en == "'高中' is not a choice of kind (小学, 初中)"
    assert one_issue("'高中' != kind").column == 0  # either side
    i = one_issue("kind in ['小学', '高中']")
    assert (i.column, i.code) == (15, "expr-choice")
    assert ev("kind == '小学'", {"kind": "小学"}) is True
    assert ev("kind in ['小学', '初中']", {"kind": "初中"}) is True
    assert ev("kind not in ['小学']", {"kind": "初中"}) is True


def test_in_with_constant_lists():
    assert ev("a in [1, 2]", {"a": D(2)}) is True
    assert ev("a in (1, 2)", {"a": D("2.0")}) is True  # Decimal equality
    assert ev("a not in [1, 2]", {"a": D(3)}) is True
    assert ev("name in ['x', 'y']", {"name": "y"}) is True
    assert ev("a in ()", {"a": D(1)}) is False


def test_dates_compare():
    assert compile_expr("day < day", ENV).type == BOOL
    assert ev("day == day", {"day": "2024-01-01"}) is True


@pytest.mark.parametrize(
    ("source", "column", "zh"),
    [
        ("1 +", 3, "表达式语法错误：无效的语法"),
        ("(1", 0, "表达式语法错误：'(' was never closed"),
        ("教师数 + + * 1", 8, "表达式语法错误：无效的语法"),
        ("教师数 ＋ 1", 4, "表达式语法错误：invalid character '＋' (U+FF0B)"),
        ("a +\n b", 3, "表达式语法错误：无效的语法"),
        ("  1 +", 5, "表达式语法错误：无效的语法"),
        ("*a", 0, "表达式语法错误：无效的语法"),
    ],
)
def test_syntax_errors_have_character_columns(source, column, zh):
    i = one_issue(source)
    assert (i.column, i.code, i.zh) == (column, "expr-syntax", zh)
    assert i.en.startswith("syntax error: ")


@pytest.mark.parametrize(
    ("source", "zh"),
    [
        ("", "表达式为空"),
        ("   ", "表达式为空"),
        (None, "表达式必须是文本"),
        (True, "表达式必须是文本"),
        (["a"], "表达式必须是文本"),
    ],
)
def test_not_an_expression(source, zh):
    i = one_issue(source)
    assert (i.column, i.code, i.zh) == (0, "expr", zh)


def test_numbers_are_expressions():
    assert ev(5) == D(5)
    assert ev(D("4.2")) == D("4.2")


def test_length_and_node_limits():
    assert len("x" * MAX_SOURCE) == 2000
    assert ev("1" + " " * (MAX_SOURCE - 1)) == D(1)
    i = one_issue("1" + " " * MAX_SOURCE)
    assert (i.column, i.code, i.zh) == (0, "expr", "表达式超过 2000 个字符")
    assert MAX_NODES == 400
    assert ev("+".join(["a"] * 100), {"a": D(1)}) == D(100)  # 199 nodes
    i = one_issue("+".join(["a"] * 300))  # 599 nodes
    assert (i.column, i.code, i.zh) == (0, "expr", "表达式过于复杂（超过 400 个节点）")


def test_no_python_syntax_warnings_leak_to_the_terminal():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning would fail the test
        assert ev("1if flag else 2", {"flag": True}) == D(1)
        assert one_issue("1else").code == "expr-syntax"


def test_deeply_nested_parentheses_are_an_expr_error():
    i = one_issue("(" * 300 + "1" + ")" * 300)
    assert (i.column, i.code, i.en) == (200, "expr-syntax", "syntax error: too many nested parentheses")
    assert ev("(" * 150 + "1" + ")" * 150) == D(1)
    assert one_issue("-" * 1000 + "1").zh == "表达式过于复杂（超过 400 个节点）"  # no RecursionError


def test_result_types_and_constant():
    assert compile_expr("a > 1", ENV).type == BOOL
    assert compile_expr("name", ENV).type == TEXT
    assert compile_expr("coalesce(a, 1)", ENV).type == NUMBER
    assert compile_expr("1 if flag else a", ENV).type == NUMBER
    assert constant(D("4.2")).evaluate({}) == D("4.2")
    assert constant(True).evaluate({}) is True
    assert constant("小学").evaluate({}) == "小学"
    assert constant(D("4.2")).type == NUMBER and constant(True).type == BOOL and constant("x").type == TEXT


def test_parse_collects_names():
    p = parse("coalesce(a, b) + 教师数 * (1 if filled(x) else 0)")
    assert p.names == {"a", "b", "教师数", "x"}
    assert p.strict_names == {"教师数"}


# ---------------------------------------------------------------------------------------------- caret and names


def test_caret_pads_cjk_with_wide_spaces():
    assert caret("教师数 + 学生", 6) == "教师数 + 学生\n\u3000\u3000\u3000   ^"
    assert caret("a + b", 4) == "a + b\n    ^"
    assert caret("a\t+ b", 3) == "a\t+ b\n \t ^"
    assert caret("x", 0) == "x\n^"
    assert caret("ｘ+1", 1) == "ｘ+1\n\u3000^"  # fullwidth counts as wide


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("a", True),
        ("教师数", True),
        ("x1", True),
        ("unit_type", True),
        ("L1", True),
        ("_x", False),
        ("1x", False),
        ("min", False),
        ("coalesce", False),
        ("if", False),
        ("True", False),
        ("true", False),
        ("None", False),
        ("ｘ", False),  # not NFKC-stable
        ("a-b", False),
        ("a b", False),
        ("", False),
        (1, False),
    ],
)
def test_valid_name(name, ok):
    assert valid_name(name) is ok


# ---------------------------------------------------------------------------------------------- properties

_nums = st.decimals(
    min_value=D("-1000000"), max_value=D("1000000"), allow_nan=False, allow_infinity=False, places=6
)


@settings(max_examples=200, deadline=None)
@given(a=_nums, b=_nums.filter(lambda b: b != 0))
def test_divide_then_multiply_round_trips(a, b):
    result = ev("a / b * b", {"a": a, "b": b})
    assert isinstance(result, Decimal)
    assert abs(result - a) <= abs(a) * D("1e-32") + D("1e-40")


_AB = compile_expr("a / b * b", ENV)
_ROUND = compile_expr("round(x, 2)", ENV)


@settings(max_examples=300, deadline=None)
@given(x=st.decimals(min_value=-(10**9), max_value=10**9, places=3, allow_nan=False, allow_infinity=False))
def test_round_is_half_up(x):
    expected = x.quantize(D("0.01"), rounding=ROUND_HALF_UP)
    assert _ROUND.evaluate({"x": x}) == expected
    assert str(ev(f"round({x}, 2)")) == str(expected)


def _compiles_or_expr_error(source: str) -> None:
    try:
        compiled = compile_expr(source, {})
    except ExprError as err:
        assert err.issues
        for issue in err.issues:
            assert 0 <= issue.column <= len(source)
        return
    assert isinstance(compiled, Expression)
    try:
        value = compiled.evaluate({})
    except EvalError:
        return
    assert value is None or isinstance(value, Decimal | bool | str)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=20))
def test_any_text_compiles_or_is_an_expr_error(source):
    _compiles_or_expr_error(source)


_TOKENS = st.sampled_from(
    [
        *"0123456789.+-*/%()[],<>=!'\" \t\n_eEjx教",
        *(
            "**",
            "//",
            "==",
            "if",
            "else",
            "and",
            "or",
            "not",
            "in",
            "True",
            "None",
            "lambda",
            "1e999999",
            "0x1F",
        ),
        *("round(", "min(", "coalesce(", "filled(", "sqrt("),
    ]
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_TOKENS, max_size=16).map("".join))
def test_any_token_soup_compiles_or_is_an_expr_error(source):
    _compiles_or_expr_error(source)


# ---------------------------------------------------------------------------------------------- the documentation

DOCS = Path(__file__).resolve().parents[2] / "docs" / "expressions.md"
_DOC_ENV = {"a": VarInfo(NUMBER), "b": VarInfo(NUMBER), "ok": VarInfo(BOOL)}


def _doc_examples() -> list[tuple[str, str, str]]:
    """The rows of docs/expressions.md's examples table: (expression, values, result)."""
    text = DOCS.read_text("utf-8").split("## 例子 Examples", 1)[1]
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            rows.append((cells[0].strip("`"), cells[1], cells[2]))
    return rows


def _doc_value(text: str) -> Decimal | bool | None:
    if text == "—":
        return None
    if text in ("True", "False"):
        return text == "True"
    return D(text)


@pytest.mark.parametrize(("source", "given", "result"), _doc_examples())
def test_the_documented_examples_give_what_the_table_says(source, given, result):
    values = {
        k.strip(): _doc_value(v.strip()) for k, v in (p.split("=") for p in given.split(",") if p.strip())
    }
    if result.startswith("编译错误 "):
        with pytest.raises(ExprError) as info:
            compile_expr(source, _DOC_ENV)
        assert [i.code for i in info.value.issues] == [result.removeprefix("编译错误 ")]
        return
    compiled = compile_expr(source, _DOC_ENV)
    if result.startswith("错误："):
        with pytest.raises(EvalError) as err:
            compiled.evaluate(values)
        assert err.value.zh == result.removeprefix("错误：")
        return
    got = compiled.evaluate(values)
    if result in ("True", "False", "—"):
        assert got is _doc_value(result)
    else:
        assert str(got) == result  # the Decimal as it prints


def test_the_documented_python_session_runs():
    result = doctest.testfile(str(DOCS), module_relative=False, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
