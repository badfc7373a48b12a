"""Sign-in sessions, on SQLite and PostgreSQL: a user lists their live sign-ins (this one marked) and ends the
others (``GET /api/v1/sessions``, ``POST /api/v1/sessions/end-others``; 我的账号's 登录会话 and 退出其他会话) —
the current one stays signed in, the others are refused; a user can neither see nor end another's; a 管理员 ends
all of a user's sign-ins (``POST /api/v1/users/{name}/sessions/end-all``; 用户管理's 结束全部会话), API tokens
staying; everyone else gets 403, an unknown name 404. Every revocation is in the audit log."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from .conftest import ADMIN_PASSWORD, login
from .test_web_county_data import csrf, sign_in

PASSWORD = "laptop-password"


def _users(c: TestClient) -> dict[str, str]:
    """``laptop`` (a 督学) and ``other`` (a 督学); the 管理员's headers."""
    admin = login(c, "admin", ADMIN_PASSWORD)
    for name in ("laptop", "other"):
        body = {"name": name, "role": "督学", "password": PASSWORD}
        assert c.post("/api/v1/users", json=body, headers=admin).status_code == 201
    return admin


def _sessions(c: TestClient, headers: dict[str, str], **params: str) -> list[dict[str, Any]]:
    r = c.get("/api/v1/sessions", headers=headers, params=params)
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()
    return found


def _me(c: TestClient, headers: dict[str, str]) -> int:
    return c.get("/api/v1/me", headers=headers).status_code


def _revocations(c: TestClient, admin: dict[str, str]) -> dict[int, dict[str, Any]]:
    r = c.get("/api/v1/audit", params={"entity": "token", "limit": 1000}, headers=admin)
    assert r.status_code == 200, r.text
    return {e["entity_id"]: e for e in r.json() if e["action"] == "revoke"}


def _token_id(c: TestClient, headers: dict[str, str]) -> int:
    current = [s for s in _sessions(c, headers) if s["current"]]
    assert len(current) == 1
    found: int = current[0]["id"]
    return found


def test_a_user_lists_their_sessions_and_ends_the_others(client: TestClient) -> None:
    admin = _users(client)
    first, second = login(client, "laptop", PASSWORD), login(client, "laptop", PASSWORD)
    api = client.post("/api/v1/tokens", json={"name": "平台"}, headers=first)
    assert api.status_code == 201
    system = {"Authorization": f"Bearer {api.json()['token']}"}
    theirs = login(client, "other", PASSWORD)

    listed = _sessions(client, first)
    assert len(listed) == 2  # both sign-ins; not the API token, not another user's
    assert [s["current"] for s in listed] == [False, True]  # newest first: the second sign-in, then this one
    assert all(s["expires_at"] and s["created_at"] for s in listed)
    mine, elsewhere = _token_id(client, first), _token_id(client, second)
    assert {s["id"] for s in listed} == {mine, elsewhere}
    assert not any(s["current"] for s in _sessions(client, system))  # an API token is no session

    r = client.post("/api/v1/sessions/end-others", headers=first)
    assert r.status_code == 200 and r.json() == {"ended": 1}
    assert _me(client, first) == 200  # still signed in
    assert _me(client, second) == 401  # refused
    assert _me(client, system) == 200  # API tokens stay
    assert _me(client, theirs) == 200  # another user's sign-in is untouched
    assert [s["id"] for s in _sessions(client, first)] == [mine]
    assert client.post("/api/v1/sessions/end-others", headers=first).json() == {"ended": 0}

    entry = _revocations(client, admin)[elsewhere]
    assert entry["user"] == "laptop" and entry["new"]["revoked"] is True and entry["reason"] == "退出其他会话"
    assert mine not in _revocations(client, admin)

    # called with an API token, every sign-in is "other"
    assert client.post("/api/v1/sessions/end-others", headers=system).json() == {"ended": 1}
    assert _me(client, first) == 401 and _me(client, system) == 200


def test_a_user_can_neither_see_nor_end_anothers_sessions(client: TestClient) -> None:
    _users(client)
    mine, theirs = login(client, "laptop", PASSWORD), login(client, "other", PASSWORD)
    assert client.get("/api/v1/sessions", params={"user": "other"}, headers=mine).status_code == 403
    assert client.post("/api/v1/users/other/sessions/end-all", headers=mine).status_code == 403
    assert client.post("/api/v1/users/nobody/sessions/end-all", headers=mine).status_code == 403
    assert client.post("/api/v1/sessions/end-others", headers=mine).json() == {"ended": 0}
    assert _me(client, theirs) == 200
    assert client.get("/api/v1/sessions").status_code == 401  # and nobody without signing in


