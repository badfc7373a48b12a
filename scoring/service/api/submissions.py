"""Submissions (填报数据) of a unit: every upload kept as its bytes, numbered; the newest counts. An upload is
scored at once against the project's framework; one that cannot be read is kept too, with its problems."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from .. import approval
from ..access import Actor, CurrentActor, CurrentService
from ..errors import ApiError
from ..models import ResultRow
from ..models import Submission as Upload
from ..schemas import ReviewIn, SubmissionOut, UnitChangeOut
from ..state import Service
from ..submitting import SCORED, result_rows, store_upload, submission_out
from ..unit_change import unit_change
from ..uploads import body_spec, read_upload
from ..work import documents_json

router = APIRouter(tags=["填报与结果 / submissions and results"])

UNIT_PATH = "/projects/{project_id}/units/{code}"


@router.post(
    UNIT_PATH + "/submissions",
    status_code=201,
    summary="上传填报数据（评分并保存）/ upload a submission",
    openapi_extra=body_spec("自评表（.xlsx/.xls/.ods）或 JSON/YAML 填报数据"),
)
async def upload(
    project_id: int,
    code: str,
    request: Request,
    actor: CurrentActor,
    svc: CurrentService,
    reason: Annotated[str | None, Query(max_length=2000)] = None,
) -> SubmissionOut:
    """Kept as the bytes uploaded, with their SHA-256, who and when, as the unit's next version. A submission
    that cannot be read or scored is kept as well (status 未通过) and answered 422 with every problem."""
    await run_in_threadpool(_reachable, svc, actor, project_id, code)
    data = await read_upload(request, svc.settings.limits)
    why = data.fields.get("reason") or reason
    return await run_in_threadpool(store_upload, svc, actor, project_id, code, data.data, data.filename, why)


def _reachable(svc: Service, actor: Actor, project_id: int, code: str) -> None:
    """404 for a unit the caller may not see, 403 for a role that may not upload: before the body is read."""
    with svc.sessions() as session:
        actor.unit(session, project_id, code)
    actor.require("upload")


@router.get(UNIT_PATH + "/submissions", summary="填报数据的各版本 / a unit's submissions")
def versions(project_id: int, code: str, actor: CurrentActor, svc: CurrentService) -> list[SubmissionOut]:
    """Every version, newest first; ``current`` marks the one that counts (the newest)."""
    with svc.sessions() as session:
        unit = actor.unit(session, project_id, code)
        rows = session.scalars(
            select(Upload).where(Upload.unit_id == unit.id).order_by(Upload.version.desc())
        ).all()
        return [
            submission_out(session, r, unit, result_rows(session, r), current=i == 0)
            for i, r in enumerate(rows)
        ]


@router.get(UNIT_PATH + "/submissions/{version}", summary="某一版填报数据 / one submission")
def version(
    project_id: int, code: str, version: int, actor: CurrentActor, svc: CurrentService
) -> SubmissionOut:
    with svc.sessions() as session:
        unit = actor.unit(session, project_id, code)
        row = actor.submission(session, unit, version)
        newest = session.scalar(select(func.max(Upload.version)).where(Upload.unit_id == unit.id))
        return submission_out(session, row, unit, result_rows(session, row), current=row.version == newest)


@router.post(UNIT_PATH + "/submissions/{version}/review", summary="审核填报数据 / review a submission")
def review(
    project_id: int, code: str, version: int, body: ReviewIn, actor: CurrentActor, svc: CurrentService
) -> SubmissionOut:
    """A 督学 or 管理员 decides on the unit's newest scored version: 通过, or 退回 with the reason the school
    reads (it corrects the 自评表 and uploads again; the new version is 待审核). Another version is 409."""
    return approval.review(svc, actor, project_id, code, version, body.decision, body.reason)


@router.get(UNIT_PATH + "/submissions/{version}/file", summary="下载上传的原文件 / the bytes uploaded")
def original(project_id: int, code: str, version: int, actor: CurrentActor, svc: CurrentService) -> Response:
    with svc.sessions() as session:
        row = actor.submission(session, actor.unit(session, project_id, code), version)
        headers = {
            "Content-Disposition": f"attachment; filename*=UTF-8''{_quoted(row.filename)}",
            "X-Content-SHA256": row.sha256,
            "X-Content-Type-Options": "nosniff",
        }
        return Response(row.content, media_type="application/octet-stream", headers=headers)


def _quoted(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


@router.get(UNIT_PATH + "/submissions/{version}/results", summary="某一版的评分结果 / a version's results")
def version_results(
    project_id: int, code: str, version: int, actor: CurrentActor, svc: CurrentService
) -> Response:
    with svc.sessions() as session:
        row = actor.submission(session, actor.unit(session, project_id, code), version)
        return _documents(result_rows(session, row), f"第 {version} 版")


@router.get(UNIT_PATH + "/result", summary="单位当前的评分结果（最新一版）/ the unit's current result")
def current_result(project_id: int, code: str, actor: CurrentActor, svc: CurrentService) -> Response:
    """The results of the newest scored submission, as ``POST /score`` answers (``{"results": [...]}``)."""
    with svc.sessions() as session:
        unit = actor.unit(session, project_id, code)
        row = session.scalars(
            select(Upload)
            .where(Upload.unit_id == unit.id, Upload.status == SCORED)
            .order_by(Upload.version.desc())
        ).first()
        return _documents(result_rows(session, row) if row else [], "已评分的")


@router.get(UNIT_PATH + "/change", summary="与上一轮比较 / the unit against the previous round")
def change(project_id: int, code: str, actor: CurrentActor, svc: CurrentService) -> UnitChangeOut:
    """The library's round diff (``scoring diff``) of the unit's newest scored result in the previous round (the
    unit with the same code) and now: first-level points, 整改 items 已销号 / 仍未整改 / 新增, 问责情形. 404 without
    a previous round or a scored result in both."""
    return unit_change(svc, actor, project_id, code)


def _documents(rows: list[ResultRow], which: str) -> Response:
    if not rows:
        raise ApiError(404, "not-found", f"找不到{which}评分结果", "no result")
    return Response(documents_json([r.document for r in rows]), media_type="application/json")
