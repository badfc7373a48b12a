"""The 区域统计 dashboard as a workbook (下载 Excel): the page's figures (``dashboard.dashboard``, the same units and
filter) made into report blocks at the page's precision, placed by ``report.dashboard_xlsx``. 管理员 and 督学, as
the page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from ...framework.text import half_up
from ...report.blocks import Column, Fact, Number, Row, Table, points
from ...report.dashboard_xlsx import DashboardView, dashboard_bytes
from ..access import CurrentService
from ..rectify import office_today
from ..reports import XLSX, Download
from .dashboard import WEAKEST, Dashboard, Filter, Ranked, dashboard
from .render import Page
from .session import CurrentVisitor

router = APIRouter(route_class=Page, include_in_schema=False)


def _scope(d: Dashboard) -> str:
    """The units shown, as the page's line says it: 全部单位, or 学段 … · 区域 …, with their count."""
    chosen = d.chosen
    words = [
        f"学段 {chosen.phase}" if chosen.phase is not None else "",
        f"区域 {chosen.region}" if chosen.region is not None else "",
    ]
    line = " · ".join(w for w in words if w) or "全部单位"
    notes = "".join(f"；本项目没有{what}为“{value}”的单位" for what, value in d.unknown)
    return f"{line}（{d.units} 个单位）{notes}"


def _ranking(d: Dashboard, groups: list[tuple[str, list[Ranked]]], key: str, by: str, title: str) -> Table:
    columns = (
        ("group", by),
        ("rank", "名次"),
        ("name", "单位"),
        ("code", "单位代码"),
        ("total", "总分"),
        ("grade", "等级"),
        ("version", "版本"),
    )
    rows = tuple(
        Row(
            (
                name,
                r.rank or None,
                r.entry.name,
                r.entry.unit.code,
                points(r.entry.result.total, r.entry.result.total_precision),
                r.entry.result.grade,
                r.entry.version,
            )
        )
        for name, ranked in groups
        for r in ranked
    )
    caption = f"{d.project.name} · {title} · {_scope(d)}"
    return Table(key, title, tuple(Column(k, t) for k, t in columns), rows, "还没有已评分的单位。", caption)


def export_view(d: Dashboard) -> DashboardView:
    """The dashboard's figures as report blocks, at the page's precision: totals at the framework's decimals, each
    mean 得分率 四舍五入 to one decimal of a percent (the value written is the one the page shows)."""
    scope = _scope(d)
    name = d.project.name

    def caption(title: str) -> str:
        return f"{name} · {title} · {scope}"

    facts = (
        Fact("项目", name, strong=True),
        Fact("统计日期", d.today, "按各单位最新一版已评分数据统计"),
        Fact("统计范围", scope),
    )
    completion = Table(
        "completion",
        "填报进度",
        (Column("item", "状态"), Column("units", "单位数"), Column("of", "单位总数")),
        (
            Row(("已提交", d.submitted, d.units), strong=True),
            Row(("已评分", d.scored, d.units)),
            Row(("未提交", d.units - d.submitted, d.units)),
        ),
    )
    grades = Table(
        "grades",
        "等级分布",
        (Column("grade", "等级"), Column("units", "单位数")),
        tuple(Row((g, n)) for g, n in d.grades),
        caption=caption("等级分布"),
    )
    rates = Table(
        "rates",
        "一级指标平均得分率",
        (
            Column("code", "指标"),
            Column("name", "名称"),
            Column("rate", "平均得分率"),
            Column("units", "计入单位数"),
        ),
        tuple(
            Row((w.code, w.name, Number(half_up(w.rate, 3), 1, percent=True), w.units), strong=i < WEAKEST)
            for i, w in enumerate(d.weakest)
        ),
        "还没有已评分的单位。",
        caption(f"一级指标平均得分率，从低到高，前 {WEAKEST} 项为薄弱指标"),
    )
    overdue = Table(
        "overdue",
        "逾期整改事项",
        (
            Column("name", "单位"),
            Column("code", "单位代码"),
            Column("indicator", "指标"),
            Column("problem", "问题"),
            Column("deadline", "期限"),
            Column("days", "逾期天数"),
            Column("status", "状态"),
        ),
        tuple(
            Row(
                (
                    o.unit.name,
                    o.unit.code,
                    o.item.indicator,
                    o.item.problem,
                    o.item.deadline,
                    o.days,
                    o.item.status,
                )
            )
            for o in d.overdue
        ),
        "没有逾期的整改事项。",
        caption("逾期整改事项（已过期限、未销号）"),
    )
    return DashboardView(
        f"{name} · 区域统计",
        facts,
        completion,
        grades,
        _ranking(d, d.phases, "phases", "学段", "各学段排名"),
        _ranking(d, d.regions, "regions", "区域", "各区域排名"),
        rates,
        overdue,
    )


@router.get("/projects/{project_id}/dashboard.xlsx")
def workbook(
    project_id: int,
    svc: CurrentService,
    who: CurrentVisitor,
    phase: Annotated[str | None, Query()] = None,
    region: Annotated[str | None, Query()] = None,
) -> Response:
    """The dashboard as a workbook (管理员, 督学), of the same units as the page with the same filter."""
    today = office_today()
    found = dashboard(svc, who.actor, project_id, today, Filter(phase or None, region or None))
    download = Download(dashboard_bytes(export_view(found)), f"区域统计-{found.project.name}.xlsx", XLSX)
    return Response(download.data, media_type=download.media_type, headers=download.headers())
