"""Stateless endpoints: the shipped frameworks, scoring one submission, validating a framework file. Nothing is
stored; any signed-in user may call them."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from ...framework.registry import entries
from ..access import CurrentActor, CurrentService
from ..schemas import FrameworkOut
from ..uploads import body_spec, read_upload
from ..work import framework_name, results_json, score_bytes, validate_bytes

router = APIRouter(tags=["评分 / scoring"])

JSON = "application/json"


@router.get("/frameworks", summary="内置框架列表 / shipped frameworks")
def frameworks(_actor: CurrentActor) -> list[FrameworkOut]:
    """The same list as ``scoring frameworks --format json``."""
    return [
        FrameworkOut(id=e.id, name=e.name, version=e.version, source=e.source, extends=e.extends)
        for e in entries()
    ]


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
    results = await run_in_threadpool(
        score_bytes, plan, upload.data, upload.filename, svc.file_limits, values
    )
    return Response(results_json(results), media_type=JSON)


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
