"""``bands``: value ranges to points or levels; steps are tried in order and the first match wins."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .. import expr as ex
from ..intervals import INF, Interval, covered_by, union_gaps
from ..model import BandsRule, Indicator
from ..text import fmt, half_up
from .base import SYMBOL, TEST, CheckContext, LeafRule, Outcome, RuleContext, Value, status_by_points


def build(ind: Indicator, rule: Any, ctx: RuleContext, possible: Decimal | None) -> LeafRule:
    value = Value(rule.value, ctx)
    steps = []
    for step in rule.steps:
        written = [
            (k, getattr(step, k))
            for k in ("at_least", "above", "at_most", "below")
            if getattr(step, k) is not None
        ]
        label = " 且 ".join(f"{SYMBOL[k]} {fmt(b)}" for k, b in written) or "其他"
        steps.append((tuple((TEST[k], b) for k, b in written), step, label))
    top = steps[0][2] if steps else None
    # the first band's bound as a number: {standard} in a 整改 text is 95, as for a threshold, not "≥ 95"
    first = steps[0][0] if steps else ()
    target = first[0][1] if first and isinstance(first[0][1], Decimal) else None
    rounded = {
        id(step): half_up(step.points, ctx.precision) for _, step, _ in steps if step.points is not None
    }

    name = value.plain_name if rule.precision is None else None
    last = len(steps) - 1

    def evaluate(
        values: Mapping[str, Any], unit_type: str | None, manual: Any, text: bool = False
    ) -> Outcome:
        v = values.get(name) if name is not None else value.get(values, rule.precision)[0]
        if v is None:
            return Outcome("missing", explanation=f"{value.explain(values, None)} → 缺报" if text else "")
        for i, (tests, step, label) in enumerate(steps):
            for test, b in tests:
                if not test(v, b):
                    break
            else:
                pts = step.points
                if pts is not None:
                    status = status_by_points(pts, possible)
                else:
                    status = "met" if i == 0 else ("unmet" if i == last else "partial")
                why = ""
                if text:
                    what = f"{fmt(rounded[id(step)])} 分" if pts is not None else step.level
                    if step.level and pts is not None:
                        what = f"{step.level}，{what}"
                    why = f"{value.explain(values, v)}，落在第 {i + 1} 档（{label}）→ {what}"
                return Outcome(
                    status,
                    rounded[id(step)] if pts is not None else None,
                    v,
                    top,
                    None,
                    None,
                    why,
                    target=target,
                )
        why = f"{value.explain(values, v)} 不在任何一档内" if text else ""
        return Outcome("error", value=v, explanation=why)

    return LeafRule("bands", evaluate, tuple(value.expr.names), value.unit)


def check(c: CheckContext, ind: Indicator, rule: BandsRule) -> None:
    compiled = c.expression(rule, ("value",), rule.value, ex.NUMBER)
    full = ind.points
    method = c.fw.settings.method
    intervals: list[Interval] = []
    for i, step in enumerate(rule.steps):
        if (step.at_least is not None and step.above is not None) or (
            step.at_most is not None and step.below is not None
        ):
            c.at(
                step,
                (),
                "band-bounds",
                "一档只能有一个下限和一个上限",
                "a band has one lower and one upper bound",
            )
        iv = Interval.of(step.at_least, step.above, step.at_most, step.below)
        if iv.empty:
            c.at(
                step,
                (),
                "band-empty",
                f"第 {i + 1} 档的区间为空 {iv.text()}",
                f"band {i + 1} is empty {iv.text()}",
            )
        elif intervals and covered_by(iv, intervals):
            c.at(
                step,
                (),
                "band-unreachable",
                f"第 {i + 1} 档 {iv.text()} 永远不会被用到：前面的档已覆盖它（各档按顺序匹配，请按从高到低排列）",
                f"band {i + 1} {iv.text()} is never used: earlier bands cover it (order bands high to low)",
            )
        else:
            for j, prev in enumerate(intervals):
                two_sided = prev.lo != -INF and prev.hi != INF and iv.lo != -INF and iv.hi != INF
                if two_sided and not prev.intersect(iv).empty:
                    c.at(
                        step,
                        (),
                        "band-overlap",
                        f"第 {i + 1} 档 {iv.text()} 与第 {j + 1} 档 {prev.text()} 重叠",
                        f"band {i + 1} {iv.text()} overlaps band {j + 1} {prev.text()}",
                    )
        intervals.append(iv)
        if method != "pass_fail" and step.points is None and step.level is None:
            c.at(
                step,
                (),
                "band-outcome",
                f"第 {i + 1} 档需要 points 或 level",
                f"band {i + 1} needs points or level",
            )
        if step.points is not None and full is not None and step.points > full:
            c.at(
                step,
                ("points",),
                "band-points",
                f"第 {i + 1} 档的分数 {step.points} 超过指标分值 {full}",
                f"band {i + 1} gives {step.points}, more than the indicator's {full}",
            )
    domain = _domain(c, compiled)
    for gap in union_gaps(intervals, domain):
        c.at(
            rule,
            ("steps",),
            "band-gap",
            f"分档不连续：取值 {gap.text()} 不属于任何一档（可加一档不设界限的兜底档）",
            f"bands leave a gap: values in {gap.text()} match no band (add a final catch-all band)",
        )


def _domain(c: CheckContext, compiled: ex.Expression | None) -> Interval:
    """The value range a band must cover: the input's min/max when the value is a bare input."""
    if compiled and compiled.source in c.fw.inputs:
        inp = c.fw.inputs[compiled.source]
        lo = inp.min if inp.min is not None else (Decimal(0) if inp.type == "percent" else None)
        hi = inp.max if inp.max is not None else (Decimal(100) if inp.type == "percent" else None)
        return Interval(
            lo if lo is not None else -INF, lo is not None, hi if hi is not None else INF, hi is not None
        )
    return Interval()
