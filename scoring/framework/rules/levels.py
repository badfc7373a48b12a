"""``levels``: a rubric rating (A/B/C/D, 优秀/良好/合格/不合格) given as an input, mapped to points."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .. import expr as ex
from ..model import Indicator, LevelsRule
from ..text import half_up
from .base import CheckContext, LeafRule, Outcome, RuleContext, Value, check_level_map, level_outcome


def build(ind: Indicator, rule: Any, ctx: RuleContext, possible: Decimal | None) -> LeafRule:
    value = Value(rule.value, ctx)
    table = dict(rule.points)
    rounded = {k: half_up(v, ctx.precision) for k, v in table.items()}
    label = value.label or rule.value
    bare = value.expr.bare
    read = value.expr.run
    prefix = f"{label}："
    decided = {k: level_outcome(k, table, rule.met, possible, prefix, False, rounded) for k in table}

    def evaluate(
        values: Mapping[str, Any], unit_type: str | None, manual: Any, text: bool = False
    ) -> Outcome:
        v = values.get(bare) if bare is not None else read(values)
        if v is None:
            return Outcome("missing", explanation=f"{label}：未评定 → 缺报" if text else "")
        if not text and type(v) is str:
            out = decided.get(v)
            if out is not None:
                return out
        return level_outcome(
            v if type(v) is str else str(v), table, rule.met, possible, prefix, text, rounded
        )

    return LeafRule("levels", evaluate, tuple(value.expr.names), None)


def check(c: CheckContext, ind: Indicator, rule: LevelsRule) -> None:
    c.expression(rule, ("value",), rule.value, ex.TEXT)
    check_level_map(c, ind, rule, _levels_of(c, rule.value), rule.points, rule.met)


def _levels_of(c: CheckContext, source: str) -> tuple[str, ...] | None:
    info = c.env.get(source.strip())
    return info.choices if info else None
