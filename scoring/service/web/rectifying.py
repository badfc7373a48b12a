"""The 整改 workflow on a unit's page: the unit's items with their status and 措施, and each item's history from
the audit log (who, when, old → new, why). A 学校 answers an item with its 措施 and 申请销号, or saves its 措施
as progress (保存进展: the item stays 整改中, the text replaced, each save in the history) and asks later; a 督学
or 管理员 销号s it or sends it back (退回) with a reason. Every step is the API's own (``api.rectifications.step``
and ``measures``: the same checks, 409 for a step the item cannot take, 403 for a role that may not, the same
audit row).

Each item also lists its 佐证材料 (``evidence``: name, size, who, when; withdrawn ones struck through with their
date) with download links, so the 督学 decides with them in front of them; the school attaches a file (a
multipart form with the CSRF token) and withdraws one, through the same library calls as the API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from .. import evidence
from ..access import Actor, CurrentService
from ..api.rectifications import measures as save_progress
from ..api.rectifications import step
from ..errors import ApiError, not_found
from ..models import AuditEntry, Rectification, Unit, User
from ..rectify import ASKED, CLOSED, OPEN, RETURNED, WORKING
from ..schemas import MeasuresIn, TransitionIn
from ..state import Service
from ..uploads import read_upload
from . import session as web
from .render import Page
from .session import CurrentVisitor, Visitor

router = APIRouter(route_class=Page, include_in_schema=False)

ITEM_PATH = "/projects/{project_id}/units/{code}/rectifications/{item_id}"
ACTIONS_ZH = {
    "create": "生成",
    "step": "办理",
    "measures": "保存整改进展",
    "reopen": "重新打开",
    "attach": "添加佐证材料",
    "withdraw": "撤回佐证材料",
}


@dataclass
class Change:
    at: dt.datetime
    by: str
    action: str
    old: str | None
    new: str | None
    evidence: str | None  # the 措施 as this change left it, when it changed
    reason: str


@dataclass
class Item:
    row: Rectification
    history: list[Change] = field(default_factory=list)
    answer: bool = False  # the visitor may answer it (措施 + 申请销号, or 措施 saved as progress)
    decide: bool = False  # the visitor may 销号 or 退回 it
    files: list[evidence.Listed] = field(default_factory=list)  # its 佐证材料, oldest first
    attach: bool = False  # the visitor may attach and withdraw files


def _status(values: dict[str, object] | None) -> str | None:
    found = (values or {}).get("status")
    return found if isinstance(found, str) else None


def items(session: Session, actor: Actor, unit: Unit) -> list[Item]:
    """The unit's items (the caller reached ``unit`` through its scoped query), each with its history."""
    rows = session.scalars(
        select(Rectification).where(Rectification.unit_id == unit.id).order_by(Rectification.id)
    ).all()
    found = {r.id: Item(r) for r in rows}
    files = evidence.files_of(session, list(found))
    owner = {f.row.id: item_id for item_id, listed in files.items() for f in listed}  # file → its item
    audit = session.execute(
        select(AuditEntry, User.name)
        .outerjoin(User, User.id == AuditEntry.user_id)
        .where(
            or_(
                and_(AuditEntry.entity == "rectification", AuditEntry.entity_id.in_(list(found))),
                and_(AuditEntry.entity == evidence.ENTITY, AuditEntry.entity_id.in_(list(owner))),
            )
        )
        .order_by(AuditEntry.at, AuditEntry.id)
    ).all()
    for entry, by in audit:
        old, new = entry.old or {}, entry.new or {}
        if entry.entity == evidence.ENTITY:  # a file attached or withdrawn: its name in the 措施 column
            item_id, measures = owner[entry.entity_id or 0], new.get("filename") or old.get("filename")
        else:
            item_id = entry.entity_id or 0
            measures = new.get("evidence") if new.get("evidence") != old.get("evidence") else None
        found[item_id].history.append(
            Change(
                entry.at,
                by or "系统",
                ACTIONS_ZH.get(entry.action, entry.action),
                _status(old),
                _status(new),
                measures if isinstance(measures, str) and measures else None,
                entry.reason,
            )
        )
    for item in found.values():
        item.files = files[item.row.id]
        item.attach = item.row.status in evidence.WORKABLE and _may(actor, "evidence-attach")
        item.answer = item.row.status in (OPEN, WORKING, RETURNED) and _may(actor, "rectify-work")
        item.decide = item.row.status == ASKED and _may(actor, "rectify-decide")
    return list(found.values())


def _may(actor: Actor, action: str) -> bool:
    try:
        actor.require(action)
    except ApiError:
        return False
    return True


@router.get(ITEM_PATH)
def item(project_id: int, code: str, item_id: int, svc: CurrentService, who: CurrentVisitor) -> Response:
    """An item's place on its unit's page (404 for another school's item, as for an unknown one)."""
    _current(svc, who.actor, project_id, code, item_id)
    return RedirectResponse(f"/projects/{project_id}/units/{code}#item-{item_id}", status_code=303)


