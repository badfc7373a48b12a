"""Totals, bonus, grades, the three veto forms, waivers, overrides, 自评/督评, bad submissions."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest

import scoring
import scoring.io.schema
from scoring.engine.result import result_from_json
from scoring.engine.score import values_of

from ..helpers import D, plan_of, run

BODY = """
scoring: {method: points, total: 100}
inputs:
  s: {label: 得分率, type: percent, min: 0, max: 100}
  accident: {label: 重大事故, type: boolean}
  tutoring: {label: 有偿补课, type: boolean}
  ethics: {label: 师德违规, type: integer, min: 0}
  award: {label: 表彰, type: integer, min: 0}
indicators:
  - {code: A, name: 综合, points: 100, rule: {proportional: {value: s, target: 100}}}
vetoes:
  - {code: V1, when: accident, effect: fail, reason: 重大安全责任事故}
  - {code: V2, when: tutoring, effect: {downgrade: 1}, reason: 有偿补课}
  - {code: V3, when: ethics >= 1, effect: {cap: 良好}, reason: 师德违规}
bonus:
  cap: 5
  items:
    - {code: B1, name: 表彰, points: "award * 2"}
grades:
  - {name: 优秀, at_least: 90}
  - {name: 良好, at_least: 80}
  - {name: 合格, at_least: 65}
  - {name: 不合格}
"""
CLEAN = {"accident": False, "tutoring": False, "ethics": 0, "award": 0}


@pytest.mark.parametrize(
    ("s", "grade"),
    [("100", "优秀"), ("90", "优秀"), ("89.99", "良好"), ("80", "良好"), ("65", "合格"), ("64.99", "不合格")],
)
def test_grade_cut_scores_are_inclusive(s, grade):
    assert run(plan_of(BODY), {**CLEAN, "s": s}).grade == grade


def test_bonus_is_capped():
    res = run(plan_of(BODY), {**CLEAN, "s": 80, "award": 4})
    assert (res.bonus_total, res.total, res.grade) == (D(5), D("85.00"), "良好")


@pytest.mark.parametrize(
    ("over", "grade", "before", "passed"),
    [
        ({"tutoring": True}, "良好", "优秀", None),
        ({"ethics": 2}, "良好", "优秀", None),
        ({"tutoring": True, "ethics": 1}, "良好", "优秀", None),
        ({"accident": True}, "不合格", "优秀", False),
    ],
)
def test_three_veto_forms(over, grade, before, passed):
    res = run(plan_of(BODY), {**CLEAN, "s": 95, **over})
    assert (res.grade, res.grade_before_vetoes, res.passed) == (grade, before, passed)
    assert res.rectification[0].kind == "veto" and res.rectification[0].priority == "高"


def test_downgrade_from_the_lowest_grade_stays_there():
    assert run(plan_of(BODY), {**CLEAN, "s": 10, "tutoring": True}).grade == "不合格"


def test_veto_with_missing_data_is_undecided_not_passed():
    res = run(plan_of(BODY), {"s": 95, "tutoring": False, "ethics": 0, "award": 0})
    v1 = next(v for v in res.vetoes if v.code == "V1")
    assert v1.triggered is None


def test_every_bad_value_is_reported_at_once():
    with pytest.raises(scoring.SubmissionError) as err:
        run(plan_of(BODY), {"s": "很多", "ethics": -1, "accident": "也许", "nope": 1})
    codes = sorted((p.code, p.path) for p in err.value.problems)
    assert codes == [
        ("bad-value", ("values", "accident")),
        ("bad-value", ("values", "ethics")),
        ("bad-value", ("values", "s")),
        ("unknown-input", ("values", "nope")),
    ]
    assert any("不能小于 0" in p.message_zh for p in err.value.problems)


def test_human_typed_values_are_understood():
    res = run(
        plan_of(BODY), {"s": "９５％", "accident": "否", "tutoring": "×", "ethics": " 0 ", "award": "０"}
    )
    assert res.total == D("95.00")


TWO_CHECKLISTS = """
inputs:
  x: {label: 甲, type: boolean}
indicators:
  - {code: A, name: 甲, points: 6, rule: {checklist: {items: [{label: 甲, when: x, points: 6}]}}}
  - {code: B, name: 乙, points: 4, rule: {checklist: {items: [{label: 乙, when: x, points: 4}]}}}
