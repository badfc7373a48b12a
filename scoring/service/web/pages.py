"""The workspace's pages: 登录, 项目列表, a project's units, a unit's page (template, upload, score, 整改清单).

Presentation only, like the API's routers: parse the request, reach projects, units and submissions through the
caller's scoped queries (``access.Actor``: a 学校 user reaches only its own unit, anything else is 404 exactly as
an unknown code), call the same library and store functions as the API, render. An upload that cannot be scored
is shown with every problem as ``scoring score`` words it (sheet, cell, what was expected) and nothing is kept.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer
from starlette.concurrency import run_in_threadpool

from ...engine.plan import Plan
from ...engine.result import result_from_json
from ...engine.submission import Submission, UnitInfo
from ...framework.registry import entries
from ...io.fill import fill_template
from ...io.template import write_template
from ...problems import Problem, ScoringError, printable
from ...report.unit_view import UnitView, unit_view
from .. import editing, rounds, throttle
from ..access import Actor, CurrentService
from ..errors import ApiError, forbidden
from ..frameworks import uploaded
from ..models import ADMIN, SCHOOL, Project, ResultRow, Unit, User
from ..models import Submission as Upload
from ..rounds import require_open
from ..state import Service
from ..submitting import SCORED, save_upload, score_upload
from ..uploads import read_upload
from . import session as web
from .rectifying import Item, items
from .render import Page, attachment, page
from .reviewing import review_form
from .session import CurrentVisitor, Visitor
from .unit_change import change_section

router = APIRouter(route_class=Page, include_in_schema=False)

UNIT_PATH = "/projects/{project_id}/units/{code}"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# ------------------------------------------------------------------------------------------------ sign in


@router.get("/")
def home() -> Response:
    return RedirectResponse("/projects", status_code=303)


def _next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only (never another site's address)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")) and "\\" not in target:
        return target
    return "/projects"


@router.get("/login")
def login_form(
    request: Request, svc: CurrentService, next: Annotated[str | None, Query(max_length=500)] = None
) -> Response:
    try:
        web.visitor(request, svc)
        return RedirectResponse(_next(next), status_code=303)
    except web.SignIn:
        pass
    return _login_page(request, _next(next), None, 200)


def _login_page(request: Request, target: str, message: str | None, status: int, name: str = "") -> Response:
    nonce = web.login_nonce(request)
    response = page(
        request,
        "login.html",
        {"who": None, "csrf": nonce, "next": target, "message": message, "name": name},
        status,
    )
    web.keep_nonce(request, response, nonce)
    return response


@router.post("/login")
async def login(request: Request, svc: CurrentService) -> Response:
    async with request.form(max_files=0, max_fields=8) as form:
        fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    target = _next(fields.get("next"))
    name, password = fields.get("name", "").strip()[:64], fields.get("password", "")[:200]
    try:
        web.check_login_form(request, fields.get(web.FIELD))
    except ApiError as err:
        return _login_page(request, target, err.zh, err.status, name)
    if not name or not password:
        return _login_page(request, target, "请输入用户名和密码", 422, name)
    try:
        signed = await run_in_threadpool(web.sign_in, svc, name, password, throttle.address_of(request))
    except throttle.Locked as locked:
        response = _login_page(request, target, locked.zh, 429, name)
        response.headers["Retry-After"] = str(locked.seconds)
        return response
    if signed is None:
        return _login_page(request, target, "用户名或密码不正确", 401, name)
    response = RedirectResponse(target, status_code=303)
    web.start(request, response, signed[0], svc.settings.session_hours)
    return response


@router.post("/logout")
async def logout(request: Request, svc: CurrentService, who: CurrentVisitor) -> Response:
    await web.signed_form(request, who, max_fields=4)
    response = RedirectResponse("/login", status_code=303)
    await run_in_threadpool(web.sign_out, svc, who, response)
    return response


# ----------------------------------------------------------------------------------------------- projects


def frameworks() -> list[tuple[str, str, str]]:
    """The shipped frameworks a project may use: (id, name, version)."""
    return [(e.id, e.name, e.version) for e in entries()]


@dataclass
class ProjectLine:
    project: Project
    units: int


@router.get("/projects")
def projects(
    request: Request,
    svc: CurrentService,
    who: CurrentVisitor,
    framework: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    return show_projects(request, svc, who, framework_kept=framework, form={"framework": framework})


def show_projects(request: Request, svc: Service, who: Visitor, status: int = 200, **extra: Any) -> Response:
    """The projects the visitor may see; a 管理员 also gets the form to create one (``extra``: its fields and
    problems when it was refused)."""
    actor = who.actor
    with svc.sessions() as session:
        lines = [
            ProjectLine(
                p, session.scalar(select(func.count()).select_from(actor.units(p.id).subquery())) or 0
            )
            for p in session.scalars(actor.projects())
        ]
        stored = [(f.framework_id, f"{f.name}（上传）", f.version) for f in uploaded(session)]
    choices = frameworks() + stored if actor.role == ADMIN else []
    context = {"who": who, "lines": lines, "frameworks": choices, "form": {}, **extra}
    return page(request, "projects.html", context, status)


@dataclass
class UnitLine:
    """A unit on its project's page: its newest upload (any status) and its newest scored results."""

    unit: Unit
    latest: int | None = None
    latest_status: str | None = None
    scored: int | None = None
    totals: list[tuple[str | None, str | None]] = field(default_factory=list)  # (total, grade) per part


