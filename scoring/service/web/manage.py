"""The 管理员 (督导室) pages: a new project from a shipped framework, and a project's unit list imported from a
CSV or workbook upload. Both call the API's own functions (``api.projects.create_project`` and ``store_unit_list`` after
``unitlist.read_units``), so the audit rows, the framework pinned at its hash and the import's rules (nothing
imported while any row is bad) are the API's. Any other role gets 403, a project it may not see 404."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from ...problems import ScoringError, printable
from ..access import CurrentService
from ..api.projects import create_project, store_unit_list
from ..errors import ApiError
from ..schemas import ProjectIn
from ..state import Service
from ..unitlist import read_units
from ..uploads import read_upload
from . import session as web
from .pages import problem_line, show_project, show_projects
from .render import Page
from .session import CurrentVisitor, Visitor

router = APIRouter(route_class=Page, include_in_schema=False)


@router.post("/projects")
async def new_project(request: Request, svc: CurrentService, who: CurrentVisitor) -> Response:
    """Create a project (管理员): 303 to its page, or the projects page again with what is wrong (422)."""
    async with request.form(max_files=0, max_fields=8) as form:
        fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    web.check(request, who, fields.get(web.FIELD))
    who.actor.require("manage-projects")
    try:
        body = ProjectIn(
            name=fields.get("name", ""),
            framework=fields.get("framework", ""),
            year=fields.get("year", ""),  # pydantic parses the form's text
            round=fields.get("round") or 1,
        )
    except ValidationError as err:
        return await run_in_threadpool(_again, request, svc, who, fields, _invalid(err))
    try:
        made = await run_in_threadpool(create_project, body, who.actor, svc)
    except ApiError as err:
        if err.status != 404:
            raise
        return await run_in_threadpool(_again, request, svc, who, fields, [err.zh])
    return RedirectResponse(f"/projects/{made.id}?created=1", status_code=303)


FIELD_ZH = {"name": "项目名称", "framework": "评估框架", "year": "年度", "round": "轮次"}


def _invalid(err: ValidationError) -> list[str]:
    out = []
    for e in err.errors():
        key = str(e["loc"][0]) if e["loc"] else ""
        if key == "year":
            out.append("年度应为 2000 至 2100 之间的年份")
        elif key == "round":
            out.append("轮次应为 1 至 100 之间的整数")
        else:
            out.append(f"请填写{FIELD_ZH.get(key, key)}（不超过 200 字）")
    return out


def _again(
    request: Request, svc: Service, who: Visitor, fields: dict[str, str], problems: list[str]
) -> Response:
    return show_projects(request, svc, who, 422, form=fields, form_problems=problems)


@router.post("/projects/{project_id}/units/import")
async def import_units(
    request: Request, project_id: int, svc: CurrentService, who: CurrentVisitor
) -> Response:
    """Import a unit list (管理员): every bad row shown as ``unitlist`` words it and nothing imported (422), or
    303 to the project's page with the counts."""
    await run_in_threadpool(_may_import, svc, who, project_id)
    sent = await read_upload(request, svc.settings.limits)
    web.check(request, who, sent.fields.get(web.FIELD))
    reason = (sent.fields.get("reason") or "").strip()[:2000] or None
    name = sent.filename or "单位名单"
    limits = svc.settings.limits
    try:
        found = await run_in_threadpool(read_units, sent.data, name, svc.file_limits, limits.max_units)
    except ScoringError as err:
        lines = [problem_line(p) for p in err.problems]
        return await run_in_threadpool(
            show_project, request, svc, who, project_id, 422, import_problems=lines, filename=printable(name)
        )
    done = await run_in_threadpool(store_unit_list, svc, who.actor, project_id, found, reason)
    query = f"imported={done.created}-{done.updated}-{done.unchanged}"
    return RedirectResponse(f"/projects/{project_id}?{query}", status_code=303)


def _may_import(svc: Service, who: Visitor, project_id: int) -> None:
    """404 for a project the caller may not see, 403 for a role that may not import: before the body is read."""
    with svc.sessions() as session:
        who.actor.project(session, project_id)
    who.actor.require("manage-units")
