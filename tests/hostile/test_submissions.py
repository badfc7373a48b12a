"""Hostile submissions (issue 13): the real ``scoring score`` and ``scoring explain`` on files built to hurt the
readers — numbers of 5000 digits, JSON 200,000 levels deep or with a key twice, XML entity attacks in a sheet and
in its shared strings, zip members that lie about their size, a far cell, a forged legacy .xls, a truncated
.ods, zip bombs, disguised and empty files, BOMs and other encodings, numbers written as text in every odd form —
and the doubts a workbook hides (a formula without its value, 0.93 in a percent cell).

The promises: each is refused with exit 1 and a message naming the file and the place (sheet and cell, zip
member and line, or JSON line and column, or key path) saying what was expected, in Chinese or with --lang en
in English; or it is scored (exit 0) with the doubt reported in the result. The harness checks no traceback or
内部错误, the exit code, nothing changed outside -o, and the time bound — several of these cases once aborted
the process (calamine allocating 17 billion cells), ran out of memory or never ended.
"""

from __future__ import annotations

import codecs
import json
import re
import struct

import pytest

from ..conftest import ROOT
from ..excel import zip_bomb
from ..io.forge import (
    INTERNAL,
    LAUGHS,
    META_XML,
    ODS_CONTENT,
    SHEET_XML,
    STRONG_XLSX,
    XXE,
    biff,
    falsify_size,
    input_row,
    number_cell,
    ods,
    ole,
    rewrite,
    set_cell,
    shared_strings,
    text_cell,
    with_prolog,
    with_shared_strings,
)
from .harness import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, Case

DEMO = ROOT / "examples" / "demo-school"
WEAK = (DEMO / "weak.json").read_text("utf-8")
STRONG_YAML = (DEMO / "strong.yaml").read_text("utf-8")
STUDENTS = input_row("students")
RATE = input_row("after_school_rate")
DORM = input_row("dorm_manager")
BOUNDS_ZH = "最多 20 位有效数字，整数部分最多 15 位，小数部分最多 20 位"
BOUNDS_EN = "at most 20 significant digits, 15 before the decimal point and 20 after it"


def weak(old: str, new: str) -> str:
    assert old in WEAK
    return WEAK.replace(old, new, 1)


def line_col(text: str, needle: str, nth: int = 0) -> tuple[int, int]:
    index = -1
    for _ in range(nth + 1):
        index = text.index(needle, index + 1)
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def score(
    case: Case,
    name: str,
    content: str | bytes,
    expect: int = EXIT_FINDINGS,
    *extra: str,
    lang: str | None = None,
) -> str:
    """``scoring score demo-school NAME`` on the file; the console's text."""
    case.file(name, content)
    return case.run("score", "demo-school", name, *extra, expect=expect, lang=lang).text


def problem_line(text: str, where: str, code: str, lang: str = "zh") -> str:
    """The console line of the problem at ``where`` (``file:line:col`` or ``file — place``) with ``code``."""
    severity = "错误" if lang == "zh" else "error"
    pattern = re.compile(rf"^\s*{re.escape(where)}: {severity} \[{re.escape(code)}\].*$", re.M)
    m = pattern.search(text)
    assert m, f"no [{code}] at {where} in:\n{text[-2500:]}"
    return m.group(0)


# --------------------------------------------------------------------------------- 1. numbers too long


def test_a_5000_digit_json_number_is_refused_at_its_line_and_column(case: Case) -> None:
    """Before: 内部错误 (ValueError: Exceeds the limit (4300 digits) for integer string conversion)."""
    text = weak('"homework_minutes": 85', '"homework_minutes": ' + "9" * 5000)
    line, col = line_col(text, "9" * 100)
    shown = problem_line(score(case, "s.json", text), f"s.json:{line}:{col}", "number-bounds")
    assert "(values.homework_minutes)" in shown and BOUNDS_ZH in shown and "（共 5000 个字符）" in shown


def test_the_same_in_english(case: Case) -> None:
    text = weak('"homework_minutes": 85', '"homework_minutes": 1e999999999')
    line, col = line_col(text, "1e999999999")
    shown = problem_line(
        score(case, "s.json", text, lang="en"), f"s.json:{line}:{col}", "number-bounds", "en"
    )
    assert BOUNDS_EN in shown and "'1e999999999'" in shown


def test_a_5000_digit_number_as_text_is_refused_at_its_key(case: Case) -> None:
    shown = score(case, "s.json", weak('"students": "８００"', '"students": "' + "9" * 5000 + '"'))
    assert "s.json: 错误 [bad-value] (values.students): 在校生数（students）：数值超出可接受的范围" in shown


