"""``manual``: a 督学's judgement, entered in the submission as a level or as points."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ..model import Indicator, ManualRule
from ..text import fmt, half_up
from .base import (
    STATUS_TEXT,
    CheckContext,
    LeafRule,
    Outcome,
    RuleContext,
    check_level_map,
    level_outcome,
    status_by_points,
)


def build(ind: Indicator, rule: Any, ctx: RuleContext, possible: Decimal | None) -> LeafRule:
    table = dict(rule.levels) if rule.levels else None
    rounded = {k: half_up(v, ctx.precision) for k, v in table.items()} if table else {}
    possible = possible if possible is not None else (max(table.values()) if table else None)
    prefix = "督学评定："
    decided = (
        {k: level_outcome(k, table, rule.met, possible, prefix, False, rounded) for k in table}
        if table
        else {}
    )

    def evaluate(
        values: Mapping[str, Any], unit_type: str | None, manual: Any, text: bool = False
    ) -> Outcome:
        if manual is None or manual == "":
            return Outcome("pending", explanation="督学尚未评定 → 待评")
        if table is not None:
            if not text and type(manual) is str:
                out = decided.get(manual)
                if out is not None:
                    return out
            return level_outcome(str(manual).strip(), table, rule.met, possible, prefix, text, rounded)
        try:
            p = Decimal(str(manual))
        except Exception:
            return Outcome("error", value=manual, explanation=f"督学评分 “{manual}” 不是数值")
        if p < 0 or (possible is not None and p > possible):
            return Outcome("error", value=p, explanation=f"督学评分 {fmt(p)} 超出 0–{fmt(possible)} 的范围")
        status = status_by_points(p, possible)
        why = f"督学评分 {fmt(p)} 分 → {STATUS_TEXT[status]}" if text else ""
        return Outcome(status, half_up(p, ctx.precision), p, None, None, None, why)

    return LeafRule("manual", evaluate, (), None, manual=True)


def check(c: CheckContext, ind: Indicator, rule: ManualRule) -> None:
    if rule.levels:
        check_level_map(c, ind, rule, None, rule.levels, rule.met)
