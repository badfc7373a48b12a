"""Report views: the exact content a 督学 reads, decided once, and the Markdown and Excel renderers showing the same
texts and numbers from it — numbers at their declared precision, never at the Decimal's exponent."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import openpyxl
import pytest

import scoring
from scoring.engine.result import result_from_json
from scoring.engine.rows import FailureRow, UnitRow
from scoring.report.blocks import Cell, Lines, Number, Table, cell_text, number_text
from scoring.report.excel import number_format
from scoring.report.markdown import markdown, summary_markdown, unit_markdown
from scoring.report.summary_view import summary_view
from scoring.report.summary_xlsx import summary_book, write_batch_summary
from scoring.report.unit_view import unit_view
from scoring.report.unit_xlsx import unit_report_bytes, view_book, write_unit_report

from ..helpers import D, plan_of, run

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "demo-school"

BODY = """
scoring: {method: points, precision: 2}
inputs:
  students: {label: 在校生数, type: integer, unit: 人, min: 1}
  teachers: {label: 专任教师数, type: integer, unit: 人, min: 0}
  books: {label: 图书册数, type: integer, unit: 册, min: 0}
  lab: {label: 有实验室, type: boolean}
  tutoring: {label: 有偿补课, type: boolean}
derived:
  ratio: {label: 每百名学生教师数, expr: "teachers / students * 100", precision: 1, unit: 人}
  per: {label: 生均图书册数, expr: "books / students", precision: 1, unit: 册}
indicators:
  - code: A
    name: 办学条件
    children:
      - code: A1
        name: 教师配备
        points: 10
        rule: {threshold: {value: ratio, at_least: 5}}
        rectify: {problem: "{name}为{value}{unit}，低于标准{standard}{unit}", owner: 人事科, within_days: 90}
      - {code: A2, name: 图书, points: 6, rule: {proportional: {value: per, target: 30}}}
  - code: B
    name: 实验教学
    children:
      - code: B1
        name: 实验室
        points: 4
        local: true
        verified: false
        note: 以县教育局认定为准
        rule: {checklist: {items: [{label: 有实验室, when: lab, points: 4}]}}
vetoes:
  - {code: V1, when: tutoring, effect: {downgrade: 1}, reason: 有偿补课, local: true}
grades:
  - {name: 优秀, at_least: 18}
  - {name: 合格, at_least: 12}
  - {name: 不合格}
"""
VALUES = {"students": 400, "teachers": 20, "books": 10000, "lab": False, "tutoring": False}


@pytest.fixture(scope="module")
def plan() -> scoring.Plan:
    return plan_of(BODY)


@pytest.fixture(scope="module")
def result(plan) -> scoring.Result:
    return run(plan, VALUES)


def texts(table: Table) -> list[list[str]]:
    """A table's rows as the text a reader sees."""
    return [[cell_text(cell) for cell in row.cells] for row in table.rows]


def shown(cell: Cell) -> object:
    """What the workbook holds for a view's cell: real numbers with the view's format, lines one per line."""
    if cell is None:
        return "—"
    if isinstance(cell, Number):
        return (cell.value, number_format(cell))
    if isinstance(cell, Lines):
        return "\n".join(cell.items)
    return cell


def loaded(data: bytes) -> openpyxl.Workbook:
    """A workbook's bytes read back with openpyxl."""
    return openpyxl.load_workbook(BytesIO(data))


def value_of(c) -> object:
    """A cell read back as :func:`shown` gives a view's cell: a number written with a format as (its Decimal, the
    format) — the file holds the Decimal's digits, read back as a float — and a date as a date."""
    if isinstance(c.value, (int, float)) and not isinstance(c.value, bool) and c.number_format != "General":
        return (Decimal(repr(c.value)) if isinstance(c.value, float) else Decimal(c.value), c.number_format)
    if isinstance(c.value, dt.datetime) and c.number_format == "yyyy-mm-dd":
        return c.value.date()
    return c.value


def sheet_values(ws, top: int) -> list[list[object]]:
    """A sheet's rows below the header at ``top``, numbers with their formats (as :func:`shown` gives them)."""
    return [[value_of(c) for c in row] for row in ws.iter_rows(min_row=top + 1)]


# ------------------------------------------------------------------------------------------- unit view


