"""Cookie sessions for the browser workspace, and the CSRF tokens every unsafe form carries.

A page sign-in is the API's password login (the same users, argon2id hashes and audit row): it issues a
``session`` token in the ``tokens`` table, and the browser keeps the token's secret in an HttpOnly, SameSite=Lax
cookie (Secure over HTTPS) that expires with the token (``Settings.session_hours``). Signing out revokes the token.
The API never reads the cookie (only ``Authorization: Bearer``), so the cookie cannot reach the API.

A browser sends the cookie with any request to the server, also one forged by another site, so every unsafe
request (POST) must carry a CSRF token the other site cannot know:

- signed in: ``HMAC-SHA256(session secret, "scoring-web-csrf")`` in the form's ``csrf`` field. It is derived from
  the secret (256 random bits that only the browser's HttpOnly cookie holds), so it needs no storage and dies with
  the session; a page of another site can neither read the cookie nor this page to learn it.
- the sign-in form itself (no session yet): a random value in a short-lived cookie (HttpOnly, SameSite=Lax, path
  ``/login``) that the form must repeat (double submit), so another site cannot sign a browser in as someone else.

Both are compared in constant time, and a request whose ``Origin`` header names another site is refused as well.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.responses import Response
from sqlalchemy import select
from starlette.datastructures import ImmutableMultiDict

from .. import throttle
from ..access import Actor, CurrentService, actor_of
from ..audit import record
from ..auth import issue, user_for
from ..errors import ApiError
from ..models import Token, User, now
from ..state import Service

COOKIE = "scoring_session"
LOGIN_COOKIE = "scoring_login"
FIELD = "csrf"
KIND = "session"  # a page sign-in is a password login like the API's (docs/service.md)
TOKEN_NAME = "网页登录"
LOGIN_MINUTES = 60


@dataclass(frozen=True)
class Visitor:
    """Who is looking at a page: the caller as the API's access rules know it, a name to show, the form token."""

    actor: Actor
    display: str
    csrf: str


class SignIn(Exception):
    """No valid session: a page sends the browser to 登录 (a form post is refused)."""


def csrf_for(secret: str) -> str:
    return hmac.new(secret.encode("utf-8"), b"scoring-web-csrf", hashlib.sha256).hexdigest()


def visitor(request: Request, svc: CurrentService) -> Visitor:
    """The signed-in visitor of this request, from the session cookie; :class:`SignIn` without a valid one."""
    secret = request.cookies.get(COOKIE, "")
    if not secret:
        raise SignIn
    with svc.sessions() as session:
        found = user_for(session, secret)
        if found is None or found[1].kind != KIND:
            raise SignIn
        user, token = found
        who = Visitor(actor_of(user, token.id), user.display_name or user.name, csrf_for(secret))
    request.state.visitor = who  # for the error page's header, should the page be refused
    return who


CurrentVisitor = Annotated[Visitor, Depends(visitor)]


def refused_csrf() -> ApiError:
    return ApiError(
        403,
        "csrf",
        "表单已过期或来自其他网站，已拒绝：请刷新页面后重试",
        "the form's CSRF token is missing or wrong, or the request came from another site",
    )


def same_origin(request: Request) -> None:
    """403 for a request whose ``Origin`` header names another site (browsers send it with every POST)."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    parts = urlsplit(origin)
    if parts.netloc != request.headers.get("host", "") or parts.scheme not in ("http", "https"):
        raise refused_csrf()


async def signed_form(request: Request, who: Visitor, max_fields: int = 8) -> ImmutableMultiDict[str, str]:
    """The fields of a small urlencoded form a signed-in visitor posts (``get``: a name's last value, ``getlist``:
    all), once its CSRF token is the session's — every such form is read here, so none skips the check."""
    async with request.form(max_files=0, max_fields=max_fields) as form:
        fields = ImmutableMultiDict([(k, v) for k, v in form.multi_items() if isinstance(v, str)])
    check(request, who, fields.get(FIELD))
    return fields


def check(request: Request, who: Visitor, sent: str | None) -> None:
    """403 unless the form's token is the session's (and the request comes from this site)."""
    same_origin(request)
    if not sent or not hmac.compare_digest(sent.encode("utf-8"), who.csrf.encode("utf-8")):
        raise refused_csrf()


# ------------------------------------------------------------------------------------------------ sign in


def login_nonce(request: Request) -> str:
    """The sign-in form's token: the one the browser holds already, else a new one (set by :func:`keep_nonce`)."""
    held = request.cookies.get(LOGIN_COOKIE, "")
    return held if 20 <= len(held) <= 100 else secrets.token_urlsafe(32)


def keep_nonce(request: Request, response: Response, nonce: str) -> None:
    response.set_cookie(
        LOGIN_COOKIE,
        nonce,
        max_age=LOGIN_MINUTES * 60,
        path="/login",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def check_login_form(request: Request, sent: str | None) -> None:
    """403 unless the sign-in form repeats the token its cookie holds (and comes from this site)."""
    same_origin(request)
    held = request.cookies.get(LOGIN_COOKIE, "")
    if not held or not sent or not hmac.compare_digest(held.encode("utf-8"), sent.encode("utf-8")):
        raise refused_csrf()


def sign_in(svc: Service, name: str, password: str, address: str) -> tuple[str, dt.datetime] | None:
    """A new session's secret and expiry for a right name and password (audited as the API's login); None for
    a wrong one (an unknown name takes as long: it is checked against a dummy hash). Throttled as the API's
    login (``service/throttle.py``): :class:`throttle.Locked` after too many failures for the name or address."""
    throttle.attempt(svc, name, address)
    with svc.transaction() as session:
        user = session.scalars(select(User).where(User.name == name)).first()
        stored = user.password_hash if user is not None and user.active else None
        if not svc.passwords.verify(stored, password) or user is None:
            return None
        throttle.succeeded(session, name)
        expires = now() + dt.timedelta(hours=svc.settings.session_hours)
        token, secret = issue(session, user, KIND, TOKEN_NAME, expires)
        record(session, user.id, "login", "token", token.id, new={"via": "web"})
    return secret, expires


def start(request: Request, response: Response, secret: str, hours: int) -> None:
    """Hand the session to the browser, and forget the sign-in form's token."""
    response.set_cookie(
        COOKIE,
        secret,
        max_age=hours * 3600,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    response.delete_cookie(LOGIN_COOKIE, path="/login")


def sign_out(svc: Service, who: Visitor, response: Response) -> None:
    """Revoke the session's token (audited) and drop the cookie."""
    with svc.transaction() as session:
        token = session.get(Token, who.actor.token_id)
        if token is not None and token.revoked_at is None:
            token.revoked_at = now()
            record(session, who.actor.id, "revoke", "token", token.id, new={"revoked": True, "via": "web"})
    response.delete_cookie(COOKIE, path="/")
