"""Workbooks built to hurt the reader, and doubts a workbook hides (issue 13). Each is a located refusal — the
file and the sheet and cell, or the zip member and its line and column — in Chinese and English, or a note with
the submission; never an exception, a hang or an abort of the process.

Cases that made calamine abort the process or loop forever (a far cell, a lying DIMENSIONS record, a looping
sector chain, a truncated .ods) are held to the safety check here, in process; the whole command runs on them in
tests/hostile/test_submissions.py, in a process of its own.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from decimal import Decimal

import pytest

import scoring
from scoring.io.safety import DEFAULT_FILE_LIMITS, FileLimits, UnsafeFile, _Prolog, check_bytes

from ..excel import PLAN
from .forge import (
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
from .test_libreoffice import SOFFICE, _resave
from .test_read import NEEDS_SOFFICE

BOUNDS_ZH = "最多 20 位有效数字，整数部分最多 15 位，小数部分最多 20 位"
STUDENTS = input_row("students")  # 在校生数: integer, required
RATE = input_row("after_school_rate")  # 课后服务学生参与率: percent
DORM = input_row("dorm_manager")  # 配备专职宿管人员: boolean, not required


def refused(data: bytes, name: str = "甲校.xlsx") -> list[scoring.Problem]:
    with pytest.raises(scoring.SubmissionError) as err:
        scoring.read_submission(data, filename=name, plan=PLAN)
    assert err.value.problems and all(p.file == name for p in err.value.problems)
    return err.value.problems


def unsafe(data: bytes, limits: FileLimits = DEFAULT_FILE_LIMITS) -> UnsafeFile:
    with pytest.raises(UnsafeFile) as err:
        check_bytes(data, limits)
    return err.value


# ------------------------------------------------------------------------------------------------ numbers


@pytest.mark.parametrize(
    "cell",
    [
        number_cell(f"F{STUDENTS}", "9" * 5000),  # calamine reads it as inf; before: "应填有限的数值 inf"
        number_cell(f"F{STUDENTS}", "1e300"),
        text_cell(f"F{STUDENTS}", "9" * 5000),  # before: accepted, a 5000-digit number went on to the reports
        text_cell(f"F{STUDENTS}", "1E+999999999"),
    ],
)
def test_a_number_beyond_the_bounds_is_refused_at_its_cell(cell: str) -> None:
    (problem,) = refused(set_cell(f"F{STUDENTS}", cell))
    assert problem.cell == f"自评表!F{STUDENTS} (填报值（自评） · 在校生数)"
    assert problem.code == "bad-value" and BOUNDS_ZH in problem.message_zh
    assert problem.message_en.startswith("number out of range")
    assert len(problem.message_zh) < 200


def test_bad_cells_are_refused_in_english_too() -> None:
    (problem,) = refused(set_cell(f"F{STUDENTS}", text_cell(f"F{STUDENTS}", "很多")))
    assert (problem.message_zh, problem.message_en) == (
        "应填数值，这里是 “很多”",
        "expected a number, got '很多'",
    )


# ------------------------------------------------------------------------------------- XML entities


@pytest.mark.parametrize(
    ("prolog", "entity"),
    [(XXE, "&e;"), (LAUGHS, "&i;"), (INTERNAL, "&name;")],
    ids=["xxe", "billion-laughs", "internal-entity"],
)
def test_a_doctype_in_a_sheet_is_refused_before_any_parser(prolog: str, entity: str) -> None:
    """Before: 内部错误 (XmlError: unrecognized entity) from calamine."""
    data = with_prolog(prolog, replace=("滨江实验小学", entity))
    (problem,) = refused(data)
    column = prolog.index("<!DOCTYPE") + 1
    assert (problem.code, problem.cell) == ("workbook-unsafe", f"{SHEET_XML}:1:{column} (自评表)")
    assert problem.message_zh.startswith(f"压缩包成员 {SHEET_XML} 含有 DOCTYPE 声明（第 1 行第 {column} 列）")
    assert "XXE" in problem.message_en


@pytest.mark.parametrize("prolog", [XXE, LAUGHS, INTERNAL], ids=["xxe", "billion-laughs", "internal-entity"])
def test_a_doctype_in_shared_strings_is_refused(prolog: str) -> None:
    assert scoring.read_submission(with_shared_strings(shared_strings("共享")), plan=PLAN).unit.name == "共享"
    (problem,) = refused(with_shared_strings(shared_strings("&e;", prolog=prolog)))
    assert problem.cell is not None and problem.cell.startswith("xl/sharedStrings.xml:1:")


def test_an_unused_doctype_in_the_meta_sheet_is_refused_too() -> None:
    """Before: calamine read it, and openpyxl's defusedxml refused it later with a ValueError (内部错误)."""
    (problem,) = refused(with_prolog(INTERNAL, META_XML))
    assert problem.cell == f"{META_XML}:1:{INTERNAL.index('<!DOCTYPE') + 1} (_meta)"