"""


def test_waiver_and_override_are_recorded():
    plan = plan_of(TWO_CHECKLISTS)
    res = run(
        plan,
        {"x": False},
        waivers=[{"indicator": "B", "by": "王督学", "at": "2026-06-01", "reason": "校舍改造中"}],
        overrides=[{"indicator": "A", "points": 3, "by": "李督学", "reason": "现场核实部分完成"}],
    )
    assert res.indicator("B").status == "waived"
    assert res.indicator("A").points == D(3)
    assert res.total == D("5.00")  # 3 × 10 ÷ 6: the waived item leaves the denominator
    assert [(c.kind, c.old, c.new) for c in res.changes] == [
        ("override", "未达标 0.00 分", "部分达标 3 分"),
        ("waiver", "参与评分", "已豁免"),
    ]


def test_a_waiver_counts_until_it_expires():
    plan = plan_of(TWO_CHECKLISTS)
    waiver = {"indicator": "B", "by": "王督学", "at": "2026-03-01", "reason": "校舍改造中"}
    on_time = run(plan, {"x": True}, waivers=[{**waiver, "expires": "2026-06-01"}])  # evaluated 2026-06-01
    assert on_time.indicator("B").status == "waived" and on_time.total == D("10.00")
    assert [c.new for c in on_time.changes] == ["已豁免（至 2026-06-01）"]
    late = run(plan, {"x": False}, waivers=[{**waiver, "expires": "2026-05-31"}])
    assert late.indicator("B").status == "unmet" and late.total == D("0.00")
    assert [(c.indicator, c.old, c.new) for c in late.changes] == [
        ("B", "已豁免（至 2026-05-31）", "豁免已于评估日 2026-06-01 前到期，参与评分")
    ]
    assert [i.code for i in late.rectification] == ["A", "B"]
    undated = scoring.score(
        plan,
        scoring.Submission(
            unit={"name": "测试学校", "type": "小学"},
            values={"x": True},
            waivers=[{**waiver, "expires": "2026-05-31"}],
        ),
    )
    assert undated.indicator("B").status == "waived"
    assert [c.new for c in undated.changes] == ["已豁免（至 2026-05-31，评估日期未填，未核对是否到期）"]


def test_evaluator_values_win_and_inflated_self_values_are_flagged():
    plan = plan_of(BODY)
    res = run(plan, {**CLEAN, "s": 95}, evaluator_values={"s": 80})
    assert (res.total, res.self_total) == (D("80.00"), D("95.00"))
    assert [(g.input, g.difference) for g in res.gap_flags] == [("s", "自评 95，督评 80，相差 18.8%")]


ANSWERS = """
inputs:
  charter: {label: 已制定学校章程, type: boolean}
  accident: {label: 发生安全责任事故, type: boolean, adverse: true}
indicators:
  - {code: A, name: 章程, points: 5, rule: {boolean: {when: charter}}}
  - {code: B, name: 安全, points: 5, rule: {boolean: {when: accident, if_yes: 0, if_no: 5}}}
