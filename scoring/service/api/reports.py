"""Report downloads: every file ``scoring score`` writes, for a unit's current result (JSON, Markdown, the report
workbook, PDF, 督导意见书 and 整改通知书) and a project's 汇总 (.xlsx, .pdf) over its units' current results.
The files are made by the library's renderers (``service/reports.py``); scoping is ``access.Actor``'s."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from starlette.concurrency import run_in_threadpool

from ..access import CurrentActor, CurrentService
from ..reports import SUMMARY_KINDS, UNIT_KINDS, Download, project_summary, unit_report

router = APIRouter(tags=["报告下载 / report downloads"])

# any other kind is 404 with the kinds there are (not a validation error: the address names no file)
UnitKind = Annotated[str, Path(description="报告种类", json_schema_extra={"enum": list(UNIT_KINDS)})]
SummaryKind = Annotated[str, Path(description="汇总种类", json_schema_extra={"enum": list(SUMMARY_KINDS)})]

_FILES: dict[str, dict[str, object]] = {
    "application/json": {},
    "text/markdown": {},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
    "application/pdf": {},
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {},
}


def _answer(found: Download) -> Response:
    return Response(found.data, media_type=found.media_type, headers=found.headers())


@router.get(
    "/projects/{project_id}/units/{code}/reports/{kind}",
    summary=(
        "下载单位的评估报告 / a unit's report: json（评分结果）· md（评估报告 Markdown）· xlsx（评估报告工作簿）"
        " · pdf（评估报告 PDF）· opinion.docx（督导意见书）· notice.docx（整改通知书）"
    ),
    response_class=Response,
    responses={200: {"content": _FILES, "description": "报告文件（文件名见 Content-Disposition）"}},
)
async def unit_file(
    project_id: int,
    code: str,
    kind: UnitKind,
    actor: CurrentActor,
    svc: CurrentService,
    part: Annotated[int, Query(ge=0, le=9, description="一贯制学校按学段拆分时的第几部分（从 0 起）")] = 0,
) -> Response:
    """The unit's current result (its newest scored submission) as ``scoring score --reports …`` writes it:
    ``json`` is ``<单位>.result.json`` byte for byte, the others are rendered from that result by the same
    renderers. A unit without a scored result is 404; another school's unit is 404 as an unknown one."""
    found = await run_in_threadpool(unit_report, svc, actor, project_id, code, kind, part)
    return _answer(found)


@router.get(
    "/projects/{project_id}/reports/{kind}",
    summary="下载评估项目的汇总 / a project's summary: summary.xlsx（汇总.xlsx）· summary.pdf（汇总.pdf）",
    response_class=Response,
    responses={200: {"content": _FILES, "description": "汇总文件（文件名见 Content-Disposition）"}},
)
async def summary_file(
    project_id: int, kind: SummaryKind, actor: CurrentActor, svc: CurrentService
) -> Response:
    """The 汇总 over every unit's current result, as ``scoring score`` writes 汇总.xlsx / 汇总.pdf for a folder
    (ranks, grade distribution, the indicators that fail most; units whose uploads could not be scored are
    listed as not read). 管理员 and 督学 only: a 学校 user gets 403."""
    found = await run_in_threadpool(project_summary, svc, actor, project_id, kind)
    return _answer(found)
