"""A 管理员 corrects a project's name and year and a unit's name, type, 学段 and 区域, on SQLite and PostgreSQL:
each change is audited old → new with its reason, sending what is stored writes nothing, the framework, round,
state and a unit's code are refused by name (422), a type the framework does not declare is refused naming the
ones it does; a 督学 or 学校 user gets 403 (also for its own unit), an unknown project or unit 404. The page forms
do the same, after their CSRF token."""

from __future__ import annotations

from typing import Any

from scoring.service.models import AuditEntry, Project, Unit

from .conftest import ADMIN_PASSWORD, A, B, World, service_of
from .test_web_county_data import csrf, sign_in


def _audit(world: World, entity: str) -> list[tuple[Any, Any, str]]:
    with service_of(world.c).sessions() as session:
        return [
            (a.old, a.new, a.reason)
            for a in session.query(AuditEntry)
            .filter_by(entity=entity, action="update")
            .order_by(AuditEntry.id)
        ]


def _project(world: World, body: dict[str, Any], who: dict[str, str] | None = None) -> Any:
    return world.c.patch(f"/api/v1/projects/{world.project}", json=body, headers=who or world.admin)


def _unit(world: World, code: str, body: dict[str, Any], who: dict[str, str] | None = None) -> Any:
    return world.c.patch(world.unit_path(code), json=body, headers=who or world.admin)


def test_a_project_name_and_year_are_corrected_and_audited(world: World) -> None:
    r = _project(world, {"name": "2026 年春季督导评估", "year": 2027, "reason": "名称有误"})
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["year"], r.json()["round"]) == ("2026 年春季督导评估", 2027, 1)
    shown = world.c.get(f"/api/v1/projects/{world.project}", headers=world.inspector).json()
    assert (shown["name"], shown["year"]) == ("2026 年春季督导评估", 2027)
    assert _audit(world, "project") == [
        ({"name": "2026 年春季督评", "year": 2026}, {"name": "2026 年春季督导评估", "year": 2027}, "名称有误")
    ]
    # the same values again, or nothing at all: 200 and no audit row
    assert _project(world, {"name": "2026 年春季督导评估", "year": 2027, "reason": "再来"}).status_code == 200
    assert _project(world, {}).status_code == 200
    assert len(_audit(world, "project")) == 1
    # only the year
    assert _project(world, {"year": 2026}).json()["name"] == "2026 年春季督导评估"
    assert _audit(world, "project")[-1] == ({"year": 2027}, {"year": 2026}, "")


def test_a_project_framework_round_and_state_are_not_edited_here(world: World) -> None:
    for field, value in [
        ("framework", "demo-kindergarten"),
        ("framework_version", "9"),
        ("framework_hash", "x"),
        ("round", 2),
        ("state", "已关闭"),
    ]:
        r = _project(world, {"name": "改名", field: value})
        assert r.status_code == 422, (field, r.text)
        assert (r.json()["error"], r.json()["fields"]) == ("field-fixed", [field])
        assert "不能在此修改" in r.json()["message"]
    for bad in ({"name": ""}, {"year": 1999}, {"year": "明年"}):
        assert _project(world, bad).status_code == 422
    with service_of(world.c).sessions() as session:
        project = session.get(Project, world.project)
        assert project is not None and (project.name, project.round, project.state) == (
            "2026 年春季督评",
            1,
            "填报中",
        )
    assert _audit(world, "project") == []


def test_a_unit_is_corrected_and_audited_and_a_blank_field_clears(world: World) -> None:
    body = {"name": "滨江实验学校", "type": "初中", "phase": "", "region": "新区", "reason": "更名"}
    r = _unit(world, A, body)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "code": A,
        "name": "滨江实验学校",
        "type": "初中",
        "phase": None,
        "region": "新区",
        "inspector": None,
    }
    assert world.c.get(world.unit_path(A), headers=world.school_a).json()["name"] == "滨江实验学校"
    assert _audit(world, "unit") == [
        (
            {"name": "滨江实验小学", "type": "小学", "phase": "小学", "region": "示范区"},
            {"name": "滨江实验学校", "type": "初中", "phase": None, "region": "新区"},
            "更名",
        )
    ]
    assert _unit(world, A, {"name": "滨江实验学校", "region": "新区", "reason": "同上"}).status_code == 200
    assert len(_audit(world, "unit")) == 1
    assert _unit(world, A, {"region": None}).json()["region"] is None
    assert _audit(world, "unit")[-1] == ({"region": "新区"}, {"region": None}, "")