"""


@pytest.mark.parametrize(
    ("mine", "theirs", "flagged"),
    [
        ({"charter": True, "accident": False}, {"charter": False, "accident": True}, ["charter", "accident"]),
        ({"charter": False, "accident": True}, {"charter": True, "accident": False}, []),  # 自评 more modest
    ],
)
def test_a_yes_no_claim_is_inflated_when_it_claims_the_favourable_answer(mine, theirs, flagged):
    res = run(plan_of(ANSWERS), mine, evaluator_values=theirs)
    assert [g.input for g in res.gap_flags] == flagged
    if flagged:
        assert res.gap_flags[1].difference == "自评为“否”，督评为“是”"  # 否 is the favourable answer here


def test_result_json_round_trip_and_schema():
    import jsonschema

    res = run(plan_of(BODY), {**CLEAN, "s": "87.5", "tutoring": True})
    assert result_from_json(res.to_json()) == res
    import json

    jsonschema.validate(json.loads(res.to_json()), scoring.io.schema.json_schema("result"))


def test_scoring_is_deterministic_and_thread_safe():
    plan = plan_of(BODY)
    expected = [run(plan, {**CLEAN, "s": str(i)}).to_json() for i in range(40)]
    got: dict[int, str] = {}

    def work(i: int) -> None:
        got[i] = run(plan, {**CLEAN, "s": str(i)}).to_json()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [got[i] for i in range(40)] == expected


def test_submission_schema_and_reading(tmp_path):
    import json

    import jsonschema

    p = tmp_path / "s.json"
    p.write_text(
        json.dumps({"unit": {"name": "甲校", "type": "小学", "date": "2026-06-01"}, "values": {"s": 1.25}}),
        "utf-8",
    )
    sub = scoring.read_submission(p)
    assert sub.values["s"] == D("1.25")  # JSON floats read as exact decimals
    jsonschema.Draft202012Validator.check_schema(scoring.io.schema.json_schema("submission"))
    bad = tmp_path / "bad.json"
    bad.write_text('{"unit": {"name": "甲校"}, "valus": {}}', "utf-8")
    with pytest.raises(scoring.SubmissionError) as err:
        scoring.read_submission(bad)
    assert "valus" in err.value.problems[0].message_zh


def test_two_downgrade_vetoes_lower_one_step_not_two():
    body = BODY.replace(
        "  - {code: V3, when: ethics >= 1, effect: {cap: 良好}, reason: 师德违规}",
        "  - {code: V3, when: ethics >= 1, effect: {downgrade: 1}, reason: 师德违规}",
    )
    res = run(plan_of(body), {**CLEAN, "s": 95, "tutoring": True, "ethics": 1})
    assert (res.grade_before_vetoes, res.grade) == ("优秀", "良好")


def test_the_total_says_how_it_was_reached():
    """12 × 10 = 120 points written, reported out of 100 (义务教育质量评价指南 style): the rescaling is spelled out."""
    body = """
scoring: {method: points, total: 100, check_sums: false}
inputs:
  a: {label: 甲, type: number, min: 0, max: 60}
  b: {label: 乙, type: number, min: 0, max: 60}
indicators:
  - {code: A, name: 甲, points: 60, rule: {proportional: {value: a, target: 60}}}
  - {code: B, name: 乙, points: 60, rule: {proportional: {value: b, target: 60}}}
bonus:
  cap: 5
  items:
    - {code: X, name: 表彰, points: "2"}
"""
    res = run(plan_of(body), {"a": 54, "b": 30})
    assert res.total == D("72.00")
    assert res.total_explanation == (
        "一级指标得分 54.00 + 30.00 = 84.00（满分 120），按 100 分折算：84.00 × 100 ÷ 120 = 70.00；加分 2.00；总分 72.00"
    )
    plain = run(plan_of(BODY), {**CLEAN, "s": "87.5"})
    assert plain.total_explanation == "一级指标得分 87.50 = 87.50（满分 100）；总分 87.50"


def test_evidence_is_kept_and_checked():
    plan = plan_of(BODY)
    res = run(
        plan, {**CLEAN, "s": "90"}, evidence={"A": ["课表.pdf", "照片1.jpg"], "s": ["统计表.xlsx"], "V1": []}
    )
    assert res.evidence == {"A": ["课表.pdf", "照片1.jpg"], "s": ["统计表.xlsx"]}  # V1: nothing given
    assert result_from_json(res.to_json()).evidence == res.evidence
    from scoring.report.markdown import markdown

    text = markdown(res)
    assert (
        "## 佐证材料" in text and "- A 综合：课表.pdf、照片1.jpg" in text and "- 得分率：统计表.xlsx" in text
    )  # the input by its label
    with pytest.raises(scoring.SubmissionError) as err:
        run(plan, {**CLEAN, "s": "90"}, evidence={"Z9": ["x.pdf"]})
    assert [(p.code, p.path) for p in err.value.problems] == [("unknown-evidence", ("evidence", "Z9"))]


def test_vetoes_say_when_they_are_local_or_unverified():
    from scoring.report.markdown import markdown

    shipped = scoring.compile_plan(scoring.load_framework("gov-duty-county"))
    marks = {v.veto.code: (v.veto.local, v.veto.verified) for v in shipped.vetoes}
    assert marks["D1"] == (True, False) and marks["C1"] == (True, True)
    body = BODY.replace("reason: 有偿补课}", "reason: 有偿补课, local: true, verified: false}")
    res = run(plan_of(body), {**CLEAN, "s": "95", "tutoring": True})
    v2 = next(v for v in res.vetoes if v.code == "V2")
    assert (v2.triggered, v2.local, v2.verified) == (True, True, False)
    assert "| V2 | 有偿补课（地方）（待核） | 降低 1 个等次 | 触发 |" in markdown(res)


def test_results_cite_the_frameworks_documents():
    from scoring.report.markdown import markdown

    header = (
        'id: t\nname: 测试框架\nversion: "1"\napplies_to: [小学, 初中]\nsource:\n'
        "  - {title: 县域义务教育优质均衡发展督导评估办法, number: 教督〔2017〕6号, issuer: 国务院教育督导委员会, "
        "grade: V-sec}\n"
        "  - {title: 某区考评细则, date: 2024-03, grade: UNVERIFIED}\n"
    )
    res = run(plan_of(BODY, header), {**CLEAN, "s": "90"})
    assert res.framework.sources == [
        "国务院教育督导委员会《县域义务教育优质均衡发展督导评估办法》（教督〔2017〕6号）",
        "《某区考评细则》（2024-03）（待核）",
    ]
    assert result_from_json(res.to_json()).framework.sources == res.framework.sources
    assert f"- 评估依据：{'；'.join(res.framework.sources)}" in markdown(res)
    assert run(plan_of(BODY), {**CLEAN, "s": "90"}).framework.sources == []


def test_a_grade_can_require_every_first_level_indicators_score_rate():
    """福建 标准化学校 style: 合格 needs the total and every first-level indicator at 85 % of its points or more."""
    plan = plan_of(
        """
