"""Evaluation projects (评估项目) and their units (单位): listed as the caller may see them, made by a 管理员."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.params import Query
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from .. import editing, rounds
from ..access import Actor, CurrentActor, CurrentService
from ..audit import changes, record
from ..models import Project, Unit
from ..schemas import (
    AssignIn,
    AssignOut,
    ImportOut,
    NextRoundIn,
    ProjectEdit,
    ProjectIn,
    ProjectOut,
    StateIn,
    UnitEdit,
    UnitOut,
)
from ..state import Service
from ..unitlist import UnitList, UnitRow, read_units
from ..uploads import body_spec, read_upload

router = APIRouter(tags=["项目与单位 / projects and units"])


def project_out(p: Project) -> ProjectOut:
    return ProjectOut(
        id=p.id,
        name=p.name,
        framework_id=p.framework_id,
        framework_version=p.framework_version,
        framework_hash=p.framework_hash,
        year=p.year,
        round=p.round,
        state=p.state,
        previous_id=p.previous_id,
    )


def unit_out(u: Unit, inspector: str | None = None) -> UnitOut:
    return UnitOut(code=u.code, name=u.name, type=u.type, phase=u.phase, region=u.region, inspector=inspector)


def _inspector_names(session: Session) -> dict[int, str]:
    return rounds.inspector_names(session)


@router.get("/projects", summary="评估项目列表 / projects")
def projects(actor: CurrentActor, svc: CurrentService) -> list[ProjectOut]:
    with svc.sessions() as session:
        return [project_out(p) for p in session.scalars(actor.projects())]


@router.post("/projects", status_code=201, summary="新建评估项目（管理员）/ create a project")
def create_project(body: ProjectIn, actor: CurrentActor, svc: CurrentService) -> ProjectOut:
    """The framework is fixed at its current version and content hash: a submission is scored against exactly
    that framework, and refused (409) if the shipped file has changed since."""
    actor.require("manage-projects")
    plan = svc.plan(body.framework)
    fw = plan.framework
    with svc.transaction() as session:
        project = Project(
            name=body.name,
            framework_id=fw.id,
            framework_version=fw.version,
            framework_hash=plan.hash,
            year=body.year,
            round=body.round,
            created_by=actor.id,
        )
        session.add(project)
        session.flush()
        record(
            session,
            actor.id,
            "create",
            "project",
            project.id,
            new=project_out(project).model_dump(),
            reason=body.reason,
        )
        return project_out(project)


@router.get("/projects/{project_id}", summary="评估项目 / one project")
def project(project_id: int, actor: CurrentActor, svc: CurrentService) -> ProjectOut:
    with svc.sessions() as session:
        return project_out(actor.project(session, project_id))


@router.patch("/projects/{project_id}", summary="修改项目名称或年度（管理员）/ correct a project")
def edit_project(project_id: int, body: ProjectEdit, actor: CurrentActor, svc: CurrentService) -> ProjectOut:
    """Only ``name`` and ``year`` change (audited old → new with the reason; the same values write nothing). The
    framework, its version and hash, the round and the state are not edited here: sending one is 422."""
    return project_out(editing.edit_project(svc, actor, project_id, body.changes(), body.reason))


@router.get("/projects/{project_id}/units", summary="单位列表 / units")
def units(project_id: int, actor: CurrentActor, svc: CurrentService) -> list[UnitOut]:
    """The project's units the caller may see (a 学校 user: its own)."""
    with svc.sessions() as session:
        actor.project(session, project_id)
        names = _inspector_names(session)
        return [unit_out(u, names.get(u.inspector_id or 0)) for u in session.scalars(actor.units(project_id))]


@router.get("/projects/{project_id}/units/{code}", summary="单位 / one unit")
def unit(project_id: int, code: str, actor: CurrentActor, svc: CurrentService) -> UnitOut:
    with svc.sessions() as session:
        found = actor.unit(session, project_id, code)
        return unit_out(found, _inspector_names(session).get(found.inspector_id or 0))


@router.patch("/projects/{project_id}/units/{code}", summary="修改单位信息（管理员）/ correct a unit")
def edit_unit(
    project_id: int, code: str, body: UnitEdit, actor: CurrentActor, svc: CurrentService
) -> UnitOut:
    """``name``, ``type``, ``phase`` (学段) and ``region`` (区域) change (audited old → new with the reason); an
    empty type, 学段 or 区域 clears it. A type must be one the framework declares, if it declares any (422 naming
    them). The code is the unit's identity: sending it is 422."""
    found = editing.edit_unit(svc, actor, project_id, code, body.changes(), body.reason)
    return unit_out(found, _inspector_of(svc, found))


