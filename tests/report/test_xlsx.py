"""Excel reports: read back with openpyxl and check exact content, formats and the formula-injection guard."""

from __future__ import annotations

import datetime as dt
import zipfile
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

import scoring
from scoring.engine.rows import FailureRow, UnitRow
from scoring.framework.text import fmt
from scoring.io.xlsx import FONT_NAME, decimal_format, safe_text, text_width
from scoring.report.summary_xlsx import competition_ranks, write_batch_summary
from scoring.report.unit_xlsx import write_unit_report

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "demo-school"
INJECTED = '=HYPERLINK("http://x","点我")'

PASS_FAIL = """
id: passfail-demo
name: 达标类示例
version: "1"
applies_to: [小学, 初中]
scoring: {method: pass_fail}
inputs:
  students:  {label: 在校生数, type: integer, unit: 人, min: 1}
  teachers:  {label: 高于规定学历教师数, type: integer, unit: 人, min: 0}
  area:      {label: 体育运动场馆面积, type: number, unit: m², min: 0}
derived:
  L1: {label: 每百名学生拥有高于规定学历教师数, expr: teachers / students * 100, precision: 2}
  L5: {label: 生均体育运动场馆面积, expr: area / students, precision: 2}
indicators:
  - code: R
    name: 资源配置
    children:
      - {code: R1, name: 高学历教师, rule: {threshold: {value: L1, at_least: {小学: 4.2, 初中: 5.3}}}}
      - {code: R5, name: 生均场馆, rule: {threshold: {value: L5, at_least: {小学: 7.5, 初中: 10.2}}}}
"""


@pytest.fixture(scope="module")
def plan() -> scoring.Plan:
    return scoring.compile_plan(scoring.load_framework("demo-school"))


@pytest.fixture(scope="module")
def strong(plan) -> scoring.Result:
    return scoring.score(plan, scoring.read_submission(EXAMPLES / "strong.yaml"))


@pytest.fixture(scope="module")
def weak(plan) -> scoring.Result:
    return scoring.score(plan, scoring.read_submission(EXAMPLES / "weak.json"))


@pytest.fixture(scope="module")
def injected(plan) -> scoring.Result:
    sub = scoring.Submission(
        unit={"name": INJECTED, "code": "+1+1", "type": "小学", "date": "2026-06-01"},
        values={"students": 500, "teachers_qualified": 21, "sports_area": 4000, "major_accident": "否"},
        waivers=[{"indicator": "A4.1", "by": "@督学", "at": "2026-05-20", "reason": "-1+1 图书馆改建"}],
    )
    return scoring.score(plan, sub)


def rows_of(ws) -> dict[str, list]:
    """Rows keyed by the first cell's value (the label or the code)."""
    return {row[0].value: [c.value for c in row] for row in ws.iter_rows() if row[0].value is not None}


def cell_of(ws, label: str, column: int = 2):
    for row in ws.iter_rows(max_col=1):
        if row[0].value == label:
            return ws.cell(row=row[0].row, column=column)
    raise KeyError(label)


# ----------------------------------------------------------------------------------------- unit report