inputs:
  a: {label: 甲得分, type: number, min: 0, max: 60}
  b: {label: 乙得分, type: number, min: 0, max: 40}
indicators:
  - {code: A, name: 甲, points: 60, rule: {expression: {points: a}}}
  - {code: B, name: 乙, points: 40, rule: {expression: {points: b}}}
grades:
  - {name: 合格, at_least: 50, when: lowest_rate >= 85}
  - {name: 不合格}
"""
    )
    assert run(plan, {"a": 60, "b": 30}).grade == "不合格"  # 90 points, but 乙 at 75 %
    assert run(plan, {"a": 51, "b": 34}).grade == "合格"  # both exactly 85 %: 不低于
    assert run(plan, {"a": 51, "b": "33.99"}).grade == "不合格"  # 84.975 %, unrounded
    assert run(plan, {"a": 60}).grade == "不合格"  # 60 points, 甲 at 100 %, 乙 缺报: its rate unknown


CHECKED = """
inputs:
  students: {label: 在校生数, type: integer, min: 1}
  teachers: {label: 专任教师数, type: integer, min: 0}
  qualified: {label: 高学历教师数, type: integer, min: 0}
  boarding: {label: 寄宿制, type: boolean}
  dorm: {label: 专职宿管, type: boolean}
indicators:
  - {code: A, name: 师资, points: 10, rule: {threshold: {value: qualified, at_least: 5}}}
checks:
  - {code: K1, when: qualified <= teachers, message: 高学历教师数多于专任教师数}
  - {code: K2, when: teachers <= students, message: 专任教师数多于在校生数}
  - {code: K3, when: not dorm or boarding, message: 非寄宿制学校填报了专职宿管, severity: warning}
