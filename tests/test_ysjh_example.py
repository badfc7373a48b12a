"""The 优质均衡 county example (examples/ysjh-2017) against an independent hand computation.

expected.json is written by examples/ysjh-2017/expected.py, which uses only ``decimal`` and ``csv``; here the engine
(read_table → score_cohort) must give every one of its numbers exactly: the 7 rounded values, the number met and
the verdict of each evaluated unit, the enrolment-weighted mean and 差异系数 of each indicator and phase, and the
county verdict.
"""

from __future__ import annotations

import importlib.util
import json
from decimal import Decimal

import pytest

import scoring
from scoring.engine.cohort import score_cohort
from scoring.io.table import read_table

from .conftest import ROOT

HERE = ROOT / "examples" / "ysjh-2017"
EXPECTED = json.loads((HERE / "expected.json").read_text("utf-8"))
COUNTY = scoring.load_framework("ysjh-2017")
SCHOOL_PLAN = scoring.compile_plan(scoring.load_framework("ysjh-2017-school"))


def _cohort(county_sub: scoring.Submission | None = None) -> scoring.CohortResult:
    subs, failures = read_table(HERE / "schools.csv", SCHOOL_PLAN)
    assert failures == []
    return score_cohort(COUNTY, subs, county_sub or scoring.read_submission(HERE / "county.yaml"))


@pytest.fixture(scope="module")
def result() -> scoring.CohortResult:
    return _cohort()