def test_the_doctype_is_found_after_comments_and_instructions_in_any_chunking() -> None:
    text = '\ufeff<?xml version="1.0"?>\n<!-- a -- comment -->\n  <?pi x?>\n<!DOCTYPE x []><r/>'
    for encoding in ("utf-8", "utf-16", "utf-16-be", "utf-32"):
        data = text.encode(encoding)
        for size in (1, 3, 7, len(data)):
            prolog = _Prolog()
            for i in range(0, len(data), size):
                prolog.feed(data[i : i + size])
            prolog.close()
            assert prolog.declaration == (4, 1), (encoding, size)
    for clean in ("<r/>", '<?xml version="1.0"?><r><!DOCTYPE/></r>', "not xml <!DOCTYPE", ""):
        prolog = _Prolog()
        prolog.feed(clean.encode())
        prolog.close()
        assert prolog.declaration is None, clean


def test_an_unknown_entity_without_a_doctype_is_a_located_refusal() -> None:
    (problem,) = refused(rewrite(SHEET_XML, lambda b: b.replace("滨江实验小学".encode(), b"&e;")))
    assert (problem.code, problem.cell) == ("workbook-corrupt", "自评表")
    assert problem.message_zh.startswith("工作表 “自评表” 的 XML 中有无法识别的实体引用")


# --------------------------------------------------------------------------------------- the zip itself


@pytest.mark.parametrize(("size", "word"), [(100, "大于"), (10**6, "小于")])
def test_a_member_whose_size_is_false_is_refused_by_name(size: int, word: str) -> None:
    """Before: 内部错误 (XmlError: File is larger than its declared uncompressed size)."""
    (problem,) = refused(falsify_size(STRONG_XLSX.read_bytes(), SHEET_XML, size))
    assert (problem.code, problem.cell) == ("workbook-unsafe", f"{SHEET_XML} (自评表)")
    assert problem.message_zh.startswith(f"压缩包成员 {SHEET_XML} 解压后{word}目录中声明的大小")


def test_a_member_with_a_wrong_crc_an_odd_method_or_a_password_is_refused() -> None:
    data = bytearray(STRONG_XLSX.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.getinfo("xl/styles.xml")
    crc = bytearray(data)
    struct.pack_into("<I", crc, info.header_offset + 14, info.CRC ^ 1)
    at = crc.find(b"xl/styles.xml", crc.find(b"PK\x01\x02"))
    struct.pack_into("<I", crc, at - 46 + 16, info.CRC ^ 1)
    assert "校验和不符" in unsafe(bytes(crc)).zh
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_BZIP2) as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
    assert "压缩方式" in unsafe(buffer.getvalue()).zh
    encrypted = bytearray(buffer.getvalue())
    struct.pack_into("<H", encrypted, 6, 1)
    central = encrypted.find(b"PK\x01\x02")
    struct.pack_into("<H", encrypted, central + 8, 1)
    assert "已加密" in unsafe(bytes(encrypted)).zh


def test_a_far_cell_is_refused_before_calamine_makes_its_grid() -> None:
    """Before: one cell at XFD1048576 made calamine allocate 17 billion cells and abort the process; a cell at
    ZZ100000 cost 2.8 GB."""
    for ref, shown in (
        ("XFD1048576", "A1:XFD1048576"),
        ("ZZ100000", "A1:ZZ100000"),
        ("A1048576", "A1:H1048576"),
    ):
        row = int(re.sub("[A-Z]", "", ref))
        data = rewrite(
            SHEET_XML,
            lambda b, ref=ref, row=row: b.replace(
                b"</sheetData>", f'<row r="{row}"><c r="{ref}"><v>1</v></c></row></sheetData>'.encode()
            ),
        )
        problem = unsafe(data)
        assert problem.place == f"{SHEET_XML} (自评表)"
        assert problem.zh.startswith(f"工作表的使用区域 {shown} 有 ")
        assert "超过 1,000,000 个单元格的上限" in problem.zh