"""


def test_data_checks_refuse_inconsistent_values_and_flag_doubtful_ones():
    from scoring.report.markdown import markdown

    plan = plan_of(CHECKED)
    with pytest.raises(scoring.SubmissionError) as err:
        run(plan, {"students": 10, "teachers": 30, "qualified": 31, "boarding": False})
    assert [(p.code, p.path, p.message_zh) for p in err.value.problems] == [
        (
            "inconsistent-values",
            ("checks", "K1"),
            "数据核查 K1：高学历教师数多于专任教师数（填报：高学历教师数 31，专任教师数 30）",
        ),
        (
            "inconsistent-values",
            ("checks", "K2"),
            "数据核查 K2：专任教师数多于在校生数（填报：专任教师数 30，在校生数 10）",
        ),
    ]
    res = run(plan, {"students": 500, "teachers": 30, "qualified": 6, "boarding": False, "dorm": True})
    assert res.total == D("10.00")  # a warning does not stop scoring
    assert [(w.code, w.message, w.detail) for w in res.data_warnings] == [
        ("K3", "非寄宿制学校填报了专职宿管", "专职宿管 是，寄宿制 否")
    ]
    assert result_from_json(res.to_json()).data_warnings == res.data_warnings
    assert (
        "## 数据核查（请核实）\n\n- K3 非寄宿制学校填报了专职宿管（填报：专职宿管 是，寄宿制 否）"
        in markdown(res)
    )
    missing = run(plan, {"students": 500, "qualified": 6})  # teachers 缺报: K1 and K2 cannot be judged
    assert missing.data_warnings == [] and missing.indicator("A").status == "met"


def test_values_typed_by_a_reader_are_taken_as_they_come(monkeypatch):
    """A workbook's values are typed once, by the reader; the engine converts none of them again."""
    import scoring.engine.score as engine

    plan = scoring.compile_plan(scoring.load_framework("demo-school"))
    sub = scoring.read_submission("examples/demo-school/strong.xlsx", plan=plan)
    assert any(type(v) is Decimal for v in sub.values.values())  # typed by the reader
    calls: list[object] = []
    real = engine.coerce

    def counting(kind: str, raw: object, **kw: object) -> tuple[object, str | None]:
        calls.append(raw)
        return real(kind, raw, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "coerce", counting)
    before = scoring.score(plan, sub)
    assert calls == []
    monkeypatch.setattr(engine, "coerce", real)
    assert before == scoring.score(plan, sub)


def test_a_decimal_for_an_integer_input_must_be_written_whole():
    """5.0 for an integer input is read as 5 (by coerce), not taken as it comes with its decimals."""
    plan = plan_of(BODY)
    whole = scoring.score(
        plan,
        scoring.Submission(
            unit={"name": "甲校", "type": "小学"}, values={**CLEAN, "s": D("95"), "award": D("1")}
        ),
    )
    written = scoring.score(
        plan,
        scoring.Submission(
            unit={"name": "甲校", "type": "小学"}, values={**CLEAN, "s": D("95"), "award": D("1.0")}
        ),
    )
    assert whole == written
    assert written.indicator("A").points == D("95.00")
    bad = scoring.Submission(
        unit={"name": "甲校", "type": "小学"}, values={**CLEAN, "s": D("95"), "award": D("1.5")}
    )
    with pytest.raises(scoring.SubmissionError, match="应填整数"):
        scoring.score(plan, bad)


def test_doubts_found_while_reading_are_reported_with_the_result():
    plan = plan_of(BODY)
    note = {"code": "percent-unformatted", "message": "得分率填 0.93：是否应为 93？", "place": "自评表!F12"}
    sub = scoring.Submission(unit={"name": "甲校", "type": "小学"}, values={**CLEAN, "s": 93}, notes=[note])
    res = scoring.score(plan, sub)
    assert [(w.code, w.message, w.detail) for w in res.data_warnings] == [
        ("percent-unformatted", "得分率填 0.93：是否应为 93？", "自评表!F12")
    ]
    assert scoring.result_from_json(res.to_json()) == res


# ---------------------------------------------------------------------------------------------- arithmetic faults

FAULTS = """
scoring: {method: points, total: 60}
inputs:
  s: {label: 在校生数, type: integer, unit: 人, min: 0}
  t: {label: 教师数, type: integer, unit: 人, min: 0}
derived:
  放大: {label: 放大值, expr: s * 1e20 * 1e20, precision: 2}
  比值: {label: 师生比, expr: t / (s - s), precision: 2}
  乘方: {label: 乘方, expr: ((((s ** 16) ** 16) ** 16) ** 16) ** 16, precision: 2}
  巨值: {label: 巨值, expr: s * 1e20 * 1e20}
indicators:
  - {code: A, name: 放大, points: 10, rule: {threshold: {value: 放大, at_least: 1}}}
  - {code: B, name: 比值, points: 10, rule: {threshold: {value: 比值, at_least: 1}}}
  - {code: C, name: 乘方, points: 10, rule: {threshold: {value: 乘方, at_least: 1}}}
  - {code: D, name: 巨值, points: 10, rule: {threshold: {value: 巨值, at_least: 1, precision: 2}}}
  - {code: E, name: 表达式, points: 10, rule: {expression: {points: "min(t, 10)"}}}
  - {code: F, name: 按比例, points: 10, rule: {proportional: {value: t, target: 3}}}
vetoes:
  - {code: V, when: "t / (s - s) > 1", effect: fail, reason: 算不出}
bonus:
  cap: 5
  items:
    - {code: J, name: 加分, points: "t / (s - s)"}
grades:
  - {name: 好, at_least: 1, when: "total / (count_met - count_met) > 0"}
  - {name: 差}
"""


