"""Files coming in: the whole request body bounded before anything reads it, and one uploaded file per request
(a multipart form with a ``file`` part, or the file itself as the body). Parsers never see the bytes before the
same safety checks the command line runs (``io.safety``), which the readers apply."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import HTTPException, Request
from starlette.datastructures import UploadFile

from .errors import ApiError
from .settings import Limits

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyTooLarge(HTTPException):
    def __init__(self) -> None:
        super().__init__(413)


class BodyLimit:
    """ASGI middleware: a request whose body is (or says it is) over ``max_body`` bytes is refused with 413
    before the application buffers it."""

    def __init__(self, app: ASGIApp, max_body: int):
        self.app, self.max_body = app, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            await _refuse(send, self.max_body)
            return
        seen = 0

        async def bounded() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise BodyTooLarge
            return message

        await self.app(scope, bounded, send)


async def _refuse(send: Send, limit: int) -> None:
    import json

    payload = json.dumps(too_large_body(limit), ensure_ascii=False).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def too_large_body(limit: int) -> dict[str, Any]:
    from .errors import body

    return body(
        "too-large",
        f"请求太大：超过 {size(limit)} 的上限，已拒绝",
        f"request too large: over the {size(limit)} limit; refused",
    )


@dataclass
class Upload:
    """One file from a request: its bytes, its name if it came with one, and the form's text fields."""

    data: bytes
    filename: str | None
    fields: dict[str, str] = field(default_factory=dict)


def size(n: int) -> str:
    """A limit as people read it: 20 MiB, 96 KiB."""
    return f"{n / (1024 * 1024):g} MiB" if n >= 1024 * 1024 else f"{n / 1024:g} KiB"


def _too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        "too-large",
        f"文件太大：超过 {size(limit)} 的上限，已拒绝读取",
        f"file too large: over the {size(limit)} limit; refused",
    )


async def read_upload(request: Request, limits: Limits) -> Upload:
    """The file a request carries: the ``file`` part of a multipart form (at most ``max_form_parts`` parts, one
    file), or the body itself (JSON, YAML or a workbook's bytes)."""
    kind = request.headers.get("content-type", "")
    if not kind.startswith("multipart/form-data"):
        data = await request.body()
        if not data:
            raise ApiError(
                422, "upload-missing", "请求中没有文件或填报数据", "the request carries no file or submission"
            )
        if len(data) > limits.max_upload:
            raise _too_large(limits.max_upload)
        return Upload(data, None)
    async with request.form(max_files=1, max_fields=limits.max_form_parts) as form:
        part = form.get("file")
        if not isinstance(part, UploadFile):
            raise ApiError(
                422, "upload-missing", "表单中没有名为 file 的文件", "the form has no file part named 'file'"
            )
        data = await part.read(limits.max_upload + 1)
        if len(data) > limits.max_upload:
            raise _too_large(limits.max_upload)
        fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        return Upload(data, _plain_name(part.filename), fields)


def _plain_name(name: str | None) -> str | None:
    """The file's own name, without any folders a client put in front of it."""
    if not name:
        return None
    return name.replace("\\", "/").rsplit("/", 1)[-1][:200] or None


def body_spec(description: str) -> dict[str, Any]:
    """The OpenAPI request body of an upload endpoint (read by :func:`read_upload`, not by FastAPI)."""
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "reason": {"type": "string", "description": "原因（写入审计日志）"},
                        },
                        "required": ["file"],
                    }
                },
                "application/json": {"schema": {"type": "object"}},
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    }
