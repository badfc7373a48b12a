"""The county (优质均衡) page of a project: the county result over the project's units (``service/reports.py``:
``score_cohort`` over each unit's current submission, as ``scoring cohort`` scores a folder of them), laid out
from ``report.cohort_view`` — the verdict and its reasons, 表Ⅱ-2 (each school's values), 表Ⅲ (全县平均值 and
差异系数 per indicator and 学段), the county indicators, the 整改清单. The view decides every word and number;
the page only places them, and links each 差异系数 to the county indicator that judges it (its standard, status
and arithmetic). 管理员 and 督学 only: a 学校 user gets 404 for a project it does not see, 403 for one it does.

Its 县级填报数据 section keeps the county's own data (``service/county_data.py``) as the unit page keeps a
school's: the version that counts, every other one (未通过 with its problems, placed as ``scoring score`` words
them), an upload form into an open round, each version's original bytes and a blank 县级自评表 to fill."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ...framework.model import Framework
from ...io.template import write_template
from ...problems import Problem, printable
from ...report.blocks import Table, cell_text
from ...report.cohort_view import CohortView, cohort_view
from ..access import CurrentService
from ..county_data import (
    county_file,
    county_framework,
    county_plan,
    county_project,
    county_versions,
    store_county,
)
from ..errors import ApiError
from ..models import Project
from ..reports import county_report, project_county
from ..rounds import require_open
from ..schemas import CountySubmissionOut
from ..state import Service
from ..uploads import read_upload
from . import session as web
from .pages import XLSX, problem_line
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
class CountyData:
    """The county's own data as the page lists it: every version newest first, the one that counts, and each
    未通过 version's problems worded as ``scoring score`` prints them."""

    versions: list[CountySubmissionOut]
    current: CountySubmissionOut | None
    problems: dict[int, list[str]]


def stored_line(found: dict[str, Any]) -> str:
    """A problem kept with a version (``Problem.to_dict``) worded as the unit page words a refused upload's."""
    path = found.get("path")
    return problem_line(
        Problem(
            code=str(found.get("code") or ""),
            message_zh=str(found.get("message") or ""),
            message_en="",
            severity="warning" if found.get("severity") == "warning" else "error",
            file=found.get("file"),
            line=found.get("line"),
            column=found.get("column"),
            path=(str(path),) if path else (),
            cell=found.get("cell"),
        )
    )


def county_data(versions: list[CountySubmissionOut]) -> CountyData:
    current = next((v for v in versions if v.current), None)
    lines = {v.version: [stored_line(p) for p in v.problems] for v in versions if v.problems}
    return CountyData(versions, current, lines)


@dataclass
class CountyPage:
    view: CohortView
    county: dict[str, Table] = field(default_factory=dict)  # the view's tables by key
    judged: dict[str, Judged] = field(default_factory=dict)  # 表Ⅲ column key "cv:小学" + code → its judge
    data: CountyData | None = None  # the county's own data (县级填报)


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
    data = county_data(county_versions(svc, who.actor, project_id))
    return project, CountyPage(view, {t.key: t for t in view.tables}, judges(county, view), data)


def _show(
    request: Request, svc: Service, who: Visitor, project_id: int, status: int = 200, **extra: Any
) -> Response:
    project, found = county_page(svc, who, project_id)
    return page(request, "county.html", {"who": who, "project": project, "c": found, **extra}, status)


COUNTY_PATH = "/projects/{project_id}/county"


@router.get(COUNTY_PATH)
async def show(
    request: Request,
    project_id: int,
    svc: CurrentService,
    who: CurrentVisitor,
    saved: Annotated[int | None, Query()] = None,
) -> Response:
    return await run_in_threadpool(_show, request, svc, who, project_id, saved=saved)


@router.post(COUNTY_PATH + "/upload")
async def upload(request: Request, project_id: int, svc: CurrentService, who: CurrentVisitor) -> Response:
    """Keep the county's data uploaded as its next version (``county_data.store_county``): 303 back to the page
    with the new verdict, or the page again (422) with every problem of a file that cannot be read — kept, as
    未通过, and the version before still counts."""
    project = await run_in_threadpool(county_project, svc, who.actor, project_id)  # 404, 403 before the body
    require_open(project)
    sent = await read_upload(request, svc.settings.limits)
    web.check(request, who, sent.fields.get(web.FIELD))
    if not sent.data:
        return await run_in_threadpool(_show, request, svc, who, project_id, 422, missing=True)
    reason = (sent.fields.get("reason") or "").strip()[:2000] or None
    return await run_in_threadpool(_store, request, svc, who, project_id, sent.data, sent.filename, reason)


def _store(
    request: Request,
    svc: Service,
    who: Visitor,
    project_id: int,
    data: bytes,
    filename: str | None,
    reason: str | None,
) -> Response:
    try:
        stored = store_county(svc, who.actor, project_id, data, filename, reason)
    except ApiError as err:
        if err.status != 422 or not err.problems:
            raise
        lines = [problem_line(p) for p in err.problems]
        name = printable(filename or "")
        kept = err.extra.get("version")
        return _show(request, svc, who, project_id, 422, problems=lines, filename=name, refused=kept)
    return RedirectResponse(f"/projects/{project_id}/county?saved={stored.version}", status_code=303)


@router.get(COUNTY_PATH + "/data/{version}")
def original(project_id: int, version: int, svc: CurrentService, who: CurrentVisitor) -> Response:
    """The bytes a version of the county's data was uploaded as (管理员, 督学)."""
    found = county_file(svc, who.actor, project_id, version)
    return attachment(found.content, found.filename, "application/octet-stream")


@router.get(COUNTY_PATH + "/template.xlsx")
def template(project_id: int, svc: CurrentService, who: CurrentVisitor) -> Response:
    """A blank 县级自评表 of the county framework, with the 督学评定 column (``scoring template --evaluator``), to
    fill with the county's own values and upload here (管理员, 督学)."""
    project = county_project(svc, who.actor, project_id)
    plan = county_plan(project.framework_id)
    assert plan is not None  # county_project refused a project without one
    with tempfile.TemporaryDirectory(prefix="scoring-template-") as folder:
        data = write_template(plan, Path(folder) / "template.xlsx", evaluator=True).read_bytes()
    return attachment(data, f"县级自评表-{project.name}.xlsx", XLSX)


@router.get("/projects/{project_id}/county/{kind}")
async def download(project_id: int, kind: str, svc: CurrentService, who: CurrentVisitor) -> Response:
    """县域评估.xlsx / .md / .pdf / .json of the page's result (``reports.county_report``)."""
    found = await run_in_threadpool(county_report, svc, who.actor, project_id, kind)
    return attachment(found.data, found.filename, found.media_type)
