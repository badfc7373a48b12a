"""Saving a 督学's 督评 (the form is ``reviewing``'s, on the unit page): the changes, each with its reason — 督评
values, ratings, and 调整与豁免 (overrides and waivers by the 督学, dated today in 北京时间) — make the unit's next
version through the store path of every upload (``submitting.score_upload`` and ``save_upload``),
scored like any upload; 303 back to the unit's result, or the unit page with what is wrong (422) and nothing
stored. A 学校 user gets 404 for another unit (as everywhere) and 403 for its own."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from ..access import Actor, CurrentService
from ..errors import ApiError
from ..models import Unit
from ..rectify import office_today
from ..schemas import SubmissionOut
from ..state import Service
from ..submitting import save_upload, score_upload
from . import session as web
from .pages import _plan, _show_unit, problem_line
from .render import Page
from .reviewing import audit_reason, edits, newest, read, review_form, reviewed
from .session import CurrentVisitor, Visitor

router = APIRouter(route_class=Page, include_in_schema=False)

REVIEW_PATH = "/projects/{project_id}/units/{code}/review"


@router.post(REVIEW_PATH)
async def review(
    request: Request, project_id: int, code: str, svc: CurrentService, who: CurrentVisitor
) -> Response:
    """Save the 督评 as the unit's next version; 303 back to its result, or the page with what is wrong (422)."""
    fields = dict(await web.signed_form(request, who, max_fields=400))
    return await run_in_threadpool(_save, request, svc, who, project_id, code, fields)


def _save(
    request: Request, svc: Service, who: Visitor, project_id: int, code: str, fields: dict[str, str]
) -> Response:
    with svc.sessions() as session:
        unit = who.actor.unit(session, project_id, code)  # 404 for another school's unit
        who.actor.require("rectify-decide")  # 督学 and 管理员 only: 403 for a school
        form = review_form(svc, session, who.actor, unit)
        row = newest(session, unit)
        project = unit.project
    if form is None or row is None:
        raise ApiError(409, "nothing-to-review", "这个单位还没有可督评的已评分版本", "no scored version")
    if str(form.version) != fields.get("version", ""):
        raise ApiError(
            409,
            "version-changed",
            f"督评表打开后本单位已有新的版本（第 {form.version} 版）：请刷新页面后重新填写",
            "a newer version was stored since the form was opened",
        )
    today = office_today()
    found, adjusted, wrong = edits(form, fields, who.actor.name, today)
    if wrong:
        return _show_unit(request, svc, who, project_id, code, 422, review_problems=wrong, sent=fields)
    plan = _plan(svc, project)
    sub = read(svc, plan, row)
    assert sub is not None  # the form was built from it
    data = reviewed(sub, found, adjusted)
    filename = f"督评-{unit.code}-第{row.version}版.json"
    results, problems = score_upload(plan, data, filename, svc, unit)
    if problems:
        lines = [problem_line(p) for p in problems]
        return _show_unit(request, svc, who, project_id, code, 422, review_problems=lines, sent=fields)
    reason = audit_reason(found, adjusted)
    stored = _keep(svc, who.actor, unit, data, filename, results, reason)
    return RedirectResponse(
        f"/projects/{project_id}/units/{code}?reviewed={stored.version}#result", status_code=303
    )


def _keep(
    svc: Service, actor: Actor, unit: Unit, data: bytes, filename: str, results: Any, reason: str
) -> SubmissionOut:
    for attempt in range(5):
        try:
            return save_upload(svc, actor, unit, data, filename, results, [], reason)
        except IntegrityError:  # another upload took the version number meanwhile: take the next
            if attempt == 4:
                raise
    raise AssertionError("unreachable")
