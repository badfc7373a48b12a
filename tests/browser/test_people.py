"""Users and tokens in a real Chromium: the 管理员 creates a 学校 user (a missing unit code is refused with the
reason), the user signs in, makes an API token whose secret the page shows once and which the API then takes,
revokes it (the API refuses it); the 管理员 stops the account and the user can no longer sign in. A 学校 user
gets 403 for 用户管理. A user signed in in two browsers ends the other session from the first (登录会话 →
退出其他会话): the first stays signed in, the second is sent to 登录 on its next click."""

from __future__ import annotations

import httpx

from scoring.service.models import INSPECTOR, User

from .conftest import ADMIN_PASSWORD, FAST, Contexts, Live
from .test_dashboard import cells
from .test_workspace import shot, sign_in


def test_an_office_manages_users_and_a_user_its_tokens(contexts: Contexts, live: Live) -> None:
    admin = sign_in(contexts(), live, "admin", then="/users", secret=ADMIN_PASSWORD)
    form = admin.locator("#new-user form")
    form.get_by_label("用户名").fill("nanhu")
    form.get_by_label("姓名 / 单位").fill("南湖小学")
    form.get_by_label("角色").select_option("学校")
    form.get_by_label("初始密码").fill("nanhu-password")
    form.get_by_role("button", name="新建").click()
    admin.locator("#user-problems").wait_for()
    assert "学校用户必须指定所属单位代码" in admin.inner_text("#user-problems")
    form = admin.locator("#new-user form")
    assert form.get_by_label("用户名").input_value() == "nanhu"  # what was typed stays
    form.get_by_label("所属单位代码（学校用户必填）").fill("3201030009")
    form.get_by_label("初始密码").fill("nanhu-password")
    form.get_by_role("button", name="新建").click()
    admin.locator("#done").wait_for()
    row = next(r for r in cells(admin, "#users tbody tr") if r[0] == "nanhu")
    assert row[1:5] == ["南湖小学", "学校", "3201030009", "在用"]
    shot(admin, "users")

    # the new user makes an API token: shown once, taken by the API, refused once revoked
    user = sign_in(contexts(), live, "nanhu", then="/account", secret="nanhu-password")
    user.get_by_label("用途").fill("区教育信息平台")
    user.get_by_role("button", name="新建 API 令牌").click()
    secret = user.inner_text("#secret").strip()
    api = f"{live.base}/api/v1/me"
    me = httpx.get(api, headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200 and me.json()["name"] == "nanhu"
    user.goto(f"{live.base}/account")
    assert user.locator("#secret").count() == 0  # never shown again
    token_row = user.locator("#tokens tbody tr", has_text="区教育信息平台")
    token_row.get_by_role("button", name="撤销").click()
    user.locator("#tokens tbody tr", has_text="区教育信息平台").get_by_text("已撤销").wait_for()
    assert httpx.get(api, headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert user.request.get(f"{live.base}/users").status == 403

    # the office stops the account: signed out everywhere, and no new sign-in
    admin.goto(f"{live.base}/users")
    admin.locator("#users tbody tr", has_text="nanhu").get_by_role("button", name="停用").click()
    admin.locator("#done").wait_for()
    assert "已停用 nanhu" in admin.inner_text("#done")
    user.goto(f"{live.base}/account")
    assert user.url.startswith(f"{live.base}/login")
    r = httpx.post(f"{live.base}/api/v1/login", json={"name": "nanhu", "password": "nanhu-password"})
    assert r.status_code == 401


def test_a_user_ends_the_other_session_from_one_browser(contexts: Contexts, live: Live) -> None:
    with live.svc.transaction() as session:  # a user of this test only (the server is shared by the package)
        session.add(User(name="twice", role=INSPECTOR, password_hash=FAST.hash("twice-password")))
    first = sign_in(contexts(), live, "twice", then="/account", secret="twice-password")
    second = sign_in(contexts(), live, "twice", then="/account", secret="twice-password")
    first.reload()
    rows = cells(first, "#sessions tbody tr")
    assert len(rows) == 2 and [r[3] for r in rows].count("当前会话") == 1
    assert cells(second, "#sessions tbody tr")[0][3] == "当前会话"  # the newest sign-in is the second's
    shot(first, "sessions")

    first.get_by_role("button", name="退出其他会话").click()
    first.locator("#ended").wait_for()
    assert "已结束其他 1 个登录会话" in first.inner_text("#ended")
    assert [r[3] for r in cells(first, "#sessions tbody tr")] == ["当前会话"]
    assert first.get_by_role("button", name="退出其他会话").is_disabled()  # nothing else to end

    second.get_by_role("link", name="评估项目").first.click()  # its next click: to 登录
    second.wait_for_url(lambda url: url.startswith(f"{live.base}/login?next="))
    first.get_by_role("link", name="评估项目").first.click()  # the first is still signed in
    first.wait_for_url(f"{live.base}/projects")
