"""Password guessing is throttled on both sign-in paths (the API's login and the 登录 page), by user name and by
client address, with the count kept in the database (shared by every worker on it), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from scoring.service import throttle
from scoring.service.models import LoginFailure, Token, now
from scoring.service.settings import Limits

from .conftest import ADMIN_PASSWORD, make_client, service_of

LOGIN = "/api/v1/login"
LOCKED = re.compile(r"登录失败次数过多，请 (\d+) 分钟后再试")


def api(c: TestClient, name: str, password: str) -> int:
    return c.post(LOGIN, json={"name": name, "password": password}).status_code


def fail(c: TestClient, name: str, times: int) -> None:
    for _ in range(times):
        assert api(c, name, "wrong-password") == 401


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def page_login(c: TestClient, name: str, password: str) -> tuple[int, str]:
    form = c.get("/login")
    r = c.post(
        "/login",
        data={"name": name, "password": password, "csrf": csrf(form.text), "next": "/projects"},
        follow_redirects=False,
    )
    return r.status_code, r.text


def rows(c: TestClient, name: str | None = None) -> int:
    with service_of(c).sessions() as session:
        query = select(func.count()).select_from(LoginFailure)
        if name is not None:
            query = query.where(LoginFailure.name == name)
        return session.scalar(query) or 0


def tokens(c: TestClient) -> int:
    with service_of(c).sessions() as session:
        return session.scalar(select(func.count()).select_from(Token)) or 0


def age(c: TestClient, minutes: int) -> None:
    """Every failure as if it had happened ``minutes`` earlier (the window passing, without sleeping)."""
    with service_of(c).transaction() as session:
        for row in session.scalars(select(LoginFailure)):
            row.at -= dt.timedelta(minutes=minutes)


def test_five_wrong_passwords_lock_the_name_until_the_window_passes(client: TestClient) -> None:
    fail(client, "admin", 5)
    before = tokens(client)
    r = client.post(LOGIN, json={"name": "admin", "password": ADMIN_PASSWORD})
    assert r.status_code == 429 and r.json()["error"] == "login-throttled"
    found = LOCKED.fullmatch(r.json()["message"])
    assert found and found.group(1) == "15"
    wait = int(r.headers["retry-after"])
    assert 840 < wait <= 900 and r.json()["retry_after"] == wait
    assert tokens(client) == before  # not signed in
    assert rows(client, "admin") == 5  # a refused attempt is not counted: the lock-out ends with the window

    age(client, 16)
    assert api(client, "admin", ADMIN_PASSWORD) == 200
    assert rows(client) == 0  # the success cleared the name's failures (and the window the old ones)
    fail(client, "admin", 4)
    assert api(client, "admin", ADMIN_PASSWORD) == 200  # four and a success: not locked, and cleared again
    assert rows(client, "admin") == 0


def test_the_lock_ends_when_enough_failures_are_older_than_the_window(client: TestClient) -> None:
    fail(client, "admin", 5)
    age(client, 10)
    r = client.post(LOGIN, json={"name": "admin", "password": ADMIN_PASSWORD})
    assert r.status_code == 429 and LOCKED.fullmatch(r.json()["message"])
    assert 240 < int(r.headers["retry-after"]) <= 300  # 5 minutes left of the 15
    assert "请 5 分钟后再试" in r.json()["message"]
    # the clock is injectable too: a minute after the fifth failure leaves the window, the name is free again
    later = now() + dt.timedelta(minutes=6)
    throttle.attempt(service_of(client), "admin", "testclient", at=later)
    with pytest.raises(throttle.Locked):  # that attempt counted (a failure until a success clears it)
        for _ in range(5):
            throttle.attempt(service_of(client), "admin", "testclient", at=later)


def test_unknown_names_lock_the_same_way_and_say_the_same(client: TestClient) -> None:
    fail(client, "admin", 5)
    fail(client, "nobody", 5)
    known = client.post(LOGIN, json={"name": "admin", "password": "wrong-password"})
    unknown = client.post(LOGIN, json={"name": "nobody", "password": "wrong-password"})
    assert known.status_code == unknown.status_code == 429
    assert known.json()["message"] == unknown.json()["message"]
    assert known.json().keys() == unknown.json().keys()
    assert rows(client, "nobody") == 5


def test_one_address_failing_across_many_names_is_refused(client: TestClient) -> None:
    limits = service_of(client).settings.limits
    assert (limits.login_failures, limits.login_address_failures, limits.login_window_minutes) == (5, 20, 15)
    for i in range(20):
        assert api(client, f"guess-{i}", "wrong-password") == 401  # one try per name: no name is locked
    r = client.post(LOGIN, json={"name": "guess-new", "password": "wrong-password"})
    assert r.status_code == 429 and LOCKED.fullmatch(r.json()["message"]) and "retry-after" in r.headers
    assert api(client, "admin", ADMIN_PASSWORD) == 429  # from this address, even the right password
    assert rows(client) == 20
    age(client, 16)
    assert api(client, "admin", ADMIN_PASSWORD) == 200


def test_the_login_page_is_throttled_by_the_same_count(client: TestClient) -> None:
    fail(client, "admin", 3)  # the API's failures count for the page too
    for _ in range(2):
        status, text = page_login(client, "admin", "wrong-password")
        assert status == 401 and "用户名或密码不正确" in text
    before = tokens(client)
    status, text = page_login(client, "admin", ADMIN_PASSWORD)
    assert status == 429 and "登录失败次数过多，请 15 分钟后再试" in text
    assert "scoring_session" not in client.cookies and tokens(client) == before
    assert api(client, "admin", ADMIN_PASSWORD) == 429  # and the page's for the API
    age(client, 16)
    status, _ = page_login(client, "admin", ADMIN_PASSWORD)
    assert status == 303 and "scoring_session" in client.cookies
    assert rows(client, "admin") == 0


def test_two_apps_on_one_database_share_the_count(
    client: TestClient, tmp_path: Path, database: str | None
) -> None:
    other = make_client(tmp_path, database)  # another worker process of `scoring serve --workers 2`
    try:
        fail(client, "admin", 3)
        fail(other, "admin", 2)
        assert api(client, "admin", ADMIN_PASSWORD) == 429
        assert api(other, "admin", ADMIN_PASSWORD) == 429
    finally:
        service_of(other).close()


def test_the_limits_come_from_the_settings(tmp_path: Path) -> None:
    limits = Limits(login_failures=2, login_address_failures=0, login_window_minutes=1)
    c = make_client(tmp_path, None, limits)
    try:
        fail(c, "admin", 2)
        r = c.post(LOGIN, json={"name": "admin", "password": "wrong-password"})
        assert r.status_code == 429 and "请 1 分钟后再试" in r.json()["message"]
        for i in range(30):  # 0: no limit per address
            assert api(c, f"guess-{i}", "wrong-password") == 401
    finally:
        service_of(c).close()