def test_an_exponent_of_a_billion_never_reaches_the_reports(case: Case) -> None:
    """Before: accepted, and writing the reports printed a billion digits until the process was killed."""
    shown = score(
        case, "s.json", weak('"students": "８００"', '"students": "1E+999999999"'), EXIT_FINDINGS, "-o", "out"
    )
    assert "(values.students)" in shown and BOUNDS_ZH in shown
    assert not list(case.out.glob("*.result.json"))


@pytest.mark.parametrize(
    "cell",
    [
        number_cell(f"F{STUDENTS}", "9" * 5000),
        text_cell(f"F{STUDENTS}", "9" * 5000),
        text_cell(f"F{STUDENTS}", "1e300"),
    ],
    ids=["number-cell", "text-cell", "exponent"],
)
def test_a_number_beyond_the_bounds_in_a_cell_is_refused_at_the_cell(case: Case, cell: str) -> None:
    shown = score(case, "甲校.xlsx", set_cell(f"F{STUDENTS}", cell))
    line = problem_line(shown, f"甲校.xlsx — 自评表!F{STUDENTS} (填报值（自评） · 在校生数)", "bad-value")
    assert BOUNDS_ZH in line


# ------------------------------------------------------------------------------------------ 2. deep JSON


@pytest.mark.parametrize(
    "text", ["[" * 200_000 + "]" * 200_000, '{"a":' * 200_000], ids=["arrays", "objects-cut-short"]
)
def test_json_200000_levels_deep_is_refused_at_the_level_past_the_limit(case: Case, text: str) -> None:
    """Before: 内部错误 (RecursionError)."""
    column = 65 if text[0] == "[" else 64 * 5 + 1
    shown = problem_line(score(case, "deep.json", text), f"deep.json:1:{column}", "json-too-deep")
    assert "嵌套超过 64 层" in shown


# ------------------------------------------------------------------------------------- 3. duplicate keys


def test_a_duplicate_json_key_is_refused_at_the_second(case: Case) -> None:
    """Before: the last value won silently."""
    text = weak('"safety_incidents": 2', '"safety_incidents": 0,\n    "safety_incidents": 2')
    first, second = line_col(text, '"safety_incidents"'), line_col(text, '"safety_incidents"', 1)
    shown = problem_line(
        score(case, "dup.json", text), f"dup.json:{second[0]}:{second[1]}", "json-duplicate-key"
    )
    assert f"重复的键 “safety_incidents”（第 {first[0]} 行第 {first[1]} 列已出现）" in shown


def test_a_duplicate_yaml_key_is_refused_too(case: Case) -> None:
    text = STRONG_YAML.replace("values:\n", "values:\n  students: 1\n", 1)
    assert "yaml-duplicate-key" in score(case, "dup.yaml", text)


def test_nan_is_no_json_number(case: Case) -> None:
    text = weak('"homework_minutes": 85', '"homework_minutes": NaN')
    line, col = line_col(text, "NaN")
    problem_line(score(case, "nan.json", text), f"nan.json:{line}:{col}", "json-not-finite")


# ---------------------------------------------------------------------------------------- 4. XML attacks


@pytest.mark.parametrize(
    ("prolog", "entity"),
    [(XXE, "&e;"), (LAUGHS, "&i;"), (INTERNAL, "&name;")],
    ids=["xxe", "laughs", "internal"],
)
def test_an_entity_attack_in_the_sheet_is_refused_at_its_doctype(
    case: Case, prolog: str, entity: str
) -> None:
    """Before: 内部错误 (XmlError: unrecognized entity)."""
    column = prolog.index("<!DOCTYPE") + 1
    shown = score(case, "甲校.xlsx", with_prolog(prolog, replace=("滨江实验小学", entity)))
    line = problem_line(shown, f"甲校.xlsx — {SHEET_XML}:1:{column} (自评表)", "workbook-unsafe")
    assert "含有 DOCTYPE 声明" in line


@pytest.mark.parametrize("prolog", [XXE, LAUGHS], ids=["xxe", "laughs"])
def test_an_entity_attack_in_shared_strings_is_refused(case: Case, prolog: str) -> None:
    shown = score(case, "甲校.xlsx", with_shared_strings(shared_strings("&e;", prolog=prolog)), lang="en")
    line = problem_line(
        shown, f"甲校.xlsx — xl/sharedStrings.xml:1:{prolog.index('<!DOCTYPE') + 1}", "workbook-unsafe", "en"
    )
    assert "external entities (XXE)" in line


