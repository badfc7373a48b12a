"""The county (cohort) result of a project: for a project on a school framework that a shipped county framework
aggregates (ysjh-2017-school → ysjh-2017, 优质均衡), ``score_cohort`` over the units' current submissions and
the county's own data (县级填报, ``service/county_data.py``) — the JSON ``scoring cohort --county FILE`` writes
as 县域评估.json. 管理员 and 督学 only."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from ..access import CurrentActor, CurrentService
from ..county_data import county_file, county_project, county_versions, store_county
from ..reports import COUNTY_KINDS, county_report, project_county
from ..schemas import CountySubmissionOut
from ..uploads import body_spec, read_upload

router = APIRouter(tags=["县域评估 / county evaluation"])


@router.get(
    "/projects/{project_id}/cohort",
    summary="县域评估结果（优质均衡等，管理员、督学）/ the county (cohort) result over the project's units",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}, "description": "县域评估.json"}},
)
async def cohort(project_id: int, actor: CurrentActor, svc: CurrentService) -> Response:
    """As ``scoring cohort COUNTY-FRAMEWORK FOLDER`` writes 县域评估.json for a folder holding each unit's newest
    scored submission: 表Ⅱ-2 (units), 表Ⅲ (stats: 全县平均值 and 差异系数), the county verdict (``passed``,
    ``reasons``) and the county framework's result. A unit without a scored submission is listed in
    ``failures`` and the verdict is then 暂定 (``passed`` null). A project whose framework no county framework
    aggregates is 404; a 学校 user gets 403."""
    _, result = await run_in_threadpool(project_county, svc, actor, project_id)
    return Response(result.to_json(), media_type="application/json", headers={"Cache-Control": "no-store"})


@router.get(
    "/projects/{project_id}/cohort/{kind}",
    summary="下载县域评估报告（管理员、督学）/ the county report: xlsx · md · pdf · json（县域评估.*）",
    response_class=Response,
    responses={200: {"description": "县域评估报告（文件名见 Content-Disposition）"}},
)
async def cohort_file(
    project_id: int,
    kind: Annotated[str, Path(description="报告种类", json_schema_extra={"enum": list(COUNTY_KINDS)})],
    actor: CurrentActor,
    svc: CurrentService,
) -> Response:
    """The county report as ``scoring cohort`` writes 县域评估.xlsx / .md / .pdf / .json for the same units."""
    found = await run_in_threadpool(county_report, svc, actor, project_id, kind)
    return Response(found.data, media_type=found.media_type, headers=found.headers())


COUNTY_DATA = "/projects/{project_id}/county-data"


@router.post(
    COUNTY_DATA,
    status_code=201,
    summary="上传县级填报数据（管理员、督学）/ upload the county's own data",
    openapi_extra=body_spec("县级自评表（由县域框架生成的 .xlsx）或 JSON/YAML 县级填报数据"),
)
async def upload_county(
    project_id: int,
    request: Request,
    actor: CurrentActor,
    svc: CurrentService,
    reason: Annotated[str | None, Query(max_length=2000)] = None,
) -> CountySubmissionOut:
    """The values of the county framework's own indicators (政府保障程度, 教育质量, 社会认可度, 一票否决), as
    ``scoring cohort --county FILE`` reads them: kept as the project's next version, which counts from now on.
    One that cannot be read is kept too (未通过) and answered 422 with every problem and its place; the version
    before it still counts. A closed round is 409; a 学校 user gets 403."""
    await run_in_threadpool(county_project, svc, actor, project_id)  # 404 / 403 before the body is read
    upload = await read_upload(request, svc.settings.limits)
    why = reason or upload.fields.get("reason")
    return await run_in_threadpool(store_county, svc, actor, project_id, upload.data, upload.filename, why)


@router.get(
    COUNTY_DATA, summary="县级填报数据的各版本（管理员、督学）/ the versions of the county's own data"
)
def county_data(project_id: int, actor: CurrentActor, svc: CurrentService) -> list[CountySubmissionOut]:
    """Newest first; ``current`` marks the version the county result reads (the newest that could be read)."""
    return county_versions(svc, actor, project_id)


@router.get(COUNTY_DATA + "/{version}/file", summary="下载县级填报数据的原文件 / the bytes uploaded")
def county_original(project_id: int, version: int, actor: CurrentActor, svc: CurrentService) -> Response:
    found = county_file(svc, actor, project_id, version)
    headers = {
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(found.filename, safe='')}",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }
    return Response(found.content, media_type="application/octet-stream", headers=headers)
