"""The evaluator workspace in the browser: server-rendered pages (Jinja2) over the same store, access rules and
library calls as the API, with cookie sessions and CSRF tokens (``session``), every asset bundled in ``static/``
(no CDN: offices run on intranets). See docs/workspace.md."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from . import dashboard, manage, rectifying, review_page
from .pages import router
from .render import STATIC


def install(app: FastAPI) -> None:
    """Serve the pages at ``/`` and their assets at ``/static``."""
    app.include_router(router)
    app.include_router(manage.router)
    app.include_router(rectifying.router)
    app.include_router(review_page.router)
    app.include_router(dashboard.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
