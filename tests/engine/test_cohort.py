"""Cohort statistics against hand computations: the enrolment-weighted 差异系数 and the multi-phase splits."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

import scoring
from scoring.engine.cohort import needed_inputs, score_cohort, weighted_stats
from scoring.io.table import read_table

D = Decimal

# DOMAIN.md §1.8, S8: five primary schools, books per pupil.
S8 = [("小学1", 45, 279), ("小学2", 37, 137), ("小学3", 89, 935), ("小学4", 76, 160), ("小学5", 55, 402)]

UNIT = """\
id: books-school
name: 生均图书（测试）
version: "1"
applies_to: [小学]
scoring: {method: pass_fail}
inputs:
  pupils: {label: 学生数, type: integer, min: 1}
  books: {label: 图书册数, type: integer, min: 0}
derived:
  X: {label: 生均图书册数, expr: books / pupils, precision: 2}
indicators:
  - {code: B, name: 生均图书册数, rule: {threshold: {value: X, at_least: 5}}}
"""
COUNTY = """\
id: books-county
name: 生均图书（县域，测试）
version: "1"
scoring: {method: pass_fail}
cohort: {framework: unit.yaml, weight: pupils, groups: [小学], indicators: [B]}
indicators:
  - {code: C, name: 差异系数, rule: {threshold: {value: B_小学_cv, at_most: 0.50}}}
