"""Errors as JSON: a code, a Chinese message first (English beside it) and, for a file or a submission, every
problem with its place. A user's mistake is a 4xx; anything else is a 500 that says only that it happened (the
traceback goes to the log, never to the client)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..problems import Problem, ScoringError

log = logging.getLogger("scoring.service")


class ApiError(Exception):
    """A refusal the client can act on: HTTP ``status``, a stable ``code``, the messages and located problems."""

    def __init__(
        self, status: int, code: str, zh: str, en: str, problems: Sequence[Problem] = (), **extra: Any
    ):
        super().__init__(en)
        self.status, self.code, self.zh, self.en = status, code, zh, en
        self.problems = list(problems)
        self.extra = extra


def not_found(what_zh: str, what_en: str) -> ApiError:
    """404 for a thing that does not exist *or that the caller may not see*: the two must look the same."""
    return ApiError(404, "not-found", f"找不到{what_zh}", f"{what_en} not found")


def forbidden(zh: str, en: str) -> ApiError:
    return ApiError(403, "forbidden", zh, en)


def body(code: str, zh: str, en: str, problems: Sequence[Problem] = (), **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"error": code, "message": zh, "message_en": en}
    if problems:
        out["problems"] = [p.to_dict("zh") for p in problems]
    return out | extra


def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return JSONResponse(
        body(exc.code, exc.zh, exc.en, exc.problems, **exc.extra), status_code=exc.status, headers=headers
    )


def _scoring_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ScoringError)
    return JSONResponse(
        body(
            "problems",
            f"无法处理：发现 {len(exc.problems)} 个问题（见 problems，每个问题都注明了位置）",
            f"cannot be processed: {len(exc.problems)} problem(s), each with its place (see problems)",
            exc.problems,
        ),
        status_code=422,
    )


_HTTP = {
    400: (
        "请求格式不正确：表单无法解析，或其中的文件、字段过多（每次只能上传一个文件）",
        "malformed request",
    ),
    404: ("找不到该地址", "no such address"),
    405: ("该地址不支持这个请求方法", "method not allowed"),
    413: ("请求太大", "request too large"),
}


def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    zh, en = _HTTP.get(exc.status_code, ("请求无法处理", "request cannot be processed"))
    if exc.status_code == 400:
        en = f"{en}: {exc.detail}"
    return JSONResponse(body("http", zh, en), status_code=exc.status_code, headers=exc.headers)


def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = [
        {"place": ".".join(str(x) for x in e.get("loc", ())), "message": str(e.get("msg", ""))}
        for e in exc.errors()
    ]
    where = "、".join(f["place"] for f in fields[:5])
    return JSONResponse(
        body(
            "request-invalid", f"请求的参数或内容不正确：{where}", f"invalid request: {where}", fields=fields
        ),
        status_code=422,
    )


def _internal(_request: Request, exc: Exception) -> JSONResponse:
    log.error("internal error", exc_info=exc)
    return JSONResponse(
        body("internal", "服务内部错误，已记录；请稍后再试或联系管理员", "internal error (logged)"),
        status_code=500,
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(ScoringError, _scoring_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _internal)
