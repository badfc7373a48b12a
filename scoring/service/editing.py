"""Correcting what an office typed (管理员): a project's name and year, and a unit's name, type, 学段 and 区域.

The framework (its id, version and hash), the round and the 填报状态 of a project are not edited here — the
framework is pinned when the project is made, the round by ``rounds.next_round`` and the state by
``rounds.set_state`` — and a unit's code is its identity: sending any of them is refused (422), naming it. A
unit's type must be one the project's framework declares (``units.types`` and ``applies_to``), when it declares
any. Each change is one transaction with its audit row (the fields that changed, old → new, and the reason);
sending what is already stored writes nothing. The API (``api/projects.py``) and the pages (``web/manage.py``)
call these same functions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..engine.cohort import declared_types
from ..problems import printable
from .access import Actor
from .audit import changes, record
from .errors import ApiError
from .models import Project, Unit
from .state import Service

PROJECT_FIELDS = ("name", "year")
UNIT_FIELDS = ("name", "type", "phase", "region")
# what may be sent but not changed here, and why (in Chinese)
PROJECT_FIXED = {
    "framework": "评估框架",
    "framework_id": "评估框架",
    "framework_version": "框架版本",
    "framework_hash": "框架内容哈希",
    "round": "轮次",
    "state": "填报状态",
    "previous_id": "上一轮",
    "id": "项目编号",
}
UNIT_FIXED = {"code": "单位代码", "project_id": "评估项目", "id": "单位编号", "inspector": "负责督学"}


def edit_project(
    svc: Service, actor: Actor, project_id: int, sent: Mapping[str, Any], reason: str | None
) -> Project:
    """Change a project's ``name`` and/or ``year`` (管理员): only what differs is written and audited."""
    actor.require("manage-projects")
    _only(sent, PROJECT_FIELDS, PROJECT_FIXED, "评估框架、版本、哈希、轮次和填报状态")
    with svc.transaction() as session:
        project = actor.project(session, project_id)
        old, new = changes({"name": project.name, "year": project.year}, dict(sent))
        if new:
            for key, value in new.items():
                setattr(project, key, value)
            record(session, actor.id, "update", "project", project.id, old=old, new=new, reason=reason)
        return project


def edit_unit(
    svc: Service, actor: Actor, project_id: int, code: str, sent: Mapping[str, Any], reason: str | None
) -> Unit:
    """Change a unit's ``name``, ``type``, ``phase`` (学段) and/or ``region`` (区域) (管理员); a blank type, 学段
    or 区域 clears it. A new type must be one the framework declares (422 naming them)."""
    actor.require("manage-units")
    _only(sent, UNIT_FIELDS, UNIT_FIXED, "单位代码")
    wanted = {k: (v or None) if k != "name" else v for k, v in sent.items()}
    with svc.transaction() as session:
        unit = actor.unit(session, project_id, code)
        old, new = changes(
            {"name": unit.name, "type": unit.type, "phase": unit.phase, "region": unit.region}, wanted
        )
        if "type" in new and new["type"] is not None:
            check_type(svc, unit.project, new["type"])
        if new:
            for key, value in new.items():
                setattr(unit, key, value)
            record(session, actor.id, "update", "unit", unit.id, old=old, new=new, reason=reason)
        return unit


def unit_types(svc: Service, project: Project) -> list[str]:
    """The unit types the project's framework declares (empty: it declares none, so any type may be typed)."""
    plan = svc.pinned_plan(project)
    return declared_types(plan.framework) if plan is not None else []


def check_type(svc: Service, project: Project, typ: str) -> None:
    """422 unless ``typ`` is one of the framework's declared unit types (when it declares any)."""
    types = unit_types(svc, project)
    if types and typ not in types:
        raise ApiError(
            422,
            "unit-type-invalid",
            f"单位类型“{printable(typ)}”不是框架 {project.framework_id} 的单位类型（可选：{'、'.join(types)}）",
            f"unit type '{printable(typ)}' is not one framework {project.framework_id} declares "
            f"({', '.join(types)})",
            allowed=types,
        )


def _only(sent: Mapping[str, Any], editable: tuple[str, ...], fixed: Mapping[str, str], what_zh: str) -> None:
    """422 naming every field sent that cannot be changed here."""
    extra = [k for k in sent if k not in editable]
    if not extra:
        return
    named = "、".join(dict.fromkeys(fixed.get(k, printable(k)) for k in extra))
    raise ApiError(
        422,
        "field-fixed",
        f"不能在此修改：{named}（可修改：{'、'.join(editable)}；{what_zh}不能修改）",
        f"not editable here: {', '.join(extra)} (editable: {', '.join(editable)})",
        fields=extra,
    )
