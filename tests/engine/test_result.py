"""Results: indicator results and texts built on first read (the same whenever read), the fast constructor, no
cycles, outcomes shared between calls never changed."""

from __future__ import annotations

import dataclasses
import gc
import pickle
from decimal import Decimal, localcontext
from pathlib import Path

import scoring
from scoring.engine.result import IndicatorResult, Later, indicator_result, result_from_json
from scoring.framework.rules.base import Outcome

from ..helpers import D, plan_of, run

BODY = """
scoring: {method: points, precision: 2}
inputs:
  students: {label: 在校生数, type: integer, min: 1}
  teachers: {label: 专任教师数, type: integer, min: 0}
  lab: {label: 实验室, type: boolean}
derived:
  ratio: {label: 每百名学生教师数, expr: "teachers / students * 100", precision: 2}
indicators:
  - code: A
    name: 师资
    children:
      - {code: A1, name: 教师配备, points: 10, rule: {threshold: {value: ratio, at_least: 4.2}}}
      - {code: A2, name: 实验室, points: 5, rule: {checklist: {items: [{label: 有实验室, when: lab, points: 5}]}}}
"""


def _raw(r: IndicatorResult, field: str):
    return getattr(IndicatorResult, field).slot.__get__(r)


def test_explanations_are_written_when_first_read():
    res = run(plan_of(BODY), {"students": 500, "teachers": 21, "lab": False})
    a1 = res.indicator("A1")
    assert isinstance(_raw(a1, "explanation"), Later) and isinstance(_raw(a1, "inputs"), Later)
    assert a1.explanation == "A1 教师配备：每百名学生教师数 = 21 ÷ 500 × 100 = 4.20 ≥ 4.2 → 达标（10.00 分）"
    assert type(_raw(a1, "explanation")) is str  # written once, kept
    assert a1.inputs == {"ratio": D("4.20")}
    assert res.indicator("A").explanation == "A 师资：10.00 + 0.00 = 10.00（满分 15） → 部分达标"
    assert [i.code for i in res.rectification] == ["A2"]


def test_indicator_results_are_built_when_first_read():
    res = run(plan_of(BODY), {"students": 500, "teachers": 21, "lab": False})
    assert isinstance(scoring.Result.indicators.slot.__get__(res), Later)  # type: ignore[attr-defined]
    assert res.counts == {"met": 1, "unmet": 1} and res.total == D("10.00")  # decided without them
    first = res.indicators
    assert res.indicators is first  # built once, kept
    assert [(i.code, i.status, i.points, i.possible) for i in first] == [
        ("A", "partial", D("10.00"), D(15)),
        ("A1", "met", D("10.00"), D(10)),
        ("A2", "unmet", D("0.00"), D(5)),
    ]


LEVELS = """
scoring: {method: points, precision: 2}
scales:
  四级: [优秀, 良好, 合格, 不合格]
inputs:
  plan: {label: 工作计划, type: level, scale: 四级}
indicators:
  - code: B
    name: 管理
    children:
      - code: B1
        name: 计划
        points: 4
        rule: {levels: {value: plan, points: {优秀: 4, 良好: 3, 合格: 2, 不合格: 0}}}
      - code: B2
        name: 特色
        points: 2
        rule: {manual: {levels: {A: 2, B: 1, C: 0}}}
"""


def test_an_override_changes_its_own_result_only():
    """A rating's outcome is decided once per plan and handed to every call that gives that rating; an override
    of it in one submission must not reach the next."""
    plan = plan_of(LEVELS)
    changed = run(
        plan,
        {"plan": "良好"},
        manual={"B2": "B"},
        overrides=[
            {"indicator": "B1", "points": "4", "by": "张督学", "reason": "现场核实"},
            {"indicator": "B2", "status": "未达标", "points": "0", "by": "张督学", "reason": "现场核实"},
        ],
    )
    assert [(i.status, i.points) for i in changed.indicators[1:]] == [("met", D(4)), ("unmet", D(0))]
    plain = run(plan, {"plan": "良好"}, manual={"B2": "B"})
    assert [(i.status, i.points) for i in plain.indicators[1:]] == [
        ("partial", D("3.00")),
        ("partial", D("1.00")),
    ]
    assert plain.total == D("4.00") and changed.total == D("4.00")


def test_pass_fail_frameworks_give_no_points_and_a_points_plan_keeps_its_own():
    pass_fail = plan_of(LEVELS.replace("method: points", "method: pass_fail"))
    points = plan_of(LEVELS)
    for _ in range(2):
        pf = run(pass_fail, {"plan": "优秀"}, manual={"B2": "A"})
        assert [(i.status, i.points) for i in pf.indicators] == [("met", None)] * 3
        pt = run(points, {"plan": "优秀"}, manual={"B2": "A"})
        assert [i.points for i in pt.indicators] == [D("6.00"), D("4.00"), D("2.00")]


