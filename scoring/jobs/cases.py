"""Running the test cases declared next to a framework (``scoring test``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from ..engine.plan import compile_plan
from ..engine.score import score
from ..engine.submission import Submission, UnitInfo
from ..framework.model import Framework, TestCase
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
    outcomes = []
    for case in fw.tests:
        out = CaseOutcome(case.name)
        outcomes.append(out)
        try:
            extra = {
                k: Decimal(str(v)) if isinstance(v, int | float) and not isinstance(v, bool) else v
                for k, v in case.context.items()
            }
            result = score(plan, _submission(case), extra=extra)
        except ScoringError as err:
            refused = [p.path[1] for p in err.problems if p.code == "inconsistent-values"]
            if case.expect.checks is None or len(refused) != len(err.problems):
                out.failures.extend(f"无法评分：{p.message_zh}" for p in err.problems)
            elif sorted(refused) != sorted(case.expect.checks):
                out.failures.append(
                    f"未通过的数据核查：期望 {sorted(case.expect.checks) or '无'}，实际 {sorted(refused)}（填报被退回）"
                )
            continue
        e = case.expect
        if e.total is not None and result.total != e.total:
            out.failures.append(f"总分：期望 {fmt(e.total)}，实际 {fmt(result.total)}")
        if e.self_total is not None and result.self_total != e.self_total:
            out.failures.append(f"自评总分：期望 {fmt(e.self_total)}，实际 {fmt(result.self_total)}")
        if e.grade is not None and result.grade != e.grade:
            out.failures.append(f"等级：期望 {e.grade}，实际 {result.grade}")
        for code, want in e.status.items():
            got = result.indicator(code)
            want_code = STATUS_BY_ZH.get(want, want)
            if got.status != want_code:
                out.failures.append(
                    f"{code} 状态：期望 {STATUS_ZH.get(want_code, want)}，实际 {got.status_zh}（{got.explanation}）"
                )
        for code, want_pts in e.points.items():
            got = result.indicator(code)
            if got.points is None or Decimal(got.points) != Decimal(want_pts):
                out.failures.append(
                    f"{code} 得分：期望 {fmt(want_pts)}，实际 {fmt(got.points) if got.points is not None else got.status_zh}（{got.explanation}）"
                )
        if e.vetoes is not None:
            hit = sorted(v.code for v in result.vetoes if v.triggered)
            if hit != sorted(e.vetoes):
                out.failures.append(f"触发的否决项：期望 {sorted(e.vetoes) or '无'}，实际 {hit or '无'}")
        if e.checks is not None:
            flagged = sorted(w.code for w in result.data_warnings)
            if flagged != sorted(e.checks):
                out.failures.append(
                    f"未通过的数据核查：期望 {sorted(e.checks) or '无'}，实际 {flagged or '无'}"
                )
    return outcomes
