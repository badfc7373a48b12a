"""Rendering pages: the Jinja2 templates (autoescaped), the filters that show a report view's cells, the page
headers, and the route class that turns a refusal into a page (the API's refusals are JSON; the same refusal on a
page is an HTML page with the same status and message)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from ...report.blocks import BLANK, Cell, Lines, Number, Row, cell_text
from ...report.unit_view import UnitView
from ..errors import ApiError, not_found
from ..rectify import CHINA
from .session import SignIn

HERE = Path(__file__).parent
STATIC = HERE / "static"
BEIJING = CHINA  # times are shown, and dates taken, in China (UTC+8)

# what a page may load: only this server's own files (every asset is bundled), no inline script or style
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def cell(value: Cell) -> Markup:
    """A report view's cell as HTML: a number at its declared decimals, several lines one per line, — for none."""
    if isinstance(value, Lines):
        return Markup("<br>").join(escape(item) for item in value.items)
    return escape(cell_text(value))


def when(moment: dt.datetime | None) -> str:
    """A stored time (UTC) as 北京时间, to the minute."""
    if moment is None:
        return BLANK
    return moment.replace(tzinfo=dt.timezone.utc).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def chart(view: UnitView) -> dict[str, Any] | None:
    """The view's chart as the data ``workspace.js`` draws with ECharts: categories and one series per column,
    from the same table the page shows (the numbers as the view holds them, before any rounding for text)."""
    if view.chart is None:
        return None
    table = view.overview
    names = [cell_text(row.cells[table.column(view.chart.category)]) for row in table.rows]
    series = []
    for key in view.chart.series:
        at = table.column(key)
        values = [row.cells[at] for row in table.rows]
        data = [
            float(v.value) if isinstance(v, Number) else v if isinstance(v, int) else None for v in values
        ]
        series.append({"name": table.columns[at].title, "data": data})
    return {"title": view.chart.title, "axis": view.chart.axis, "categories": names, "series": series}


def indent(row: Row) -> str:
    return f"level-{min(row.level, 4)}"


templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters["cell"] = cell
templates.env.filters["when"] = when
templates.env.filters["indent"] = indent
templates.env.globals["chart"] = chart
templates.env.globals["BLANK"] = BLANK


def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    return templates.TemplateResponse(request, name, context, status_code=status, headers=HEADERS)


def attachment(data: bytes, filename: str, media_type: str, sha256: str | None = None) -> Response:
    headers = {
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename, safe='')}",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }
    if sha256:
        headers["X-Content-SHA256"] = sha256
    return Response(data, media_type=media_type, headers=headers)


def error_page(request: Request, err: ApiError) -> Response:
    who = getattr(request.state, "visitor", None)  # signed in: the header shows who, as on every page
    return page(request, "error.html", {"err": err, "who": who}, err.status)


def to_login(request: Request) -> Response:
    """To 登录 and back here afterwards (only for a page: a form posted without a session is refused)."""
    if request.method != "GET":
        return error_page(
            request, ApiError(401, "unauthenticated", "登录已过期，请重新登录", "session expired")
        )
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)


class Page(APIRoute):
    """A route that answers with pages: no session → 登录; a refusal (404 not yours, 403, 409, 413, 422) → the
    error page with its status; a malformed address (a project id that is no number) → 404, as if unknown."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except SignIn:
                return to_login(request)
            except ApiError as err:
                return error_page(request, err)
            except RequestValidationError:
                return error_page(request, not_found("该页面", "page"))

        return run