def _unit_lines(session: Session, actor: Actor, project_id: int) -> list[UnitLine]:
    scoped = actor.units(project_id)
    lines = {u.id: UnitLine(u) for u in session.scalars(scoped)}
    mine = scoped.with_only_columns(Unit.id).order_by(None)
    newest = (
        select(Upload.unit_id, func.max(Upload.version).label("v"))
        .where(Upload.unit_id.in_(mine))
        .group_by(Upload.unit_id)
        .subquery()
    )
    for unit_id, version, status in session.execute(
        select(Upload.unit_id, Upload.version, Upload.status).join(
            newest, (newest.c.unit_id == Upload.unit_id) & (newest.c.v == Upload.version)
        )
    ):
        lines[unit_id].latest, lines[unit_id].latest_status = version, status
    best = (
        select(Upload.unit_id, func.max(Upload.version).label("v"))
        .where(Upload.unit_id.in_(mine), Upload.status == SCORED)
        .group_by(Upload.unit_id)
        .subquery()
    )
    for unit_id, version, total, grade in session.execute(
        select(Upload.unit_id, Upload.version, ResultRow.total, ResultRow.grade)
        .join(best, (best.c.unit_id == Upload.unit_id) & (best.c.v == Upload.version))
        .join(ResultRow, ResultRow.submission_id == Upload.id)
        .order_by(ResultRow.part)
    ):
        lines[unit_id].scored = version
        lines[unit_id].totals.append((total, grade))
    return list(lines.values())


@router.get("/projects/{project_id}")
def project(
    request: Request,
    project_id: int,
    svc: CurrentService,
    who: CurrentVisitor,
    created: Annotated[int | None, Query()] = None,
    imported: Annotated[str | None, Query(max_length=40)] = None,
    assigned: Annotated[int | None, Query(ge=0)] = None,
    mine: Annotated[int | None, Query()] = None,
) -> Response:
    return show_project(
        request, svc, who, project_id, created=created, imported=counts(imported), changed=assigned, mine=mine
    )


def show_project(
    request: Request, svc: Service, who: Visitor, project_id: int, status: int = 200, **extra: Any
) -> Response:
    """A project's units with who has submitted; a 管理员 also gets the unit list import."""
    with svc.sessions() as session:
        found = who.actor.project(session, project_id)
        lines = _unit_lines(session, who.actor, project_id)
        inspectors = rounds.inspectors(session)
        names = rounds.inspector_names(session)
        seen = who.actor.projects()  # the rounds either side, if the visitor may see them
        previous = session.scalars(seen.where(Project.id == found.previous_id)).first()
        following = session.scalars(seen.where(Project.previous_id == found.id)).first()
    if extra.get("mine"):
        lines = [line for line in lines if line.unit.inspector_id == who.actor.id]
    submitted = sum(1 for line in lines if line.latest is not None)
    context = {
        "who": who,
        "project": found,
        "lines": lines,
        "submitted": submitted,
        "inspectors": inspectors,
        "inspector_names": names,
        "previous": previous,
        "following": following,
        "template_types": _offered_types(svc, who, found),
        "changed": None,
        **extra,
    }
    return page(request, "project.html", context, status)