def test_an_unused_internal_entity_in_the_meta_sheet_is_refused(case: Case) -> None:
    problem_line(
        score(case, "甲校.xlsx", with_prolog(INTERNAL, META_XML)),
        f"甲校.xlsx — {META_XML}:1:22 (_meta)",
        "workbook-unsafe",
    )


def test_an_entity_attack_in_an_ods_is_refused(case: Case) -> None:
    content = XXE + ODS_CONTENT.split("?>", 1)[1].replace("<text:p>id</text:p>", "<text:p>&e;</text:p>")
    problem_line(score(case, "甲校.ods", ods(content)), "甲校.ods — content.xml:1:22", "workbook-unsafe")


# ----------------------------------------------------------------------- 5. zips that lie, and zip bombs


@pytest.mark.parametrize(("size", "word"), [(100, "大于"), (10**6, "小于")], ids=["larger", "smaller"])
def test_a_member_that_lies_about_its_size_is_refused_by_name(case: Case, size: int, word: str) -> None:
    """Before: 内部错误 (XmlError: File is larger than its declared uncompressed size)."""
    shown = score(case, "甲校.xlsx", falsify_size(STRONG_XLSX.read_bytes(), SHEET_XML, size))
    assert f"解压后{word}目录中声明的大小" in problem_line(
        shown, f"甲校.xlsx — {SHEET_XML} (自评表)", "workbook-unsafe"
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", ["bomb.xlsx", "bomb.json", "bomb.ods"])
def test_a_zip_bomb_is_refused_under_any_name(case: Case, name: str) -> None:
    zip_bomb(case.root / "made.zip")
    shown = score(case, name, (case.root / "made.zip").read_bytes())
    assert "疑似压缩炸弹" in shown and name in shown


def test_a_far_cell_is_refused_before_the_reader_makes_its_grid(case: Case) -> None:
    """Before: calamine allocated 17 billion cells and the process aborted."""
    data = rewrite(
        SHEET_XML,
        lambda b: b.replace(
            b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'
        ),
    )
    line = problem_line(
        score(case, "甲校.xlsx", data), f"甲校.xlsx — {SHEET_XML} (自评表)", "workbook-unsafe"
    )
    assert "A1:XFD1048576" in line and "超过 1,000,000 个单元格的上限" in line


# --------------------------------------------------------------------------------------- 6. legacy .xls


def test_a_forged_dimensions_record_is_refused(case: Case) -> None:
    """Before: calamine reserved 4 billion rows and the process aborted."""
    shown = score(case, "导出.xls", ole(biff(dimensions=(0, 0xFFFFFFF0, 0, 2))))
    assert "DIMENSIONS" in problem_line(shown, "导出.xls — S", "workbook-unsafe")


def test_a_looping_sector_chain_is_refused(case: Case) -> None:
    """Before: calamine followed the directory's chain for ever, growing until the process was killed."""
    data = bytearray(ole(biff()))
    struct.pack_into("<I", data, 512 + 4, 1)
    assert "扇区链越界或循环" in problem_line(
        score(case, "导出.xls", bytes(data)), "导出.xls", "workbook-unsafe"
    )


def test_a_truncated_xls_is_refused(case: Case) -> None:
    shown = score(case, "导出.xls", ole(biff())[:1500])
    assert ".xls 文件的结构异常" in problem_line(shown, "导出.xls", "workbook-unsafe")


# ---------------------------------------------------------------------------------- 7. truncated and corrupt


def test_a_truncated_ods_is_refused_at_the_end_of_its_xml(case: Case) -> None:
    """Before: calamine waited for the end of the table for ever (the case ran past its time bound)."""
    cut = ODS_CONTENT.index("</table:table-row>") + len("</table:table-row>")
    line = problem_line(
        score(case, "甲校.ods", ods(ODS_CONTENT[:cut])),
        f"甲校.ods — content.xml:1:{cut + 1}",
        "workbook-corrupt",
    )
    assert "XML 格式错误" in line


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.999], ids=["half", "most", "all-but-the-end"])
def test_a_truncated_xlsx_is_refused(case: Case, keep: float) -> None:
    data = STRONG_XLSX.read_bytes()
    shown = score(case, "甲校.xlsx", data[: int(len(data) * keep)])
    assert "甲校.xlsx" in shown and ("已损坏" in shown or "workbook-corrupt" in shown)


