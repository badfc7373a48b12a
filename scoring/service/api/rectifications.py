"""A unit's 整改 items and the steps of their workflow (see ``rectify``)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from ..access import CurrentActor, CurrentService
from ..audit import record
from ..errors import not_found
from ..models import Rectification, now
from ..rectify import step_action
from ..schemas import RectificationOut, TransitionIn

router = APIRouter(tags=["整改 / rectification"])
UNIT_PATH = "/projects/{project_id}/units/{code}"


def item_out(r: Rectification) -> RectificationOut:
    return RectificationOut(
        id=r.id,
        indicator=r.indicator,
        problem=r.problem,
        requirement=r.requirement,
        deadline=r.deadline,
        status=r.status,
        evidence=r.evidence,
    )


@router.get(UNIT_PATH + "/rectifications", summary="整改事项 / a unit's rectification items")
def items(project_id: int, code: str, actor: CurrentActor, svc: CurrentService) -> list[RectificationOut]:
    with svc.sessions() as session:
        unit = actor.unit(session, project_id, code)
        query = select(Rectification).where(Rectification.unit_id == unit.id).order_by(Rectification.id)
        return [item_out(r) for r in session.scalars(query)]


@router.post(UNIT_PATH + "/rectifications/{item_id}", summary="整改事项的下一步 / a step of the workflow")
def step(
    project_id: int, code: str, item_id: int, body: TransitionIn, actor: CurrentActor, svc: CurrentService
) -> RectificationOut:
    """整改中 and 申请销号 by the unit (or a 督学/管理员); 已销号 and 退回 by a 督学 or 管理员. A step the
    item cannot take from where it is is 409, saying which it can."""
    with svc.transaction() as session:
        unit = actor.unit(session, project_id, code)
        item = session.scalars(
            select(Rectification).where(Rectification.unit_id == unit.id, Rectification.id == item_id)
        ).first()
        if item is None:
            raise not_found(f"整改事项 {item_id}", f"rectification item {item_id}")
        actor.require(step_action(item.status, body.status))
        old = {"status": item.status, "evidence": item.evidence}
        item.status = body.status
        if body.evidence is not None:
            item.evidence = body.evidence
        item.updated_at = now()
        new = {"status": item.status, "evidence": item.evidence}
        record(session, actor.id, "step", "rectification", item.id, old=old, new=new, reason=body.reason)
        return item_out(item)
