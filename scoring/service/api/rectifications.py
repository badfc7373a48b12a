"""A unit's 整改 items, the steps of their workflow (see ``rectify``), the unit's 措施 saved as progress
(``PUT …/measures``) and their 佐证材料 (see ``evidence``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from .. import evidence
from ..access import Actor, CurrentActor, CurrentService
from ..audit import record
from ..errors import not_found
from ..models import Rectification, User, now
from ..rectify import office_today, overdue_days, save_measures, step_action
from ..schemas import EvidenceOut, MeasuresIn, RectificationOut, TransitionIn
from ..state import Service
from ..uploads import body_spec, read_upload

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
        overdue_days=overdue_days(r, office_today()),
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
        item = _item(session, actor, project_id, code, item_id)
        actor.require(step_action(item.status, body.status))
        old = {"status": item.status, "evidence": item.evidence}
        item.status = body.status
        if body.evidence is not None:
            item.evidence = body.evidence
        item.updated_at = now()
        new = {"status": item.status, "evidence": item.evidence}
        record(session, actor.id, "step", "rectification", item.id, old=old, new=new, reason=body.reason)
        return item_out(item)


@router.put(
    UNIT_PATH + "/rectifications/{item_id}/measures", summary="保存整改进展 / save the measures so far"
)
def measures(
    project_id: int, code: str, item_id: int, body: MeasuresIn, actor: CurrentActor, svc: CurrentService
) -> RectificationOut:
    """The unit reports its progress without asking to close the item: the 措施 text replaces the one before and
    the item is 整改中 (from 待整改 or 退回 this is the step to 整改中). Audited, old → new text. 409 once the item
    is 申请销号 or 已销号; 422 “请填写整改措施” for an empty text."""
    with svc.transaction() as session:
        item = _item(session, actor, project_id, code, item_id)
        actor.require("rectify-work")
        save_measures(session, actor.id, item, body.evidence, body.reason)
        return item_out(item)


def _item(session: Session, actor: Actor, project_id: int, code: str, item_id: int) -> Rectification:
    """The item through the caller's scoped unit: 404 for another school's item, as for an unknown one."""
    unit = actor.unit(session, project_id, code)
    item = session.scalars(
        select(Rectification).where(Rectification.unit_id == unit.id, Rectification.id == item_id)
    ).first()
    if item is None:
        raise not_found(f"整改事项 {item_id}", f"rectification item {item_id}")
    return item


# ------------------------------------------------------------------------------------------ 佐证材料 (files)

EVIDENCE_PATH = UNIT_PATH + "/rectifications/{item_id}/evidence"


def evidence_out(found: evidence.Listed) -> EvidenceOut:
    row = found.row
    return EvidenceOut(
        id=row.id,
        filename=row.filename,
        media_type=row.media_type,
        size=row.size,
        sha256=row.sha256,
        uploaded_by=found.by,
        uploaded_at=row.uploaded_at,
        withdrawn_at=row.withdrawn_at,
    )


@router.post(
    EVIDENCE_PATH,
    status_code=201,
    summary="添加佐证材料 / attach an evidence file",
    openapi_extra=body_spec("PDF、PNG/JPEG 图片、Word（.docx/.doc）或 Excel（.xlsx/.xls）文件"),
)
async def attach(
    project_id: int,
    code: str,
    item_id: int,
    request: Request,
    actor: CurrentActor,
    svc: CurrentService,
    reason: Annotated[str | None, Query(max_length=2000)] = None,
) -> EvidenceOut:
    """The unit's school (or a 管理员) attaches a file while the item is 待整改, 整改中 or 退回. Its kind is
    found from its content (PDF, PNG, JPEG, docx, xlsx, doc, xls; a zip is refused); kept as bytes with SHA-256."""
    await run_in_threadpool(_reachable, svc, actor, project_id, code, item_id)
    sent = await read_upload(request, svc.settings.limits)
    why = sent.fields.get("reason") or reason
    row = await run_in_threadpool(
        evidence.attach, svc, actor, project_id, code, item_id, sent.data, sent.filename, why
    )
    return evidence_out(evidence.Listed(row, actor.name))


def _reachable(svc: Service, actor: Actor, project_id: int, code: str, item_id: int) -> None:
    """404 for an item the caller may not see, 403 for a role that may not attach: before the body is read."""
    with svc.sessions() as session:
        evidence.item_of(session, actor.unit(session, project_id, code), item_id)
    actor.require("evidence-attach")


@router.get(EVIDENCE_PATH, summary="佐证材料 / an item's evidence files")
def evidence_files(
    project_id: int, code: str, item_id: int, actor: CurrentActor, svc: CurrentService
) -> list[EvidenceOut]:
    """Every file, oldest first, withdrawn ones too (with ``withdrawn_at``)."""
    return [evidence_out(f) for f in evidence.listing(svc, actor, project_id, code, item_id)]


@router.get(EVIDENCE_PATH + "/{file_id}", summary="下载佐证材料 / an evidence file's bytes")
def evidence_file(
    project_id: int, code: str, item_id: int, file_id: int, actor: CurrentActor, svc: CurrentService
) -> Response:
    """The bytes as attached, with the media type found from them; PDF and images ``inline``, others
    ``attachment``; never sniffed."""
    row = evidence.read(svc, actor, project_id, code, item_id, file_id)
    return Response(row.content, media_type=row.media_type, headers=evidence.disposition(row))


@router.delete(EVIDENCE_PATH + "/{file_id}", summary="撤回佐证材料 / withdraw an evidence file")
def withdraw_evidence(
    project_id: int,
    code: str,
    item_id: int,
    file_id: int,
    actor: CurrentActor,
    svc: CurrentService,
    reason: Annotated[str | None, Query(max_length=2000)] = None,
) -> EvidenceOut:
    """Withdrawn, not deleted: the row and its bytes stay (``withdrawn_at`` is set), audited."""
    row = evidence.withdraw(svc, actor, project_id, code, item_id, file_id, reason)
    with svc.sessions() as session:
        by = session.get(User, row.uploaded_by)
    return evidence_out(evidence.Listed(row, by.name if by else ""))