def test_a_sheet_with_broken_xml_is_refused_naming_the_sheet(case: Case) -> None:
    data = rewrite(SHEET_XML, lambda b: b[: len(b) // 2])
    assert "无法读取工作表 “自评表”" in problem_line(
        score(case, "甲校.xlsx", data), "甲校.xlsx — 自评表", "workbook-corrupt"
    )


# ---------------------------------------------------------------------------------- 8. disguised files


def test_a_workbook_named_json_and_json_named_xlsx_are_read_by_their_content(case: Case) -> None:
    case.file("其实是表格.json", STRONG_XLSX.read_bytes())
    case.file("其实是数据.xlsx", WEAK)
    ran = case.run("score", "demo-school", "其实是表格.json", "其实是数据.xlsx", expect=EXIT_OK)
    assert "滨江实验小学" in ran.out and "北山中学" in ran.out


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("图片.xlsx", b"\x89PNG\r\n\x1a\n" + b"\0" * 64),
        ("网页.xls", b"<html><table><tr><td>1</td></tr></table></html>"),
        ("文档.ods", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"),
    ],
    ids=["png", "html", "pdf"],
)
def test_other_content_under_a_workbook_name_is_a_broken_workbook(
    case: Case, name: str, content: bytes
) -> None:
    assert "不是 Excel/WPS 工作簿" in problem_line(score(case, name, content), name, "workbook-corrupt")


def test_a_workbook_of_another_framework_is_refused_naming_it(case: Case) -> None:
    case.file(
        "other.yaml",
        "id: other\nname: 别的\nversion: '2'\ninputs: {x: {label: X, type: number}}\n"
        "indicators: [{code: A, name: A, points: 1, rule: {threshold: {value: x, at_least: 1}}}]\n",
    )
    case.run("template", "other.yaml", "-o", "out/other.xlsx", expect=EXIT_OK)
    case.file("other.xlsx", (case.out / "other.xlsx").read_bytes())
    shown = case.run("score", "demo-school", "other.xlsx", expect=EXIT_FINDINGS).text
    assert "这份表格是框架 “other”（版本 2）的模板，不是 “demo-school” 的" in problem_line(
        shown, "other.xlsx", "workbook-other-framework"
    )


# ------------------------------------------------------------------------- 9. empty files and folders


@pytest.mark.parametrize("name", ["空.json", "空.yaml", "空.xlsx", "空.xls", "空.ods"])
def test_an_empty_file_is_refused_by_name(case: Case, name: str) -> None:
    assert name in score(case, name, b"")


def test_a_folder_named_like_a_workbook(case: Case) -> None:
    (case.root / "目录.xlsx").mkdir()
    ran = case.run("explain", "demo-school", "目录.xlsx", "A1", expect=EXIT_FINDINGS)
    problem_line(ran.text, "目录.xlsx", "io")
    assert "这是一个文件夹，不是文件" in ran.text
    case.run("score", "demo-school", "目录.xlsx", expect=EXIT_USAGE)  # a folder without submissions


# --------------------------------------------------------------------------------- 10. encodings and BOMs


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("bom8.json", codecs.BOM_UTF8 + WEAK.encode()),
        ("utf16.json", codecs.BOM_UTF16_LE + WEAK.encode("utf-16-le")),
        ("utf16be.yaml", codecs.BOM_UTF16_BE + STRONG_YAML.encode("utf-16-be")),
        ("utf32.yaml", codecs.BOM_UTF32_LE + STRONG_YAML.encode("utf-32-le")),
    ],
)
def test_text_with_a_bom_is_scored(case: Case, name: str, data: bytes) -> None:
    score(case, name, data, EXIT_OK)


def test_gbk_text_is_refused_at_the_first_byte_it_cannot_read(case: Case) -> None:
    shown = score(case, "gbk.yaml", STRONG_YAML.encode("gbk"))
    line, col = line_col(STRONG_YAML, next(ch for ch in STRONG_YAML if ord(ch) > 127))
    assert "请另存为 UTF-8" in problem_line(shown, f"gbk.yaml:{line}:{col}", "encoding")


# ----------------------------------------------------------------------------- 11. numbers as text


@pytest.mark.parametrize(
    "text",
    ["８００", "800人", " 800 ", "+800", "8e2", "8E+2", "800.0", "８００．０", "8,00"],
)
def test_numbers_written_as_text_in_odd_forms_are_read(case: Case, text: str) -> None:
    ran = score(
        case,
        "s.json",
        weak('"students": "８００"', f'"students": {json.dumps(text, ensure_ascii=False)}'),
        EXIT_OK,
    )
    assert "北山中学：23.00 分" in ran