def test_a_unit_type_must_be_one_the_framework_declares_and_the_code_is_fixed(world: World) -> None:
    r = _unit(world, A, {"name": "新名", "type": "大学"})
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "unit-type-invalid"
    assert "小学、初中" in r.json()["message"] and r.json()["allowed"] == ["小学", "初中"]
    r = _unit(world, A, {"code": "9999", "name": "新名"})
    assert (r.status_code, r.json()["error"], r.json()["fields"]) == (422, "field-fixed", ["code"])
    assert "单位代码" in r.json()["message"]
    assert _unit(world, A, {"name": ""}).status_code == 422
    with service_of(world.c).sessions() as session:
        unit = session.query(Unit).filter_by(project_id=world.project, code=A).one()
        assert (unit.name, unit.type) == ("滨江实验小学", "小学")
    assert _audit(world, "unit") == []


def test_only_an_admin_corrects_and_unknown_is_404(world: World) -> None:
    for who in (world.inspector, world.school_a):
        assert _project(world, {"name": "x"}, who).status_code == 403
        assert _unit(world, B, {"name": "x"}, who).status_code == 403
    # a school cannot correct its own unit either
    assert _unit(world, A, {"name": "自己改名"}, world.school_a).status_code == 403
    assert (
        world.c.patch("/api/v1/projects/999999", json={"name": "x"}, headers=world.admin).status_code == 404
    )
    assert _unit(world, "0000000000", {"name": "x"}).status_code == 404
    assert (
        world.c.patch(
            "/api/v1/projects/999999/units/" + A, json={"name": "x"}, headers=world.admin
        ).status_code
        == 404
    )
    assert _audit(world, "project") == [] and _audit(world, "unit") == []


def test_the_page_forms_correct_and_refuse(world: World) -> None:
    c = world.c
    sign_in(c, "admin", ADMIN_PASSWORD)
    token = csrf(c.get(f"/projects/{world.project}").text)
    page = c.get(f"/projects/{world.project}").text
    assert 'id="edit-project"' in page
    unit_page = c.get(f"/projects/{world.project}/units/{A}").text
    assert 'id="edit-unit"' in unit_page and "<option selected>小学</option>" in unit_page
    # a bad token: 403, nothing stored
    for path, data in [
        (f"/projects/{world.project}/edit", {"name": "坏", "year": "2026"}),
        (f"/projects/{world.project}/units/{A}/edit", {"name": "坏"}),
    ]:
        r = c.post(path, data={**data, "csrf": "forged"}, follow_redirects=False)
        assert r.status_code == 403, r.text
    assert _audit(world, "project") == [] and _audit(world, "unit") == []
    # the project form
    r = c.post(
        f"/projects/{world.project}/edit",
        data={"csrf": token, "name": "2026 年春季督导评估", "year": "2026", "reason": "错字"},
        follow_redirects=False,
    )
    assert (r.status_code, r.headers["location"]) == (303, f"/projects/{world.project}?edited=1")
    assert "项目信息已保存" in c.get(r.headers["location"]).text
    assert _audit(world, "project") == [
        ({"name": "2026 年春季督评"}, {"name": "2026 年春季督导评估"}, "错字")
    ]
    r = c.post(f"/projects/{world.project}/edit", data={"csrf": token, "name": "x", "year": "1800"})
    assert r.status_code == 422 and "年度应为" in r.text
    # the unit form
    fields = {"csrf": token, "name": "北山实验中学", "type": "初中", "phase": "初中", "region": "示范区"}
    r = c.post(
        f"/projects/{world.project}/units/{B}/edit", data={**fields, "reason": "更名"}, follow_redirects=False
    )
    assert (r.status_code, r.headers["location"]) == (303, f"/projects/{world.project}/units/{B}?edited=1")
    assert "单位信息已保存" in c.get(r.headers["location"]).text
    assert _audit(world, "unit") == [({"name": "北山中学"}, {"name": "北山实验中学"}, "更名")]
    r = c.post(f"/projects/{world.project}/units/{B}/edit", data={**fields, "type": "大学"})
    assert r.status_code == 422 and "不是框架 demo-school 的单位类型" in r.text and "小学、初中" in r.text
    assert len(_audit(world, "unit")) == 1


def test_the_page_forms_are_for_an_admin_only(world: World) -> None:
    c = world.c
    sign_in(c, "school-a", "school-a-password")
    page = c.get(f"/projects/{world.project}/units/{A}").text
    assert 'id="edit-unit"' not in page
    r = c.post(f"/projects/{world.project}/units/{A}/edit", data={"csrf": csrf(page), "name": "自己改名"})
    assert r.status_code == 403
    assert _audit(world, "unit") == []
