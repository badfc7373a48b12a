"""Users and tokens in a real Chromium: the 管理员 creates a 学校 user (a missing unit code is refused with the
reason), the user signs in, makes an API token whose secret the page shows once and which the API then takes,
revokes it (the API refuses it); the 管理员 stops the account and the user can no longer sign in. A 学校 user
gets 403 for 用户管理."""

from __future__ import annotations

import httpx

from .conftest import ADMIN_PASSWORD, Contexts, Live
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
