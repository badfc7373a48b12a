"""JSON and YAML submissions held to the same rules (issue 13): a key once per object, nesting bounded, numbers
within the bounds and finite — each refused with its line and column (and key path), never an exception; schema
problems in JSON placed too; text in UTF-8 or, with a BOM, UTF-16/32."""

from __future__ import annotations

import codecs
import json
from decimal import Decimal

import pytest

import scoring
from scoring.io.read import UPLOAD_NAME

from ..conftest import ROOT

WEAK = (ROOT / "examples" / "demo-school" / "weak.json").read_text("utf-8")
BOUNDS_ZH = "最多 20 位有效数字，整数部分最多 15 位，小数部分最多 20 位"


def refused(data: bytes | str, filename: str | None = "s.json") -> list[scoring.Problem]:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    with pytest.raises(scoring.SubmissionError) as err:
        scoring.read_submission(raw, filename=filename)
    assert err.value.problems and all(p.file == (filename or UPLOAD_NAME) for p in err.value.problems)
    return err.value.problems


def at(text: str, needle: str, nth: int = 0) -> tuple[int, int]:
    """The 1-based line and column of the ``nth`` occurrence of ``needle``."""
    index = -1
    for _ in range(nth + 1):
        index = text.index(needle, index + 1)
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def weak(old: str, new: str) -> str:
    assert old in WEAK
    return WEAK.replace(old, new, 1)


@pytest.mark.parametrize(
    "number",
    [
        "9" * 5000,  # before: ValueError (int() refuses 4300 digits), shown as 内部错误
        "9" * 300,
        "1." + "9" * 5000,
        "1e999999999",
        "-1E+16",
        "0.0000000000000000000001",
    ],
)
def test_a_json_number_beyond_the_bounds_is_refused_where_it_stands(number: str) -> None:
    text = weak('"homework_minutes": 85', f'"homework_minutes": {number}')
    (problem,) = refused(text)
    assert (problem.code, problem.path) == ("number-bounds", ("values", "homework_minutes"))
    assert (problem.line, problem.column) == at(text, number)
    assert BOUNDS_ZH in problem.message_zh
    assert problem.message_en.startswith("number out of range (at most 20 significant digits")


@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_deep_json_is_refused_at_the_level_past_the_limit(opener: str) -> None:
    """Before: RecursionError (内部错误) at 200,000 levels."""
    closer = "]" if opener == "[" else "}"
    for text in (opener * 200_000 + closer * 200_000, opener * 200_000):  # whole, and cut short
        (problem,) = refused(text)
        assert problem.code == "json-too-deep" and problem.message_zh.startswith("嵌套超过 64 层")
        assert (problem.line, problem.column) == (1, 64 * len(opener) + 1)


def test_sixty_four_levels_are_read() -> None:
    deep = "[" * 63 + "1" + "]" * 63
    text = weak('"evidence": {', f'"deep": {deep}, "evidence": {{')
    (problem,) = refused(text)  # read, then refused by the schema for the unknown key, not for its depth
    assert problem.code == "submission-schema" and problem.path == ("deep",)


def test_a_duplicate_key_is_refused_at_the_second_naming_the_first() -> None:
    """Before: the last value won silently (YAML refuses duplicates)."""
    text = weak('"homework_minutes": 85', '"homework_minutes": 85, "homework_minutes": 40')
    (problem,) = refused(text)
    first, second = at(text, '"homework_minutes"'), at(text, '"homework_minutes"', 1)
    assert (problem.code, problem.path) == ("json-duplicate-key", ("values", "homework_minutes"))
    assert (problem.line, problem.column) == second
    assert problem.message_zh == (
        f"重复的键 “homework_minutes”（第 {first[0]} 行第 {first[1]} 列已出现）：同一对象中每个键只能写一次"
    )
    assert problem.message_en.startswith("duplicate key 'homework_minutes' (first at line")


def test_every_duplicate_is_reported_at_any_depth_and_escapes_count() -> None:
    text = (
        '{\n  "unit": {"name": "甲", "name": "乙"},\n  "values": {"s": 1, "\\u0073": 2},\n  "values": {}\n}'
    )
    problems = refused(text)
    assert [(p.path, p.line, p.column) for p in problems] == [
        (("unit", "name"), 2, 25),
        (("values", "s"), 3, 22),
        (("values",), 4, 3),
    ]


