"""The 整改清单: one item per shortfall, written from the framework's templates with the actual numbers.

Order: vetoes first, then by points recoverable (most first), then in the framework's order. Deadlines count
from the evaluation date. Templates may use {name} {code} {value} {standard} {gap} {unit} {points} {lost}
{status} {reason} and any input or derived id.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ..framework.model import Rectify
from ..framework.rules.base import STATUS_ZH
from ..framework.text import fmt
from .plan import Plan
from .result import IndicatorResult, RectificationItem, Result


class _Fields(dict[str, Any]):
    """Template fields; inputs and derived values are formatted only when a template asks for them, and an
    unknown placeholder stays as written rather than failing the whole report."""

    def __init__(self, fields: dict[str, Any], values: dict[str, Any]):
        super().__init__(fields)
        self.names = values  # not "values": that would hide dict.values()

    def __missing__(self, key: str) -> str:
        return fmt(self.names[key]) if key in self.names else "{" + key + "}"


def _deadline(rect: Rectify, date: dt.date | None) -> dt.date | None:
    if date is None or rect.within_days is None:
        return None
    return date + dt.timedelta(days=rect.within_days)


# 教育督导问责办法（国教督〔2021〕2号）: two of its measures for a unit that 整改不力, unless the framework lists its own
DEFAULT_MEASURES = ("约谈", "督导通报")


def _measures(rect: Rectify) -> list[str]:
    return list(rect.accountability if rect.accountability is not None else DEFAULT_MEASURES)


def _render(template: str, fields: dict[str, Any], values: dict[str, Any]) -> str:
    try:
        return template.format_map(_Fields(fields, values))
    except (ValueError, IndexError):
        return template


def _default_problem(r: IndicatorResult) -> str:
    unit = r.unit or ""
    if r.kind == "threshold" and r.value is not None and r.standard:
        text = f"{r.name}为{fmt(r.value)}{unit}，未达到标准（{r.standard}{unit}）"
        if r.gap is not None:
            text += f"，差{fmt(r.gap)}{unit}"
        return text
    if r.points is not None and r.possible is not None:
        return f"{r.name}得{fmt(r.points)}分（满分{fmt(r.possible)}分），失{fmt(r.possible - r.points)}分"
    return f"{r.name}{STATUS_ZH[r.status]}"


def _indicator_fields(r: IndicatorResult, lost: Decimal | None) -> dict[str, Any]:
    """The fields an indicator's own templates may use; built only for an indicator that has templates (most
    take the default texts)."""
    return {
        "name": r.name,
        "code": r.code,
        "value": fmt(r.value) if r.value is not None else "—",
        "standard": fmt(r.target) if r.target is not None else (r.standard or ""),
        "gap": fmt(r.gap) if r.gap is not None else "—",
        "unit": r.unit or "",
        "points": fmt(r.points),
        "lost": fmt(lost) if lost is not None else "—",
        "status": r.status_zh,
        "reason": r.explanation,
    }


def rectification_list(
    plan: Plan, result: Result, ctx: dict[str, Any], date: dt.date | None
) -> list[RectificationItem]:
    """Build the 整改清单 for one result."""
    items: list[tuple[tuple[Any, ...], RectificationItem]] = []
    values = ctx
    by_code = {r.code: r for r in result.indicators}
    veto_specs = {v.veto.code: v for v in plan.vetoes}
    for order, v in enumerate(result.vetoes):
        if v.triggered is not True:
            continue
        rect = veto_specs[v.code].rectify
        fields = {"name": v.reason, "code": v.code, "reason": v.reason, "status": v.detail}
        problem = (
            _render(rect.problem, fields, values) if rect.problem else f"{v.reason}（一票否决：{v.detail}）"
        )
        item = RectificationItem(
            0,
            v.code,
            v.reason,
            "veto",
            problem,
            _render(rect.requirement, fields, values)
            if rect.requirement
            else "立即整改并追责问责，书面报告整改情况",
            rect.basis or veto_specs[v.code].veto.basis,
            rect.owner,
            _deadline(rect, date),
            "高",
            None,
            [v.code],
            accountability=_measures(rect),
        )
        items.append(((0, 0, order), item))
    for order, node in enumerate(plan.nodes):
        if node.rule is None:
            continue
        r = by_code[node.code]
        rect = node.rectify
        if r.status in ("unmet", "partial"):
            lost = (r.possible - r.points) if r.possible is not None and r.points is not None else None
            fields = _indicator_fields(r, lost) if rect.problem or rect.requirement else {}
            problem = _render(rect.problem, fields, values) if rect.problem else _default_problem(r)
            priority = rect.priority or (
                "高" if plan.method == "pass_fail" or (lost is not None and lost >= 5) else "中"
            )
            if rect.requirement:
                requirement = _render(rect.requirement, fields, values)
            elif r.kind == "threshold" and r.standard:
                requirement = f"达到标准（{r.standard}{r.unit or ''}）"
            else:
                requirement = "对照评分标准逐项整改，达到满分要求"
            item = RectificationItem(
                0,
                r.code,
                r.name,
                "indicator",
                problem,
                requirement,
                rect.basis or node.indicator.basis,
                rect.owner,
                _deadline(rect, date),
                priority,
                lost,
                list(node.path),
                accountability=_measures(rect),
            )
            recoverable = lost if lost is not None else Decimal(0)
            items.append(((1, -recoverable, order), item))
        elif r.status in ("missing", "error"):
            what = "数据缺报" if r.status == "missing" else "数据有误，无法计算"
            item = RectificationItem(
                0,
                r.code,
                r.name,
                "missing",
                f"{r.name}{what}，无法评定",
                "补充或更正填报数据，并提供佐证材料",
                rect.basis or node.indicator.basis,
                rect.owner,
                _deadline(rect, date),
                "低",
                r.possible,
                list(node.path),
                accountability=_measures(rect),
            )
            items.append(((2, 0, order), item))
    items.sort(key=lambda pair: pair[0])
    out = []
    for no, (_, item) in enumerate(items, start=1):
        item.no = no
        out.append(item)
    return out