def test_unit_view_says_everything_once(result):
    view = unit_view(result)
    assert view.title == "测试学校 评估报告"
    assert [(f.label, cell_text(f.value), f.note) for f in view.facts] == [
        ("单位名称", "测试学校", None),
        ("单位代码", "—", None),
        ("单位类型", "小学", None),
        ("评估日期", "2026-06-01", None),
        ("评估框架", "测试框架", None),
        ("框架编号", "t", None),
        ("框架版本", "1", None),
        ("框架哈希", result.framework.hash, None),
        ("评分方法", "分值制", None),
        ("总分", "15.00", None),
        ("满分", "20", None),
        ("总分计算", "一级指标得分 15.00 + 0.00 = 15.00（满分 20）；总分 15.00", None),
        ("等级", "合格", None),
        ("否决前等级", "合格", "未调整"),
        ("填报完整度", "100.0%", "5/5"),
        ("结果", "确定", None),
    ]
    assert [f.label for f in view.facts if f.strong] == ["总分", "等级"]

    assert view.overview.title == "一级指标得分"
    assert [c.title for c in view.overview.columns] == ["编码", "一级指标", "得分", "满分", "得分率", "状态"]
    assert texts(view.overview) == [
        ["A", "办学条件", "15.00", "16", "93.8%", "部分达标"],
        ["B", "实验教学", "0.00", "4", "0.0%", "未达标"],
    ]
    assert view.chart is not None
    assert (view.chart.title, view.chart.axis, view.chart.category, view.chart.series) == (
        "一级指标得分与满分",
        "分",
        "name",
        ("earned", "full"),
    )

    counts, vetoes = view.sections  # nothing else applies: no bonus, checks, gaps, changes or evidence
    assert (counts.title, texts(counts)) == (
        "指标状态统计",
        [["达标", "1"], ["未达标", "1"], ["部分达标", "1"]],
    )
    assert (vetoes.title, vetoes.rows, vetoes.empty) == ("一票否决", (), "未触发一票否决。")

    assert view.indicators.caption == "测试学校 指标得分"
    assert [c.title for c in view.indicators.columns] == [
        "编码",
        "指标",
        "状态",
        "值",
        "标准",
        "得分",
        "满分",
        "计算过程",
    ]
    assert texts(view.indicators) == [
        ["A", "办学条件", "部分达标", "—", "—", "15.00", "16", "10.00 + 5.00 = 15.00（满分 16） → 部分达标"],
        [
            "A1",
            "教师配备",
            "达标",
            "5.0 人",
            "≥ 5 人",
            "10.00",
            "10",
            "每百名学生教师数 = 20 ÷ 400 × 100 = 5.0 ≥ 5 → 达标（10.00 分）",
        ],
        [
            "A2",
            "图书",
            "部分达标",
            "25.0 册",
            "目标 30 册",
            "5.00",
            "6",
            "生均图书册数 = 10000 ÷ 400 = 25.0；6 × min(25.0 ÷ 30, 1) = 5.00 → 部分达标",
        ],
        ["B", "实验教学", "未达标", "—", "—", "0.00", "4", "0.00 = 0.00（满分 4） → 未达标"],
        [
            "B1",
            "实验室（地方）（待核）",  # a local, unverified indicator says so wherever it is shown
            "未达标",
            "0",
            "1 项",
            "0.00",
            "4",
            "有实验室×：得 0.00 分 → 未达标；备注：以县教育局认定为准",
        ],
    ]
    assert [(row.level, row.strong) for row in view.indicators.rows] == [
        (0, True),
        (1, False),
        (1, False),
        (0, True),
        (1, False),
    ]
    explanation = view.indicators.rows[4].cells[-1]
    assert explanation == Lines(("有实验室×：得 0.00 分 → 未达标", "备注：以县教育局认定为准"))

    assert view.rectification.caption == "测试学校 整改清单"
    assert texts(view.rectification) == [
        [
            "1",
            "B1",
            "实验室",
            "实验室得0.00分（满分4分），失4.00分",
            "对照评分标准逐项整改，达到满分要求",
            "—",
            "—",
            "—",
            "中",
            "4.00",
        ],
        [
            "2",
            "A2",
            "图书",
            "图书得5.00分（满分6分），失1.00分",
            "对照评分标准逐项整改，达到满分要求",
            "—",
            "—",
            "—",
            "中",
            "1.00",
        ],
    ]
    assert view.footer == result.engine


