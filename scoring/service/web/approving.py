"""The 督学's review (审核) of a unit's newest scored version, on the unit page: 通过, or 退回 with the reason
the school then reads at the top of its page. The decision is the API's own (``approval.review``: the same
checks, 409 for a version that is no longer the newest scored one, 403 for a school, the same audit row)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from .. import approval
from ..access import CurrentService
from . import session as web
from .render import Page
from .session import CurrentVisitor

router = APIRouter(route_class=Page, include_in_schema=False)


@router.post("/projects/{project_id}/units/{code}/submissions/{version}/approval")
async def decide(
    request: Request, project_id: int, code: str, version: int, svc: CurrentService, who: CurrentVisitor
) -> Response:
    """One decision (``decision`` 通过 or 退回, ``reason``); 303 back to the unit page's 审核 section."""
    fields = await web.signed_form(request, who, max_fields=6)
    reason = fields.get("reason", "").strip()[:2000] or None
    await run_in_threadpool(
        approval.review, svc, who.actor, project_id, code, version, fields.get("decision", ""), reason
    )
    return RedirectResponse(f"/projects/{project_id}/units/{code}#approval", status_code=303)
