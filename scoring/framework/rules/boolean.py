"""``boolean``: one yes/no answer gives the points — 是 → ``if_yes``, 否 → ``if_no`` — either way round.

Schemes write "有…得 10 分，无不得分" or "发生…不得分"; a one-item checklist said the first and nothing said the
second. The status follows the points (full → 达标, 0 → 未达标, between → 部分达标); in a 达标类 framework, which
has no points, a yes is 达标 (write ``not x`` for the other way round).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .. import expr as ex
from ..model import BooleanRule, Indicator
from ..text import Template, fmt, half_up
from .base import STATUS_TEXT, CheckContext, LeafRule, Outcome, RuleContext, status_by_points


def build(ind: Indicator, rule: Any, ctx: RuleContext, possible: Decimal | None) -> LeafRule:
    cond = ctx.compile(rule.when)
    source = rule.when.strip()
    question = ctx.labels.get(source) or Template(source).plain
    scored = possible is not None and ctx.method != "pass_fail"
    yes = rule.if_yes if rule.if_yes is not None else possible
    no = rule.if_no
    points = {
        True: half_up(yes, ctx.precision) if scored and yes is not None else None,
        False: half_up(no, ctx.precision) if scored else None,
    }

    def evaluate(
        values: Mapping[str, Any], unit_type: str | None, manual: Any, text: bool = False
    ) -> Outcome:
        v = cond.run(values)
        if v is None:
            return Outcome("missing", explanation=f"{question}：缺报（数据未填）" if text else "")
        answer = bool(v)
        pts = points[answer]
        status = ("met" if answer else "unmet") if pts is None else status_by_points(pts, possible)
        why = ""
        if text:
            tail = f"，得 {fmt(pts)} 分" if pts is not None else ""
            why = f"{question}：{fmt(answer)}{tail} → {STATUS_TEXT[status]}"
        return Outcome(status, pts, answer, None, None, None, why)

    return LeafRule("boolean", evaluate, tuple(sorted(cond.names)), None)


def check(c: CheckContext, ind: Indicator, rule: BooleanRule) -> None:
    c.expression(rule, ("when",), rule.when, ex.BOOL)
    for key in ("if_yes", "if_no"):
        given = getattr(rule, key)
        if given is not None and ind.points is not None and given > ind.points:
            c.at(
                rule,
                (key,),
                "boolean-points",
                f"{key} = {fmt(given)} 分，超过指标分值 {fmt(ind.points)} 分",
                f"{key} {given} exceeds the indicator's {ind.points} points",
            )
    if rule.if_yes is not None and rule.if_yes == rule.if_no:
        c.at(
            rule,
            ("if_no",),
            "boolean-same",
            "是、否得分相同，这个指标不区分任何情况",
            "yes and no give the same points",
            warning=True,
        )
