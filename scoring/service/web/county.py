"""The county (优质均衡) page of a project: the county result over the project's units (``service/reports.py``:
``score_cohort`` over each unit's current submission, as ``scoring cohort`` scores a folder of them), laid out
from ``report.cohort_view`` — the verdict and its reasons, 表Ⅱ-2 (each school's values), 表Ⅲ (全县平均值 and
差异系数 per indicator and 学段), the county indicators, the 整改清单. The view decides every word and number;
the page only places them, and links each 差异系数 to the county indicator that judges it (its standard, status
and arithmetic). 管理员 and 督学 only: a 学校 user gets 404 for a project it does not see, 403 for one it does."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from ...framework.model import Framework
from ...report.blocks import Table, cell_text
from ...report.cohort_view import CohortView, cohort_view
from ..access import CurrentService
from ..county_data import county_framework
from ..models import Project
from ..reports import county_report, project_county
from ..state import Service
from .render import Page, attachment, page, templates
from .session import CurrentVisitor, Visitor

router = APIRouter(route_class=Page, include_in_schema=False)


def county_of(framework_id: str) -> str | None:
    """The name of the shipped county framework aggregating ``framework_id`` (for the project page's link)."""
    found = county_framework(framework_id)
    return found.name if found else None


templates.env.globals["county_of"] = county_of


@dataclass
class Judged:
    """The county indicator that judges one 差异系数: its code (the row's anchor) and status as the view words it."""

    code: str
    status: str


@dataclass
class CountyPage:
    view: CohortView
    county: dict[str, Table] = field(default_factory=dict)  # the view's tables by key
    judged: dict[str, Judged] = field(default_factory=dict)  # 表Ⅲ column key "cv:小学" + code → its judge


def judges(county: Framework, view: CohortView) -> dict[str, Judged]:
    """For each 差异系数 of 表Ⅲ (indicator code, group): the county indicator whose rule names its statistic
    (``L1_小学_cv``), with the status the view gives that indicator."""
    tables = {t.key: t for t in view.tables}
    stats, rows = tables.get("stats"), tables.get("county")
    if stats is None or rows is None:
        return {}
    status = {cell_text(r.cells[0]): cell_text(r.cells[2]) for r in rows.rows}
    rules = {ind.code: str(ind.rule.model_dump()) if ind.rule is not None else "" for ind in county.walk()}
    out: dict[str, Judged] = {}
    for row in stats.rows:
        code = cell_text(row.cells[0])
        for col in stats.columns:
            if not col.key.startswith("cv:"):
                continue
            group = col.key.split(":", 1)[1]
            name = re.compile(rf"(?<![\w]){re.escape(f'{code}_{group}_cv')}(?![\w])")
            judge = next((c for c, text in rules.items() if name.search(text)), None)
            if judge is not None and judge in status:
                out[f"{col.key}:{code}"] = Judged(judge, status[judge])
    return out


def county_page(svc: Service, who: Visitor, project_id: int) -> tuple[Project, CountyPage]:
    project, result = project_county(svc, who.actor, project_id)
    view = cohort_view(result)
    county = county_framework(project.framework_id)
    assert county is not None  # project_county refused a project without one
    return project, CountyPage(view, {t.key: t for t in view.tables}, judges(county, view))


@router.get("/projects/{project_id}/county")
async def show(request: Request, project_id: int, svc: CurrentService, who: CurrentVisitor) -> Response:
    project, found = await run_in_threadpool(county_page, svc, who, project_id)
    return page(request, "county.html", {"who": who, "project": project, "c": found}, 200)


@router.get("/projects/{project_id}/county/{kind}")
async def download(project_id: int, kind: str, svc: CurrentService, who: CurrentVisitor) -> Response:
    """县域评估.xlsx / .md / .pdf / .json of the page's result (``reports.county_report``)."""
    found = await run_in_threadpool(county_report, svc, who.actor, project_id, kind)
    return attachment(found.data, found.filename, found.media_type)