def test_arithmetic_faults_are_located_and_explained_never_raised():
    plan = plan_of(FAULTS)
    res = run(plan, {"s": 10, "t": 3})
    by = {i.code: i for i in res.indicators}
    assert [by[c].status for c in "ABCD"] == ["error"] * 4
    assert (
        by["A"].explanation
        == "A 放大：无法计算：放大值：数值过大，超出 34 位有效数字的计算精度（10 × 1e+20 × 1e+20）"
    )
    assert by["B"].explanation == "B 比值：无法计算：师生比：除数为零（3 ÷ (10 - 10)）"
    assert by["C"].explanation.startswith("C 乘方：无法计算：乘方：数值过大，超出可计算的范围（溢出）")
    assert by["D"].explanation == "D 巨值：无法计算：数值过大，超出 34 位有效数字的计算精度（巨值 = 1E+41）"
    assert by["F"].status == "met" and by["E"].points == D("3.00")
    assert res.total == D("13.00") and res.provisional
    assert res.grade == "差"  # a grade condition that cannot be computed does not hold
    assert res.vetoes[0].triggered is None and "除数为零" in res.vetoes[0].explanation
    assert res.bonus[0].points is None and res.bonus[0].explanation == "无法计算：除数为零"
    assert {r.code for r in res.rectification if r.kind == "missing"} == {"A", "B", "C", "D"}  # 数据有误
    assert result_from_json(res.to_json()) == res
    one = run(plan, {"s": 1, "t": 3})  # 1 ** 16 ** 5 is 1: the fault was the value's, not the formula's
    assert one.indicator("C").status == "met"


def test_a_share_too_large_to_round_is_shown_not_a_fault():
    plan = plan_of("""
inputs:
  r: {label: 系数, type: number}
indicators:
  - {code: A, name: 系数, points: 10, rule: {threshold: {value: r, at_least: 0}}}
""")
    sub = scoring.Submission(
        unit={"name": "甲校", "type": "小学"},
        values={"r": D("999999999999")},
        evaluator_values={"r": D("0.00000000000000000001")},
    )
    res = scoring.score(plan, sub)  # 自评 1E+33 times the 督评: no rounding at 1 place fits in 34 digits
    assert res.gap_flags[0].difference.startswith("自评 999999999999，督评 0.00000000000000000001，相差 1")


# ---------------------------------------------------------------------------------------------- plausible ranges

PLAUSIBLE = """
level: school
inputs:
  students: {label: 在校生数, type: integer, unit: 人, min: 1}
  teachers: {label: 专任教师数, type: integer, unit: 人, min: 0, plausible: {max: 800}}
  funds: {label: 公用经费, type: number, unit: 万元, min: 0, plausible: {min: 1, max: 2000, severity: error}}
  rate: {label: 合格率, type: percent}
  ratio: {label: 系数, type: number}
derived:
  生师比: {label: 生师比, expr: students / teachers, precision: 2}
indicators:
  - {code: A, name: 生师比, points: 10, rule: {threshold: {value: 生师比, at_most: 19}}}
  - {code: B, name: 经费, points: 10, rule: {threshold: {value: funds, at_least: 10}}}
  - {code: C, name: 合格率, points: 10, rule: {threshold: {value: rate, at_least: 90}}}
  - {code: D, name: 系数, points: 10, rule: {threshold: {value: ratio, at_least: 0}}}
"""
FINE = {"students": 500, "teachers": 40, "funds": 20, "rate": 95, "ratio": 1}


def test_values_outside_their_plausible_range_are_reported_with_the_result():
    plan = plan_of(PLAUSIBLE)
    assert run(plan, FINE).data_warnings == []
    res = run(plan, {**FINE, "students": 10**12, "teachers": 900, "rate": "150", "ratio": D("2e12")})
    assert [(w.code, w.message, w.detail) for w in res.data_warnings] == [
        (
            "implausible",
            "在校生数为 1000000000000人，超出合理范围（0–50000人），请核实是否填错（单位、位数）",
            "在校生数 1000000000000人",
        ),
        (
            "implausible",
            "专任教师数为 900人，超出合理范围（0–800人），请核实是否填错（单位、位数）",
            "专任教师数 900人",
        ),
        ("implausible", "合格率为 150，超出合理范围（0–100），请核实是否填错（单位、位数）", "合格率 150"),
        (
            "implausible",
            "系数为 2000000000000，超出合理范围（-1000000000000–1000000000000），请核实是否填错（单位、位数）",
            "系数 2000000000000",
        ),
    ]
    assert res.total is not None  # scored: a warning, not a refusal
    assert result_from_json(res.to_json()).data_warnings == res.data_warnings


