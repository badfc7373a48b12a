"""Who may do what, in one place. Every endpoint gets the caller as an :class:`Actor` and reaches projects,
units, submissions and results only through its scoped queries, so no endpoint can forget a check.

- 管理员 (督导室): everything — projects, unit lists, users, tokens.
- 督学: reads every project and unit, uploads submissions, decides 整改 (销号 or 退回).
- 学校: sees only the units with its own code (in any project, so the same school across rounds) and the
  projects that hold one; uploads there and works on its 整改 items. Anything of another unit is 404, exactly as
  if it did not exist, so units cannot be enumerated. An action its role may never take is 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session

from .auth import user_for
from .errors import ApiError, forbidden, not_found
from .models import ADMIN, INSPECTOR, SCHOOL, Project, Unit, User
from .models import Submission as Upload
from .state import Service, service

# action → the roles that may take it
MAY: dict[str, tuple[str, ...]] = {
    "manage-projects": (ADMIN,),
    "manage-units": (ADMIN,),
    "manage-users": (ADMIN,),
    "read-audit": (ADMIN,),
    "upload": (ADMIN, INSPECTOR, SCHOOL),
    "rectify-work": (ADMIN, INSPECTOR, SCHOOL),
    "rectify-decide": (ADMIN, INSPECTOR),
    "evidence-attach": (ADMIN, SCHOOL),  # a 督学 reads 佐证材料 and decides on them; the school supplies them
    "review-submission": (ADMIN, INSPECTOR),
}

_ACTIONS_ZH = {
    "manage-projects": "创建或修改评估项目",
    "manage-units": "导入或修改单位名单",
    "manage-users": "管理用户",
    "read-audit": "查看审计日志",
    "upload": "上传填报数据",
    "rectify-work": "办理整改",
    "rectify-decide": "审核整改（销号或退回）",
    "evidence-attach": "添加或撤回佐证材料（由学校提供）",
    "review-submission": "审核填报数据（通过或退回）",
}


@dataclass(frozen=True)
class Actor:
    """The caller: a user, signed in with the token ``token_id``."""

    id: int
    name: str
    role: str
    unit_code: str | None
    token_id: int

    @property
    def school(self) -> bool:
        return self.role == SCHOOL

    def require(self, action: str) -> None:
        """403 unless the role may take ``action`` at all (what it may reach is the queries' business)."""
        if self.role not in MAY[action]:
            raise forbidden(
                f"{self.role}用户不能{_ACTIONS_ZH[action]}", f"role {self.role} may not do: {action}"
            )

    def projects(self) -> Select[Project]:
        """The projects the caller may see."""
        query = select(Project)
        if self.school:
            mine = select(Unit.id).where(Unit.project_id == Project.id, Unit.code == self.unit_code)
            query = query.where(exists(mine))
        return query.order_by(Project.id)

    def units(self, project_id: int) -> Select[Unit]:
        """The units of a project the caller may see."""
        query = select(Unit).where(Unit.project_id == project_id)
        if self.school:
            query = query.where(Unit.code == self.unit_code)
        return query.order_by(Unit.code)

    def project(self, session: Session, project_id: int) -> Project:
        found = session.scalars(self.projects().where(Project.id == project_id)).first()
        if found is None:
            raise not_found(f"评估项目 {project_id}", f"project {project_id}")
        return found

    def unit(self, session: Session, project_id: int, code: str) -> Unit:
        """A unit by its project and code, or 404 — also when it is another school's."""
        found = session.scalars(self.units(project_id).where(Unit.code == code)).first()
        if found is None:
            raise not_found(f"单位 {code}", f"unit {code}")
        return found

    def submission(self, session: Session, unit: Unit, version: int) -> Upload:
        found = session.scalars(
            select(Upload).where(Upload.unit_id == unit.id, Upload.version == version)
        ).first()
        if found is None:
            raise not_found(f"第 {version} 版填报数据", f"submission version {version}")
        return found


def overseer(actor: Actor, what_zh: str, what_en: str) -> None:
    """403 unless the caller is a 管理员 or 督学: what concerns every unit of a project (its summary, its county
    result and the county's own data)."""
    if actor.role not in (ADMIN, INSPECTOR):
        raise forbidden(f"{actor.role}用户不能{what_zh}", f"role {actor.role} may not {what_en}")


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiError(
            401,
            "unauthenticated",
            "需要登录：请在 Authorization 请求头中提供 Bearer 令牌（POST /api/v1/login 获取）",
            "authentication required: send Authorization: Bearer <token> (POST /api/v1/login)",
        )
    return secret.strip()


def current_actor(request: Request, svc: Annotated[Service, Depends(service)]) -> Actor:
    """The caller of this request, from its bearer token; 401 without a valid one."""
    secret = _bearer(request)
    with svc.sessions() as session:
        found = user_for(session, secret)
    if found is None:
        raise ApiError(
            401,
            "token-invalid",
            "令牌无效、已过期或已撤销，请重新登录",
            "the token is invalid, expired or revoked",
        )
    user, token = found
    return actor_of(user, token.id)


def actor_of(user: User, token_id: int) -> Actor:
    return Actor(user.id, user.name, user.role, user.unit_code, token_id)


CurrentActor = Annotated[Actor, Depends(current_actor)]
CurrentService = Annotated[Service, Depends(service)]
