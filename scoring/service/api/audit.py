"""The audit log, newest first (管理员)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from ..access import CurrentActor, CurrentService
from ..models import AuditEntry, User
from ..schemas import AuditOut

router = APIRouter(tags=["审计 / audit"])


@router.get("/audit", summary="审计日志（管理员）/ the audit log")
def audit(
    actor: CurrentActor,
    svc: CurrentService,
    entity: Annotated[str | None, Query(max_length=50)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditOut]:
    actor.require("read-audit")
    query = select(AuditEntry, User.name).outerjoin(User, User.id == AuditEntry.user_id)
    if entity:
        query = query.where(AuditEntry.entity == entity)
    with svc.sessions() as session:
        rows = session.execute(query.order_by(AuditEntry.id.desc()).limit(limit)).all()
        return [
            AuditOut(
                id=e.id,
                at=e.at,
                user=name,
                action=e.action,
                entity=e.entity,
                entity_id=e.entity_id,
                old=e.old,
                new=e.new,
                reason=e.reason,
            )
            for e, name in rows
        ]
