"""The time a request may take: an ASGI middleware that answers 503 when the application has not started its
response within ``Limits.request_seconds``.

What it bounds: a client that sends its body slowly (the body is read inside the time), and work that waits on
the event loop. What it cannot do is stop Python code already running in a worker thread (scoring, a PDF): such
work finishes and what it stores is kept — the message says so, and the caller can look again. The heavy work a
request can start is bounded separately, by the upload limits and the pre-parse safety checks; batch uploads
run in worker processes and answer at once."""

from __future__ import annotations

import asyncio
import contextlib
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def timed_out(seconds: float) -> dict[str, str]:
    return {
        "error": "timeout",
        "message": f"请求在 {seconds:g} 秒内未能处理完毕，已停止等待；如为上传，稍后请查看是否已保存，不要重复提交",
        "message_en": f"the request did not finish within {seconds:g} s",
    }


class TimeLimit:
    """503 (JSON) for a request whose response has not started within ``seconds``; a response already under
    way is left to finish (its status line is sent)."""

    def __init__(self, app: ASGIApp, seconds: float):
        self.app, self.seconds = app, seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.seconds <= 0:
            await self.app(scope, receive, send)
            return
        started = asyncio.Event()

        async def watched(message: Message) -> None:
            if message["type"] == "http.response.start":
                started.set()
            await send(message)

        task = asyncio.ensure_future(self.app(scope, receive, watched))
        waiter = asyncio.ensure_future(started.wait())
        try:
            done, _ = await asyncio.wait(
                {task, waiter}, timeout=self.seconds, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            waiter.cancel()
        if task in done or started.is_set():
            await task  # finished, or its response is under way: let it complete
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await _answer(send, self.seconds)


async def _answer(send: Send, seconds: float) -> None:
    payload = json.dumps(timed_out(seconds), ensure_ascii=False).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(payload)).encode()),
                (b"retry-after", b"30"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