def test_unit_report_sheets_and_summary(strong, tmp_path):
    path = write_unit_report(strong, tmp_path / "strong.xlsx")
    assert path == tmp_path / "strong.xlsx"
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["汇总", "指标得分", "整改清单"]
    ws = wb["汇总"]
    assert ws["A1"].value == "滨江实验小学 评估报告"
    total = cell_of(ws, "总分")
    assert total.value == pytest.approx(97.85)
    assert total.number_format == "0.00"
    assert ws.cell(row=total.row, column=3).value == f"含加分 {fmt(strong.bonus_total)}"
    assert cell_of(ws, "满分").value == 100
    assert cell_of(ws, "等级").value == "优秀"
    assert cell_of(ws, "否决前等级").value == "优秀"
    assert cell_of(ws, "评估日期").value == dt.datetime(2026, 6, 15)
    assert cell_of(ws, "评估日期").number_format == "yyyy-mm-dd"
    assert cell_of(ws, "框架哈希").value == strong.framework.hash
    assert cell_of(ws, "评估依据").value == "《演示方案（非官方）》"
    completeness = cell_of(ws, "填报完整度")
    assert (completeness.value, completeness.number_format) == (1, "0.0%")
    assert cell_of(ws, "填报完整度", 3).value == "23/23"
    with pytest.raises(KeyError):
        cell_of(ws, "认定结论")  # passed is None in a points framework
    rows = rows_of(ws)
    assert rows["A1"][:6] == ["A1", "办学条件", 30, 30, 1, "达标"]
    assert rows["A4"][2] == pytest.approx(13.85)
    assert rows["达标"][:2] == ["达标", 7]
    assert rows["部分达标"][:2] == ["部分达标", 4]
    assert rows["不适用"][:2] == ["不适用", 1]
    assert rows["B1"][:3] == ["B1", "市级及以上表彰", 2]
    assert "未触发一票否决。" in rows
    assert ws["A3"].font.name == FONT_NAME


def test_unit_report_chart(strong, tmp_path):
    wb = openpyxl.load_workbook(write_unit_report(strong, tmp_path / "strong.xlsx"))
    ws = wb["汇总"]
    assert len(ws._charts) == 1
    chart = ws._charts[0]
    assert chart.tagname == "barChart"
    assert [s.tx.strRef.f for s in chart.series] == ["'汇总'!C24", "'汇总'!D24"]
    assert ws["C24"].value == "得分" and ws["D24"].value == "满分"
    assert chart.series[0].val.numRef.f == "'汇总'!$C$25:$C$28"
    assert chart.series[0].cat.strRef.f == "'汇总'!$B$25:$B$28"
    assert [ws.cell(row=r, column=2).value for r in range(25, 29)] == [
        "办学条件",
        "课程与教学",
        "学校管理",
        "学生发展",
    ]


def test_indicator_sheet(strong, tmp_path):
    wb = openpyxl.load_workbook(write_unit_report(strong, tmp_path / "strong.xlsx"))
    ws = wb["指标得分"]
    assert [c.value for c in ws[1]] == ["编码", "指标", "状态", "值", "标准", "得分", "满分", "计算过程"]
    rows = rows_of(ws)
    a11 = rows["A1.1"]
    assert a11[:3] == ["A1.1", "每百名学生拥有高于规定学历教师数", "达标"]
    assert a11[3] == pytest.approx(4.2) and a11[4] == "≥ 4.2 人"
    assert a11[5:7] == [15, 15]
    assert a11[7] == "每百名学生拥有高于规定学历教师数 = 21 ÷ 500 × 100 = 4.20 ≥ 4.2 → 达标（15.00 分）"
    row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == "A1.1")
    assert row[3].number_format == '0.00" 人"'
    assert row[5].number_format == "0.00" and row[6].number_format == "0"
    assert row[1].alignment.indent == 2  # depth 2
    assert row[7].alignment.wrap_text
    assert rows["A4.4"][2:7] == ["不适用", "—", "—", "—", "—"]
    assert rows["A2.2"][2:4] == ["部分达标", "良好"]
    assert ws.freeze_panes == "C2"
    assert ws.auto_filter.ref == f"A1:H{len(strong.indicators) + 1}"
    rules = {r.formula[0]: r.dxf.fill.fgColor.rgb for cf in ws.conditional_formatting for r in cf.rules}
    assert rules['"达标"'].endswith("C6EFCE")
    assert rules['"未达标"'].endswith("FFC7CE")
    assert rules['"部分达标"'].endswith("FFEB9C")
    assert rules['"缺报"'].endswith("D9D9D9") and rules['"待评"'].endswith("D9D9D9")
    # CJK text counts double: the name column is wider than the code column
    assert ws.column_dimensions["B"].width > ws.column_dimensions["A"].width
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.paperSize == 9  # A4
    # one page wide (fitToWidth absent is the schema's default, 1), as many pages down as needed
    assert (ws.page_setup.fitToWidth or 1) == 1 and ws.page_setup.fitToHeight == 0
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$1:$1"


