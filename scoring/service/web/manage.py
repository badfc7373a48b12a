"""The 管理员 (督导室) pages: a new project from a shipped framework, a project's unit list imported from a
CSV or workbook upload, closing or reopening a round, opening the next one, and assigning 督学 to units (the
last three call ``rounds``, as the API does). Both call the API's own functions (``api.projects.create_project`` and ``store_unit_list`` after
``unitlist.read_units``), so the audit rows, the framework pinned at its hash and the import's rules (nothing
imported while any row is bad) are the API's; correcting a project's name and year or a unit's name, type, 学段 and
区域 calls ``editing`` as the API's PATCH does. Any other role gets 403, a project it may not see 404."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from ...problems import ScoringError, printable
from .. import editing, rounds
from ..access import CurrentService
from ..api.projects import create_project, store_unit_list
from ..errors import ApiError
from ..frameworks import store_framework
from ..schemas import ProjectEdit, ProjectIn, UnitEdit
from ..state import Service
from ..unitlist import read_units
from ..uploads import read_upload
from . import session as web
from .pages import _show_unit, problem_line, show_project, show_projects
from .render import Page
from .session import CurrentVisitor, Visitor

router = APIRouter(route_class=Page, include_in_schema=False)


@router.post("/projects")
async def new_project(request: Request, svc: CurrentService, who: CurrentVisitor) -> Response:
    """Create a project (管理员): 303 to its page, or the projects page again with what is wrong (422)."""
    fields = dict(await web.signed_form(request, who))
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


def _one(fields: Mapping[str, str], name: str) -> str:
    return fields.get(name, "").strip()


@router.post("/projects/{project_id}/state")
async def project_state(
    request: Request, project_id: int, svc: CurrentService, who: CurrentVisitor
) -> Response:
    """Close the round to uploads, or reopen it (管理员): 303 back to the project."""
    fields = await web.signed_form(request, who)
    state = _one(fields, "state")
    await run_in_threadpool(
        rounds.set_state, svc, who.actor, project_id, state, _one(fields, "reason") or None
    )
    return RedirectResponse(f"/projects/{project_id}", status_code=303)


@router.post("/projects/{project_id}/next-round")
async def next_round(request: Request, project_id: int, svc: CurrentService, who: CurrentVisitor) -> Response:
    """Open the next round (管理员): 303 to the new project; a second next round shows why on the project page."""
    fields = await web.signed_form(request, who)
    name = _one(fields, "name")[:200] or None
    try:
        made = await run_in_threadpool(rounds.next_round, svc, who.actor, project_id, name, None)
    except ApiError as err:
        if err.status != 409:
            raise
        return await run_in_threadpool(show_project, request, svc, who, project_id, 409, round_problem=err.zh)
    return RedirectResponse(f"/projects/{made.id}", status_code=303)


@router.post("/projects/{project_id}/inspectors")
async def assign(request: Request, project_id: int, svc: CurrentService, who: CurrentVisitor) -> Response:
    """Assign the chosen 督学 to the ticked units (管理员): 303 back with how many changed."""
    fields = await web.signed_form(request, who, max_fields=5010)
    codes = [c.strip() for c in fields.getlist("units") if c.strip()]
    if not codes:
        return await run_in_threadpool(
            show_project, request, svc, who, project_id, 422, round_problem="请先在单位列表中勾选要分配的单位"
        )
    inspector = _one(fields, "inspector") or None
    changed = await run_in_threadpool(rounds.assign, svc, who.actor, project_id, codes, inspector, None)
    return RedirectResponse(f"/projects/{project_id}?assigned={changed}", status_code=303)


@router.post("/frameworks")
async def upload_framework(request: Request, svc: CurrentService, who: CurrentVisitor) -> Response:
    """Upload a framework file (管理员): kept when ``scoring validate`` finds no error (303 back, the framework
    then in the project form's list); else the projects page with every problem at its line and column."""
    who.actor.require("manage-projects")
    sent = await read_upload(request, svc.settings.limits)
    web.check(request, who, sent.fields.get(web.FIELD))
    name = printable(sent.filename or "framework.yaml")
    try:
        row = await run_in_threadpool(store_framework, svc, who.actor, sent.data, sent.filename, None)
    except ApiError as err:
        if err.status not in (409, 422):
            raise
        lines = [problem_line(p) for p in err.problems]
        return await run_in_threadpool(
            show_projects,
            request,
            svc,
            who,
            err.status,
            framework_error=err.zh,
            framework_problems=lines,
            framework_file=name,
        )
    return RedirectResponse(f"/projects?framework={row.framework_id}", status_code=303)


# ------------------------------------------------------------------------------------ corrections (editing.py)


@router.post("/projects/{project_id}/edit")
async def edit_project(
    request: Request, project_id: int, svc: CurrentService, who: CurrentVisitor
) -> Response:
    """Correct the project's name and year (管理员): 303 back with a notice; a refused value shows the project page
    again with the reason (422) and stores nothing."""
    fields = await web.signed_form(request, who)
    who.actor.require("manage-projects")
    try:
        body = ProjectEdit(name=_one(fields, "name"), year=_one(fields, "year"))  # pydantic parses the text
    except ValidationError as err:
        return await run_in_threadpool(
            show_project, request, svc, who, project_id, 422, edit_problems=_invalid(err), edit_form=fields
        )
    reason = _one(fields, "reason")[:2000] or None
    await run_in_threadpool(editing.edit_project, svc, who.actor, project_id, body.changes(), reason)
    return RedirectResponse(f"/projects/{project_id}?edited=1", status_code=303)


UNIT_ZH = {"name": "单位名称", "type": "单位类型", "phase": "学段", "region": "区域"}


@router.post("/projects/{project_id}/units/{code}/edit")
async def edit_unit(
    request: Request, project_id: int, code: str, svc: CurrentService, who: CurrentVisitor
) -> Response:
    """Correct a unit's name, type, 学段 and 区域 (管理员): 303 back to the unit with a notice; a refused value
    (an empty name, a type the framework does not declare) shows the unit page again with why (422)."""
    fields = await web.signed_form(request, who)
    who.actor.require("manage-units")
    sent = {key: _one(fields, key) for key in UNIT_ZH}
    reason = _one(fields, "reason")[:2000] or None
    try:
        body = UnitEdit(**sent)
        await run_in_threadpool(editing.edit_unit, svc, who.actor, project_id, code, body.changes(), reason)
    except ValidationError as err:
        problems = [_unit_invalid(str(e["loc"][0]) if e["loc"] else "") for e in err.errors()]
        return await run_in_threadpool(_unit_again, request, svc, who, project_id, code, problems, fields)
    except ApiError as err:
        if err.status != 422:
            raise
        return await run_in_threadpool(_unit_again, request, svc, who, project_id, code, [err.zh], fields)
    return RedirectResponse(f"/projects/{project_id}/units/{quote(code, safe='')}?edited=1", status_code=303)


UNIT_MAX = {"name": 200, "type": 50, "phase": 50, "region": 100}


def _unit_invalid(key: str) -> str:
    if key == "name":
        return "请填写单位名称（不超过 200 字）"
    return f"{UNIT_ZH.get(key, key)}不能超过 {UNIT_MAX.get(key, 200)} 字"


def _unit_again(
    request: Request,
    svc: Service,
    who: Visitor,
    project_id: int,
    code: str,
    problems: list[str],
    fields: Mapping[str, str],
) -> Response:
    return _show_unit(request, svc, who, project_id, code, 422, edit_problems=problems, edit_form=fields)