@pytest.mark.parametrize(
    "text", ["八百", "800-", "0x320", "1_000", "8 0 0 人 次", "∞", "NaN", "−800", "800..0", "1e"]
)
def test_text_that_is_no_number_is_refused_at_its_key(case: Case, text: str) -> None:
    ran = score(
        case, "s.json", weak('"students": "８００"', f'"students": {json.dumps(text, ensure_ascii=False)}')
    )
    line = problem_line(ran, "s.json", "bad-value")
    assert "(values.students): 在校生数（students）：应填数值，这里是 “" in line


# --------------------------------------------------------------------------- 12. doubts a workbook hides


def test_a_required_formula_without_its_value_is_refused_at_its_cell(case: Case) -> None:
    """Before: the cell read as empty and 在校生数 became 缺报, with no word why."""
    shown = score(case, "甲校.xlsx", set_cell(f"F{STUDENTS}", f'<c r="F{STUDENTS}"><f>SUM(F20:F21)</f></c>'))
    line = problem_line(
        shown, f"甲校.xlsx — 自评表!F{STUDENTS} (填报值（自评） · 在校生数)", "formula-without-value"
    )
    assert "=SUM(F20:F21)" in line and "请在 Excel 或 WPS 中打开并保存工作簿" in line


def test_a_required_cell_holding_an_error_value_is_refused_at_its_cell(case: Case) -> None:
    """Before: #DIV/0! read as empty: 缺报, with no word why."""
    data = set_cell(f"F{STUDENTS}", f'<c r="F{STUDENTS}" t="e"><f>F20/0</f><v>#DIV/0!</v></c>')
    line = problem_line(
        score(case, "甲校.xlsx", data, lang="en"),
        f"甲校.xlsx — 自评表!F{STUDENTS} (填报值（自评） · 在校生数)",
        "formula-error",
        "en",
    )
    assert "the cell holds the error value #DIV/0!" in line


def test_an_optional_formula_without_its_value_is_scored_with_a_note(case: Case) -> None:
    score(case, "甲校.xlsx", set_cell(f"F{DORM}", f'<c r="F{DORM}"><f>TRUE()</f></c>'), EXIT_OK, "-o", "out")
    (result,) = case.out.glob("*.result.json")
    warnings = json.loads(result.read_text("utf-8"))["data_warnings"]
    assert {"code": "formula-without-value", "detail": f"自评表!F{DORM}"}.items() <= next(
        w for w in warnings if w["code"] == "formula-without-value"
    ).items()


def test_a_percent_cell_without_a_percent_format_is_scored_with_a_note(case: Case) -> None:
    """Before: 0.93 was read as 0.93 % without a word."""
    score(case, "甲校.xlsx", set_cell(f"F{RATE}", number_cell(f"F{RATE}", "0.93")), EXIT_OK, "-o", "out")
    (result,) = case.out.glob("*.result.json")
    (warning,) = [
        w
        for w in json.loads(result.read_text("utf-8"))["data_warnings"]
        if w["code"] == "percent-unformatted"
    ]
    assert (
        warning["message"]
        == f"自评表!F{RATE} 课后服务学生参与率填 0.93（单元格不是百分比格式）：如为 93%，请填 93"
    )
    (report,) = case.out.glob("*.report.md")
    assert "如为 93%，请填 93" in report.read_text("utf-8")


# ---------------------------------------------------------------------------- 13. control characters


@pytest.mark.parametrize(
    "name", ["北山\x00中学", "北山\x1b[2J中学\x07", "\u202e北山中学"], ids=["nul", "escape", "bidi"]
)
def test_control_characters_in_a_unit_name_do_not_stop_the_readers(case: Case, name: str) -> None:
    json_text = weak('"name": "北山中学"', f'"name": {json.dumps(name)}')
    case.file("s.json", json_text)
    case.file("甲校.xlsx", set_cell("F5", text_cell("F5", name)))
    ran = case.run("score", "demo-school", "s.json", "甲校.xlsx", expect=EXIT_OK)
    assert "共 2 份：评分 2 份" in ran.text


def test_explain_reads_a_hostile_workbook_the_same_way(case: Case) -> None:
    case.file("甲校.xlsx", with_prolog(XXE, replace=("滨江实验小学", "&e;")))
    ran = case.run("explain", "demo-school", "甲校.xlsx", "A1", expect=EXIT_FINDINGS, lang="en")
    problem_line(
        ran.text, f"甲校.xlsx — {SHEET_XML}:1:{XXE.index('<!DOCTYPE') + 1} (自评表)", "workbook-unsafe", "en"
    )
