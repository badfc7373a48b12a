"""Template → filled → read back: exactly the values filled; every problem with its cell."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

import scoring
from scoring.io.layout import SHEET
from scoring.io.template import write_template
from scoring.io.workbook import read_workbook

from ..conftest import ROOT
from ..excel import PLAN, filled, zip_bomb

STRONG = scoring.read_submission(ROOT / "examples" / "demo-school" / "strong.yaml")


def test_round_trip_scores_like_the_yaml(tmp_path):
    sub = read_workbook(filled(tmp_path, STRONG), PLAN)
    assert sub.unit.name == "滨江实验小学" and sub.unit.date == dt.date(2026, 6, 15)
    assert scoring.score(PLAN, sub).to_json().replace(sub.source, "X") == scoring.score(
        PLAN, STRONG.model_copy(update={"source": sub.source})
    ).to_json().replace(sub.source, "X")


def test_template_structure(tmp_path):
    path = write_template(PLAN, tmp_path / "t.xlsx", unit_type="初中")
    wb = load_workbook(path)
    ws = wb[SHEET]
    assert wb["_meta"].sheet_state == "hidden" and ws.column_dimensions["A"].hidden
    assert ws.protection.sheet and ws.freeze_panes
    ids = [r[0] for r in ws.iter_rows(values_only=True) if r[0]]
    assert "students" in ids and "moral_rating" not in ids  # evaluator-only inputs need --evaluator
    assert ws.page_setup.orientation == "landscape"
    unlocked = [c.coordinate for row in ws.iter_rows() for c in row if c.protection.locked is False]
    assert all(c.startswith("F") for c in unlocked)
    kinds = {dv.type for dv in ws.data_validations.dataValidation}
    assert {"list", "whole", "decimal"} <= kinds


def test_the_template_lists_the_data_checks_and_reads_back_past_them(tmp_path):
    ws = load_workbook(write_template(PLAN, tmp_path / "t.xlsx"))[SHEET]
    texts = [r[1] for r in ws.iter_rows(values_only=True) if r[1] and not r[0]]
    assert texts[-3:] == [
        "提交前请自查（数据核查）",
        "K1　高于规定学历专任教师数多于在校生数，是否填成了人次？（不符合将被退回）",
        "K2　非寄宿制学校填报了“配备专职宿管人员”，请核实是否为寄宿制学校（不符合时请核实）",
    ]
    back = read_workbook(filled(tmp_path, STRONG), PLAN)  # the rows below the table are no inputs
    assert scoring.score(PLAN, back).total == scoring.score(PLAN, STRONG).total


def test_the_evaluator_template_shows_the_rating_guidance(tmp_path):
    ws = load_workbook(write_template(PLAN, tmp_path / "t.xlsx", evaluator=True))[SHEET]
    (row,) = [r for r in ws.iter_rows(values_only=True) if r[0] == "manual:A4.3"]
    assert row[3] == "督学评定：特色发展（督学评定）"
    assert row[7] == "督学依据现场查看和座谈评定 A/B/C/D（A：5 分；B：4 分；C：2 分；D：0 分）"


def test_people_typed_values(tmp_path):
    path = filled(tmp_path, STRONG)
    wb = load_workbook(path)
    ws = wb[SHEET]
    rows = {r[0].value: r for r in ws.iter_rows() if r[0].value}
    rows["students"][5].value = "５００"  # 全角, as text
    rows["sports_area"][5].value = " 4,000 "
    rows["after_school_rate"][5].value = 0.96
    rows["after_school_rate"][5].number_format = "0%"  # 96% typed in Excel
    rows["has_charter"][5].value = "√"
    rows["labour_teacher"][5].value = "无"
    wb.save(path)
    sub = read_workbook(path, PLAN)
    assert (sub.values["students"], sub.values["sports_area"], sub.values["after_school_rate"]) == (
        500,
        4000,
        Decimal("96"),
    )
    assert (sub.values["has_charter"], sub.values["labour_teacher"]) == (True, False)


def test_every_bad_cell_is_reported_with_sheet_cell_column_and_label(tmp_path):
    path = filled(tmp_path, STRONG)
    wb = load_workbook(path)
    ws = wb[SHEET]
    rows = {r[0].value: r for r in ws.iter_rows() if r[0].value}
    rows["students"][5].value = "很多"
    rows["pe_pass_rate"][5].value = 120
    rows["has_plan"][5].value = "也许"
    wb.save(path)
    with pytest.raises(scoring.SubmissionError) as err:
        read_workbook(path, PLAN)
    lines = sorted(p.format() for p in err.value.problems)
    r = {k: rows[k][5].row for k in ("students", "pe_pass_rate", "has_plan")}
    assert lines == sorted(
        [
            f"{path} — 自评表!F{r['students']} (填报值（自评） · 在校生数): 错误 [bad-value]: 应填数值，这里是 “很多”",
            f"{path} — 自评表!F{r['pe_pass_rate']} (填报值（自评） · 体质健康测试合格率): 错误 [bad-value]: 不能大于 100，这里是 120",
            f"{path} — 自评表!F{r['has_plan']} (填报值（自评） · 已制定三年发展规划): 错误 [bad-value]: 应填 是/否（√/×、有/无），这里是 “也许”",
        ]
    )


def test_workbook_of_another_framework_is_refused(tmp_path):
    other = scoring.compile_plan(
        scoring.load_text(
            "id: other\nname: 别的框架\nversion: '2'\ninputs: {x: {label: X, type: number}}\n"
            "indicators: [{code: A, name: A, points: 1, rule: {threshold: {value: x, at_least: 1}}}]\n"
        )
    )
    path = write_template(other, tmp_path / "other.xlsx")
    with pytest.raises(scoring.SubmissionError) as err:
        read_workbook(path, PLAN)
    assert (
        err.value.problems[0].message_zh
        == "这份表格是框架 “other”（版本 2）的模板，不是 “demo-school” 的，不能用来评分"
    )


def test_corrupt_and_bomb_files_are_refused_clearly(tmp_path):
    corrupt = tmp_path / "坏.xlsx"
    corrupt.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(scoring.SubmissionError) as err:
        read_workbook(corrupt, PLAN)
    assert "已损坏" in err.value.problems[0].message_zh
    with pytest.raises(scoring.SubmissionError) as err:
        read_workbook(zip_bomb(tmp_path / "bomb.xlsx"), PLAN)
    assert "疑似压缩炸弹" in err.value.problems[0].message_zh


@st.composite
def values(draw):
    """Any valid value of every input type the demo framework has."""
    out = {}
    for name, spec in PLAN.inputs.items():
        if draw(st.booleans()):
            continue
        lo = int(spec.min) if spec.min is not None else 0
        hi = int(spec.max) if spec.max is not None else 10**6
        if spec.kind == "integer":
            out[name] = Decimal(draw(st.integers(min_value=lo, max_value=hi)))
        elif spec.kind in ("number", "percent"):
            out[name] = draw(
                st.decimals(min_value=lo if spec.kind == "number" else 2, max_value=hi, places=2)
            )
        elif spec.kind == "boolean":
            out[name] = draw(st.booleans())
        elif spec.choices:
            out[name] = draw(st.sampled_from(spec.choices))
    return out


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(values(), values())
def test_hypothesis_round_trip_gives_exactly_the_values_filled(tmp_path, mine, theirs):
    sub = scoring.Submission(
        unit={"name": "往返学校", "type": "初中", "date": "2026-09-01"}, values=mine, evaluator_values=theirs
    )
    got = read_workbook(filled(tmp_path, sub), PLAN)
    assert got.values == {k: v for k, v in mine.items() if PLAN.inputs[k].by == "self"}
    assert got.evaluator_values == theirs