def test_the_same_key_in_different_objects_is_fine() -> None:
    text = weak(
        '"waivers": []',
        '"waivers": [{"indicator": "A1", "by": "x", "reason": "y"}, '
        '{"indicator": "A2", "by": "x", "reason": "y"}]',
    )
    assert len(scoring.read_submission(text.encode(), filename="s.json").waivers) == 2


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_no_json_numbers(constant: str) -> None:
    text = weak('"homework_minutes": 85', f'"homework_minutes": {constant}')
    (problem,) = refused(text)
    assert (problem.code, problem.path) == ("json-not-finite", ("values", "homework_minutes"))
    assert (problem.line, problem.column) == at(text, constant)
    assert problem.message_zh == f"JSON 中不能写 {constant}：应填有限的数值"


def test_a_schema_problem_in_json_has_its_line_and_column() -> None:
    """Before: only the key path; the walk over the tokens now places it."""
    text = json.dumps(json.loads(WEAK), ensure_ascii=False, indent=2).replace('"manual"', '"manaul"')
    (problem,) = refused(text)
    assert (problem.code, problem.path) == ("submission-schema", ("manaul",))
    assert (problem.line, problem.column) == at(text, "{", text.count("{", 0, text.index('"manaul"')))


def test_json_numbers_keep_their_types() -> None:
    sub = scoring.read_submission(weak('"homework_minutes": 85', '"homework_minutes": 85.50').encode())
    assert type(sub.values["safety_incidents"]) is int
    assert type(sub.values["homework_minutes"]) is Decimal and str(sub.values["homework_minutes"]) == "85.50"


def test_a_yaml_number_beyond_the_bounds_is_refused_where_it_stands() -> None:
    text = (ROOT / "examples" / "demo-school" / "strong.yaml").read_text("utf-8")
    line = next(i for i, s in enumerate(text.splitlines(), 1) if "homework_minutes:" in s)
    changed = "\n".join(
        s.split(":")[0] + ": 1" + "0" * 30 if i == line else s for i, s in enumerate(text.splitlines(), 1)
    )
    (problem,) = refused(changed, "s.yaml")
    assert (problem.code, problem.line, problem.path) == (
        "number-bounds",
        line,
        ("values", "homework_minutes"),
    )
    assert BOUNDS_ZH in problem.message_zh


@pytest.mark.parametrize(
    "bom", [codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF8]
)
def test_text_with_a_bom_is_read_in_its_encoding(bom: bytes) -> None:
    codec = {
        codecs.BOM_UTF16_LE: "utf-16-le",
        codecs.BOM_UTF16_BE: "utf-16-be",
        codecs.BOM_UTF32_LE: "utf-32-le",
        codecs.BOM_UTF8: "utf-8",
    }[bom]
    for name in ("weak.json", "weak.yaml", None):
        sub = scoring.read_submission(bom + WEAK.encode(codec), filename=name)
        assert sub.unit.name == "北山中学"


def test_gbk_text_is_refused_at_the_first_byte_it_cannot_read() -> None:
    text = "unit:\n  name: 北山中学\n"
    (problem,) = refused(text.encode("gbk"), "s.yaml")
    assert (problem.code, problem.line, problem.column) == ("encoding", 2, 9)
    assert problem.message_zh.startswith("文件不是 UTF-8 编码（第 2 行第 9 列的字节无法解码）")
    (problem,) = refused(codecs.BOM_UTF16_LE + "甲".encode("utf-16-le") + b"\x00\xd8", "s.json")
    assert problem.code == "encoding" and "UTF-16" in problem.message_zh


def test_control_characters_and_nul_in_text_are_kept() -> None:
    text = weak('"name": "北山中学"', '"name": "北山\\u0000中\\u001b[31m学\\u202e"')
    assert scoring.read_submission(text.encode()).unit.name == "北山\x00中\x1b[31m学\u202e"
    (problem,) = refused(weak('"name": "北山中学"', '"name": "北山\x00中学"'))  # a raw NUL is no JSON
    assert problem.code == "json-syntax" and problem.line == 3


def test_schema_problems_say_in_chinese_what_the_value_should_be() -> None:
    """Before: pydantic's English ("Input should be a valid dictionary") inside the Chinese message."""
    text = '{"unit": [],\n "values": {}, "waivers": {}, "overrides": [{"indicator": "A", "by": "x", "reason": "y", "points": "多"}]}'
    problems = refused(text)
    assert [(p.path, p.line, p.message_zh) for p in problems] == [
        (("unit",), 1, "填报数据格式错误：应为对象（{ 键: 值 }）"),
        (("waivers",), 2, "填报数据格式错误：应为列表（[ … ]）"),
        (("overrides", 0, "points"), 2, "填报数据格式错误：应为数值"),
    ]
    assert problems[0].message_en.startswith("submission format: Input should be a valid dictionary")