def test_the_extent_counts_every_way_of_naming_a_cell() -> None:
    """Two r attributes, a lower-case or escaped reference, a cell placed by its row alone."""
    for cell in (
        '<row r="60"><c r="A60" r="XFD99"><v>1</v></c></row>',
        '<row r="60"><c r="xfd99"><v>1</v></c></row>',
        '<row r="60"><c r="&#88;FD99"><v>1</v></c></row>',
        '<row r="2000000"><c><v>1</v></c></row>',
    ):
        data = rewrite(
            SHEET_XML, lambda b, cell=cell: b.replace(b"</sheetData>", cell.encode() + b"</sheetData>")
        )
        assert "超过 1,000,000 个单元格的上限" in unsafe(data).zh, cell


# ---------------------------------------------------------------------------------------- a legacy .xls


def test_a_minimal_xls_passes() -> None:
    check_bytes(ole(biff()))
    problems = refused(ole(biff()), "导出.xls")  # read by calamine: it is no 自评表
    assert problems[0].code == "workbook-not-template"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (ole(biff(dimensions=(0, 0xFFFFFFF0, 0, 2))), "声明的使用区域（DIMENSIONS 记录）有 4,294,967,280 行"),
        (ole(biff(dimensions=(5, 2, 0, 2))), "DIMENSIONS"),  # last < first: calamine's arithmetic wraps
        (ole(biff(cells=((60000, 200),))), "工作表的使用区域 A1:GS60001"),
        (ole(biff(), loop=True), "扇区链越界或循环"),
        (ole(biff(), header={44: 10**6}), "文件头中的数量与文件大小不符"),
        (ole(biff(), header={64: 0xFFFF}), "文件头中的数量与文件大小不符"),
        (ole(biff())[:700], "结构异常"),
    ],
    ids=[
        "dimensions",
        "dimensions-wrap",
        "far-cell",
        "chain-loop",
        "fat-count",
        "calamine-difat",
        "truncated",
    ],
)
def test_a_forged_xls_is_refused_before_calamine(data: bytes, words: str) -> None:
    """Before: a lying DIMENSIONS record made calamine reserve rows × columns cells and abort; a looping chain
    of sectors made it read forever."""
    assert words in unsafe(data).zh


def test_a_looping_directory_chain_is_refused() -> None:
    """Before: calamine followed the directory's chain for ever, growing until the process was killed."""
    data = bytearray(ole(biff()))
    struct.pack_into("<I", data, 512 + 4, 1)  # FAT[1], the directory's only sector, points to itself
    assert "扇区链越界或循环" in unsafe(bytes(data)).zh


# ----------------------------------------------------------------------------- doubts: percent, formulas


def test_a_percent_cell_without_a_percent_format_is_kept_with_a_note() -> None:
    """Before: 0.93 was read as 0.93 % without a word."""
    sub = scoring.read_submission(set_cell(f"F{RATE}", number_cell(f"F{RATE}", "0.93")), plan=PLAN)
    assert sub.values["after_school_rate"] == Decimal("0.93")
    assert [n.model_dump() for n in sub.notes] == [
        {
            "code": "percent-unformatted",
            "message": f"自评表!F{RATE} 课后服务学生参与率填 0.93（单元格不是百分比格式）：如为 93%，请填 93",
            "place": f"自评表!F{RATE}",
            "input": "after_school_rate",
        }
    ]
    result = scoring.score(PLAN, sub)
    assert ("percent-unformatted", f"自评表!F{RATE}") in [(w.code, w.detail) for w in result.data_warnings]


