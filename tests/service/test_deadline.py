"""The time a request may take (``Limits.request_seconds``): the middleware on the real service (a workbook
scored under a limit it cannot meet is answered 503 with the Chinese reason, and the same request without the
limit is answered 200), and on a small ASGI app of its own (a response that started in time is left to finish;
an application that never answers is cancelled)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from scoring.service.bootstrap import first_admin
from scoring.service.deadline import TimeLimit
from scoring.service.settings import Limits

from .conftest import ADMIN_PASSWORD, EXAMPLES, login, make_client, service_of


def test_the_service_answers_503_when_a_request_outlasts_its_limit(tmp_path: Path) -> None:
    """Two apps on one store: the same signed-in request scored in full without a limit, and answered 503
    under a limit (1 ms) that scoring a workbook cannot meet."""
    data = (EXAMPLES / "strong.xlsx").read_bytes()
    with make_client(tmp_path, None, Limits(request_seconds=0)) as free:
        first_admin(service_of(free), ADMIN_PASSWORD)
        auth = login(free, "admin", ADMIN_PASSWORD)
        with make_client(tmp_path, None, Limits(request_seconds=0.001)) as bounded:
            for c, expected in ((free, 200), (bounded, 503)):
                r = c.post(
                    "/api/v1/score?framework=demo-school", files={"file": ("strong.xlsx", data)}, headers=auth
                )
                assert r.status_code == expected, r.text
            assert r.json()["error"] == "timeout"
            assert "秒内未能处理完毕" in r.json()["message"]
            assert r.headers["retry-after"] == "30"
            service_of(bounded).close()
        service_of(free).close()


cancelled: list[str] = []


async def _slow(request: Request) -> Response:
    try:
        await asyncio.sleep(5)
    except asyncio.CancelledError:
        cancelled.append(request.url.path)
        raise
    return PlainTextResponse("late")


async def _fast(_request: Request) -> Response:
    return PlainTextResponse("在时限内")


async def _stream(_request: Request) -> Response:
    async def parts() -> object:
        yield "开始；"
        await asyncio.sleep(0.5)  # past the limit, but the response has started
        yield "完成"

    return StreamingResponse(parts(), media_type="text/plain; charset=utf-8")  # type: ignore[arg-type]


def test_the_middleware_cancels_a_silent_application_and_lets_a_started_response_finish() -> None:
    app = Starlette(routes=[Route("/slow", _slow), Route("/fast", _fast), Route("/stream", _stream)])
    with TestClient(TimeLimit(app, 0.2)) as c:
        assert c.get("/fast").text == "在时限内"
        r = c.get("/slow")
        assert r.status_code == 503 and r.json()["error"] == "timeout"
        assert cancelled == ["/slow"]
        r = c.get("/stream")
        assert (r.status_code, r.text) == (200, "开始；完成")