def test_a_text_read_later_is_computed_at_the_engines_precision():
    """1 ÷ 3 at 34 digits, even when read under a 5-digit context long after scoring."""
    body = BODY.replace('"teachers / students * 100"', '"teachers / students"').replace("precision: 2}", "}")
    res = run(plan_of(body), {"students": 3, "teachers": 1, "lab": True})
    with localcontext() as ctx:
        ctx.prec = 5
        text = res.indicator("A1").explanation
    assert "0.3333333333333333333333333333333333" in text


def test_reading_in_any_order_gives_the_same_result_as_json():
    values = {"students": 480, "teachers": 19, "lab": True}
    first = run(plan_of(BODY), values)
    second = run(plan_of(BODY), values)
    _ = [i.explanation for i in reversed(second.indicators)], second.rectification
    assert first.to_json() == second.to_json()
    assert result_from_json(first.to_json()) == second


def test_results_pickle_with_their_texts():
    res = run(plan_of(BODY), {"students": 500, "teachers": 10, "lab": True})
    back = pickle.loads(pickle.dumps(res))
    assert back.indicator("A1").explanation.endswith("→ 未达标（0.00 分）")
    assert back == res


def test_indicator_result_sets_every_field():
    """The engine's fast constructor gives what the dataclass's own gives, field for field."""
    plan = plan_of(BODY)
    node = plan.node("A1")
    out = Outcome(
        "unmet", D("0.00"), D("3.9"), "≥ 4.2", D("0.93"), D("0.3"), "", D("4.2"), D("3.912"), target=D("4.2")
    )
    fast = indicator_result(node, out, node.points, "文字", {"teachers": 19})
    code, name, depth, parent, kind, unit, note, verified, local = node.fixed
    slow = IndicatorResult(
        code, name, depth, parent, kind, "unmet", D("0.00"), node.points, D("3.9"), "≥ 4.2", D("4.2"), D("0.93"),
        D("0.3"), D("3.912"), unit, "文字", {"teachers": 19}, note, verified, local,
    )  # fmt: skip
    assert all(getattr(fast, f.name) == getattr(slow, f.name) for f in dataclasses.fields(IndicatorResult))
    assert (fast.code, fast.kind, fast.unit, fast.possible, fast.target) == (
        "A1",
        "threshold",
        None,
        D(10),
        D("4.2"),
    )


def test_scoring_leaves_no_reference_cycles():
    """Results are freed as soon as they are dropped, texts written or not (a batch scores thousands)."""
    plan = scoring.compile_plan(scoring.load_framework("demo-school"))
    sub = scoring.read_submission(Path(__file__).parents[2] / "examples/demo-school/weak.json")
    gc.collect()
    gc.disable()
    try:
        for read in (False, True):
            res = scoring.score(plan, sub)
            if read:
                res.to_json()
            del res
            assert gc.collect() == 0
    finally:
        gc.enable()


def test_loading_restores_the_cycle_collector():
    text = "id: t\nname: 测试框架\nversion: '1'\n" + BODY
    for was in (True, False):
        (gc.enable if was else gc.disable)()
        try:
            scoring.load_text(text, "t.yaml")
            assert gc.isenabled() is was
        finally:
            gc.enable()


def test_overridden_explanation_keeps_the_rule_text():
    res = run(
        plan_of(BODY),
        {"students": 500, "teachers": 10, "lab": True},
        overrides=[
            {"indicator": "A1", "points": "8", "by": "张督学", "reason": "现场核实", "at": "2026-06-02"}
        ],
    )
    a1 = res.indicator("A1")
    assert a1.points == Decimal("8") and a1.status == "partial"
    assert a1.explanation.startswith("A1 教师配备：每百名学生教师数 = 10 ÷ 500 × 100 = 2.00 < 4.2")
    assert a1.explanation.endswith("督学改判：未达标 0.00 分 → 部分达标 8 分（张督学：现场核实）")


def test_one_result_read_from_many_threads_at_once():
    """Texts written concurrently for the same result come out the same (each is computed from that scoring
    call's own values; a race only writes the same text twice)."""
    import threading

    plan = scoring.compile_plan(scoring.load_framework("demo-school"))
    sub = scoring.read_submission(Path(__file__).parents[2] / "examples/demo-school/weak.json")
    expected = scoring.score(plan, sub).to_json()
    shared = scoring.score(plan, sub)
    got: list[str] = []
    start = threading.Barrier(16)

    def read() -> None:
        start.wait()
        got.append(shared.to_json())

    threads = [threading.Thread(target=read) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == [expected] * 16