"""


def test_weighted_cv_golden_vector():
    points = [(D(b) / D(p), D(p)) for _, p, b in S8]
    mean, sd, cv = weighted_stats(points)
    assert mean.quantize(D("0.0001")) == D("6.3344")  # = 1913 ÷ 302
    assert sd.quantize(D("0.001")) == D("3.264")
    assert cv.quantize(D("0.0001")) == D("0.5153")
    unweighted = weighted_stats([(x, D(1)) for x, _ in points])[2]
    assert unweighted.quantize(D("0.0001")) == D("0.4888")  # what a wrong implementation computes


def test_cohort_uses_unrounded_values_and_reports_three_decimals(tmp_path):
    (tmp_path / "unit.yaml").write_text(UNIT, "utf-8")
    (tmp_path / "county.yaml").write_text(COUNTY, "utf-8")
    county = scoring.load_framework(tmp_path / "county.yaml")
    subs = [
        scoring.Submission(unit={"name": n, "type": "小学"}, values={"pupils": p, "books": b})
        for n, p, b in S8
    ]
    r = score_cohort(county, subs)
    [stat] = r.stats
    assert (stat.mean, stat.cv, stat.units, stat.weight_total) == (D("6.33"), D("0.515"), 5, D(302))
    assert (stat.min, stat.max) == (D("2.11"), D("10.51"))
    assert r.county.indicator("C").status == "unmet"  # 0.515 > 0.50: weighting changes the verdict
    assert r.passed is False


SCHOOL = scoring.compile_plan(scoring.load_framework("ysjh-2017-school"))


def _units(school_type, **values):
    sub = scoring.Submission(unit={"name": "样校", "type": school_type}, values=values)
    return {u.unit.type: scoring.score(SCHOOL, u) for u in scoring.split(SCHOOL, sub)}


def test_nine_year_school_splits_one_to_one_point_one():
    u = _units(
        "九年一贯制学校",
        students_primary=600,
        students_junior=400,
        teaching_area=6240,
        sports_area=10400,
        equipment_value=2080000,
        multimedia_rooms=26,
    )
    # weighted pupils = 600 + 1.1 × 400 = 1040; 小学 = R ÷ 1040, 初中 = 1.1 × R ÷ 1040
    assert u["小学"].indicator("L4").value == D("6.00") and u["初中"].indicator("L4").value == D("6.60")
    assert u["小学"].indicator("L5").value == D("10.00") and u["初中"].indicator("L5").value == D("11.00")
    assert u["小学"].indicator("L6").value == D("2000.00") and u["初中"].indicator("L6").value == D("2200.00")
    assert u["小学"].indicator("L7").value == D("2.50") and u["初中"].indicator("L7").value == D("2.75")


def test_complete_middle_school_counts_senior_pupils_at_one_point_two_of_junior():
    u = _units("完全中学", students_junior=500, students_senior=500, teaching_area=6600)
    # 1.1 × 500 + 1.32 × 500 = 1210 junior-equivalents of 1.1 → 初中 = 6600 × 1.1 ÷ 1210 = 6.00
    assert list(u) == ["初中"] and u["初中"].indicator("L4").value == D("6.00")


def test_twelve_year_school_splits_one_to_one_point_one_to_one_point_three_two():
    u = _units(
        "十二年一贯制学校", students_primary=300, students_junior=300, students_senior=200, teaching_area=3474
    )
    # 300 + 330 + 264 = 894; 小学 = 3474 ÷ 894 = 3.8859… → 3.89; 初中 = 1.1 × 3474 ÷ 894 = 4.2744… → 4.27
    assert (u["小学"].indicator("L4").value, u["初中"].indicator("L4").value) == (D("3.89"), D("4.27"))
    assert u["小学"].indicator("L4").exact.quantize(D("1e-20")) == (D(3474) / D(894)).quantize(D("1e-20"))


def test_teaching_point_under_fifty_is_left_out():
    assert _units("小学", students_primary=40, is_teaching_point=True, teaching_area=200) == {}
    assert list(_units("小学", students_primary=50, is_teaching_point=True, teaching_area=250)) == ["小学"]


def test_six_of_seven_and_the_85_percent_floor():
    base = dict(
        students_primary=1000,
        teachers_qualified_primary=42,
        backbone_teachers_primary=10,
        pe_art_teachers_primary=9,
        teaching_area=4500,
        sports_area=7500,
        equipment_value=2000000,
        multimedia_rooms=23,
    )
    assert (
        _units("小学", **base)["小学"].indicator("Y").status == "met"
    )  # every bound hit exactly: 以上 includes it
    floor = _units("小学", **{**base, "multimedia_rooms": 20})["小学"]  # 2.00 ÷ 2.3 = 0.870 ≥ 0.85
    assert (floor.indicator("L7").status, floor.indicator("Y").status) == ("unmet", "met")
    below = _units("小学", **{**base, "multimedia_rooms": 19})["小学"]  # 1.90 ÷ 2.3 = 0.826 < 0.85
    assert below.indicator("Y").status == "unmet"
    five = _units("小学", **{**base, "multimedia_rooms": 22, "equipment_value": 1990000})["小学"]
    assert five.indicator("Y").status == "unmet"


def test_read_table_maps_chinese_labels_and_reports_bad_cells(tmp_path):
    csv = tmp_path / "schools.csv"
    csv.write_text(
        "学校名称,学校类型,小学在校生数,教学及辅助用房面积（不含室内体育用房）\n"
        "甲小学,小学,500,2500\n"
        "乙小学,小学,很多,2500\n",
        "utf-8-sig",
    )
    subs, failures = read_table(csv, SCHOOL)
    assert [(s.unit.name, s.unit.type, s.values) for s in subs] == [
        ("甲小学", "小学", {"students_primary": 500, "teaching_area": 2500})
    ]
    assert failures[0].reasons == [
        f"{csv} — CSV!C3 (students_primary · 小学在校生数): 错误 [bad-value]: 应填数值，这里是 “很多”"
    ]


def test_unknown_column_is_refused(tmp_path):
    csv = tmp_path / "t.csv"
    csv.write_text("学校名称,教室数量\n甲,1\n", "utf-8")
    with pytest.raises(scoring.SubmissionError) as err:
        read_table(csv, SCHOOL)
    assert "教室数量" in err.value.problems[0].message_zh


def test_cli_cohort_writes_the_county_report(tmp_path):
    from click.testing import CliRunner

    from scoring.cli import main

    (tmp_path / "unit.yaml").write_text(UNIT, "utf-8")
    (tmp_path / "county.yaml").write_text(COUNTY, "utf-8")
    table = tmp_path / "schools.csv"
    table.write_text(
        "学校名称,学校类型,学生数,图书册数\n" + "".join(f"{n},小学,{p},{b}\n" for n, p, b in S8), "utf-8"
    )
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["cohort", str(tmp_path / "county.yaml"), str(table), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "不予认定" in r.output and "B 小学：全县平均值 6.33，差异系数 0.515（5 所）" in r.output
    assert {p.name for p in out.iterdir()} == {"县域评估.json", "县域评估.md", "县域评估.xlsx"}
    md = (out / "县域评估.md").read_text("utf-8")
    assert "| B | 生均图书册数 | 6.33 | 0.515 | 5 | 3/5 |" in md
    from scoring.engine.cohort import cohort_from_json

    back = cohort_from_json((out / "县域评估.json").read_text("utf-8"))
    assert back.stats[0].cv == D("0.515") and back.passed is False
    pdf = tmp_path / "pdf"
    r = CliRunner().invoke(
        main, ["cohort", str(tmp_path / "county.yaml"), str(table), "-o", str(pdf), "--format", "pdf"]
    )
    assert r.exit_code == 0, r.output
    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(pdf / "县域评估.pdf").pages)
    assert "不予认定" in text and "生均图书册数" in text and "0.515" in text


def test_cli_cohort_over_a_folder_of_school_submissions(tmp_path):
    from click.testing import CliRunner

    from scoring.cli import main

    (tmp_path / "unit.yaml").write_text(UNIT, "utf-8")
    (tmp_path / "county.yaml").write_text(COUNTY, "utf-8")
    folder = tmp_path / "schools"
    folder.mkdir()
    for n, p, b in S8:
        (folder / f"{n}.yaml").write_text(
            f"unit: {{name: {n}, type: 小学}}\nvalues: {{pupils: {p}, books: {b}}}\n", "utf-8"
        )
    (folder / "坏.yaml").write_text("unit: {name: 坏}\nvalues: {pupils: 很多}\n", "utf-8")
    r = CliRunner().invoke(main, ["cohort", str(tmp_path / "county.yaml"), str(folder)])
    assert r.exit_code == 1  # one file could not be read; the other five are still aggregated
    assert "B 小学：全县平均值 6.33，差异系数 0.515（5 所）" in r.output
    assert "应填数值" in r.output


# ---------------------------------------------------------------------------------- issue 13: every row counted

YSJH = scoring.load_framework("ysjh-2017")
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ysjh-2017" / "schools.csv"
HEADER, *ROWS = EXAMPLE.read_text("utf-8-sig").splitlines()
N_UNITS = 19  # the example's 17 rows: 3 multi-phase schools split, 南山教学点 (28 pupils) not evaluated


def _table(tmp_path, *extra: str, header: str = HEADER, rows: list[str] = ROWS, name: str = "t.csv"):
    path = tmp_path / name
    path.write_text("\n".join([header, *rows, *extra]) + "\n", "utf-8")
    return path


def _county(path, **kw):
    subs, failures = read_table(path, SCHOOL, needed=needed_inputs(YSJH, SCHOOL), **kw)
    return score_cohort(YSJH, subs, failures=failures, **kw)


def test_the_example_lists_its_teaching_point_as_not_evaluated_with_the_rule(tmp_path):
    r = _county(EXAMPLE)
    assert len(r.units) == N_UNITS and r.failures == []
    [left] = r.excluded
    assert left.where() == f"{EXAMPLE} 第 10 行（南山教学点）"
    assert "符合“是否教学点 且 小学在校生数 < 50”" in left.reason_zh and "小学在校生数 = 28" in left.reason_zh
    assert "is_teaching_point and students_primary < 50" in left.reason_en


def test_a_teaching_point_of_fifty_is_evaluated(tmp_path):
    row = "大坪教学点,小学,50,,,3,,1,,1,,250,400,100000,1,是"
    r = _county(_table(tmp_path, row))
    assert len(r.units) == N_UNITS + 1 and len(r.excluded) == 1 and r.failures == []


@pytest.mark.parametrize(
    ("row", "said"),
    [
        ("某大学,大学,,,,,,,,,,100,100,100,1,否", "学校类型“大学”不是框架 ysjh-2017-school 评估的类型"),
        ("特教学校,特殊教育学校,80,,,8,,1,,1,,500,600,90000,2,否", "学校类型“特殊教育学校”不是"),
        ("无类型小学,,300,,,20,,3,,3,,1500,2500,700000,8,否", "没有填写学校类型"),
        (
            "零小学,小学,0,,,0,,0,,0,,100,100,100,1,否",
            "权重 phase_pupils（本学段在校生数）为 0（小学在校生数 = 0）",
        ),
        ("空小学,小学,,,,5,,1,,1,,100,100,100,1,否", "为 空（小学在校生数 = 未填"),
        ("零教学点,小学,0,,,0,,0,,0,,100,100,100,1,是", "这是数据错误，不是按规定不参评"),
        ("空一贯制,九年一贯制学校,0,0,,1,1,1,1,1,1,100,100,100,1,否", "没有在校生的学校"),
    ],
)
def test_a_row_that_cannot_be_evaluated_is_refused_with_its_row(tmp_path, row, said):
    """Before: the row vanished (19 units, no failure, no message). After: refused, its row named, 暂定."""
    path = _table(tmp_path, row)
    r = _county(path)
    assert len(r.units) == N_UNITS and len(r.excluded) == 1
    [failure] = r.failures
    assert failure.file == f"{path} 第 19 行（{row.split(',')[0]}）"
    assert said in failure.reasons[0]
    assert r.passed is None and "结论暂定" in r.reasons[-1]


def test_refusals_in_english(tmp_path):
    path = _table(
        tmp_path, "某大学,大学,,,,,,,,,,100,100,100,1,否", "零小学,小学,0,,,0,,0,,0,,100,100,100,1,否"
    )
    r = _county(path, lang="en")
    assert [f.file for f in r.failures] == [f"{path} row 19 (某大学)", f"{path} row 20 (零小学)"]
    said = "CSV!B19 (unit_type · 学校类型): error [unit-type]: unit type '大学' is not one framework"
    assert said in r.failures[0].reasons[0]
    assert "the weight phase_pupils is 0 (students_primary = 0)" in r.failures[1].reasons[0]


def test_an_unknown_type_lists_the_rows_bad_values_too(tmp_path):
    r = _county(_table(tmp_path, "某大学,大学,很多,,,,,,,,,100,100,100,1,否"))
    assert len(r.failures) == 1 and len(r.failures[0].reasons) == 2
    assert "应填数值" in r.failures[0].reasons[1]


@pytest.mark.parametrize("missing", list(SCHOOL.inputs))
def test_a_missing_column_is_refused_naming_it(tmp_path, missing):
    """Before: every school 缺报 or 未达标 and the county 不予认定 (or units silently gone), exit 0."""
    cols = HEADER.split(",")
    k = cols.index(SCHOOL.inputs[missing].label)
    path = _table(
        tmp_path,
        header=",".join(c for i, c in enumerate(cols) if i != k),
        rows=[",".join(c for i, c in enumerate(r.split(",")) if i != k) for r in ROWS],
    )
    with pytest.raises(scoring.SubmissionError) as err:
        read_table(path, SCHOOL, needed=needed_inputs(YSJH, SCHOOL))
    [p] = err.value.problems
    assert p.code == "table-missing-column" and p.file == str(path) and p.cell == "CSV!1"
    assert f"缺少列 “{SCHOOL.inputs[missing].label}”（{missing}）" in p.message_zh


def test_the_county_needs_every_input_of_the_school_framework():
    assert needed_inputs(YSJH, SCHOOL) == list(SCHOOL.inputs)  # weight, split, L1–L7 and Y read all 15


def test_the_type_column_is_needed(tmp_path):
    cols = HEADER.split(",")
    path = _table(
        tmp_path,
        header=",".join(cols[:1] + cols[2:]),
        rows=[",".join(r.split(",")[:1] + r.split(",")[2:]) for r in ROWS],
    )
    with pytest.raises(scoring.SubmissionError) as err:
        read_table(path, SCHOOL)
    assert "找不到学校类型列" in err.value.problems[0].message_zh


@pytest.mark.parametrize(
    ("cell", "column"),
    [("1e300", "C"), ("1" * 40, "C"), ("1e300", "N"), ("9" * 16, "O"), ("1E+999999999", "L")],
)
def test_a_huge_number_is_refused_at_its_cell(tmp_path, cell, column):
    """Before: decimal.InvalidOperation (a traceback) in the aggregation."""
    row = ["巨校", "小学", "500", "", "", "30", "", "5", "", "5", "", "2500", "4000", "1000000", "12", "否"]
    row[ord(column) - ord("A")] = cell
    path = _table(tmp_path, ",".join(row))
    r = _county(path)
    [failure] = r.failures
    assert failure.file == f"{path} 第 19 行（巨校）"
    assert failure.reasons[0].startswith(f"{path} — CSV!{column}19 (")
    assert (
        "错误 [value-too-large]: 数值太大" in failure.reasons[0]
        and "应为小于 10^15 的数" in failure.reasons[0]
    )


def test_a_huge_number_from_the_api_is_refused_not_raised():
    subs = [
        scoring.Submission(
            unit={"name": "巨校", "type": "小学"},
            values={
                "students_primary": D("1e300"),
                "teaching_area": 1,
                "sports_area": 1,
                "equipment_value": 1,
                "multimedia_rooms": 1,
            },
            source="api",
        )
    ]
    r = score_cohort(YSJH, subs)
    assert r.units == [] and "太大" in r.failures[0].reasons[0]


@pytest.mark.parametrize(
    ("rows", "rows_named"),
    [
        (["A小学,4201,小学", "B小学,4202,小学", "A小学 二,4201,小学"], [(2, "第 4 行"), (4, "第 2 行")]),
        (["A小学,,小学", "B小学,,小学", "A小学,,小学"], [(2, "第 4 行"), (4, "第 2 行")]),
        (["A小学,4201,小学", "A小学,,小学"], [(2, "第 3 行"), (3, "第 2 行")]),
    ],
)
def test_the_same_school_twice_is_refused_every_row_of_it(tmp_path, rows, rows_named):
    """Before: counted twice in the weighted mean and the 差异系数."""
    body = [f"{r},500,,,30,,5,,5,,2500,4000,1000000,12,否" for r in rows]
    header = "学校名称,学校代码,学校类型," + ",".join(HEADER.split(",")[2:])
    path = _table(tmp_path, header=header, rows=body)
    r = _county(path)
    assert [f.file.split(" 第 ")[1].split(" 行")[0] for f in r.failures] == [str(n) for n, _ in rows_named]
    for f, (_, other) in zip(r.failures, rows_named, strict=True):
        assert f.reasons[0].startswith(f"与{other}是同一所学校") and "都未计入" in f.reasons[0]
    assert [u.school for u in r.units] == (["B小学"] if len(rows) == 3 else [])
    assert r.passed is None


@pytest.mark.parametrize(
    ("rows", "units", "refused"),
    [
        # one code: the 小学 row and the 九年一贯制学校's 小学部 are the same unit counted twice
        (["一贯制,4201,九年一贯制学校,500,300", "一贯制小学,4201,小学,500,"], 0, 2),
        # one code reported per phase (a 小学 row and an 初中 row): two units, nothing counted twice
        (["甲校小学部,4201,小学,500,", "甲校初中部,4201,初中,,300"], 2, 0),
    ],
)
def test_duplicates_are_found_per_evaluated_unit(tmp_path, rows, units, refused):
    header = "学校名称,学校代码,学校类型," + ",".join(HEADER.split(",")[2:])
    body = [f"{r},,30,30,5,5,5,5,5000,8000,2000000,20,否" for r in rows]
    r = _county(_table(tmp_path, header=header, rows=body))
    assert (len(r.units), len(r.failures)) == (units, refused)
    if refused:
        assert "（学校代码 4201，小学）" in r.failures[0].reasons[0]


def test_two_schools_of_one_name_with_different_codes_are_two_schools(tmp_path):
    header = "学校名称,学校代码,学校类型," + ",".join(HEADER.split(",")[2:])
    body = [f"中心小学,{c},小学,500,,,30,,5,,5,,2500,4000,1000000,12,否" for c in (4201, 4202)]
    r = _county(_table(tmp_path, header=header, rows=body))
    assert r.failures == [] and len(r.units) == 2


def test_the_aggregation_never_compares_whole_units(monkeypatch, tmp_path):
    """Before: ``ln not in usable`` compared UnitLine objects field by field: quadratic in the units."""
    from scoring.engine import cohort as module

    calls = []
    monkeypatch.setattr(module.UnitLine, "__eq__", lambda self, other: calls.append(1) or self is other)
    subs = [
        scoring.Submission(unit={"name": f"{n}{i}", "type": "小学"}, values={"pupils": p, "books": b})
        for i in range(40)
        for n, p, b in S8
    ]
    (tmp_path / "unit.yaml").write_text(UNIT, "utf-8")
    (tmp_path / "county.yaml").write_text(COUNTY, "utf-8")
    r = score_cohort(scoring.load_framework(tmp_path / "county.yaml"), subs)
    assert len(r.units) == 200 and calls == []


def test_control_characters_in_names_do_not_reach_the_markdown_raw(tmp_path):
    from scoring.report.cohort import markdown

    row = "坏\x1b[31m名|称\n第二行\u202e小学,小学,500,,,30,,5,,5,,2500,4000,1000000,12,否"
    path = tmp_path / "t.csv"
    path.write_text(HEADER + "\n" + ",".join([f'"{row.split(",")[0]}"', *row.split(",")[1:]]) + "\n", "utf-8")
    md = markdown(_county(path))
    assert "\x1b" not in md and "\u202e" not in md and "坏\\x1b[31m名\\|称 第二行\\u202e小学" in md
    table = [ln for ln in md.splitlines() if ln.startswith("| 坏")]
    assert len(table) == 1 and table[0].count(" | ") == 13  # one row of 14 cells, the | inside escaped