def test_missing_inputs_are_named_by_their_labels(plan):
    view = unit_view(run(plan, {k: v for k, v in VALUES.items() if k not in ("books", "lab")}))
    fact = next(f for f in view.facts if f.label == "填报完整度")
    assert fact.note == "3/5，缺报：图书册数、有实验室"  # never books, lab


def test_vetoes_changes_and_evidence_are_tabulated_and_said_in_a_sentence(plan):
    res = run(
        plan,
        {**VALUES, "teachers": 18, "tutoring": True},
        waivers=[{"indicator": "B1", "by": "@督学", "at": "2026-05-20", "reason": "实验室改建"}],
        evidence={"A1": ["教师名册.xlsx", "职称证书.pdf"], "books": ["图书台账.xlsx"]},
    )
    view = unit_view(res)
    sections = {t.key: t for t in view.sections}
    assert list(sections) == ["counts", "vetoes", "changes", "evidence"]
    assert texts(sections["vetoes"]) == [
        ["V1", "有偿补课（地方）", "降低 1 个等次", "触发", "有偿补课：是 → 触发"]
    ]
    assert texts(sections["changes"]) == [
        ["豁免", "B1 实验室", "参与评分 → 已豁免", "@督学", "实验室改建", "2026-05-20"]
    ]
    assert [r.sentence for r in sections["changes"].rows] == [
        "豁免 B1 实验室：参与评分 → 已豁免（@督学，2026-05-20：实验室改建）"
    ]
    assert [r.sentence for r in sections["evidence"].rows] == [
        "A1 教师配备：教师名册.xlsx、职称证书.pdf",
        "图书册数：图书台账.xlsx",  # an input by its label, never its id
    ]
    assert texts(view.rectification)[:2] == [
        [
            *(
                "1",
                "V1",
                "有偿补课",
                "有偿补课（一票否决：降低 1 个等次）",
                "立即整改并追责问责，书面报告整改情况",
            ),
            *("—", "—", "—", "高", "—"),
        ],
        [
            *("2", "A1", "教师配备", "教师配备为4.5人，低于标准5人", "达到标准（≥ 5人）"),
            *("—", "人事科", "2026-08-30", "高", "10.00"),
        ],
    ]

    md = unit_markdown(view)
    assert "- 豁免 B1 实验室：参与评分 → 已豁免（@督学，2026-05-20：实验室改建）" in md
    assert "## 佐证材料\n\n- A1 教师配备：教师名册.xlsx、职称证书.pdf\n- 图书册数：图书台账.xlsx\n" in md
    assert "| V1 | 有偿补课（地方） | 降低 1 个等次 | 触发 | 有偿补课：是 → 触发 |" in md
    summary = loaded(view_book(view).data())["汇总"]
    rows = {row[0].value: tuple(value_of(c) for c in row) for row in summary.iter_rows() if row[0].value}
    assert rows["豁免"][:6] == (
        "豁免",
        "B1 实验室",
        "参与评分 → 已豁免",
        "@督学",
        "实验室改建",
        dt.date(2026, 5, 20),
    )
    assert rows["—"][:3] == ("—", "图书册数", "图书台账.xlsx")
    assert "books" not in rows
    assert rows["V1"][:5] == ("V1", "有偿补课（地方）", "降低 1 个等次", "触发", "有偿补课：是 → 触发")


# ---------------------------------------------------------------------------------------------- precision


def test_points_show_the_frameworks_precision_whatever_the_decimal(plan, tmp_path):
    result = run(plan, VALUES)
    result.indicator("A1").points = D(10)  # a Decimal without decimals: still shown at precision 2
    view = unit_view(result)
    a1 = view.indicators.rows[1].cells
    assert a1[5] == Number(D(10), 2) and cell_text(a1[5]) == "10.00"
    assert (
        a1[6] == Number(D(10), None) and cell_text(a1[6]) == "10"
    )  # full points as the framework writes them
    ws = openpyxl.load_workbook(write_unit_report(result, tmp_path / "r.xlsx"))["指标得分"]
    assert (ws["F3"].value, ws["F3"].number_format) == (10, "0.00")
    assert (ws["G3"].value, ws["G3"].number_format) == (10, "0")
    assert "| A1 | 　教师配备 | 达标 | 5.0 人 | ≥ 5 人 | 10.00 | 10 |" in unit_markdown(view)

    one = run(plan_of(BODY.replace("precision: 2}", "precision: 1}")), VALUES)
    assert one.precision == 1
    total = next(f for f in unit_view(one).facts if f.label == "总分")
    assert total.value == Number(D("15.0"), 1) and number_format(total.value) == "0.0"


