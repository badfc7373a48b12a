"""Batch uploads of a project: many submissions in one request, scored in worker processes while the server
goes on answering; progress read by polling (``scoring.service.batches``)."""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ..access import Actor, CurrentActor, CurrentService
from ..batches import ROLES, Batches, BatchOut, batch_out, items_of, workers_of
from ..errors import ApiError, forbidden, not_found
from ..models import Batch, User
from ..settings import Limits
from ..state import Service
from ..uploads import body_spec, size

router = APIRouter(tags=["批量上传 / batch uploads"])

PATH = "/projects/{project_id}/batches"
MAX_PARTS = 500  # files in one multipart form (a zip counts as one)
_made = threading.Lock()


def _runner(request: Request, svc: Service) -> Batches:
    """The app's batches (made on first use: one driver and its workers per app)."""
    state = request.app.state
    with _made:
        found: Batches | None = getattr(state, "batches", None)
        if found is None:
            found = Batches(svc, workers_of(svc))
            state.batches = found
    return found


def _allowed(svc: Service, actor: Actor, project_id: int) -> None:
    """404 for a project the caller may not see, 403 for a 学校 user (before the body is read)."""
    with svc.sessions() as session:
        actor.project(session, project_id)
    if actor.role not in ROLES:
        raise forbidden(f"{actor.role}用户不能批量上传", f"role {actor.role} may not upload batches")


def _visible(svc: Service, actor: Actor, project_id: int) -> None:
    """A 学校 user sees no batch (404, as for one that does not exist)."""
    with svc.sessions() as session:
        actor.project(session, project_id)
    if actor.role not in ROLES:
        raise not_found("批量上传", "batch")


@router.post(
    PATH,
    status_code=202,
    summary="批量上传填报数据（后台评分）/ upload a batch",
    openapi_extra=body_spec("zip 压缩包（内含自评表或 JSON/YAML 填报数据），或多个 file 部分的表单"),
)
async def upload_batch(
    project_id: int,
    request: Request,
    actor: CurrentActor,
    svc: CurrentService,
    reason: Annotated[str | None, Query(max_length=2000)] = None,
) -> JSONResponse:
    """Answers 202 at once with the batch (every file 排队中); ``GET …/batches/{id}`` gives its progress."""
    await run_in_threadpool(_allowed, svc, actor, project_id)
    files, fields = await _read(request, svc.settings.limits)
    items = await run_in_threadpool(items_of, files, svc.file_limits)
    runner = _runner(request, svc)
    why = fields.get("reason") or reason
    batch_id = await run_in_threadpool(runner.start, actor, project_id, items, why)
    out = await run_in_threadpool(_one, svc, actor, project_id, batch_id)
    headers = {"Location": f"{request.url.path}/{batch_id}"}
    return JSONResponse(out.model_dump(mode="json"), status_code=202, headers=headers)


async def _read(request: Request, limits: Limits) -> tuple[list[tuple[str | None, bytes]], dict[str, str]]:
    """The files of the request: every file part of a multipart form, or the body itself (a zip)."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        data = await request.body()
        if not data:
            raise ApiError(422, "upload-missing", "请求中没有文件", "the request carries no file")
        _bounded(data, limits)
        return [(None, data)], {}
    files: list[tuple[str | None, bytes]] = []
    async with request.form(max_files=MAX_PARTS, max_fields=limits.max_form_parts) as form:
        for _, part in form.multi_items():
            if isinstance(part, UploadFile):
                data = await part.read(limits.max_upload + 1)
                _bounded(data, limits)
                name = (part.filename or "").replace("\\", "/").rsplit("/", 1)[-1][:200] or None
                files.append((name, data))
        fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    if not files:
        raise ApiError(422, "upload-missing", "表单中没有文件", "the form has no file part")
    return files, fields


def _bounded(data: bytes, limits: Limits) -> None:
    if len(data) > limits.max_upload:
        raise ApiError(
            413,
            "too-large",
            f"文件太大：超过 {size(limits.max_upload)} 的上限，已拒绝读取",
            f"file too large: over the {size(limits.max_upload)} limit; refused",
        )


@router.get(PATH, summary="评估项目的批量上传 / a project's batches")
def batches(project_id: int, actor: CurrentActor, svc: CurrentService) -> list[BatchOut]:
    """Newest first (管理员 and 督学; a 学校 user gets 404)."""
    _visible(svc, actor, project_id)
    with svc.sessions() as session:
        rows = session.scalars(
            select(Batch).where(Batch.project_id == project_id).order_by(Batch.id.desc())
        ).all()
        return [batch_out(r, session.get(User, r.created_by)) for r in rows]


@router.get(PATH + "/{batch_id}", summary="批量上传的进度 / a batch's progress")
def batch(project_id: int, batch_id: int, actor: CurrentActor, svc: CurrentService) -> BatchOut:
    """``state`` 排队中 → 进行中 → 已完成; ``total``, ``done``, ``failed`` and each file's outcome."""
    return _one(svc, actor, project_id, batch_id)


def _one(svc: Service, actor: Actor, project_id: int, batch_id: int) -> BatchOut:
    _visible(svc, actor, project_id)
    with svc.sessions() as session:
        row = session.get(Batch, batch_id)
        if row is None or row.project_id != project_id:
            raise not_found(f"批量上传 {batch_id}", f"batch {batch_id}")
        return batch_out(row, session.get(User, row.created_by))
