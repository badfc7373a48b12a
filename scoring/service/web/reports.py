"""Report downloads in the workspace: the 下载报告 block of a unit page (评分结果 JSON, 评估报告 in Markdown,
Excel and PDF, 督导意见书, 整改通知书) and of a project page (汇总 .xlsx and .pdf, 管理员 and 督学). The files
are the API's (``service/reports.py``: the library's renderers over the stored result), reached with the page's
cookie session and the same scoping (``access.Actor``): another school's unit is the same 404 page as an
unknown one, a 学校 user's project summary 403."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from ..access import CurrentService
from ..reports import SUMMARY_KINDS, UNIT_KINDS, project_summary, unit_report
from .render import Page, attachment, templates
from .session import CurrentVisitor

router = APIRouter(route_class=Page, include_in_schema=False)

# what the blocks list, in order: (kind, what the link says)
UNIT_LINKS = (
    ("pdf", "评估报告（PDF）"),
    ("xlsx", "评估报告（Excel）"),
    ("md", "评估报告（Markdown）"),
    ("opinion.docx", "督导意见书（Word）"),
    ("notice.docx", "整改通知书（Word）"),
    ("json", "评分结果（JSON）"),
)
SUMMARY_LINKS = (("summary.xlsx", "汇总（Excel）"), ("summary.pdf", "汇总（PDF）"))
assert {k for k, _ in UNIT_LINKS} == set(UNIT_KINDS) and {k for k, _ in SUMMARY_LINKS} == set(SUMMARY_KINDS)

templates.env.globals["UNIT_REPORTS"] = UNIT_LINKS
templates.env.globals["SUMMARY_REPORTS"] = SUMMARY_LINKS


@router.get("/projects/{project_id}/units/{code}/reports/{kind}")
async def unit_file(
    project_id: int,
    code: str,
    kind: str,
    svc: CurrentService,
    who: CurrentVisitor,
    part: Annotated[int, Query(ge=0, le=9)] = 0,
) -> Response:
    found = await run_in_threadpool(unit_report, svc, who.actor, project_id, code, kind, part)
    return attachment(found.data, found.filename, found.media_type)


@router.get("/projects/{project_id}/reports/{kind}")
async def summary_file(project_id: int, kind: str, svc: CurrentService, who: CurrentVisitor) -> Response:
    found = await run_in_threadpool(project_summary, svc, who.actor, project_id, kind)
    return attachment(found.data, found.filename, found.media_type)