def counts(text: str | None) -> dict[str, int] | None:
    """The counts an import redirected with (``created-updated-unchanged``), for the notice on the page."""
    parts = (text or "").split("-")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    return dict(zip(("created", "updated", "unchanged"), map(int, parts), strict=True))


# -------------------------------------------------------------------------------------------------- a unit


@dataclass
class Version:
    upload: Upload
    by: str
    totals: list[tuple[str | None, str | None]]


@dataclass
class UnitPage:
    project: Project
    unit: Unit
    versions: list[Version]
    views: list[UnitView]  # the newest scored upload's results (a 九年一贯制 unit may be two)
    scored: int | None
    items: list[Item]


def _unit_page(session: Session, actor: Actor, project_id: int, code: str) -> UnitPage:
    unit = actor.unit(session, project_id, code)
    rows = session.execute(
        select(Upload, User.name)
        .options(defer(Upload.content))  # the bytes only when a version is downloaded
        .outerjoin(User, User.id == Upload.uploaded_by)
        .where(Upload.unit_id == unit.id)
        .order_by(Upload.version.desc())
    ).all()
    results: dict[int, list[ResultRow]] = {}
    for r in session.scalars(
        select(ResultRow).where(ResultRow.submission_id.in_([u.id for u, _ in rows])).order_by(ResultRow.part)
    ):
        results.setdefault(r.submission_id, []).append(r)
    versions = [Version(u, by or "", [(r.total, r.grade) for r in results.get(u.id, [])]) for u, by in rows]
    current = next((v for v in versions if v.upload.status == SCORED), None)
    views = (
        [unit_view(result_from_json(r.document)) for r in results.get(current.upload.id, [])]
        if current
        else []
    )
    scored = current.upload.version if current else None
    return UnitPage(unit.project, unit, versions, views, scored, items(session, actor, unit))


def _show_unit(
    request: Request,
    svc: Service,
    who: Visitor,
    project_id: int,
    code: str,
    status: int = 200,
    **extra: Any,
) -> Response:
    with svc.sessions() as session:
        found = _unit_page(session, who.actor, project_id, code)
        review = review_form(svc, session, who.actor, found.unit)
        inspector = rounds.inspector_names(session).get(found.unit.inspector_id or 0)
        change = change_section(session, who.actor, found.unit)
    types = editing.unit_types(svc, found.project) if who.actor.role == ADMIN else []  # the 修改单位信息 form
    context = {
        "who": who,
        "p": found,
        "review": review,
        "inspector": inspector,
        "change": change,
        "unit_types": types,
        **extra,
    }
    return page(request, "unit.html", context, status)


@router.get(UNIT_PATH)
def unit(
    request: Request,
    project_id: int,
    code: str,
    svc: CurrentService,
    who: CurrentVisitor,
    saved: Annotated[int | None, Query()] = None,
    reviewed: Annotated[int | None, Query()] = None,
) -> Response:
    return _show_unit(request, svc, who, project_id, code, saved=saved, reviewed=reviewed)


def _plan(svc: Service, project: Project) -> Plan:
    """The project's framework as it was when the project was made; 409 if the shipped file changed since."""
    return svc.project_plan(project)


@router.get(UNIT_PATH + "/template.xlsx")
def template(project_id: int, code: str, svc: CurrentService, who: CurrentVisitor) -> Response:
    """The unit's 自评表 to fill: the template ``scoring template`` writes for the unit's type, with the unit's
    name, code, type and region already in it (``io.fill``), so an upload names the unit it belongs to."""
    with svc.sessions() as session:
        found = who.actor.unit(session, project_id, code)
        project = found.project
    plan = _plan(svc, project)
    unit = UnitInfo(name=found.name, code=found.code, type=found.type or None, region=found.region or None)
    with tempfile.TemporaryDirectory(prefix="scoring-template-") as folder:
        try:
            blank = write_template(plan, Path(folder) / "template.xlsx", unit_type=unit.type)
        except ScoringError as err:
            raise ApiError(422, "problems", err.problems[0].message_zh, err.problems[0].message_en) from err
        data = fill_template(blank, Submission(unit=unit), Path(folder) / "自评表.xlsx").read_bytes()
    return attachment(data, f"自评表-{found.code}-{found.name}.xlsx", XLSX)