@router.post(ITEM_PATH)
async def take(
    request: Request, project_id: int, code: str, item_id: int, svc: CurrentService, who: CurrentVisitor
) -> Response:
    """One answer (申请销号 or 保存进展) or decision on an item; 303 back to the unit page's 整改 section."""
    fields = await web.signed_form(request, who)
    await run_in_threadpool(_take, svc, who, project_id, code, item_id, fields)
    return RedirectResponse(f"/projects/{project_id}/units/{code}#item-{item_id}", status_code=303)


def _take(
    svc: Service, who: Visitor, project_id: int, code: str, item_id: int, fields: Mapping[str, str]
) -> None:
    target = fields.get("status", "")
    measures = fields.get("evidence", "").strip()[:10_000]
    reason = fields.get("reason", "").strip()[:2000] or None
    current = _current(svc, who.actor, project_id, code, item_id)
    if target == ASKED:
        if not measures:
            raise ApiError(
                422, "evidence-required", "请填写整改措施后再申请销号", "describe the measures taken"
            )
        if current in (OPEN, RETURNED):  # an answer starts the work and asks to close in one go
            _step(svc, who.actor, project_id, code, item_id, TransitionIn(status=WORKING, evidence=measures))
            evidence_sent: str | None = None
        else:
            evidence_sent = measures
        _step(svc, who.actor, project_id, code, item_id, TransitionIn(status=ASKED, evidence=evidence_sent))
    elif target == WORKING:  # 保存进展: the 措施 so far, the item stays in work
        save_progress(project_id, code, item_id, MeasuresIn(evidence=measures), who.actor, svc)
    elif target in (CLOSED, RETURNED):
        if target == RETURNED and not reason:
            raise ApiError(422, "reason-required", "退回时请写明原因", "a return needs a reason")
        _step(svc, who.actor, project_id, code, item_id, TransitionIn(status=target, reason=reason))
    else:
        raise ApiError(422, "step-unknown", "请选择要办理的操作", "no known step was chosen")


def _current(svc: Service, actor: Actor, project_id: int, code: str, item_id: int) -> str:
    """The item's status, through the caller's scoped unit (404 for another school's item, as an unknown one)."""
    with svc.sessions() as session:
        unit = actor.unit(session, project_id, code)
        found = session.scalars(
            select(Rectification.status).where(Rectification.unit_id == unit.id, Rectification.id == item_id)
        ).first()
    if found is None:
        raise not_found(f"整改事项 {item_id}", f"rectification item {item_id}")
    return found


def _step(svc: Service, actor: Actor, project_id: int, code: str, item_id: int, body: TransitionIn) -> Any:
    return step(project_id, code, item_id, body, actor, svc)


# ------------------------------------------------------------------------------------------ 佐证材料 (files)


@router.post(ITEM_PATH + "/evidence")
async def attach(
    request: Request, project_id: int, code: str, item_id: int, svc: CurrentService, who: CurrentVisitor
) -> Response:
    """Attach the file chosen (``evidence.attach``: who, the item's status, size, count and kind checked); 303
    back to the item. A refusal is the error page with the API's message."""
    await run_in_threadpool(_reachable, svc, who.actor, project_id, code, item_id)
    sent = await read_upload(request, svc.settings.limits)
    web.check(request, who, sent.fields.get(web.FIELD))
    await run_in_threadpool(
        evidence.attach, svc, who.actor, project_id, code, item_id, sent.data, sent.filename
    )
    return RedirectResponse(f"/projects/{project_id}/units/{code}#item-{item_id}", status_code=303)


def _reachable(svc: Service, actor: Actor, project_id: int, code: str, item_id: int) -> None:
    """404 for an item the visitor may not see, 403 for a role that may not attach: before the body is read."""
    with svc.sessions() as session:
        evidence.item_of(session, actor.unit(session, project_id, code), item_id)
    actor.require("evidence-attach")


@router.get(ITEM_PATH + "/evidence/{file_id}")
def download(
    project_id: int, code: str, item_id: int, file_id: int, svc: CurrentService, who: CurrentVisitor
) -> Response:
    """The file's bytes, as the API sends them (PDF and images shown in place, anything else downloaded)."""
    row = evidence.read(svc, who.actor, project_id, code, item_id, file_id)
    return Response(row.content, media_type=row.media_type, headers=evidence.disposition(row))


@router.post(ITEM_PATH + "/evidence/{file_id}/withdraw")
async def withdraw(
    request: Request,
    project_id: int,
    code: str,
    item_id: int,
    file_id: int,
    svc: CurrentService,
    who: CurrentVisitor,
) -> Response:
    """Withdraw a file (kept, struck through on the page, audited); 303 back to the item."""
    await web.signed_form(request, who, max_fields=4)
    await run_in_threadpool(evidence.withdraw, svc, who.actor, project_id, code, item_id, file_id)
    return RedirectResponse(f"/projects/{project_id}/units/{code}#item-{item_id}", status_code=303)
