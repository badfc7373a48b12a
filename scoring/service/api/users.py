"""Signing in and out, users and their API tokens."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import errors, throttle
from ..access import Actor, CurrentActor, CurrentService
from ..audit import changes, record
from ..auth import end_sessions, issue, live_sessions, weak_password
from ..errors import ApiError, not_found
from ..models import ADMIN, SCHOOL, Token, User, now
from ..schemas import (
    LoginIn,
    SessionInfo,
    SessionsEnd,
    SessionsEnded,
    TokenIn,
    TokenInfo,
    TokenOut,
    UserChange,
    UserIn,
    UserOut,
)

router = APIRouter(tags=["用户 / users"])


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        name=user.name,
        display_name=user.display_name,
        role=user.role,
        unit_code=user.unit_code,
        active=user.active,
    )


@router.post("/login", response_model=TokenOut, summary="用户名和密码登录 / password login")
def login(body: LoginIn, request: Request, svc: CurrentService) -> TokenOut | JSONResponse:
    """A session token for ``Settings.session_hours``; send it as ``Authorization: Bearer <token>``. After too
    many failed sign-ins for a name or from an address: 429 with ``Retry-After`` (``service/throttle.py``)."""
    try:
        throttle.attempt(svc, body.name, throttle.address_of(request))
    except throttle.Locked as locked:
        return JSONResponse(
            errors.body("login-throttled", locked.zh, locked.en, retry_after=locked.seconds),
            status_code=429,
            headers={"Retry-After": str(locked.seconds)},
        )
    with svc.transaction() as session:
        user = session.scalars(select(User).where(User.name == body.name)).first()
        stored = user.password_hash if user is not None and user.active else None
        if not svc.passwords.verify(stored, body.password) or user is None:
            raise ApiError(401, "login-failed", "用户名或密码不正确", "wrong name or password")
        throttle.succeeded(session, body.name)
        expires = now() + dt.timedelta(hours=svc.settings.session_hours)
        token, secret = issue(session, user, "session", "登录", expires)
        record(session, user.id, "login", "token", token.id)
    return TokenOut(token=secret, id=token.id, kind=token.kind, expires_at=token.expires_at)


@router.post("/logout", summary="退出登录（撤销当前令牌）/ revoke the token in use")
def logout(actor: CurrentActor, svc: CurrentService) -> dict[str, bool]:
    with svc.transaction() as session:
        token = session.get(Token, actor.token_id)
        if token is not None:
            token.revoked_at = now()
            record(session, actor.id, "revoke", "token", token.id, new={"revoked": True})
    return {"ok": True}


@router.get("/me", summary="当前用户 / who am I")
def me(actor: CurrentActor, svc: CurrentService) -> UserOut:
    with svc.sessions() as session:
        user = session.get(User, actor.id)
        assert user is not None  # the token was just checked
        return user_out(user)


@router.get("/users", summary="用户列表（管理员）/ users")
def users(actor: CurrentActor, svc: CurrentService) -> list[UserOut]:
    actor.require("manage-users")
    with svc.sessions() as session:
        return [user_out(u) for u in session.scalars(select(User).order_by(User.name))]


@router.post("/users", status_code=201, summary="新建用户（管理员）/ create a user")
def create_user(body: UserIn, actor: CurrentActor, svc: CurrentService) -> UserOut:
    actor.require("manage-users")
    _check_unit(body.role, body.unit_code)
    if body.password:
        _check_password(body.password, body.name)
    password = svc.passwords.hash(body.password) if body.password else None
    with svc.transaction() as session:
        if session.scalars(select(User).where(User.name == body.name)).first() is not None:
            raise ApiError(409, "user-exists", f"用户名 “{body.name}” 已被使用", f"user '{body.name}' exists")
        user = User(
            name=body.name,
            display_name=body.display_name,
            role=body.role,
            unit_code=body.unit_code,
            password_hash=password,
        )
        session.add(user)
        session.flush()
        fields = {
            "name": user.name,
            "role": user.role,
            "unit_code": user.unit_code,
            "password": bool(password),
        }
        record(session, actor.id, "create", "user", user.id, new=fields, reason=body.reason)
        return user_out(user)


def _check_password(password: str, name: str) -> None:
    """422 with the reason for a password too easy to guess (``auth.weak_password``)."""
    why = weak_password(password, name)
    if why is not None:
        raise ApiError(422, "password-weak", why, "the password is too easy to guess")


@router.patch("/users/{name}", summary="修改用户（管理员）/ change a user")
def change_user(name: str, body: UserChange, actor: CurrentActor, svc: CurrentService) -> UserOut:
    """Role, unit, display name, active; a new password. Deactivating a user or resetting the password revokes
    every token the user has. Each change is audited with old → new (a password only as "changed")."""
    actor.require("manage-users")
    given = body.model_dump(exclude_unset=True, exclude={"password", "reason"})
    with svc.transaction() as session:
        user = session.scalars(select(User).where(User.name == name)).first()
        if user is None:
            raise not_found(f"用户 {name}", f"user {name}")
        before = {k: getattr(user, k) for k in given}
        after = {**before, **given}
        role, unit_code = after.get("role", user.role), after.get("unit_code", user.unit_code)
        _check_unit(role, unit_code)
        old, new = changes(before, after)
        for key, value in new.items():
            setattr(user, key, value)
        if body.password is not None:
            _check_password(body.password, user.name)
            user.password_hash = svc.passwords.hash(body.password)
            old["password"], new["password"] = "…", "已更改"
        if body.password is not None or new.get("active") is False:
            for token in session.scalars(
                select(Token).where(Token.user_id == user.id, Token.revoked_at.is_(None))
            ):
                token.revoked_at = now()
        if new:
            record(session, actor.id, "update", "user", user.id, old=old, new=new, reason=body.reason)
        return user_out(user)


def _check_unit(role: str, unit_code: str | None) -> None:
    if (role == SCHOOL) != bool(unit_code):
        raise ApiError(
            422,
            "user-unit",
            "学校用户必须指定所属单位代码（unit_code），其他角色不能指定",
            "a 学校 user needs unit_code; other roles may not have one",
        )


@router.post("/tokens", status_code=201, summary="新建 API 令牌 / create an API token")
def create_token(body: TokenIn, actor: CurrentActor, svc: CurrentService) -> TokenOut:
    """For the caller, or (管理员) for another user such as a system account. The secret is shown once."""
    with svc.transaction() as session:
        user = _token_owner(session, actor, body.user)
        expires = now() + dt.timedelta(days=body.days) if body.days else None
        token, secret = issue(session, user, "api", body.name, expires)
        record(
            session,
            actor.id,
            "create",
            "token",
            token.id,
            new={
                "user": user.name,
                "name": body.name,
                "expires_at": expires.isoformat() if expires else None,
            },
            reason=body.reason,
        )
    return TokenOut(token=secret, id=token.id, kind=token.kind, expires_at=token.expires_at)


def _token_owner(session: Session, actor: Actor, name: str | None) -> User:
    if name is None or name == actor.name:
        user = session.get(User, actor.id)
        assert user is not None
        return user
    actor.require("manage-users")
    found = session.scalars(select(User).where(User.name == name)).first()
    if found is None:
        raise not_found(f"用户 {name}", f"user {name}")
    return found


@router.get("/tokens", summary="令牌列表 / tokens")
def tokens(actor: CurrentActor, svc: CurrentService, user: str | None = None) -> list[TokenInfo]:
    """The caller's tokens, newest first (a 管理员: another user's with ``?user=``); secrets are never shown
    again."""
    with svc.sessions() as session:
        owner = _token_owner(session, actor, user)
        rows = session.scalars(select(Token).where(Token.user_id == owner.id).order_by(Token.id.desc()))
        return [token_info(t) for t in rows]


def token_info(t: Token) -> TokenInfo:
    return TokenInfo(
        id=t.id,
        kind=t.kind,
        name=t.name,
        created_at=t.created_at,
        expires_at=t.expires_at,
        revoked_at=t.revoked_at,
    )


@router.delete("/tokens/{token_id}", summary="撤销令牌 / revoke a token")
def revoke_token(token_id: int, actor: CurrentActor, svc: CurrentService) -> dict[str, bool]:
    """One's own token; a 管理员 any. Another user's token is 404 to anyone else."""
    with svc.transaction() as session:
        token = session.get(Token, token_id)
        if token is None or (token.user_id != actor.id and actor.role != ADMIN):
            raise not_found(f"令牌 {token_id}", f"token {token_id}")
        if token.revoked_at is None:
            token.revoked_at = now()
            record(
                session, actor.id, "revoke", "token", token.id, old={"revoked": False}, new={"revoked": True}
            )
    return {"ok": True}


# ------------------------------------------------------------------------------------------- sign-in sessions


@router.get("/sessions", summary="登录会话 / live sign-ins")
def sessions(actor: CurrentActor, svc: CurrentService, user: str | None = None) -> list[SessionInfo]:
    """The caller's live sign-ins (``session`` tokens, of the API's and the browser's logins, neither revoked nor
    expired), newest first, with ``current`` on the one making this request (none, if it is an API token); a
    管理员: another user's with ``?user=`` (anyone else: 403)."""
    with svc.sessions() as session:
        owner = _token_owner(session, actor, user)
        return [session_info(t, actor) for t in session.scalars(live_sessions(owner.id))]


