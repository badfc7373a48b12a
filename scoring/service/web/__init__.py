"""The evaluator workspace in the browser: server-rendered pages (Jinja2) over the same store, access rules and
library calls as the API, with cookie sessions and CSRF tokens (``session``), every asset bundled in ``static/``
(no CDN: offices run on intranets). See docs/workspace.md."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from . import approving, county, dashboard, dashboard_export, manage, people, rectifying, review_page
from . import reports as report_pages
from .pages import router
from .render import STATIC


def install(app: FastAPI) -> None:
    """Serve the pages at ``/`` and their assets at ``/static``."""
    app.include_router(router)
    app.include_router(manage.router)
    app.include_router(rectifying.router)
    app.include_router(approving.router)  # 审核 a submission: 通过 or 退回 (web/approving.py)
    app.include_router(review_page.router)
    app.include_router(dashboard.router)
    app.include_router(dashboard_export.router)  # 区域统计 as a workbook (web/dashboard_export.py)
    app.include_router(people.router)  # 用户管理, 我的账号 (web/people.py)
    app.include_router(report_pages.router)  # 下载报告 (web/reports.py)
    app.include_router(county.router)  # 县域评估 (web/county.py)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