def test_an_admin_ends_all_of_a_users_sessions(client: TestClient) -> None:
    admin = _users(client)
    first, second = login(client, "laptop", PASSWORD), login(client, "laptop", PASSWORD)
    api = client.post("/api/v1/tokens", json={"name": "平台"}, headers=first).json()["token"]
    system = {"Authorization": f"Bearer {api}"}
    ids = {s["id"] for s in _sessions(client, admin, user="laptop")}
    assert len(ids) == 2 and not any(s["current"] for s in _sessions(client, admin, user="laptop"))

    r = client.post("/api/v1/users/laptop/sessions/end-all", json={"reason": "笔记本电脑丢失"}, headers=admin)
    assert r.status_code == 200 and r.json() == {"ended": 2}
    assert _me(client, first) == 401 and _me(client, second) == 401
    assert _me(client, system) == 200  # API tokens are not sessions
    assert _me(client, admin) == 200
    assert _sessions(client, admin, user="laptop") == []
    audited = _revocations(client, admin)
    for token in ids:
        assert audited[token]["user"] == "admin" and audited[token]["reason"] == "笔记本电脑丢失"

    # no body: a default reason; an unknown user: 404; signing in again works
    again = login(client, "laptop", PASSWORD)
    r = client.post("/api/v1/users/laptop/sessions/end-all", headers=admin)
    assert r.json() == {"ended": 1} and _me(client, again) == 401
    assert client.post("/api/v1/users/nobody/sessions/end-all", headers=admin).status_code == 404
    assert client.get("/api/v1/sessions", params={"user": "nobody"}, headers=admin).status_code == 404


def _account(c: TestClient, path: str = "/account") -> str:
    r = c.get(path)
    assert r.status_code == 200, r.text
    return r.text


def _section(html: str) -> str:
    found = re.search(r'<section class="card" id="sessions">.*?</section>', html, re.S)
    assert found, html
    return found.group(0)


def test_the_account_page_lists_sessions_and_ends_the_others(client: TestClient) -> None:
    admin = _users(client)
    sign_in(client, "laptop", PASSWORD)
    other = TestClient(client.app, raise_server_exceptions=False)  # a second browser
    sign_in(other, "laptop", PASSWORD)
    stranger = TestClient(client.app, raise_server_exceptions=False)
    sign_in(stranger, "other", PASSWORD)

    html = _account(client)
    listed = _section(html)
    assert "登录会话" in listed and listed.count("<tr>") == 3  # the heading row and both sign-ins
    assert listed.count("当前会话") == 1 and "退出其他会话" in listed
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", listed)  # times as the other pages show them (北京时间)

    # without the session's form token: refused, nobody signed out
    r = client.post("/account/sessions/end-others", data={"csrf": "nope"}, follow_redirects=False)
    assert r.status_code == 403
    assert other.get("/account", follow_redirects=False).status_code == 200

    r = client.post("/account/sessions/end-others", data={"csrf": csrf(html)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/account?ended=1")
    after = _account(client, r.headers["location"])
    assert "已结束其他 1 个登录会话" in after and _section(after).count("<tr>") == 2
    r = other.get("/account", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert stranger.get("/account", follow_redirects=False).status_code == 200  # another user's: untouched
    assert len(_revocations(client, admin)) >= 1

    r = client.post("/account/sessions/end-others", data={"csrf": csrf(after)}, follow_redirects=False)
    assert "没有其他登录会话需要结束" in client.get(r.headers["location"]).text


def test_an_admin_ends_a_users_sessions_on_the_users_page(client: TestClient) -> None:
    admin = _users(client)
    browser = TestClient(client.app, raise_server_exceptions=False)
    sign_in(browser, "laptop", PASSWORD)
    system = login(client, "laptop", PASSWORD)  # an API sign-in: a session as well
    sign_in(client, "admin", ADMIN_PASSWORD)
    page = client.get("/users")
    assert page.status_code == 200 and "结束全部会话" in page.text
    token = csrf(page.text)

    # a user who is not 管理员: 403
    r = browser.post("/users/other", data={"csrf": csrf(_account(browser)), "action": "sessions"})
    assert r.status_code == 403

    r = client.post("/users/laptop", data={"csrf": token, "action": "sessions", "reason": "笔记本电脑丢失"})
    assert r.status_code == 200 and "已结束 laptop 的 2 个登录会话" in r.text
    assert browser.get("/account", follow_redirects=False).headers["location"].startswith("/login")
    assert _me(client, system) == 401
    assert client.get("/account").status_code == 200  # the 管理员 stays signed in
    reasons = {e["reason"] for e in _revocations(client, admin).values() if e["user"] == "admin"}
    assert "笔记本电脑丢失" in reasons

    r = client.post("/users/nobody", data={"csrf": token, "action": "sessions"})
    assert r.status_code == 404
