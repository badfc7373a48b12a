"""Running the test cases declared next to a framework (``scoring test``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..engine.plan import compile_plan
from ..engine.result import Result
from ..engine.score import score
from ..engine.submission import Submission, UnitInfo
from ..framework.model import Expect, Framework, TestCase
from ..framework.rules.base import STATUS_BY_ZH, STATUS_ZH
from ..framework.text import fmt
from ..problems import ScoringError


@dataclass
class CaseOutcome:
    name: str
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def _submission(case: TestCase) -> Submission:
    unit = case.unit
    return Submission(
        unit=UnitInfo(
            name=unit.name,
            code=unit.code,
            type=unit.type,
            region=unit.region,
            date=unit.date,
            school_type=unit.school_type,
        ),
        values=case.values,
        evaluator_values=case.evaluator_values,
        manual=case.manual,
        source=f"test:{case.name}",
    )


def run_cases(fw: Framework) -> list[CaseOutcome]:
    """Score every declared case and compare with its expectations; describe every difference."""
    plan = compile_plan(fw)
    outcomes: list[CaseOutcome] = []
    for case in fw.tests:
        out = CaseOutcome(case.name)
        outcomes.append(out)
        try:
            result = score(plan, _submission(case), extra=_context(case))
        except ScoringError as err:
            out.failures.extend(_refusal_failures(case, err))
            continue
        out.failures.extend(_total_failures(case.expect, result))
        out.failures.extend(_indicator_failures(case.expect, result))
        out.failures.extend(_flag_failures(case.expect, result))
    return outcomes


def _context(case: TestCase) -> dict[str, Any]:
    """The case's context as values for the expressions, which compute with Decimal: YAML gives numbers as
    int or float, and Decimal(str(v)) keeps 0.1 as 0.1 where Decimal(v) would take the float's binary value."""
    return {
        k: Decimal(str(v)) if isinstance(v, int | float) and not isinstance(v, bool) else v
        for k, v in case.context.items()
    }


def _refusal_failures(case: TestCase, err: ScoringError) -> list[str]:
    """A refused submission passes only when the case expects exactly the 数据核查 that refused it; any other
    refusal means the case could not be scored at all."""
    refused = [p.path[1] for p in err.problems if p.code == "inconsistent-values"]
    if case.expect.checks is None or len(refused) != len(err.problems):
        return [f"无法评分：{p.message_zh}" for p in err.problems]
    if sorted(refused) != sorted(case.expect.checks):
        return [
            f"未通过的数据核查：期望 {sorted(case.expect.checks) or '无'}，实际 {sorted(refused)}（填报被退回）"
        ]
    return []


def _total_failures(e: Expect, result: Result) -> list[str]:
    """Differences in the totals and the grade; an expectation left out is not checked."""
    failures: list[str] = []
    if e.total is not None and result.total != e.total:
        failures.append(f"总分：期望 {fmt(e.total)}，实际 {fmt(result.total)}")
    if e.self_total is not None and result.self_total != e.self_total:
        failures.append(f"自评总分：期望 {fmt(e.self_total)}，实际 {fmt(result.self_total)}")
    if e.grade is not None and result.grade != e.grade:
        failures.append(f"等级：期望 {e.grade}，实际 {result.grade}")
    return failures


def _indicator_failures(e: Expect, result: Result) -> list[str]:
    """Differences in the named indicators' status and points, with the engine's explanation, which is what
    the framework's author needs to find the rule that disagrees."""
    failures: list[str] = []
    for code, want in e.status.items():
        got = result.indicator(code)
        want_code = STATUS_BY_ZH.get(want, want)  # a status may be written in Chinese
        if got.status != want_code:
            failures.append(
                f"{code} 状态：期望 {STATUS_ZH.get(want_code, want)}，实际 {got.status_zh}（{got.explanation}）"
            )
    for code, want_pts in e.points.items():
        got = result.indicator(code)
        if got.points is None or Decimal(got.points) != Decimal(want_pts):
            failures.append(
                f"{code} 得分：期望 {fmt(want_pts)}，实际 {fmt(got.points) if got.points is not None else got.status_zh}（{got.explanation}）"
            )
    return failures


def _flag_failures(e: Expect, result: Result) -> list[str]:
    """Differences in the vetoes triggered and the 数据核查 flagged, compared as sets: their order means nothing."""
    failures: list[str] = []
    if e.vetoes is not None:
        hit = sorted(v.code for v in result.vetoes if v.triggered)
        if hit != sorted(e.vetoes):
            failures.append(f"触发的否决项：期望 {sorted(e.vetoes) or '无'}，实际 {hit or '无'}")
    if e.checks is not None:
        flagged = sorted(w.code for w in result.data_warnings)
        if flagged != sorted(e.checks):
            failures.append(f"未通过的数据核查：期望 {sorted(e.checks) or '无'}，实际 {flagged or '无'}")
    return failures