def test_rectification_sheet(weak, tmp_path):
    wb = openpyxl.load_workbook(write_unit_report(weak, tmp_path / "weak.xlsx"))
    ws = wb["整改清单"]
    assert [c.value for c in ws[1]] == [
        "序号",
        "指标编码",
        "指标",
        "问题",
        "整改要求",
        "依据",
        "责任部门",
        "完成时限",
        "优先级",
        "可挽回分值",
    ]
    first = [c.value for c in ws[2]]
    assert first == [
        1,
        "A1.1",
        "每百名学生拥有高于规定学历教师数",
        "每百名学生拥有高于规定学历教师数为4.50人，低于标准5.3人，差0.80人",
        "通过招聘、交流补足高学历专任教师",
        "教督〔2017〕6号 资源配置指标1",
        "人事科",
        dt.datetime(2026, 12, 12),
        "中",
        15,
    ]
    assert ws["H2"].is_date and ws["H2"].number_format == "yyyy-mm-dd"
    assert ws["J2"].number_format == "0.00"
    assert ws["F3"].value == "—"  # no basis
    assert ws.max_row == len(weak.rectification) + 1
    assert ws.auto_filter.ref == f"A1:J{len(weak.rectification) + 1}"
    assert ws.freeze_panes == "A2"
    summary = wb["汇总"]
    assert cell_of(summary, "自评得分").value == 17
    # the gap by the input's label (never its id)
    assert rows_of(summary)["高于规定学历专任教师数"][1:4] == [40, 36, "自评 40，督评 36，相差 11.1%"]
    assert "teachers_qualified" not in rows_of(summary)


