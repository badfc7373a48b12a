"""Who may do what, tried at every boundary, on SQLite and PostgreSQL: a 学校 user reaches only its own unit
(another unit's anything is 404, exactly like a unit that does not exist), may not take a 管理员's actions (403),
and nobody gets anything without a valid token (401)."""

from __future__ import annotations

import pytest

from .conftest import EXAMPLES, A, B, World

STRONG = (EXAMPLES / "strong.yaml").read_bytes()
WEAK = (EXAMPLES / "weak.json").read_bytes()


def _upload(world: World, code: str, who: dict[str, str], data: bytes, name: str) -> int:
    return world.c.post(
        world.unit_path(code, "/submissions"), files={"file": (name, data)}, headers=who
    ).status_code


@pytest.fixture
def scored(world: World) -> World:
    """Both units with one scored submission (by the 督学)."""
    assert _upload(world, A, world.inspector, STRONG, "strong.yaml") == 201
    assert _upload(world, B, world.inspector, WEAK, "weak.json") == 201
    return world


READS = [
    "",
    "/submissions",
    "/submissions/1",
    "/submissions/1/file",
    "/submissions/1/results",
    "/result",
    "/rectifications",
]


@pytest.mark.parametrize("rest", READS)
def test_a_school_reads_its_own_unit_and_another_units_anything_is_404_like_a_unit_that_is_not_there(
    scored: World, rest: str
) -> None:
    c = scored.c
    assert c.get(scored.unit_path(A, rest), headers=scored.school_a).status_code == 200
    other = c.get(scored.unit_path(B, rest), headers=scored.school_a)
    missing = c.get(scored.unit_path("9999999999", rest), headers=scored.school_a)
    assert other.status_code == missing.status_code == 404
    assert other.json() == {k: v.replace("9999999999", B) for k, v in missing.json().items()}
    assert c.get(scored.unit_path(B, rest), headers=scored.inspector).status_code == 200


def test_a_school_lists_only_its_own_unit_and_projects(scored: World) -> None:
    c, units = scored.c, f"/api/v1/projects/{scored.project}/units"
    assert [u["code"] for u in c.get(units, headers=scored.school_a).json()] == [A]
    assert [u["code"] for u in c.get(units, headers=scored.school_b).json()] == [B]
    assert [u["code"] for u in c.get(units, headers=scored.inspector).json()] == [A, B]
    # a project without the school's unit does not exist for it
    other = c.post(
        "/api/v1/projects",
        json={"name": "另一项目", "framework": "demo-school", "year": 2026},
        headers=scored.admin,
    ).json()
    assert [p["id"] for p in c.get("/api/v1/projects", headers=scored.school_a).json()] == [scored.project]
    assert c.get(f"/api/v1/projects/{other['id']}", headers=scored.school_a).status_code == 404
    assert c.get(f"/api/v1/projects/{other['id']}/units", headers=scored.school_a).status_code == 404
    assert len(c.get("/api/v1/projects", headers=scored.inspector).json()) == 2


def test_a_school_cannot_upload_to_another_unit_and_nothing_is_stored(world: World) -> None:
    assert _upload(world, B, world.school_a, WEAK, "weak.json") == 404
    assert world.c.get(world.unit_path(B, "/submissions"), headers=world.admin).json() == []
    assert _upload(world, A, world.school_a, STRONG, "strong.yaml") == 201


def test_a_school_cannot_take_a_managers_actions(world: World) -> None:
    c, school = world.c, world.school_a
    project = {"name": "学校自建", "framework": "demo-school", "year": 2026}
    assert c.post("/api/v1/projects", json=project, headers=school).status_code == 403
    r = c.post(
        f"/api/v1/projects/{world.project}/units/import",
        files={"file": ("u.csv", b"code,name\n1,x\n")},
        headers=school,
    )
    assert r.status_code == 403 and r.json()["message"] == "学校用户不能导入或修改单位名单"
    assert (
        c.post(
            "/api/v1/users", json={"name": "x", "role": "管理员", "password": "12345678"}, headers=school
        ).status_code
        == 403
    )
    assert c.get("/api/v1/users", headers=school).status_code == 403
    assert c.get("/api/v1/audit", headers=school).status_code == 403
    assert c.post("/api/v1/tokens", json={"user": "admin"}, headers=school).status_code == 403
    assert c.post("/api/v1/projects", json=project, headers=world.inspector).status_code == 403


def test_a_school_cannot_import_units_into_another_project_it_does_not_see(world: World) -> None:
    r = world.c.post(
        "/api/v1/projects/999/units/import",
        files={"file": ("u.csv", b"code,name\n1,x\n")},
        headers=world.admin,
    )
    assert r.status_code == 404


def test_no_token_a_wrong_token_or_a_revoked_token_is_401(world: World) -> None:
    c = world.c
    for headers in ({}, {"Authorization": "Bearer dps_nope"}, {"Authorization": "Basic YWRtaW46YWRtaW4="}):
        r = c.get("/api/v1/projects", headers=headers)
        assert r.status_code == 401 and r.json()["message"].startswith(("需要登录", "令牌无效"))
        assert r.headers["www-authenticate"] == "Bearer"
    assert c.post("/api/v1/logout", headers=world.school_b).status_code == 200
    assert c.get("/api/v1/projects", headers=world.school_b).status_code == 401


def test_a_wrong_password_and_an_unknown_user_look_the_same(world: World) -> None:
    wrong = world.c.post("/api/v1/login", json={"name": "admin", "password": "nope"})
    unknown = world.c.post("/api/v1/login", json={"name": "nobody", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401 and wrong.json() == unknown.json()


def test_an_api_token_for_a_system_works_until_revoked_and_another_users_token_is_404(world: World) -> None:
    c = world.c
    body = {"name": "区教育信息平台", "user": "dux", "reason": "平台对接"}
    made = c.post("/api/v1/tokens", json=body, headers=world.admin)
    assert made.status_code == 201 and made.json()["kind"] == "api"
    system = {"Authorization": f"Bearer {made.json()['token']}"}
    assert c.get("/api/v1/me", headers=system).json()["name"] == "dux"
    assert c.delete(f"/api/v1/tokens/{made.json()['id']}", headers=world.school_a).status_code == 404
    assert c.delete(f"/api/v1/tokens/{made.json()['id']}", headers=world.admin).status_code == 200
    assert c.get("/api/v1/me", headers=system).status_code == 401


def test_a_school_user_needs_a_unit_and_others_may_not_have_one(world: World) -> None:
    r = world.c.post(
        "/api/v1/users", json={"name": "s", "role": "学校", "password": "12345678"}, headers=world.admin
    )
    assert r.status_code == 422 and "unit_code" in r.json()["message"]
    r = world.c.post("/api/v1/users", json={"name": "d", "role": "督学", "unit_code": A}, headers=world.admin)
    assert r.status_code == 422
