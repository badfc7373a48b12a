"""The FastAPI application: settings → a migrated store → ``/api/v1`` with its OpenAPI document.

``create_app`` is what tests and ``serve`` call; one app holds one :class:`~scoring.service.state.Service`
(no global state, so several apps can live in one process)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from ..version import __version__
from . import errors, web
from .api import archive, audit, batches, engine, projects, rectifications, submissions, users
from .api import cohort as cohort_api
from .api import reports as reports_api
from .auth import Passwords
from .deadline import TimeLimit
from .settings import Settings
from .state import Service
from .uploads import BodyLimit

PREFIX = "/api/v1"

DESCRIPTION = """督评 scoring 的 HTTP 接口：评分、框架检查、评估项目、单位、填报数据、评分结果、整改。

所有接口都需要 `Authorization: Bearer <令牌>`（`POST /api/v1/login` 用用户名和密码换取，或由管理员创建 API 令牌）。
错误以 JSON 返回：`error`（代码）、`message`（中文）、`message_en`，文件或数据的问题在 `problems` 中逐条注明位置。
"""


def create_app(settings: Settings | None = None, passwords: Passwords | None = None) -> FastAPI:
    """The service for ``settings`` (default: from the environment): the database is migrated to the newest
    revision before the app is returned."""
    settings = settings or Settings.from_env()
    svc = Service(settings, passwords)
    app = FastAPI(
        title="督评 scoring 服务",
        version=__version__,
        description=DESCRIPTION,
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=None,  # Swagger UI loads its assets from a CDN: not on an intranet (offline first)
        redoc_url=None,
    )
    app.state.service = svc
    errors.install(app)
    api = APIRouter(prefix=PREFIX)
    for module in (engine, users, projects, submissions, rectifications, audit, archive, batches):
        api.include_router(module.router)
    api.include_router(reports_api.router)  # report downloads (service/reports.py)
    api.include_router(cohort_api.router)  # the county (cohort) result of a project
    app.include_router(api)
    web.install(app)  # the browser workspace: pages at /, bundled assets at /static (docs/workspace.md)
    app.add_middleware(BodyLimit, max_body=settings.limits.max_body)
    app.add_middleware(TimeLimit, seconds=settings.limits.request_seconds)  # outermost: the body read counts
    return app