def session_info(t: Token, actor: Actor) -> SessionInfo:
    return SessionInfo(
        id=t.id,
        name=t.name,
        created_at=t.created_at,
        expires_at=t.expires_at,
        current=t.id == actor.token_id,
    )


@router.post("/sessions/end-others", summary="退出其他会话 / end one's other sign-ins")
def end_other_sessions(actor: CurrentActor, svc: CurrentService) -> SessionsEnded:
    """Revoke every live sign-in of the caller but the one making this request (called with an API token: all
    of them); API tokens stay. Each revocation is audited."""
    with svc.transaction() as session:
        ended = end_sessions(session, actor.id, actor.id, actor.token_id, "退出其他会话")
    return SessionsEnded(ended=ended)


@router.post("/users/{name}/sessions/end-all", summary="结束用户的全部会话（管理员）/ end a user's sign-ins")
def end_user_sessions(
    name: str, actor: CurrentActor, svc: CurrentService, body: SessionsEnd | None = None
) -> SessionsEnded:
    """Revoke every live sign-in of the user (a lost laptop), the 管理员's own included if named; the user's API
    tokens stay (revoke those with ``DELETE /tokens/{id}``; stopping the account revokes everything). Each
    revocation is audited with ``reason``."""
    actor.require("manage-users")
    reason = (body.reason if body else None) or "管理员结束全部会话"
    with svc.transaction() as session:
        user = session.scalars(select(User).where(User.name == name)).first()
        if user is None:
            raise not_found(f"用户 {name}", f"user {name}")
        ended = end_sessions(session, actor.id, user.id, None, reason)
    return SessionsEnded(ended=ended)
