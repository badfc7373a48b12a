"""Users and tokens in the workspace: the 管理员's 用户管理 page (create a user, set a new password, stop or
restore an account, end all of a user's sign-ins — a lost laptop) and everyone's 我的账号 page (their live sign-ins
with 退出其他会话, and their API tokens: make one — its secret shown this once — or revoke one). Each form calls
the API's own function (``api.users``), so the rules (a 学校 user needs its unit code, a new password or a stopped
account signs the user out everywhere), the argon2id hashes and the audit rows are the API's; a refusal is shown
on the page with its reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from ..access import CurrentService
from ..api.users import (
    change_user,
    create_token,
    create_user,
    end_other_sessions,
    end_user_sessions,
    revoke_token,
    session_info,
    token_info,
    user_out,
)
from ..auth import live_sessions
from ..errors import ApiError
from ..models import ROLES, SCHOOL, Token, User
from ..schemas import SessionsEnd, SessionsEnded, TokenIn, TokenOut, UserChange, UserIn
from ..state import Service
from . import session as web
from .render import Page, page
from .session import CurrentVisitor, Visitor

router = APIRouter(route_class=Page, include_in_schema=False)

FIELD_ZH = {
    "name": "用户名（不含空格，至多 64 字）",
    "display_name": "姓名或单位名称（至多 200 字）",
    "role": "角色",
    "unit_code": "所属单位代码",
    "password": "密码（至少 8 位，不能是常见密码或与用户名相同）",
    "days": "有效天数（1 至 3650）",
    "reason": "原因（至多 2000 字）",
}


async def _fields(request: Request, who: Visitor) -> dict[str, str]:
    fields = await web.signed_form(request, who, max_fields=12)
    return {k: v.strip() for k, v in fields.items()}


def _invalid(err: ValidationError) -> list[str]:
    return [f"请检查{FIELD_ZH.get(str(e['loc'][0]), str(e['loc'][0]))}" for e in err.errors() if e["loc"]]


# ----------------------------------------------------------------------------------------------- 用户管理


@router.get("/users")
def users_page(request: Request, svc: CurrentService, who: CurrentVisitor) -> Response:
    return show_users(request, svc, who)


def show_users(request: Request, svc: Service, who: Visitor, status: int = 200, **extra: Any) -> Response:
    """Every user (管理员 only: others get 403), with the forms."""
    who.actor.require("manage-users")
    with svc.sessions() as session:
        people = [user_out(u) for u in session.scalars(select(User).order_by(User.role, User.name))]
    context = {"who": who, "people": people, "roles": ROLES, "school": SCHOOL, "form": {}, **extra}
    return page(request, "users.html", context, status)


@router.post("/users")
async def new_user(request: Request, svc: CurrentService, who: CurrentVisitor) -> Response:
    """Create a user: 303 back to the list, or the list again with what is wrong."""
    fields = await _fields(request, who)
    who.actor.require("manage-users")
    try:
        body = UserIn(
            name=fields.get("name", ""),
            display_name=fields.get("display_name", ""),
            role=fields.get("role", ""),  # pydantic checks it against the roles
            unit_code=fields.get("unit_code") or None,
            password=fields.get("password") or None,
        )
    except ValidationError as err:
        return await run_in_threadpool(
            show_users, request, svc, who, 422, problems=_invalid(err), form=fields
        )
    made = f"已新建用户 {body.name}"
    return await _call(request, svc, who, fields, lambda: create_user(body, who.actor, svc), made)


@router.post("/users/{name}")
async def change(request: Request, name: str, svc: CurrentService, who: CurrentVisitor) -> Response:
    """Stop or restore an account, set a new password, or end all its sign-ins (``action``): the list again with
    what was done."""
    fields = await _fields(request, who)
    who.actor.require("manage-users")
    action = fields.get("action", "")
    if action == "sessions":
        return await _end_sessions(request, name, svc, who, fields.get("reason") or None)
    if action == "stop":
        body, done = UserChange(active=False, reason="停用账号"), f"已停用 {name}，其全部令牌已撤销"
    elif action == "restore":
        body, done = UserChange(active=True, reason="恢复账号"), f"已恢复 {name}"
    elif action == "password":
        try:
            body = UserChange(password=fields.get("password", ""), reason="重置密码")
        except ValidationError:
            return await run_in_threadpool(show_users, request, svc, who, 422, problems=["新密码至少 8 位"])
        done = f"已为 {name} 设置新密码，其全部令牌已撤销"
    else:
        return await run_in_threadpool(show_users, request, svc, who, 422, problems=["不认识的操作"])
    return await _call(request, svc, who, fields, lambda: change_user(name, body, who.actor, svc), done)


async def _end_sessions(
    request: Request, name: str, svc: Service, who: Visitor, reason: str | None
) -> Response:
    """结束全部会话: every live sign-in of the user is revoked (audited with the reason, if given); API tokens
    stay."""
    try:
        body = SessionsEnd(reason=reason)
    except ValidationError as err:
        return await run_in_threadpool(show_users, request, svc, who, 422, problems=_invalid(err))
    ended: SessionsEnded = await run_in_threadpool(end_user_sessions, name, who.actor, svc, body)
    done = f"已结束 {name} 的 {ended.ended} 个登录会话（API 令牌不受影响）"
    return await run_in_threadpool(show_users, request, svc, who, 200, done=done)


async def _call(
    request: Request, svc: Service, who: Visitor, fields: dict[str, str], call: Callable[[], Any], done: str
) -> Response:
    try:
        await run_in_threadpool(call)
    except ApiError as err:
        if err.status not in (409, 422):
            raise
        return await run_in_threadpool(
            show_users, request, svc, who, err.status, problems=[err.zh], form=fields
        )
    return await run_in_threadpool(show_users, request, svc, who, 200, done=done)


# ----------------------------------------------------------------------------------------------- 我的账号


@router.get("/account")
def account_page(
    request: Request, svc: CurrentService, who: CurrentVisitor, ended: int | None = None
) -> Response:
    """``ended``: how many sign-ins 退出其他会话 has just ended (its redirect says so)."""
    return show_account(request, svc, who, ended=ended)


def show_account(request: Request, svc: Service, who: Visitor, status: int = 200, **extra: Any) -> Response:
    """The visitor's own account, live sign-ins (this one marked 当前会话) and tokens (the session tokens of
    sign-ins are listed there too: revoking one signs that browser out)."""
    with svc.sessions() as session:
        me = session.get(User, who.actor.id)
        rows = session.scalars(select(Token).where(Token.user_id == who.actor.id).order_by(Token.id.desc()))
        tokens = [token_info(t) for t in rows]
        live = [session_info(t, who.actor) for t in session.scalars(live_sessions(who.actor.id))]
    context = {
        "who": who,
        "me": me,
        "tokens": tokens,
        "sessions": live,
        "current": who.actor.token_id,
        **extra,
    }
    return page(request, "account.html", context, status)


@router.post("/account/tokens")
async def new_token(request: Request, svc: CurrentService, who: CurrentVisitor) -> Response:
    """Make an API token for the visitor; the page shows its secret once (never stored, never shown again)."""
    fields = await _fields(request, who)
    try:
        body = TokenIn(name=fields.get("name", ""), days=fields.get("days") or None)
    except ValidationError as err:
        return await run_in_threadpool(show_account, request, svc, who, 422, problems=_invalid(err))
    made: TokenOut = await run_in_threadpool(create_token, body, who.actor, svc)
    return await run_in_threadpool(show_account, request, svc, who, 200, secret=made.token, made=made.id)


@router.post("/account/tokens/{token_id}/revoke")
async def revoke(request: Request, token_id: int, svc: CurrentService, who: CurrentVisitor) -> Response:
    await _fields(request, who)
    await run_in_threadpool(revoke_token, token_id, who.actor, svc)
    if token_id == who.actor.token_id:  # this very sign-in: signed out
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse("/account", status_code=303)


@router.post("/account/sessions/end-others")
async def end_others(request: Request, svc: CurrentService, who: CurrentVisitor) -> Response:
    """退出其他会话: every other live sign-in of the visitor is revoked (audited); this one stays. 303 back to
    我的账号, which says how many were ended."""
    await _fields(request, who)
    ended: SessionsEnded = await run_in_threadpool(end_other_sessions, who.actor, svc)
    return RedirectResponse(f"/account?ended={ended.ended}#sessions", status_code=303)
