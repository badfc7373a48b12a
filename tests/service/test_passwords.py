"""A new password (a user made, or a password reset) must not be the first thing anyone guesses: not the user's
name, not one character repeated, not a common password — refused with the reason in Chinese, nothing changed."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from scoring.service.auth import weak_password

from .conftest import ADMIN_PASSWORD, login


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("12345678", "这个密码太常见，很容易被猜到，请换一个"),
        ("Password1", "这个密码太常见，很容易被猜到，请换一个"),
        ("woaini1314", "这个密码太常见，很容易被猜到，请换一个"),
        ("zhangwei", "密码不能与用户名相同"),
        ("ZhangWei", "密码不能与用户名相同"),
        ("qqqqqqqq", "密码不能是同一个字符的重复"),
        ("滨江实验小学2026春", None),
        ("zhangwei-password", None),
    ],
)
def test_what_is_too_easy_to_guess(password: str, why: str | None) -> None:
    assert weak_password(password, "zhangwei") == why


def test_a_weak_password_is_refused_when_a_user_is_made_or_reset(client: TestClient) -> None:
    admin = login(client, "admin", ADMIN_PASSWORD)
    body = {"name": "zhangwei", "role": "督学", "password": "1qaz2wsx"}
    r = client.post("/api/v1/users", json=body, headers=admin)
    assert r.status_code == 422 and r.json()["message"] == "这个密码太常见，很容易被猜到，请换一个"
    assert all(u["name"] != "zhangwei" for u in client.get("/api/v1/users", headers=admin).json())
    body["password"] = "督学张伟-2026"
    assert client.post("/api/v1/users", json=body, headers=admin).status_code == 201
    r = client.patch("/api/v1/users/zhangwei", json={"password": "ZHANGWEI"}, headers=admin)
    assert r.status_code == 422 and r.json()["message"] == "密码不能与用户名相同"
    assert login(client, "zhangwei", "督学张伟-2026")  # unchanged