def _expected_py():
    spec = importlib.util.spec_from_file_location("ysjh_expected", HERE / "expected.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_expected_json_is_current_and_the_script_does_not_use_the_engine():
    source = (HERE / "expected.py").read_text("utf-8")
    assert "import scoring" not in source and "from scoring" not in source
    computed, _ = _expected_py().compute()
    assert computed == EXPECTED, "run: python examples/ysjh-2017/expected.py"


def test_csv_header_is_the_school_frameworks_labels():
    header = (HERE / "schools.csv").read_text("utf-8-sig").splitlines()[0].split(",")
    labels = [spec.label for spec in SCHOOL_PLAN.framework.inputs.values()]
    assert header == ["学校名称", "学校类型", *labels]
    assert (HERE / "schools.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM


def test_every_unit_matches_the_hand_computation(result):
    got = {(u.school, u.group): u for u in result.units}
    assert len(got) == len(result.units)  # no two units share a school name and phase
    assert list(got) == [(u["school"], u["phase"]) for u in EXPECTED["units"]]
    assert result.failures == []
    for e in EXPECTED["units"]:
        u = got[(e["school"], e["phase"])]
        where = f"{e['school']}（{e['phase']}）"
        assert {c: u.values[c] for c in e["values"]} == {c: Decimal(v) for c, v in e["values"].items()}, where
        assert u.met == e["met"], where
        assert u.passed is e["passed"], where


def test_every_statistic_matches_the_hand_computation(result):
    got = {(s.indicator, s.group): s for s in result.stats}
    assert len(got) == len(EXPECTED["stats"]) == 14
    for e in EXPECTED["stats"]:
        s = got[(e["indicator"], e["phase"])]
        where = f"{e['indicator']} {e['phase']}"
        assert s.mean == Decimal(e["mean"]), where
        assert s.cv == Decimal(e["cv"]), where
        assert result.names[f"{e['indicator']}_{e['phase']}_cv"] == Decimal(e["cv"]), where


def test_county_verdict(result):
    assert result.passed is EXPECTED["passed"] is False
    county = result.county
    assert county.grade == "不予认定"
    # The county's own part is all met; only “every school passes” (R3) fails: 17 of 19 units pass.
    assert [i.code for i in county.indicators if i.status == "unmet"] == ["R", "R3"]
    assert {i.code: i.status for i in county.indicators if i.depth == 1} == {
        "R": "unmet",
        "G": "met",
        "Q": "met",
        "S": "met",
    }
    assert (result.names["units_all"], result.names["passed_all"]) == (19, 17)
    assert [v.code for v in county.vetoes if v.triggered] == []
    assert not county.provisional
    from scoring.report.cohort import markdown

    cited = "国务院教育督导委员会《县域义务教育优质均衡发展督导评估办法》（教督〔2017〕6号）"
    assert result.framework.sources[0] == cited
    assert f"- 评估依据：{cited}；" in markdown(result)


def test_the_example_covers_the_required_cases(result):
    lines = {(u.school, u.group): u for u in result.units}
    by_school: dict[str, list[str]] = {}
    for u in result.units:
        by_school.setdefault(u.school, []).append(u.group or "")
    assert "南山教学点" not in by_school  # 教学点, 28 pupils: left out
    assert by_school["第三中学"] == ["初中"]  # 完全中学: the senior pupils only weigh in the split
    assert by_school["县实验学校"] == ["小学", "初中"]  # 十二年一贯制
    assert sum(1 for u in result.units if u.school_type == "九年一贯制学校") == 4
    assert lines[("柳庄镇中心小学", "小学")].floor_only == ["L5"]  # 6 of 7, L5 at 92.3 % → passes
    assert lines[("东关初级中学", "初中")].floor_only == ["L6"]  # 2124.00 ÷ 2500 = 0.8496 → 0.850 → passes
    assert lines[("河西镇中学", "初中")].passed is False  # 6 of 7, L6 at 80.6 %
    assert lines[("石门乡中心小学", "小学")].passed is False  # 5 of 7
    assert lines[("北岭村小学", "小学")].values["L7"] == Decimal("3.13")  # 3 ÷ 96 × 100 = 3.125 → half-up


# ------------------------------------------------------------ the county's own part: boundaries and vetoes


def _county_with(**changes) -> scoring.Result:
    sub = scoring.read_submission(HERE / "county.yaml")
    manual = changes.pop("manual", None)
    sub = sub.model_copy(update={"values": {**sub.values, **changes}, "manual": manual or sub.manual})
    return _cohort(sub).county


@pytest.mark.parametrize(
    ("changes", "code", "status"),
    [
        ({"交流轮岗教师数": 64}, "G11.1", "unmet"),  # 64 ÷ 650 = 9.8 % < 10 (65 gives exactly 10.0: met)
        ({"交流骨干教师数": 12}, "G11.2", "unmet"),  # 12 ÷ 65 = 18.5 % < 20
        ({"小学最大班额": 46}, "G5.1", "unmet"),
        ({"特教生均公用经费": 5999}, "G7", "unmet"),
        ({"完成培训教师数": 1045}, "G9", "unmet"),  # 99.9 %: the rate must be 100 %
        ({"持证专任教师数": 1045}, "G12", "unmet"),
        ({"初中划片入学数": 1406}, "G13.2", "met"),  # 1406 ÷ 1480 = 95.0 %
        ({"初中划片入学数": 1405}, "G13.2", "unmet"),  # 94.93… → 94.9 %
        ({"科学校际差异率": "0.15"}, "Q9.3.2", "unmet"),  # 低于 0.15: strictly below
        ({"语文学业水平": 2}, "Q9.1.1", "unmet"),
        ({"满意问卷数": 1529, "走访满意人数": 103}, "S1", "met"),  # 1632 ÷ 1920 = 85.0 %
        ({"满意问卷数": 1528, "走访满意人数": 103}, "S1", "unmet"),  # 1631 ÷ 1920 = 84.9 %
        ({"社会认可度综合值": 84}, "S1", "unmet"),  # a reported overall figure takes precedence
    ],
)
def test_county_boundaries(changes, code, status):
    county = _county_with(**changes)
    assert county.indicator(code).status == status
    assert county.grade == "不予认定"


def test_no_monitoring_result_at_all_is_not_a_pass():
    sub = scoring.read_submission(HERE / "county.yaml")
    values = {k: v for k, v in sub.values.items() if "学业水平" not in k and "校际差异率" not in k}
    county = _cohort(sub.model_copy(update={"values": values})).county
    assert county.indicator("Q9.0").status == "unmet"
    assert county.indicator("Q9").status == "unmet"


def test_unrated_judgement_is_pending_not_met():
    county = _county_with(manual={"Q5": "达到", "Q6": "达到"})
    assert county.indicator("Q8").status == "pending"


@pytest.mark.parametrize("veto", ["V1", "V2", "V3", "V4", "V5", "V6", "V7"])
def test_each_veto_fails_the_county(veto):
    inputs = {v.code: v.when for v in COUNTY.vetoes}
    county = _county_with(**{inputs[veto]: True})
    assert [v.code for v in county.vetoes if v.triggered] == [veto]
    assert county.passed is False and county.grade == "不予认定"


def test_the_county_report_names_indicators_and_statistics_never_ids(result):
    """Issue 15: "passed_all = 17 < 19", "L1_小学_cv = 0.081" and columns L1…L7 were internal words."""
    from scoring.report.cohort import markdown

    r3 = next(i for i in result.county.indicators if i.code == "R3")
    assert r3.explanation == "R3 每所学校资源配置均达标：全县达标学校数 = 17 < 19（标准 ≥ 19） → 未达标"
    r11 = next(i for i in result.county.indicators if i.code == "R1.1")
    assert r11.explanation.endswith("：小学每百名学生拥有高于规定学历教师数差异系数 = 0.081 ≤ 0.50 → 达标")
    text = markdown(result)
    assert "| 学校 | 类型 | 学段 | 在校生 | 每百名学生拥有高于规定学历教师数 |" in text
    assert "未达标：生均体育运动场馆面积；生均体育运动场馆面积达到标准的85%以上" in text
    for internal in ("passed_all", "_cv", "units_all", "| L1 |"):
        assert internal not in text.split("## 表Ⅲ")[0], internal


def test_a_county_workbook_gives_what_the_county_yaml_gives(tmp_path, monkeypatch):
    """`scoring cohort --county` reads a 县级自评表 made from the county framework (`scoring template ysjh-2017
    --evaluator`, filled) as it reads county.yaml: the same 县域评估.json but for the file's name."""
    from click.testing import CliRunner

    from scoring.cli import main
    from scoring.io.fill import fill_template
    from scoring.io.template import write_template

    plan = scoring.compile_plan(COUNTY)
    template = write_template(plan, tmp_path / "县级自评表.xlsx", evaluator=True)
    fill_template(template, scoring.read_submission(HERE / "county.yaml"), tmp_path / "county.xlsx")
    (tmp_path / "county.yaml").write_bytes((HERE / "county.yaml").read_bytes())
    (tmp_path / "schools.csv").write_bytes((HERE / "schools.csv").read_bytes())
    monkeypatch.chdir(tmp_path)
    found = {}
    for name in ("county.yaml", "county.xlsx"):
        ran = CliRunner().invoke(
            main,
            ["cohort", "ysjh-2017", "schools.csv", "--county", name, "-o", f"out-{name}", "--format", "json"],
        )
        assert ran.exit_code == 0, ran.output
        found[name] = json.loads((tmp_path / f"out-{name}" / "县域评估.json").read_text("utf-8"))
        found[name]["county"]["source"] = None
    assert found["county.xlsx"] == found["county.yaml"]
    assert found["county.xlsx"]["passed"] is EXPECTED["passed"]