def test_a_percent_cell_with_a_percent_format_means_the_percentage() -> None:
    """0.93 typed as 93 % in Excel (a cell format with Excel's built-in 0%, id 9, added last)."""

    def add_percent_format(body: bytes) -> bytes:
        head, rest = body.decode().split("<cellXfs", 1)
        count = int(re.match(r' count="(\d+)"', rest)[1])  # type: ignore[index]
        rest = rest.replace(f' count="{count}"', f' count="{count + 1}"', 1).replace(
            "</cellXfs>",
            '<xf numFmtId="9" fontId="0" fillId="0" borderId="0" applyNumberFormat="1"/></cellXfs>',
            1,
        )
        add_percent_format.index = count  # type: ignore[attr-defined]
        return (head + "<cellXfs" + rest).encode()

    data = rewrite("xl/styles.xml", add_percent_format)
    style = add_percent_format.index  # type: ignore[attr-defined]
    data = set_cell(f"F{RATE}", f'<c r="F{RATE}" s="{style}" t="n"><v>0.93</v></c>', data)
    sub = scoring.read_submission(data, plan=PLAN)
    assert sub.values["after_school_rate"] == Decimal("93") and sub.notes == []


def test_a_required_input_whose_formula_has_no_saved_value_is_refused_at_its_cell() -> None:
    """Before: the cell read as empty and the input became 缺报, with no hint why."""
    for formula in (
        f'<c r="F{STUDENTS}"><f>SUM(400,100)</f></c>',
        f'<c r="F{STUDENTS}"><f>SUM(400,100)</f><v></v></c>',
    ):
        (problem,) = refused(set_cell(f"F{STUDENTS}", formula))
        assert (problem.code, problem.cell) == (
            "formula-without-value",
            f"自评表!F{STUDENTS} (填报值（自评） · 在校生数)",
        )
        assert problem.message_zh.startswith("这里是公式（=SUM(400,100)），但文件中没有保存它的计算结果")
        assert "Excel 或 WPS" in problem.message_zh and "Excel or WPS" in problem.message_en


def test_an_optional_input_or_the_evaluator_column_with_a_formula_gets_a_note() -> None:
    data = set_cell(f"F{DORM}", f'<c r="F{DORM}"><f>TRUE()</f></c>')
    data = set_cell(f"G{STUDENTS}", f'<c r="G{STUDENTS}"><f t="shared" si="0"/></c>', data)
    sub = scoring.read_submission(data, plan=PLAN)
    assert "dorm_manager" not in sub.values and sub.values["students"] == 500
    assert [(n.code, n.place, n.input) for n in sub.notes] == [
        ("formula-without-value", f"自评表!G{STUDENTS}", "students"),
        ("formula-without-value", f"自评表!F{DORM}", "dorm_manager"),
    ]
    assert sub.notes[1].message == (
        f"自评表!F{DORM} 配备专职宿管人员是公式（=TRUE()），文件中没有保存计算结果，按未填处理："
        "请在 Excel 或 WPS 中打开并保存工作簿，公式的值才会存入文件"
    )
    assert "共享公式" in sub.notes[0].message


def test_an_error_value_is_refused_for_a_required_input_and_noted_for_another() -> None:
    """Before: #DIV/0! read as empty, and the input became 缺报 without a word."""
    data = set_cell(f"F{STUDENTS}", f'<c r="F{STUDENTS}" t="e"><f>F20/0</f><v>#DIV/0!</v></c>')
    (problem,) = refused(data)
    assert (problem.code, problem.cell) == (
        "formula-error",
        f"自评表!F{STUDENTS} (填报值（自评） · 在校生数)",
    )
    assert (
        problem.message_zh == "这里是错误值 #DIV/0!（公式算不出结果），读到的是空值：请改正公式或直接填写数值"
    )
    sub = scoring.read_submission(set_cell(f"F{DORM}", f'<c r="F{DORM}" t="e"><v>#N/A</v></c>'), plan=PLAN)
    assert [(n.code, n.message) for n in sub.notes] == [
        (
            "formula-error",
            f"自评表!F{DORM} 配备专职宿管人员是错误值 #N/A（公式算不出结果），按未填处理：请改正公式或直接填写数值",
        )
    ]


def test_a_formula_with_its_saved_value_is_read_as_that_value() -> None:
    data = set_cell(f"F{STUDENTS}", f'<c r="F{STUDENTS}"><f>SUM(400,100)</f><v>500</v></c>')
    sub = scoring.read_submission(data, plan=PLAN)
    assert sub.values["students"] == 500 and sub.notes == []


# ------------------------------------------------------------------------------------ control characters