@router.get("/projects/{project_id}/templates/{unit_type}.xlsx")
def blank_template(project_id: int, unit_type: str, svc: CurrentService, who: CurrentVisitor) -> Response:
    """A blank 自评表 of the project's framework for one unit type (管理员, 督学), as ``scoring template
    --type`` writes it, to hand to schools outside the workspace; ``通用`` for a framework without types."""
    with svc.sessions() as session:
        project = who.actor.project(session, project_id)  # 404 for a project the visitor does not see
    if who.actor.role == SCHOOL:  # a school downloads its own, filled in, from its unit page
        raise forbidden(
            "学校用户请在本单位页面下载自评表", "a school downloads its template from its unit page"
        )
    plan = _plan(svc, project)
    types = template_types(plan)
    if unit_type not in types:
        raise ApiError(
            404,
            "not-found",
            f"没有“{unit_type[:20]}”类型的自评表（可下载：{'、'.join(types)}）",
            "no such type",
        )
    with tempfile.TemporaryDirectory(prefix="scoring-template-") as folder:
        kind = None if unit_type == GENERAL else unit_type
        data = write_template(plan, Path(folder) / "template.xlsx", unit_type=kind).read_bytes()
    return attachment(data, f"自评表模板-{project.name}-{unit_type}.xlsx", XLSX)


GENERAL = "通用"


def _offered_types(svc: Service, who: Visitor, project: Project) -> list[str]:
    """The blank templates the project page offers: to 管理员 and 督学, while the framework is the project's."""
    if who.actor.role == SCHOOL:
        return []
    plan = svc.pinned_plan(project)
    return template_types(plan) if plan is not None else []


def template_types(plan: Plan) -> list[str]:
    """The unit types a blank template is offered for: the framework's, or 通用 when it names none."""
    return list(plan.framework.applies_to or []) or [GENERAL]


@router.post(UNIT_PATH + "/upload")
async def upload(
    request: Request, project_id: int, code: str, svc: CurrentService, who: CurrentVisitor
) -> Response:
    """Score the 自评表 uploaded; keep it as the unit's next version only if it can be scored. Otherwise show
    every problem (sheet, cell, what was expected) and keep nothing."""
    await run_in_threadpool(_reachable, svc, who.actor, project_id, code)
    sent = await read_upload(request, svc.settings.limits)
    web.check(request, who, sent.fields.get(web.FIELD))
    if not sent.data:
        return await run_in_threadpool(
            _show_unit, request, svc, who, project_id, code, 422, problems=[], missing=True
        )
    return await run_in_threadpool(_store, request, svc, who, project_id, code, sent.data, sent.filename)


def _reachable(svc: Service, actor: Actor, project_id: int, code: str) -> None:
    """404 for a unit the caller may not see, 403 for a role that may not upload: before the body is read."""
    with svc.sessions() as session:
        found = actor.unit(session, project_id, code)
        actor.require("upload")
        require_open(found.project)


def _store(
    request: Request,
    svc: Service,
    who: Visitor,
    project_id: int,
    code: str,
    data: bytes,
    filename: str | None,
) -> Response:
    with svc.sessions() as session:
        found = who.actor.unit(session, project_id, code)
        project = found.project
    plan = _plan(svc, project)
    results, problems = score_upload(plan, data, filename, svc, found)
    if problems:
        lines = [problem_line(p) for p in problems]
        return _show_unit(
            request, svc, who, project_id, code, 422, problems=lines, filename=printable(filename or "")
        )
    stored = save_upload(svc, who.actor, found, data, filename, results, [], None)
    return RedirectResponse(f"/projects/{project_id}/units/{code}?saved={stored.version}", status_code=303)


def problem_line(p: Problem) -> str:
    """A problem worded as ``scoring score`` prints it: file — sheet!cell (column · item): 错误 [code]: message."""
    from dataclasses import replace

    head = replace(
        p,
        message_zh=printable(p.message_zh),
        file=printable(p.file) if p.file else None,
        cell=printable(p.cell) if p.cell else None,
        detail=None,
    )
    return head.format("zh")


@router.get(UNIT_PATH + "/submissions/{version}/file")
def original(project_id: int, code: str, version: int, svc: CurrentService, who: CurrentVisitor) -> Response:
    """The bytes a version was uploaded as."""
    with svc.sessions() as session:
        row = who.actor.submission(session, who.actor.unit(session, project_id, code), version)
        return attachment(row.content, row.filename, "application/octet-stream", row.sha256)