def test_a_value_shows_the_precision_it_was_compared_at():
    """Compared unrounded (compare: exact), a derived value keeps its computed digits; the report still shows it at
    the derived value's declared precision, 1: 25 reads 25.0 and 5.00 reads 5.0."""
    res = run(plan_of(BODY.replace("precision: 2}", "precision: 2, compare: exact}")), VALUES)
    a1, a2 = res.indicator("A1"), res.indicator("A2")
    assert (a1.value, a1.precision) == (D("5.00"), 1) and str(a1.value) == "5.00"
    assert (a2.value, a2.precision) == (D(25), 1) and str(a2.value) == "25"
    assert (res.indicator("A").precision, res.indicator("B1").precision) == (None, None)  # a group, a count
    rows = unit_view(res).indicators.rows
    assert [cell_text(r.cells[3]) for r in rows[1:3]] == ["5.0 人", "25.0 册"]
    ws = loaded(unit_report_bytes(res))["指标得分"]
    assert [(ws[f"D{i}"].value, ws[f"D{i}"].number_format) for i in (3, 4)] == [
        (D("5.00"), '0.0" 人"'),
        (D(25), '0.0" 册"'),
    ]
    assert "| 5.0 人 | ≥ 5 人 |" in markdown(res) and "| 25.0 册 | 目标 30 册 |" in markdown(res)


def test_a_rules_own_precision_comes_first():
    body = BODY.replace("at_least: 5}}", "at_least: 5, precision: 0}}")
    res = run(plan_of(body), {**VALUES, "teachers": 19})  # 4.75 per 100 pupils: 5 at precision 0
    a1 = res.indicator("A1")
    assert (a1.status, a1.precision) == ("met", 0)
    assert cell_text(unit_view(res).indicators.rows[1].cells[3]) == "5 人"


def test_precision_is_kept_in_the_json_and_older_results_still_load(result):
    data = json.loads(result.to_json())
    assert data["precision"] == 2
    assert [i["precision"] for i in data["indicators"]] == [None, 1, 1, None, None]
    assert result_from_json(result.to_json()) == result
    del data["precision"]
    for ind in data["indicators"]:
        del ind["precision"]
    old = result_from_json(json.dumps(data))
    assert old.precision is None and old.indicator("A1").precision is None
    view = unit_view(old)  # without a recorded precision, numbers are shown as the result wrote them
    assert texts(view.indicators)[1][3:7] == ["5.0 人", "≥ 5 人", "10.00", "10"]
    assert number_format(view.indicators.rows[1].cells[5]) == "0.00"


def test_number_text_and_format_agree():
    cases = [
        (Number(D(5), 1), "5.0", "0.0"),
        (Number(D("4.25"), 1, "人"), "4.3 人", '0.0" 人"'),
        (Number(D("4.20"), None, "%"), "4.20%", '0.00"%"'),
        (Number(D(100)), "100", "0"),
        (Number(D("0.5"), 1, percent=True), "50.0%", "0.0%"),
        (Number(D("0.12345"), 2), "0.12", "0.00"),
    ]
    for number, text, fmt in cases:
        assert (number_text(number), number_format(number)) == (text, fmt), number


# ------------------------------------------------------------------------ the two renderers agree


@pytest.fixture(scope="module")
def demo_results() -> list[scoring.Result]:
    plan = scoring.compile_plan(scoring.load_framework("demo-school"))
    subs = [scoring.read_submission(EXAMPLES / name) for name in ("strong.yaml", "weak.json")]
    doubtful = subs[0].model_copy(update={"values": {**subs[0].values, "dorm_manager": True}})
    return [scoring.score(plan, sub) for sub in [*subs, doubtful]]


