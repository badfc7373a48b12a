"""The county (cohort) result of a project: for a project on a school framework that a shipped county framework
aggregates (ysjh-2017-school → ysjh-2017, 优质均衡), ``score_cohort`` over the units' current submissions —
the JSON ``scoring cohort`` writes as 县域评估.json. 管理员 and 督学 only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response
from starlette.concurrency import run_in_threadpool

from ..access import CurrentActor, CurrentService
from ..reports import COUNTY_KINDS, county_report, project_county

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