def _inspector_of(svc: Service, found: Unit) -> str | None:
    """The name of the unit's 督学, if any (as the unit endpoints show it)."""
    if found.inspector_id is None:
        return None
    with svc.sessions() as session:
        return _inspector_names(session).get(found.inspector_id)


@router.post("/projects/{project_id}/state", summary="关闭或重新开放填报（管理员）/ close or reopen uploads")
def project_state(project_id: int, body: StateIn, actor: CurrentActor, svc: CurrentService) -> ProjectOut:
    """A closed round refuses uploads (409) and keeps its results; 整改 and review go on."""
    return project_out(rounds.set_state(svc, actor, project_id, body.state, body.reason))


@router.post(
    "/projects/{project_id}/next-round",
    status_code=201,
    summary="开启下一轮（管理员）/ open the next round",
)
def next_round(project_id: int, body: NextRoundIn, actor: CurrentActor, svc: CurrentService) -> ProjectOut:
    """A new project: the same framework (at its current version), year and units, round + 1; this round is
    closed to uploads. The dashboard of the new round compares each unit with this one."""
    return project_out(rounds.next_round(svc, actor, project_id, body.name, body.reason))


@router.post("/projects/{project_id}/inspectors", summary="为单位分配督学（管理员）/ assign a 督学 to units")
def assign_inspector(project_id: int, body: AssignIn, actor: CurrentActor, svc: CurrentService) -> AssignOut:
    changed = rounds.assign(svc, actor, project_id, body.units, body.inspector, body.reason)
    return AssignOut(changed=changed)


@router.post(
    "/projects/{project_id}/units/import",
    summary="导入单位名单（CSV 或 Excel，管理员）/ import a unit list",
    openapi_extra=body_spec("单位名单：表头含 单位代码、单位名称（可选 单位类型、学段、区域）"),
)
async def import_units(
    project_id: int,
    request: Request,
    actor: CurrentActor,
    svc: CurrentService,
    reason: Annotated[str | None, Query(max_length=2000)] = None,
) -> ImportOut:
    """Adds the units not yet in the project and, for those that are (by code), updates the fields the list has
    a column for; nothing is removed. A list with any bad row imports nothing: 422 with each row's problems."""
    actor.require("manage-units")
    upload = await read_upload(request, svc.settings.limits)
    limits = svc.settings.limits
    found = await run_in_threadpool(
        read_units, upload.data, upload.filename or "单位名单", svc.file_limits, limits.max_units
    )
    return await run_in_threadpool(
        store_unit_list, svc, actor, project_id, found, upload.fields.get("reason") or reason
    )


def store_unit_list(
    svc: Service, actor: Actor, project_id: int, found: UnitList, reason: str | None
) -> ImportOut:
    """New codes are added; a known code's fields change only where the list has a column for them."""
    created = updated = unchanged = 0
    with svc.transaction() as session:
        actor.project(session, project_id)
        have = {u.code: u for u in session.scalars(select(Unit).where(Unit.project_id == project_id))}
        for row in found.rows:
            every = {"name": row.name, "type": row.type, "phase": row.phase, "region": row.region}
            fields = {k: v for k, v in every.items() if k in found.columns}
            known = have.get(row.code)
            if known is None:
                _create_unit(session, actor, project_id, row, reason)
                created += 1
                continue
            old, new = changes(_fields(known), fields)
            if not new:
                unchanged += 1
                continue
            for key, value in new.items():
                setattr(known, key, value)
            record(session, actor.id, "update", "unit", known.id, old=old, new=new, reason=reason)
            updated += 1
    return ImportOut(created=created, updated=updated, unchanged=unchanged)


def _fields(u: Unit) -> dict[str, object]:
    return {"name": u.name, "type": u.type, "phase": u.phase, "region": u.region}


def _create_unit(session: Session, actor: Actor, project_id: int, row: UnitRow, reason: str | None) -> None:
    unit = Unit(
        project_id=project_id, code=row.code, name=row.name, type=row.type, phase=row.phase, region=row.region
    )
    session.add(unit)
    session.flush()
    record(
        session, actor.id, "create", "unit", unit.id, new={"code": row.code, **_fields(unit)}, reason=reason
    )
