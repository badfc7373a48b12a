"""Stateless endpoints: the shipped frameworks, scoring one submission, validating a framework file. Nothing is
stored; any signed-in user may call them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from ...framework.registry import entries
from ..access import CurrentActor, CurrentService
from ..frameworks import store_framework, uploaded
from ..models import FrameworkFile
from ..schemas import FrameworkOut
from ..uploads import body_spec, read_upload
from ..work import framework_name, results_json, score_bytes, validate_bytes

router = APIRouter(tags=["评分 / scoring"])

JSON = "application/json"


@router.get("/frameworks", summary="框架列表（内置与上传）/ shipped and uploaded frameworks")
def frameworks(_actor: CurrentActor, svc: CurrentService) -> list[dict[str, Any]]:
    """The same list as ``scoring frameworks --format json``, then the frameworks 管理员 uploaded (``source``:
    ``uploaded``, the newest file of each id, with the content hash a project made from it pins)."""
    shipped = [
        FrameworkOut(id=e.id, name=e.name, version=e.version, source=e.source, extends=e.extends).model_dump(
            exclude={"hash"}
        )
        for e in entries()
    ]
    with svc.sessions() as session:
        return shipped + [framework_out(row).model_dump() for row in uploaded(session)]


def framework_out(row: FrameworkFile) -> FrameworkOut:
    return FrameworkOut(
        id=row.framework_id,
        name=row.name,
        version=row.version,
        source="uploaded",
        extends=None,
        hash=row.hash,
    )


@router.post(
    "/frameworks",
    status_code=201,
    summary="上传评估框架（管理员）/ upload a framework",
    openapi_extra=body_spec("框架 YAML 文件（可用 extends: 内置框架 id 在内置框架上修改）"),
)
async def upload_framework(request: Request, actor: CurrentActor, svc: CurrentService) -> FrameworkOut:
    """Validated as ``scoring validate`` does: any error is 422 with every problem (line and column) and nothing
    kept; an id of a shipped framework is 409. Then projects can be made from it by its id."""
    actor.require("manage-projects")
    upload = await read_upload(request, svc.settings.limits)
    reason = upload.fields.get("reason")
    row = await run_in_threadpool(store_framework, svc, actor, upload.data, upload.filename, reason)
    return framework_out(row)


@router.post(
    "/score",
    summary="为一份填报数据评分（不保存）/ score one submission, stateless",
    openapi_extra=body_spec("填报数据：JSON/YAML 正文，或上传的自评表（.xlsx/.xls/.ods）"),
    responses={
        200: {"content": {JSON: {}}, "description": '{"results": [scoring score 写出的 result.json, …]}'}
    },
)
async def score_one(
    request: Request,
    _actor: CurrentActor,
    svc: CurrentService,
    framework: Annotated[str, Query(description="内置框架 id，如 demo-school", max_length=100)],
    values: Annotated[
        Literal["final", "self", "evaluator"], Query(description="按哪一方的数据评分")
    ] = "final",
) -> Response:
    """Each unit's result exactly as ``scoring score`` writes ``<unit>.result.json``. A submission that cannot be
    read or scored is 422 with every problem and its place (sheet and cell, or line and column)."""
    upload = await read_upload(request, svc.settings.limits)
    plan = await run_in_threadpool(svc.plan, framework)

    def answer() -> str:  # in the worker thread: the texts take ~8x the scoring, off the event loop
        return results_json(score_bytes(plan, upload.data, upload.filename, svc.file_limits, values))

    return Response(await run_in_threadpool(answer), media_type=JSON)


@router.post(
    "/validate",
    summary="检查一个框架文件 / validate a framework file",
    openapi_extra=body_spec("框架 YAML 文件"),
    responses={200: {"content": {JSON: {}}, "description": "与 scoring validate --format json 相同"}},
)
async def validate(request: Request, _actor: CurrentActor, svc: CurrentService) -> Response:
    """Every problem with file, line and column, as ``scoring validate --format json`` prints them (200 even
    when there are errors: they are the answer; ``errors`` counts them)."""
    upload = await read_upload(request, svc.settings.limits)
    report = await run_in_threadpool(validate_bytes, upload.data, framework_name(upload.filename))
    return Response(report.to_json("zh"), media_type=JSON)