@pytest.mark.parametrize("name", ["北山\x01中学", "北山\x1b[31m中学\x7f", "北山\x00中学", "\u202e北山中学"])
def test_control_characters_in_a_text_cell_are_kept(name: str) -> None:
    """Left in the data (the output neutralises them); no reader fails on them, NUL included."""
    sub = scoring.read_submission(set_cell("F5", text_cell("F5", name)), plan=PLAN)
    assert sub.unit.name == name
    scoring.score(PLAN, sub)


def test_a_character_reference_xml_forbids_is_a_located_refusal() -> None:
    (problem,) = refused(set_cell("F5", text_cell("F5", "北山&#0;中学")))
    assert (problem.code, problem.cell) == ("workbook-corrupt", "自评表")


# ------------------------------------------------------------------------------------------------ .ods


def test_a_truncated_ods_is_refused_at_the_end_of_its_xml() -> None:
    """Before: calamine waited for the end of the table for ever."""
    cut = ODS_CONTENT.index("</table:table-row>") + len("</table:table-row>")
    (problem,) = refused(ods(ODS_CONTENT[:cut]), "甲校.ods")
    assert (problem.code, problem.cell) == ("workbook-corrupt", f"content.xml:1:{cut + 1}")
    assert problem.message_zh.startswith(f"文件已损坏：content.xml 第 1 行第 {cut + 1} 列的 XML 格式错误")


@pytest.fixture(scope="module")
def strong_ods(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """strong.xlsx saved by LibreOffice as .ods, once for the module."""
    assert SOFFICE, "CI must have LibreOffice"
    return _resave(STRONG_XLSX, "ods", tmp_path_factory.mktemp("ods")).read_bytes()


def _ods_cell(data: bytes, key: str, old: str, new: str) -> bytes:
    """The .ods with, in the row of input ``key``, the first cell matching the pattern ``old`` replaced."""

    def change(body: bytes) -> bytes:
        text = body.decode("utf-8")
        row = re.search(
            rf"<table:table-row[^>]*>(?:(?!</table:table-row>).)*<text:p>{key}</text:p>.*?</table:table-row>",
            text,
            re.S,
        )
        assert row, key
        changed, n = re.subn(old, new, row[0], count=1)
        assert n == 1, old
        return (text[: row.start()] + changed + text[row.end() :]).encode("utf-8")

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zf, zipfile.ZipFile(out, "w") as new_zip:
        for info in zf.infolist():
            body = zf.read(info)
            new_zip.writestr(info, change(body) if info.filename == "content.xml" else body)
    return out.getvalue()


@pytest.mark.slow
@NEEDS_SOFFICE
def test_ods_formulas_without_values_and_unformatted_percents(strong_ods: bytes) -> None:
    value_cell = r'<table:table-cell [^>]*office:value="500"[^>]*>.*?</table:table-cell>'
    formula = '<table:table-cell table:formula="of:=SUM([.F20:.F21])"/>'
    (problem,) = refused(_ods_cell(strong_ods, "students", value_cell, formula), "甲校.ods")
    assert (problem.code, problem.cell) == (
        "formula-without-value",
        f"自评表!F{STUDENTS} (填报值（自评） · 在校生数)",
    )
    assert "=SUM([.F20:.F21])" in problem.message_zh
    rate_cell = r"<table:table-cell [^>]*><text:p>96%</text:p></table:table-cell>"
    plain = _ods_cell(
        strong_ods,
        "after_school_rate",
        rate_cell,
        '<table:table-cell office:value-type="float" office:value="0.93"/>',
    )
    sub = scoring.read_submission(plain, plan=PLAN)
    assert sub.values["after_school_rate"] == Decimal("0.93") and [n.code for n in sub.notes] == [
        "percent-unformatted"
    ]
    error = _ods_cell(
        strong_ods,
        "students",
        value_cell,
        '<table:table-cell table:formula="of:=1/0" office:value-type="string" office:string-value="" '
        'calcext:value-type="error"><text:p>#DIV/0!</text:p></table:table-cell>',
    )
    (problem,) = refused(error, "甲校.ods")
    assert problem.code == "formula-error" and "错误值 #DIV/0!" in problem.message_zh
    percent = _ods_cell(
        strong_ods,
        "after_school_rate",
        rate_cell,
        '<table:table-cell office:value-type="percentage" office:value="0.93"/>',
    )
    sub = scoring.read_submission(percent, plan=PLAN)
    assert sub.values["after_school_rate"] == Decimal("93") and sub.notes == []
