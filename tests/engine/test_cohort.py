"""Cohort statistics against hand computations: the enrolment-weighted 差异系数 and the multi-phase splits."""

from __future__ import annotations

from decimal import Decimal

import pytest

import scoring
from scoring.engine.cohort import score_cohort, weighted_stats
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