def test_a_framework_can_refuse_values_outside_the_plausible_range():
    plan = plan_of(PLAUSIBLE)
    with pytest.raises(scoring.SubmissionError) as err:
        run(plan, {**FINE, "funds": D("0.5")})
    [p] = err.value.problems
    assert (p.code, p.path) == ("implausible-value", ("values", "funds"))
    assert (
        p.message_zh
        == "公用经费（funds）：0.5万元 超出合理范围（1–2000万元），框架规定不予评分；请核实后重新填报"
    )
    assert "outside the plausible range (1–2000万元)" in p.message_en
    with pytest.raises(scoring.SubmissionError, match="合理范围"):
        values_of(plan, scoring.Submission(unit={"name": "甲校"}, values={**FINE, "funds": 5000}))


def test_the_value_scored_is_the_one_judged():
    plan = plan_of(PLAUSIBLE)
    sub = scoring.Submission(
        unit={"name": "甲校", "type": "小学"},
        values={**FINE, "students": 10**12, "funds": 5000},  # a 自评 slip the 督学 corrected
        evaluator_values={"students": 500, "funds": 20},
    )
    res = scoring.score(plan, sub)
    assert res.data_warnings == [] and res.total is not None
    sub = scoring.Submission(
        unit={"name": "甲校", "type": "小学"}, values=FINE, evaluator_values={"students": "60000"}
    )
    assert [w.detail for w in scoring.score(plan, sub).data_warnings] == ["在校生数 60000人"]


# ---------------------------------------------------------------------------------------------- another framework


@pytest.mark.parametrize(
    ("field", "given", "code", "zh"),
    [
        (
            "framework",
            "other",
            "other-framework",
            "填报数据的 framework 字段是 “other”，评分用的框架是 “t”（测试框架，版本 1）",
        ),
        (
            "framework_version",
            "2",
            "other-framework-version",
            "填报数据的 framework_version 字段是 “2”，评分用的框架 t 是版本 “1”",
        ),
    ],
)
def test_a_submission_made_for_another_framework_is_refused(field, given, code, zh):
    plan = plan_of(BODY)
    with pytest.raises(scoring.SubmissionError) as err:
        run(plan, {**CLEAN, "s": 90}, **{field: given})
    [p] = err.value.problems
    assert (p.code, p.path) == (code, (field,))
    assert p.message_zh.startswith(zh)
    assert "refused" in p.message_en
    ok = run(plan, {**CLEAN, "s": 90}, framework="t", framework_version="1")
    assert ok.total == D("90.00")


VETOED = """
inputs:
  tutoring: {label: 在职教师有偿补课, type: boolean}
  n: {label: 培训机构数, type: integer}
indicators:
  - {code: A, name: 培训治理, points: 10, rule: {threshold: {value: n, at_least: 1}}}
vetoes:
  - {code: V1, when: tutoring, effect: fail, reason: 查实在职教师有偿补课, applies_to: [小学]}
grades:
  - {name: 合格, at_least: 6}
  - {name: 不合格}
"""


def test_a_veto_for_some_unit_types_is_not_judged_for_others():
    plan = plan_of(VETOED, 'id: t\nname: 测试\nversion: "1"\napplies_to: [小学, 区县]\n')
    county = run(plan, {"n": 3}, type="区县")
    (v1,) = county.vetoes
    assert (v1.triggered, v1.explanation, county.grade, county.provisional) == (
        False,
        "只适用于小学，本单位不适用 → 未触发",
        "合格",
        False,
    )
    assert plan.required_for("区县", False)[0] == ["n"]
    school = run(plan, {"n": 3, "tutoring": True}, type="小学")
    assert (school.vetoes[0].explanation, school.grade) == ("在职教师有偿补课：是 → 触发", "不合格")