def test_formula_injection_stays_text(injected, tmp_path):
    path = write_unit_report(injected, tmp_path / "injected.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["汇总"]
    for cell in (ws["A1"], cell_of(ws, "单位名称")):
        assert cell.data_type == "s"
        assert cell.quotePrefix
    assert ws["A1"].value == f"{INJECTED} 评估报告"
    name = cell_of(ws, "单位名称")
    assert name.value == INJECTED
    code = cell_of(ws, "单位代码")
    assert (code.value, code.data_type) == ("+1+1", "s")
    change = rows_of(ws)["豁免"]
    assert change[1] == "A4.1 生均图书册数" and change[3] == "@督学" and change[4] == "-1+1 图书馆改建"
    assert change[5] == dt.datetime(2026, 5, 20)
    # No formula anywhere in the package: every sheet's XML is free of <f> elements.
    with zipfile.ZipFile(path) as zf:
        for member in zf.namelist():
            if member.startswith("xl/worksheets/"):
                assert b"<f>" not in zf.read(member) and b"<f " not in zf.read(member)
    # 缺报 and the provisional result show, greyed by the status rules
    rows = rows_of(wb["指标得分"])
    assert rows["A2.1"][2] == "缺报"
    assert rows["A4.1"][2] == "已豁免"
    assert cell_of(ws, "结果").value == "暂定"


def test_safe_text_literal_strings():
    ws = openpyxl.Workbook().active
    for i, text in enumerate(["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "#N/A", "a\x00b"], start=1):
        cell = safe_text(ws.cell(row=i, column=1), text)
        assert cell.data_type == "s" and cell.quotePrefix
        assert cell.value == text.replace("\x00", "\ufffd")


def test_pass_fail_chart_counts_met_leaves(tmp_path):
    plan = scoring.compile_plan(scoring.load_text(PASS_FAIL, "pf.yaml"))
    sub = scoring.Submission(
        unit={"name": "甲校", "type": "小学"}, values={"students": 500, "teachers": 22, "area": 3000}
    )
    result = scoring.score(plan, sub)
    wb = openpyxl.load_workbook(write_unit_report(result, tmp_path / "pf.xlsx"))
    ws = wb["汇总"]
    assert cell_of(ws, "认定结论").value == "不通过"
    with pytest.raises(KeyError):
        cell_of(ws, "总分")
    assert rows_of(ws)["R"][:6] == ["R", "资源配置", 1, 2, 0.5, "未达标"]
    assert len(ws._charts) == 1
    assert rows_of(wb["指标得分"])["R1"][5:7] == ["—", "—"]


# ---------------------------------------------------------------------------------------- batch summary


def test_competition_ranks():
    D = Decimal
    assert competition_ranks([D(90), D(95), D(90), None, D("80.0"), D(95)]) == [3, 1, 3, None, 5, 1]
    assert competition_ranks([]) == []


def test_batch_summary(strong, weak, injected, tmp_path):
    a = UnitRow.of("strong.yaml", strong)
    b = replace(UnitRow.of("twin.yaml", strong), name="滨江二小", code="3201010002")
    c = UnitRow.of("weak.json", weak)
    d = UnitRow.of("=cmd|' /C calc'!A0.json", injected)
    d = replace(d, total=None, grade=None)
    failures = [
        FailureRow(
            "坏表.xlsx",
            ["坏表.xlsx — Sheet1!C12 (在校生数): 应填数值", "坏表.xlsx — Sheet1!C13: 缺少单位名称"],
        ),
        FailureRow("=1+1.xlsx", ["不是 Excel 文件"]),
    ]
    path = write_batch_summary(
        [c, a, b, d], failures, tmp_path / "out" / "汇总.xlsx", framework_name="演示框架"
    )
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["汇总", "分组统计", "一级指标得分率", "等级分布", "失分最多的指标", "无法读取"]

    ws = wb["汇总"]
    assert ws["A1"].value == "演示框架 评估结果汇总（已评 4 个单位，无法读取 2 个文件）"
    assert [c.value for c in ws[2]] == [
        "序号",
        "单位名称",
        "代码",
        "类型",
        "总分",
        "排名",  # within the 学段: 北山中学 is a 初中, the others 小学, two lists
        "等级",
        "一票否决",
        "暂定",
        "完整度",
        "整改项数",
        "文件",
    ]
    table = [[c.value for c in row] for row in ws.iter_rows(min_row=3)]
    assert [r[1] for r in table] == ["北山中学", "滨江实验小学", "滨江二小", INJECTED]
    assert [r[5] for r in table] == [1, 1, 1, "—"]  # alone in 初中; ties share rank 1; no total, no rank
    assert table[1][4] == pytest.approx(97.85) and ws["E4"].number_format == "0.00"
    assert table[0][6:9] == ["不合格", "无", "否"]
    assert table[3][8] == "是"  # provisional
    assert ws["J3"].value == 1 and ws["J3"].number_format == "0.0%"
    assert table[0][10] == len(weak.rectification)
    assert (
        ws["B6"].data_type == "s"
        and ws["L6"].value == "=cmd|' /C calc'!A0.json"
        and ws["L6"].data_type == "s"
    )
    assert ws.freeze_panes == "C3" and ws.auto_filter.ref == "A2:L6"
    assert ws.print_title_rows == "$2:$2"  # the caption prints once, in the page header
    assert ws.print_area == "'汇总'!$A$2:$L$6" and ws.HeaderFooter.oddHeader.center.text == ws["A1"].value

    groups = [[c.value for c in row] for row in wb["分组统计"].iter_rows(min_row=2, max_row=5)]
    assert groups == [
        ["学段", "初中", 1, pytest.approx(float(weak.total)), weak.total, weak.total],
        ["学段", "小学", 3, pytest.approx(97.85), 97.85, 97.85],  # three 小学 rows, two with a total
        ["区域", "示范区", 3, pytest.approx((float(weak.total) + 2 * 97.85) / 3), 97.85, weak.total],
        ["区域", "未填区域", 1, "—", "—", "—"],  # the injected unit gives none
    ]
    assert len(wb["分组统计"]._charts) == len(wb["一级指标得分率"]._charts) == 1
    tops = [[c.value for c in row] for row in wb["一级指标得分率"].iter_rows(min_row=1, max_row=2)]
    assert tops[0] == ["编码", "一级指标", "初中平均得分率", "小学平均得分率"]
    assert tops[1][:3] == ["A1", "办学条件", pytest.approx(float(weak.indicator("A1").points / 30), abs=5e-4)]
    assert tops[1][3] == 1  # both 小学 with points: 30 of 30

    grades = [[c.value for c in row] for row in wb["等级分布"].iter_rows(min_row=2)]
    assert grades == [["优秀", 2, 0.5], ["不合格", 1, 0.25], ["未评等级", 1, 0.25], ["合计", 4, 1]]
    assert wb["等级分布"]["C2"].number_format == "0.0%"

    lost = [[c.value for c in row] for row in wb["失分最多的指标"].iter_rows(min_row=2)]
    assert lost[0] == ["A2.2", "德育工作", 3, 0.75]  # strong twice (良好) and weak
    assert [r[2] for r in lost] == sorted((r[2] for r in lost), reverse=True)

    ws = wb["无法读取"]
    assert [[c.value for c in row] for row in ws.iter_rows()] == [
        ["文件", "原因"],
        ["坏表.xlsx", "坏表.xlsx — Sheet1!C12 (在校生数): 应填数值\n坏表.xlsx — Sheet1!C13: 缺少单位名称"],
        ["=1+1.xlsx", "不是 Excel 文件"],
    ]
    assert ws["A3"].data_type == "s" and ws["B2"].alignment.wrap_text


def test_batch_summary_empty(tmp_path):
    wb = openpyxl.load_workbook(write_batch_summary([], [], tmp_path / "empty.xlsx"))
    assert wb["汇总"]["A1"].value == "评估结果汇总（已评 0 个单位，无法读取 0 个文件）"
    assert [c.value for c in wb["无法读取"][2]] == ["—", "全部文件均已读取。"]
    assert [[c.value for c in r] for r in wb["等级分布"].iter_rows(min_row=2)] == [["合计", 0, "—"]]


# ------------------------------------------------------------------------------------------- atomicity


def test_written_atomically(strong, tmp_path):
    target = tmp_path / "strong.xlsx"
    target.write_bytes(b"old")
    write_unit_report(strong, target)
    write_unit_report(strong, target)
    write_batch_summary([UnitRow.of("s.yaml", strong)], [], tmp_path / "batch.xlsx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["batch.xlsx", "strong.xlsx"]
    assert zipfile.is_zipfile(target)


def test_failed_write_leaves_nothing(strong, tmp_path, monkeypatch):
    import scoring.io.files

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(scoring.io.files.os, "replace", boom)
    with pytest.raises(OSError):
        write_unit_report(strong, tmp_path / "strong.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_helpers():
    assert text_width("A1 办学条件") == 11
    assert decimal_format(Decimal("4.20")) == "0.00"
    assert decimal_format(Decimal("100")) == "0"
    assert decimal_format(Decimal("1E+2")) == "0"


def test_data_warnings_in_the_unit_report_and_the_batch_summary(plan, strong, tmp_path):
    sub = scoring.read_submission(EXAMPLES / "strong.yaml")
    doubtful = scoring.score(plan, sub.model_copy(update={"values": {**sub.values, "dorm_manager": True}}))
    (w,) = doubtful.data_warnings
    assert (w.code, w.detail) == ("K2", "配备专职宿管人员 是，寄宿制学校 否")
    ws = openpyxl.load_workbook(write_unit_report(doubtful, tmp_path / "u.xlsx"))["汇总"]
    rows = rows_of(ws)
    assert rows["K2"][:3] == ["K2", "非寄宿制学校填报了“配备专职宿管人员”，请核实是否为寄宿制学校", w.detail]
    path = write_batch_summary(
        [UnitRow.of("a.yaml", strong), UnitRow.of("b.yaml", doubtful)], [], tmp_path / "汇总.xlsx"
    )
    ws = openpyxl.load_workbook(path)["汇总"]
    heads = [c.value for c in ws[2]]
    col = heads.index("数据核查（请核实）")
    assert [ws.cell(row=r, column=col + 1).value for r in (3, 4)] == ["无", f"K2 {w.message}"]
