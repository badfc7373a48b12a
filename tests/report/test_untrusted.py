"""Text from submissions in reports (issue 13): control characters never reach Markdown raw nor an Excel cell
unneutralised; the batch summary shows units found twice (ranked once) and the files skipped."""

from __future__ import annotations

import re
from dataclasses import replace

import openpyxl
import pytest

import scoring
from scoring.engine.rows import FailureRow, SkippedFile, UnitRow
from scoring.io.xlsx import safe_text
from scoring.problems import CONTROLS, printable
from scoring.report.markdown import batch_markdown, markdown
from scoring.report.summary_view import summary_view

from ..conftest import ROOT

EX = ROOT / "examples" / "demo-school"
FORGED = "假学校\x1b[2K\r✓ 滨江实验小学：100.00 分，优秀\n\u202e\x07\x9b"


@pytest.fixture(scope="module")
def weak():
    plan = scoring.compile_plan(scoring.load_framework("demo-school"))
    sub = scoring.read_submission(EX / "weak.json")
    sub.unit.name = FORGED
    return scoring.score(plan, sub)


def test_printable_shows_every_control_as_an_escape():
    assert printable("a\x1bb\nc\rd\te\x00f\x7fg\x85h\u202ei\u2066j\u2028k") == (
        "a\\x1bb\\nc\\rd\\te\\x00f\\x7fg\\x85h\\u202ei\\u2066j\\u2028k"
    )
    assert printable("滨江实验小学：97.85 分") == "滨江实验小学：97.85 分"


def test_markdown_never_carries_a_control_character(weak):
    md = markdown(weak)
    assert not CONTROLS.search(md.replace("\n", ""))
    assert "# 假学校\\x1b[2K\\r✓ 滨江实验小学：100.00 分，优秀 \\u202e\\x07\\x9b" in md
    summary = batch_markdown(
        [UnitRow.of(FORGED + ".json", weak)], [FailureRow("坏\x1b.xlsx", ["坏\x1b.xlsx: 原因\r"])]
    )
    assert not CONTROLS.search(summary.replace("\n", "")) and "坏\\x1b.xlsx" in summary


@pytest.mark.parametrize(
    "char", ["\x1b", "\x07", "\x7f", "\x85", "\x9b", "\u202e", "\u2066", "\u2028", "\x00"]
)
def test_an_excel_cell_neutralises_controls_and_keeps_lines(char):
    cell = safe_text(openpyxl.Workbook().active["A1"], f"甲{char}乙\n丙\t丁")
    assert cell.value == "甲\ufffd乙\n丙\t丁"


def test_the_summary_shows_units_found_twice_and_ranks_them_once(weak):
    a = replace(UnitRow.of("a.json", weak), name="北山中学", same_unit=["b.json"], duplicate_of="b.json")
    b = replace(UnitRow.of("b.json", weak), name="北山中学", same_unit=["a.json"], report="b")
    c = replace(
        UnitRow.of("c.json", weak), name="南山中学", code="2", total=weak.total + 1 if weak.total else None
    )
    skipped = [SkippedFile("说明.pdf", "不是可评分的文件类型（.pdf），未读取", "not a submission file type")]
    view = summary_view([a, b, c], [], "演示", precision=2, skipped=skipped)
    assert (
        view.caption
        == "演示 评估结果汇总（已评 3 个单位，其中 1 个与其他文件重复，不计排名和统计，无法读取 0 个文件，跳过 1 个文件）"
    )
    keys = [col.key for col in view.units.columns]
    assert keys[-3:] == ["repeats", "file", "report"]
    rank, repeats = keys.index("rank"), keys.index("repeats")
    assert [row.cells[rank] for row in view.units.rows] == [None, 2, 1]
    assert (
        view.units.rows[0].cells[repeats]
        == "与 b.json 是同一单位；本文件不排名、不计统计，以 b.json 为准（最近修改）"
    )
    assert view.units.rows[1].cells[repeats] == "与 a.json 是同一单位；排名和统计以本文件为准（最近修改）"
    assert view.units.rows[2].cells[repeats] is None
    assert [row.cells[1] for row in view.grades.rows][-1] == 2  # 合计: each unit once
    assert [row.cells for row in view.failures.rows] == [
        ("说明.pdf", "已跳过：不是可评分的文件类型（.pdf），未读取")
    ]


def test_no_duplicates_and_no_skipped_files_leave_the_summary_as_it_was(weak):
    view = summary_view([UnitRow.of("a.json", weak)], [], "演示")
    assert view.caption == "演示 评估结果汇总（已评 1 个单位，无法读取 0 个文件）"
    assert not {"repeats", "report"} & {col.key for col in view.units.columns}
    assert re.fullmatch(r"\d+", str(view.units.rows[0].cells[5]))
