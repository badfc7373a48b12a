"""A whole project as one archive (管理员): download it for a backup or a move, and import one into this store as
a new project (see the package ``scoring/service/archive/`` for what it holds and how it is checked)."""

from __future__ import annotations

import os
import re
import tempfile
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from ..access import CurrentActor, CurrentService
from ..archive import export_project, import_project, upload_limits
from ..models import Project
from ..schemas import ProjectOut
from ..uploads import body_spec, read_upload
from .projects import project_out

router = APIRouter(tags=["项目档案 / project archives"])


class ArchiveImportOut(BaseModel):
    project: ProjectOut
    counts: dict[str, int]
    users_created: list[str]
    framework_current: bool


@router.get(
    "/projects/{project_id}/archive",
    summary="导出评估项目档案（zip，管理员）/ export a project as an archive",
    response_class=FileResponse,
    responses={200: {"content": {"application/zip": {}}, "description": "评估项目档案（zip）"}},
)
async def export(project_id: int, actor: CurrentActor, svc: CurrentService) -> FileResponse:
    """The project, its units, every submission's bytes with its hash, results, 整改 items and the audit rows,
    as one zip with a manifest (format version, framework id/version/hash, the SHA-256 of every member)."""
    actor.require("manage-projects")
    with svc.sessions() as session:
        project = actor.project(session, project_id)
        name = f"评估项目{project.id}-{_safe(project.name)}.zip"
    fd, path = tempfile.mkstemp(prefix="scoring-archive-", suffix=".zip")
    try:
        with os.fdopen(fd, "wb") as fh:
            await run_in_threadpool(export_project, svc, project_id, fh, actor.name)
    except BaseException:
        os.unlink(path)
        raise
    return FileResponse(
        path,
        media_type="application/zip",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name, safe='')}"},
        background=BackgroundTask(os.unlink, path),
    )


def _safe(name: str) -> str:
    return re.sub(r'[\\/:*?"<>|\s]+', "_", name)[:80]


@router.post(
    "/projects/import",
    status_code=201,
    summary="导入评估项目档案（管理员）/ import a project archive",
    openapi_extra=body_spec("GET …/archive 导出的评估项目档案（zip）"),
)
async def import_archive(
    request: Request,
    actor: CurrentActor,
    svc: CurrentService,
    reason: Annotated[str | None, Query(max_length=2000)] = None,
) -> ArchiveImportOut:
    """A new project, exactly as archived (times, who, the bytes, results, 整改 items, audit rows); users it
    names that this store lacks are created inactive without a password. A changed or damaged archive (a
    member whose SHA-256 is not the manifest's), one too large or a zip bomb is refused and nothing is written."""
    actor.require("manage-projects")
    upload = await read_upload(request, svc.settings.limits)
    limits = upload_limits(svc.settings.limits.max_upload)
    why = upload.fields.get("reason") or reason
    done = await run_in_threadpool(import_project, svc, upload.data, actor.id, why, limits)
    with svc.sessions() as session:
        project = session.get(Project, done.project_id)
        assert project is not None
        out = project_out(project)
    return ArchiveImportOut(
        project=out,
        counts=done.counts,
        users_created=done.users_created,
        framework_current=done.framework_current,
    )
