"""Hostile county tables for ``scoring cohort`` (issue 13): the real command on bad statistics tables.

The promises (README "For county 督导室"): every row of the table becomes evaluated units, or is listed with its row
and why — 不参评 by the framework's own rule (the official 教学点 under 50 pupils; exit 0) or refused as a data error
(exit 1, the county verdict then 暂定); a table the evaluation cannot be read from (a missing or unknown column, no
rows, too many rows, not a table) is refused whole with the file and the column named (exit 1); usage errors exit 2.
Messages are Chinese, English with ``--lang en``. The harness checks no traceback, the exit code, nothing changed
outside ``-o``, and the time bound.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import Workbook

from ..conftest import ROOT
from .harness import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE

EXAMPLE = ROOT / "examples" / "ysjh-2017"
HEADER, *ROWS = (EXAMPLE / "schools.csv").read_text("utf-8-sig").splitlines()
COLUMNS = HEADER.split(",")
UNITS = 19  # the example's 17 rows → 19 evaluated units (3 split), 南山教学点 not evaluated
# a plain primary school, good on every indicator; cells by column letter below
GOOD = ["新建小学", "小学", "500", "", "", "30", "", "5", "", "5", "", "2500", "4000", "1000000", "12", "否"]
# the school framework's inputs (id, label), in column order C…P
INPUTS = [
    ("students_primary", "小学在校生数"),
    ("students_junior", "初中在校生数"),
    ("students_senior", "高中在校生数"),
    ("teachers_qualified_primary", "小学专任教师中专科及以上学历人数"),
    ("teachers_qualified_junior", "初中专任教师中本科及以上学历人数"),
    ("backbone_teachers_primary", "小学县级及以上骨干教师数"),
    ("backbone_teachers_junior", "初中县级及以上骨干教师数"),
    ("pe_art_teachers_primary", "小学体育、艺术（美术、音乐）专任教师数"),
    ("pe_art_teachers_junior", "初中体育、艺术（美术、音乐）专任教师数"),
    ("teaching_area", "教学及辅助用房面积（不含室内体育用房）"),
    ("sports_area", "体育运动场馆面积（室外运动场地 + 室内体育用房）"),
    ("equipment_value", "教学仪器设备值"),
    ("multimedia_rooms", "网络多媒体教室数"),
    ("is_teaching_point", "是否教学点"),
]
ROW = len(ROWS) + 2  # the sheet row of a row added after the example's


def _with(**cells: str) -> str:
    """GOOD with some cells changed, by column letter: _with(C="0")."""
    row = list(GOOD)
    for letter, value in cells.items():
        row[ord(letter) - ord("A")] = value
    return _csv_line(row)


def _csv_line(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)  # a cell with a line break is quoted
    return out.getvalue()[:-1]


def _table(case, *extra: str, header: str = HEADER, rows: list[str] | None = None, name: str = "schools.csv"):
    text = "\n".join([header, *(ROWS if rows is None else rows), *extra]) + "\n"
    return case.file(name, text)


def _cohort(case, table, *more: str, expect: int, lang: str | None = None, timeout: float = 30.0):
    return case.run(
        "cohort", "ysjh-2017", table, "-o", case.out, *more, expect=expect, lang=lang, timeout=timeout
    )


def _units(ran) -> int:
    found = re.search(r"评估单位 (\d+) 个", ran.out) or re.search(r"\((\d+) evaluated units", ran.out)
    assert found, ran.out
    return int(found.group(1))


# ------------------------------------------------------------------------------------------------ rows


def test_the_example_lists_its_teaching_point_as_not_evaluated(case):
    ran = _cohort(case, EXAMPLE / "schools.csv", "--county", EXAMPLE / "county.yaml", expect=EXIT_OK)
    assert _units(ran) == UNITS and "不参评 1 行，未能评估 0 行" in ran.out
    assert "不参评：" in ran.out and "第 10 行（南山教学点）" in ran.out and "小学在校生数 = 28" in ran.out
    md = (case.out / "县域评估.md").read_text("utf-8")
    assert "## 不参评（按框架的评估单位规则）" in md and "南山教学点" in md


@pytest.mark.parametrize(
    ("cells", "said"),
    [
        ({"A": "某大学", "B": "大学"}, "学校类型“大学”不是框架 ysjh-2017-school 评估的类型"),
        ({"A": "特教学校", "B": "特殊教育学校"}, "学校类型“特殊教育学校”不是"),
        ({"A": "职业学校", "B": "中等职业学校"}, "学校类型“中等职业学校”不是"),
        ({"A": "繁体小学", "B": "小學"}, "学校类型“小學”不是"),
        ({"A": "无类型", "B": ""}, "没有填写学校类型"),
    ],
)
def test_a_type_the_framework_does_not_evaluate_is_refused_at_its_cell(case, cells, said):
    """Before: the row vanished — 19 units, exit 0, no message."""
    ran = _cohort(case, _table(case, _with(**cells)), expect=EXIT_FINDINGS)
    assert _units(ran) == UNITS and "未能评估 1 行" in ran.out and "暂定" in ran.out
    assert f"schools.csv 第 {ROW} 行" in ran.err and f"CSV!B{ROW} (unit_type · 学校类型)" in ran.err
    assert said in ran.err


@pytest.mark.parametrize(
    ("cells", "said"),
    [
        ({"C": "0"}, "权重 phase_pupils（本学段在校生数）为 0（小学在校生数 = 0）"),
        ({"C": ""}, "为 空（小学在校生数 = 未填"),
        ({"C": "0", "P": "是"}, "这是数据错误，不是按规定不参评"),
        ({"B": "九年一贯制学校", "C": "0", "D": "0"}, "没有在校生的学校无法参与按在校生数加权的统计"),
        (
            {"B": "完全中学", "C": "", "D": "0", "E": "800"},
            "按初中评估，权重 phase_pupils（本学段在校生数）为 0",
        ),
    ],
)
def test_no_pupils_is_a_data_error_not_an_exclusion(case, cells, said):
    ran = _cohort(case, _table(case, _with(**cells)), expect=EXIT_FINDINGS)
    assert _units(ran) == UNITS and f"第 {ROW} 行（新建小学）" in ran.err and said in ran.err


@pytest.mark.parametrize(("pupils", "units", "left"), [("49", UNITS, 2), ("50", UNITS + 1, 1)])
def test_a_teaching_point_under_fifty_is_listed_not_evaluated(case, pupils, units, left):
    ran = _cohort(case, _table(case, _with(C=pupils, P="是")), expect=EXIT_OK)
    assert _units(ran) == units and f"不参评 {left} 行" in ran.out
    if left == 2:
        assert f"第 {ROW} 行（新建小学）：按框架 ysjh-2017-school 的评估单位规则不参评" in ran.out
        assert "小学在校生数 = 49，是否教学点 = 是" in ran.out


def test_a_nine_year_school_without_primary_pupils_is_its_junior_part(case):
    cells = {"B": "九年一贯制学校", "C": "0", "D": "300", "G": "20", "I": "3", "K": "3"}
    ran = _cohort(case, _table(case, _with(**cells)), expect=EXIT_OK)
    assert _units(ran) == UNITS + 1


@pytest.mark.parametrize(
    ("cell", "code", "said"),
    [
        ("-5", "bad-value", "不能小于 0"),
        ("很多", "bad-value", "应填数值"),
        ("12.5", "bad-value", "应填整数"),
        ("NaN", "bad-value", "“NaN”"),
        ("inf", "bad-value", "“inf”"),
        ("1e300", "value-too-large", "数值太大：1e300；应为小于 10^15 的数"),
        ("1" * 40, "value-too-large", "数值太大：" + "1" * 40),
        ("1000000000000000", "value-too-large", "应为小于 10^15 的数"),
    ],
)
def test_a_bad_enrolment_is_refused_naming_file_row_and_column(case, cell, code, said):
    """Before: 1e300 and a 40-digit enrolment raised decimal.InvalidOperation (a traceback)."""
    ran = _cohort(case, _table(case, _with(C=cell)), expect=EXIT_FINDINGS)
    where = f"schools.csv — CSV!C{ROW} (students_primary · 小学在校生数): 错误 [{code}]:"
    assert where in ran.err and said in ran.err


@pytest.mark.parametrize("column", ["L", "M", "N"])
def test_a_huge_resource_is_refused(case, column):
    ran = _cohort(case, _table(case, _with(**{column: "1E+999999999"})), expect=EXIT_FINDINGS)
    assert f"CSV!{column}{ROW} (" in ran.err and "数值太大" in ran.err


@pytest.mark.parametrize(("cell", "pupils"), [("1,200", "1200"), ("１２００", "1200"), (" 1200 ", "1200")])
def test_enrolments_typed_the_way_people_type_them_are_read(case, cell, pupils):
    ran = _cohort(case, _table(case, _with(C=cell)), expect=EXIT_OK)
    assert _units(ran) == UNITS + 1
    data = (case.out / "县域评估.json").read_text("utf-8")
    assert f'"weight": "{pupils}"' in data


def test_the_same_code_twice_is_refused_with_both_rows(case):
    header = "学校名称,学校代码," + ",".join(COLUMNS[1:])
    rows = [_csv_line([r[0], f"42{i:04d}", *r[1:]]) for i, r in enumerate(csv.reader(ROWS))]
    again = _csv_line(["城关一小重复", "420000", *GOOD[1:]])
    ran = _cohort(case, _table(case, again, header=header, rows=rows), expect=EXIT_FINDINGS)
    assert (
        f"schools.csv 第 2 行（城关第一小学）\n    与第 {ROW} 行是同一所学校（学校代码 420000，小学）"
        in ran.err
    )
    assert f"schools.csv 第 {ROW} 行（城关一小重复）\n    与第 2 行是同一所学校" in ran.err
    assert _units(ran) == UNITS - 1 and "暂定" in ran.out


def test_the_same_name_and_type_twice_is_refused(case):
    ran = _cohort(case, _table(case, ROWS[0]), expect=EXIT_FINDINGS)
    assert f"与第 {ROW} 行是同一所学校（名称和学段相同：城关第一小学，小学）" in ran.err
    assert "这几行都未计入" in ran.err and _units(ran) == UNITS - 1


def test_a_blank_name_is_refused(case):
    ran = _cohort(case, _table(case, _with(A="   ")), expect=EXIT_FINDINGS)
    assert f"CSV!{ROW}: 错误 [bad-value]: 没有填写学校名称" in ran.err


def test_a_short_row_is_read_as_blank_cells_and_refused_for_no_pupils(case):
    ran = _cohort(case, _table(case, "半行小学,小学"), expect=EXIT_FINDINGS)
    assert f"第 {ROW} 行（半行小学）" in ran.err and "小学在校生数 = 未填" in ran.err


def test_data_under_no_header_is_reported_not_dropped(case):
    ran = _cohort(case, _table(case, _with() + ",多出来的"), expect=EXIT_FINDINGS)
    assert f"CSV!Q{ROW}: 错误 [table-stray-cell]: 单元格有内容 “多出来的”，但这一列没有表头" in ran.err


def test_control_characters_in_a_name_reach_no_terminal_and_no_markdown_raw(case):
    name = "坏\x1b[2J名|称\n第二行\u202e校"
    ran = _cohort(case, _table(case, _with(A=name)), expect=EXIT_OK)
    md = (case.out / "县域评估.md").read_text("utf-8")
    for text in (ran.out, ran.err, md):
        assert "\x1b" not in text and "\u202e" not in text
    assert "坏\\x1b[2J名\\|称 第二行\\u202e校" in md


# --------------------------------------------------------------------------------------------- columns


@pytest.mark.parametrize(("input_id", "label"), INPUTS)
def test_a_missing_column_is_refused_naming_it(case, input_id, label):
    """Before: every school 缺报 or 未达标 (or its units gone) and the county 不予认定, exit 0."""
    k = COLUMNS.index(label)
    rows = [_csv_line([c for i, c in enumerate(r) if i != k]) for r in csv.reader(ROWS)]
    header = ",".join(c for i, c in enumerate(COLUMNS) if i != k)
    ran = _cohort(case, _table(case, header=header, rows=rows), expect=EXIT_FINDINGS)
    said = f"schools.csv — CSV!1: 错误 [table-missing-column]: 缺少列 “{label}”（{input_id}）"
    assert said in ran.err and "单元格可以留空，但这一列不能没有" in ran.err
    assert not case.out.exists()  # refused whole: nothing written


def test_a_missing_column_in_english(case):
    rows = [_csv_line(r[:-1]) for r in csv.reader(ROWS)]
    ran = _cohort(
        case, _table(case, header=",".join(COLUMNS[:-1]), rows=rows), expect=EXIT_FINDINGS, lang="en"
    )
    assert "error [table-missing-column]: missing column '是否教学点' (is_teaching_point)" in ran.err


def test_no_type_column_is_refused(case):
    rows = [_csv_line(r[:1] + r[2:]) for r in csv.reader(ROWS)]
    ran = _cohort(
        case, _table(case, header=",".join(COLUMNS[:1] + COLUMNS[2:]), rows=rows), expect=EXIT_FINDINGS
    )
    assert "找不到学校类型列" in ran.err


def test_an_unknown_extra_column_is_refused_naming_it(case):
    rows = [r + ",3" for r in ROWS]
    ran = _cohort(case, _table(case, header=HEADER + ",图书册数", rows=rows), expect=EXIT_FINDINGS)
    assert "CSV!Q1: 错误 [table-header]: 表头 “图书册数” 既不是填报项的 id，也不是其中文名称" in ran.err


def test_the_same_column_twice_is_refused(case):
    rows = [r + "," + r.split(",")[2] for r in ROWS]
    ran = _cohort(case, _table(case, header=HEADER + ",students_primary", rows=rows), expect=EXIT_FINDINGS)
    assert "第 C 列和第 Q 列是同一项（小学在校生数 · students_primary）：只能保留一列" in ran.err


# ----------------------------------------------------------------------------------------- whole files


def test_an_empty_file_is_refused(case):
    ran = _cohort(case, case.file("schools.csv", b""), expect=EXIT_FINDINGS)
    assert "schools.csv: 错误 [table-empty]: 表格是空的" in ran.err


def test_a_header_without_rows_is_refused(case):
    ran = _cohort(case, _table(case, rows=[]), expect=EXIT_FINDINGS)
    assert "表中只有表头，没有任何学校" in ran.err and not case.out.exists()


@pytest.mark.parametrize(
    ("encoding", "units"),
    [("utf-8", UNITS), ("utf-8-sig", UNITS), ("gbk", UNITS), ("gb18030", UNITS), ("utf-16", UNITS)],
)
def test_the_encodings_excel_and_wps_save_are_read_alike(case, encoding, units):
    text = "\r\n".join([HEADER, *ROWS]) + "\r\n"
    ran = _cohort(case, case.file("schools.csv", text.encode(encoding)), expect=EXIT_OK)
    assert _units(ran) == units and "L1 小学：全县平均值 5.73，差异系数 0.081（11 所）" in ran.out


def test_bytes_in_no_encoding_are_refused(case):
    ran = _cohort(
        case, case.file("schools.csv", HEADER.encode() + b"\n\xff\xfe\xfa\x80,\x81\n"), expect=EXIT_FINDINGS
    )
    assert "schools.csv: 错误 [encoding]: CSV 文件既不是 UTF-8、UTF-16 也不是 GBK 编码" in ran.err


def test_a_nul_byte_is_read_and_shown_escaped(case):
    data = ("\n".join([HEADER, *ROWS]) + "\n" + _with(C="5\x0000") + "\n").encode()
    ran = _cohort(case, case.file("schools.csv", data), expect=EXIT_FINDINGS)
    assert "\x00" not in ran.err and f"CSV!C{ROW} (students_primary · 小学在校生数)" in ran.err
    assert "5\\x0000" in ran.err


def test_a_field_beyond_the_csv_limit_is_refused_with_its_line(case):
    data = "\n".join([HEADER, *ROWS[:3], _with(A="长" * 200_000)]) + "\n"
    ran = _cohort(case, case.file("schools.csv", data), expect=EXIT_FINDINGS)
    assert "[table-csv]: CSV 第 5 行无法解析：field larger than field limit" in ran.err


def _workbook(case, rows: list[list[object]], name: str = "schools.xlsx"):
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for r in rows:
        ws.append(r)
    buffer = io.BytesIO()
    wb.save(buffer)
    return case.file(name, buffer.getvalue())


def _typed(cells: list[str]) -> list[object]:
    return [int(c) if c.isdigit() else (c or None) for c in cells]


def test_a_workbook_table_gives_what_the_csv_gives(case):
    book = _workbook(case, [COLUMNS, *(_typed(r) for r in csv.reader(ROWS))])
    ran = _cohort(case, book, "--county", EXAMPLE / "county.yaml", expect=EXIT_OK)
    assert _units(ran) == UNITS and "某县：不予认定" in ran.out and "第 10 行（南山教学点）" in ran.out


def test_a_huge_number_in_a_workbook_is_refused_at_its_cell(case):
    bad = _typed(GOOD)
    bad[2] = 1e300
    book = _workbook(case, [COLUMNS, *(_typed(r) for r in csv.reader(ROWS)), bad])
    ran = _cohort(case, book, expect=EXIT_FINDINGS)
    assert f"schools.xlsx — Sheet!C{ROW} (students_primary · 小学在校生数): 错误 [value-too-large]" in ran.err


def test_a_workbook_named_csv_is_refused(case):
    book = _workbook(case, [COLUMNS, _typed(GOOD)], name="schools.csv")
    ran = _cohort(case, book, expect=EXIT_FINDINGS)
    assert "这是一个 Excel 工作簿，不是 CSV" in ran.err


def test_a_corrupt_workbook_is_refused(case):
    ran = _cohort(case, case.file("schools.xlsx", b"PK\x03\x04 not really a zip"), expect=EXIT_FINDINGS)
    assert "schools.xlsx" in ran.err and "错误" in ran.err


def test_a_source_that_is_no_table_is_a_usage_error(case):
    ran = _cohort(case, case.file("schools.txt", HEADER), expect=EXIT_USAGE)
    assert "应为统计表" in ran.err


def test_an_unknown_output_format_is_a_usage_error(case):
    ran = _cohort(case, EXAMPLE / "schools.csv", "--format", "json,docx", expect=EXIT_USAGE)
    assert "未知的输出格式：docx" in ran.err


def test_messages_in_english(case):
    ran = _cohort(
        case, _table(case, _with(B="大学"), _with(A="零小学", C="0")), expect=EXIT_FINDINGS, lang="en"
    )
    assert (
        f"schools.csv row {ROW} (新建小学)" in ran.err and "unit type '大学' is not one framework" in ran.err
    )
    assert f"schools.csv row {ROW + 1} (零小学)" in ran.err and "the weight phase_pupils is 0" in ran.err
    assert "provisional" in ran.out and "not evaluated: " in ran.out


# ------------------------------------------------------------------------------------------------ size


def _big(case, n: int):
    """A table of ``n`` schools made from the example's rows (names numbered, so no two are the same school)."""
    rows = list(csv.reader(ROWS))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for i in range(n):
        r = rows[i % len(rows)]
        writer.writerow([f"{r[0]}{i}", *r[1:]])
    return case.file("big.csv", out.getvalue())