def test_markdown_and_workbook_show_the_same_view(demo_results):
    for res in demo_results:
        view = unit_view(res)
        md = markdown(res)
        wb = loaded(unit_report_bytes(res))
        # the two sheet tables hold exactly the view's rows, cell by cell
        assert sheet_values(wb["指标得分"], 1) == [[shown(c) for c in r.cells] for r in view.indicators.rows]
        assert [c.value for c in wb["指标得分"][1]] == [c.title for c in view.indicators.columns]
        if view.rectification.rows:
            assert sheet_values(wb["整改清单"], 1) == [
                [shown(c) for c in r.cells] for r in view.rectification.rows
            ]
        # every explanation and every 整改 problem, in both
        sheet = {c.value for ws in wb for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
        for row in view.indicators.rows:
            explanation = row.cells[-1]
            items = explanation.items if isinstance(explanation, Lines) else (explanation,)
            assert all(item.replace("\n", " ") in md for item in items), row.cells[0]
            assert shown(explanation) in sheet
        for row in view.rectification.rows:
            assert row.cells[3] in md and row.cells[3] in sheet
        # the summary's facts and sections, in both
        summary = wb["汇总"]
        facts = {r[0].value: r for r in summary.iter_rows(max_col=3) if r[0].value}
        for fact in view.facts:
            assert fact.label in facts and f"{fact.label}：{cell_text(fact.value)}" in md
            cell = facts[fact.label][1]
            assert value_of(cell) == shown(fact.value), fact.label
            assert facts[fact.label][2].value == fact.note
        for table in (view.overview, *view.sections):
            assert f"## {table.title}" in md and table.title in sheet
            for row in table.rows:  # Markdown lists a section whose rows are sentences, else tabulates it
                if table.listed:
                    assert f"- {row.sentence}" in md
                for c in row.cells:
                    assert table.listed or cell_text(c).replace("\n", " ") in md
                    assert not isinstance(c, str) or c in sheet


def test_the_data_warnings_keep_their_sentence_in_markdown(demo_results):
    doubtful = demo_results[2]
    (checks,) = [t for t in unit_view(doubtful).sections if t.key == "checks"]
    (row,) = checks.rows
    assert (
        row.sentence == f"K2 {doubtful.data_warnings[0].message}（填报：配备专职宿管人员 是，寄宿制学校 否）"
    )
    assert f"## 数据核查（请核实）\n\n- {row.sentence}\n" in markdown(doubtful)


# ---------------------------------------------------------------------------------------- summary view


@pytest.fixture(scope="module")
def batch(plan) -> tuple[list[UnitRow], list[FailureRow]]:
    a = run(plan, VALUES)
    b = run(plan, {**VALUES, "teachers": 18, "books": 12000, "lab": True, "tutoring": True})
    c = run(plan, {"students": 400, "teachers": 20, "books": 10000, "lab": True})  # 有偿补课 not given
    rows = [UnitRow.of("甲.yaml", a), UnitRow.of("乙.yaml", b), UnitRow.of("丙.yaml", c)]
    failures = [
        FailureRow(
            "坏.xlsx", ["坏.xlsx — Sheet1!C12 (在校生数): 应填数值", "坏.xlsx — Sheet1!C13: 缺少单位名称"]
        )
    ]
    return rows, failures


def test_summary_view_says_everything_once(batch):
    rows, failures = batch
    view = summary_view(rows, failures, "测试框架", precision=2)
    assert view.title == "测试框架 评估结果汇总"
    assert view.caption == "测试框架 评估结果汇总（已评 3 个单位，无法读取 1 个文件）"
    assert [c.title for c in view.units.columns] == [
        "序号",
        "单位名称",
        "代码",
        "类型",
        "总分",
        "排名",
        "等级",
        "一票否决",
        "暂定",
        "完整度",
        "整改项数",
        "文件",
    ]
    assert texts(view.units) == [
        ["1", "测试学校", "—", "小学", "15.00", "2", "合格", "无", "否", "100.0%", "2", "甲.yaml"],
        ["2", "测试学校", "—", "小学", "10.00", "3", "不合格", "有偿补课", "否", "100.0%", "2", "乙.yaml"],
        ["3", "测试学校", "—", "小学", "19.00", "1", "优秀", "无", "是", "80.0%", "1", "丙.yaml"],
    ]
    assert texts(view.grades) == [
        ["优秀", "1", "33.3%"],
        ["合格", "1", "33.3%"],
        ["不合格", "1", "33.3%"],
        ["合计", "3", "100.0%"],
    ]
    assert [row.strong for row in view.grades.rows] == [False, False, False, True]
    assert [c.title for c in view.shortfalls.columns] == [
        "指标编码",
        "指标",
        "未达标或部分达标单位数",
        "占已评单位",
    ]
    assert texts(view.shortfalls) == [
        ["A2", "图书", "2", "66.7%"],
        ["A1", "教师配备", "1", "33.3%"],
        ["B1", "实验室", "1", "33.3%"],
    ]
    assert view.failures.rows[0].cells == (
        "坏.xlsx",
        Lines(("坏.xlsx — Sheet1!C12 (在校生数): 应填数值", "坏.xlsx — Sheet1!C13: 缺少单位名称")),
    )
    empty = summary_view([], [], "")
    assert (empty.caption, empty.shortfalls.empty, empty.failures.empty) == (
        "评估结果汇总（已评 0 个单位，无法读取 0 个文件）",
        "没有未达标或部分达标的指标。",
        "全部文件均已读取。",
    )


def test_summary_markdown_and_workbook_show_the_same_view(batch, tmp_path):
    rows, failures = batch
    view = summary_view(rows, failures, "测试框架", precision=2)
    md = summary_markdown(view)
    wb = loaded(summary_book(view).data())
    assert wb["汇总"]["A1"].value == view.caption and md.startswith(f"# {view.caption}\n")
    for table, ws, top in (
        (view.units, wb["汇总"], 2),
        (view.grades, wb["等级分布"], 1),
        (view.shortfalls, wb["失分最多的指标"], 1),
        (view.failures, wb["无法读取"], 1),
    ):
        assert [c.value for c in ws[top]] == [c.title for c in table.columns]
        assert sheet_values(ws, top) == [[shown(c) for c in r.cells] for r in table.rows]
        for row in table.rows:
            assert "| " + " | ".join(cell_text(c) for c in row.cells) + " |" in md


def test_summary_totals_at_the_declared_precision(batch, tmp_path):
    rows, _ = batch
    whole = [replace(rows[0], total=D(15))]  # a total without decimals: still shown at precision 2
    view = summary_view(whole, [], precision=2)
    assert cell_text(view.units.rows[0].cells[4]) == "15.00"
    ws = openpyxl.load_workbook(write_batch_summary(whole, [], tmp_path / "s.xlsx", precision=2))["汇总"]
    assert (ws["E3"].value, ws["E3"].number_format) == (15, "0.00")
    assert (
        cell_text(summary_view(whole, []).units.rows[0].cells[4]) == "15"
    )  # not told: as the result wrote it


def test_the_summary_ranks_within_each_phase_and_groups_by_phase_and_region(batch):
    rows, _ = batch
    a, b, c = rows  # 小学: 15, 10 and 19 points
    mixed = [
        replace(a, type="初中", region="东区"),
        replace(b, region="西区"),
        replace(c, region="东区"),
        replace(a, name="乙校", type="初中", region="东区", total=D(18), file="丁.yaml"),
    ]
    view = summary_view(mixed, [], "测试框架", precision=2)
    rank = view.units.column("rank")
    assert [row.cells[rank] for row in view.units.rows] == [2, 2, 1, 1]  # 初中 and 小学 ranked apart
    assert texts(view.groups) == [
        ["学段", "初中", "2", "16.50", "18.00", "15.00"],
        ["学段", "小学", "2", "14.50", "19.00", "10.00"],
        ["区域", "东区", "3", "17.33", "19.00", "15.00"],
        ["区域", "西区", "1", "10.00", "10.00", "10.00"],
    ]
    assert [c.title for c in view.tops.columns] == ["编码", "一级指标", "初中平均得分率", "小学平均得分率"]
    assert view.tables == (
        view.units,
        view.groups,
        view.tops,
        view.grades,
        view.shortfalls,
        view.failures,
    )
    plain = summary_view([a], [], "测试框架")  # one 学段 and no 区域: one rate column, 学段 rows only
    assert [c.title for c in plain.tops.columns][2:] == ["平均得分率"]
    assert [row.cells[0] for row in plain.groups.rows] == ["学段"]
    md = summary_markdown(view)  # the Markdown shows the same groups and averages as the workbook
    assert "## 按学段、区域统计" in md and "| 区域 | 东区 | 3 | 17.33 | 19.00 | 15.00 |" in md
    assert f"## {view.tops.title}" in md
