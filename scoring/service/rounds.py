"""A project's rounds and who inspects its units: the office closes a round to uploads (results and 整改 go on),
reopens it, or opens the next round — a new project over the same units that remembers the round before, so the
dashboard can show what changed — and assigns a 督学 to units. Each change is one transaction with its audit row;
the API (``api/projects.py``) and the pages (``web/manage.py``) call these same functions."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from .access import Actor
from .audit import record
from .errors import ApiError
from .models import INSPECTOR, Project, Unit, User
from .state import Service

OPEN, CLOSED = "填报中", "已关闭"
STATES = (OPEN, CLOSED)


def require_open(project: Project) -> None:
    """Uploads go into an open round only: a closed one keeps its results as the office closed them."""
    if project.state == CLOSED:
        raise ApiError(
            409,
            "round-closed",
            f"“{project.name}” 第 {project.round} 轮填报已关闭，不能再上传；如需补报，请联系督导室重新开放",
            "this round is closed to uploads",
        )


def set_state(svc: Service, actor: Actor, project_id: int, state: str, reason: str | None) -> Project:
    """Close a round to uploads, or open it again (管理员); setting the state it already has changes nothing."""
    actor.require("manage-projects")
    if state not in STATES:
        raise ApiError(422, "state-invalid", f"填报状态应为 {' 或 '.join(STATES)}", "state: 填报中 or 已关闭")
    with svc.transaction() as session:
        project = actor.project(session, project_id)
        if project.state != state:
            old = project.state
            project.state = state
            record(
                session,
                actor.id,
                "update",
                "project",
                project.id,
                old={"state": old},
                new={"state": state},
                reason=reason,
            )
        return project


def next_round(svc: Service, actor: Actor, project_id: int, name: str | None, reason: str | None) -> Project:
    """The next round of a project (管理员): the same framework at its current version, the same year, round + 1,
    every unit copied with its 督学; the earlier round is closed to uploads. A project has one next round (409)."""
    actor.require("manage-projects")
    with svc.transaction() as session:
        before = actor.project(session, project_id)
        taken = session.scalars(select(Project.id).where(Project.previous_id == before.id)).first()
        if taken is not None:
            raise ApiError(
                409,
                "round-exists",
                f"“{before.name}” 第 {before.round} 轮的下一轮已开启（项目 {taken}）",
                f"the next round exists: project {taken}",
            )
        plan = svc.plan(before.framework_id)
        project = Project(
            name=name or before.name,
            framework_id=before.framework_id,
            framework_version=plan.framework.version,
            framework_hash=plan.hash,
            year=before.year,
            round=before.round + 1,
            created_by=actor.id,
            previous_id=before.id,
        )
        session.add(project)
        session.flush()
        units = list(session.scalars(select(Unit).where(Unit.project_id == before.id).order_by(Unit.code)))
        for u in units:
            copy = _copy(u, project.id)
            session.add(copy)
            session.flush()
            fields = {"code": u.code, "name": u.name, "type": u.type, "phase": u.phase, "region": u.region}
            record(
                session, actor.id, "create", "unit", copy.id, new=fields, reason=f"开启第 {project.round} 轮"
            )
        record(
            session,
            actor.id,
            "create",
            "project",
            project.id,
            new={"name": project.name, "round": project.round, "previous": before.id, "units": len(units)},
            reason=reason,
        )
        if before.state != CLOSED:
            record(
                session,
                actor.id,
                "update",
                "project",
                before.id,
                old={"state": before.state},
                new={"state": CLOSED},
                reason=f"开启第 {project.round} 轮",
            )
            before.state = CLOSED
        return project


def _copy(u: Unit, project_id: int) -> Unit:
    return Unit(
        project_id=project_id,
        code=u.code,
        name=u.name,
        type=u.type,
        phase=u.phase,
        region=u.region,
        inspector_id=u.inspector_id,
    )


def inspectors(session: Session) -> list[User]:
    """The active 督学 users, by name: whom a unit may be assigned to."""
    return list(
        session.scalars(select(User).where(User.role == INSPECTOR, User.active.is_(True)).order_by(User.name))
    )


def inspector_names(session: Session) -> dict[int, str]:
    """Every 督学 user's name by id, also one no longer active (a unit keeps showing whom it was assigned)."""
    rows = session.execute(select(User.id, User.name).where(User.role == INSPECTOR))
    return {user_id: name for user_id, name in rows}


def assign(
    svc: Service,
    actor: Actor,
    project_id: int,
    codes: Sequence[str],
    inspector: str | None,
    reason: str | None,
) -> int:
    """Assign the 督学 named ``inspector`` (None: nobody) to the units ``codes`` (管理员); how many changed. An
    unknown code, or a name that is not an active 督学, changes nothing (404 / 422)."""
    actor.require("manage-units")
    with svc.transaction() as session:
        user_id = _inspector_id(session, inspector)
        units = [actor.unit(session, project_id, code) for code in dict.fromkeys(codes)]
        changed = 0
        for u in units:
            if u.inspector_id == user_id:
                continue
            old = _name(session, u.inspector_id)
            u.inspector_id = user_id
            record(
                session,
                actor.id,
                "update",
                "unit",
                u.id,
                old={"inspector": old},
                new={"inspector": inspector},
                reason=reason,
            )
            changed += 1
        return changed


def _inspector_id(session: Session, name: str | None) -> int | None:
    if not name:
        return None
    user = session.scalars(select(User).where(User.name == name)).first()
    if user is None or user.role != INSPECTOR or not user.active:
        raise ApiError(
            422, "inspector-invalid", f"“{name}” 不是在用的督学账号", f"'{name}' is not an active 督学 user"
        )
    return user.id


def _name(session: Session, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    user = session.get(User, user_id)
    return user.name if user is not None else None