@pytest.mark.parametrize(
    ("rows", "more", "said"),
    [
        (100_001, ("--format", "json,md"), "表中有 100,001 行数据，超过上限 100,000 行"),
        (50_001, (), "表中有 50,001 行数据，超过上限 50,000 行"),
    ],
)
def test_more_rows_than_the_limit_are_refused_at_once(case, rows, more, said):
    ran = _cohort(case, _big(case, rows), *more, expect=EXIT_FINDINGS, timeout=20)
    assert said in ran.err and not case.out.exists() and ran.seconds < 10
    if not more:  # the workbook's own limit, and what can still be done
        assert "县域评估.xlsx 最多写 50,000 所学校" in ran.err and "--format json,md" in ran.err


@pytest.mark.slow
def test_a_hundred_thousand_schools_finish_in_under_a_minute(case):
    """Before: still running at 120 s (the aggregation compared units with ``in`` over a list: quadratic).
    JSON and Markdown: the workbook adds openpyxl's per-cell cost (benchmarks/cohort.py times all three)."""
    ran = _cohort(case, _big(case, 100_000), "--format", "json,md", expect=EXIT_OK, timeout=60)
    per_row = [1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 2, 2, 2]  # the example's rows: 南山 0, 一贯制 2
    assert sum(per_row) == UNITS and _units(ran) == sum(per_row[i % 17] for i in range(100_000))
    assert ran.seconds < 60
