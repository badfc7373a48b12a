"""Rounds and 督学 assignment on SQLite and PostgreSQL: a closed round refuses uploads (API, page and batch) and
keeps its results; reopening takes uploads again; the next round copies the units with their 督学 and closes the
round before; assignment names an active 督学 only. Only a 管理员 may do any of it; a 学校 user gets 403, and a
unit it does not see stays 404."""

from __future__ import annotations

from scoring.service.models import AuditEntry

from .conftest import EXAMPLES, A, B, World, service_of


def _upload(world: World, code: str, who: dict[str, str], name: str = "strong.yaml") -> int:
    data = (EXAMPLES / name).read_bytes()
    r = world.c.post(world.unit_path(code, "/submissions"), files={"file": (name, data)}, headers=who)
    return r.status_code


def _state(world: World, state: str, who: dict[str, str] | None = None) -> int:
    r = world.c.post(
        f"/api/v1/projects/{world.project}/state",
        json={"state": state, "reason": "截止"},
        headers=who or world.admin,
    )
    return r.status_code


def test_a_closed_round_refuses_uploads_and_keeps_its_results(world: World) -> None:
    assert _upload(world, A, world.school_a) == 201
    assert _state(world, "已关闭") == 200
    project = world.c.get(f"/api/v1/projects/{world.project}", headers=world.inspector).json()
    assert project["state"] == "已关闭"
    r = world.c.post(
        world.unit_path(B, "/submissions"),
        files={"file": ("weak.json", (EXAMPLES / "weak.json").read_bytes())},
        headers=world.school_b,
    )
    assert r.status_code == 409
    assert r.json()["error"] == "round-closed"
    assert "填报已关闭" in r.json()["message"]
    batch = world.c.post(
        f"/api/v1/projects/{world.project}/batches",
        files=[("files", ("weak.json", (EXAMPLES / "weak.json").read_bytes()))],
        headers=world.admin,
    )
    assert batch.status_code == 409
    assert world.c.get(world.unit_path(A, "/result"), headers=world.school_a).status_code == 200
    assert _state(world, "填报中") == 200
    assert _upload(world, B, world.school_b, "weak.json") == 201


def test_closing_is_for_the_office_only_and_audited(world: World) -> None:
    assert _state(world, "已关闭", world.inspector) == 403
    assert _state(world, "已关闭", world.school_a) == 403
    assert _state(world, "暂停") == 422
    assert _state(world, "已关闭") == 200
    assert _state(world, "已关闭") == 200  # again: nothing changes, no second audit row
    with service_of(world.c).sessions() as session:
        rows = [
            (a.old, a.new, a.reason)
            for a in session.query(AuditEntry).filter_by(entity="project", entity_id=world.project)
            if a.action == "update"
        ]
    assert rows == [({"state": "填报中"}, {"state": "已关闭"}, "截止")]


def test_the_next_round_copies_the_units_with_their_inspector_and_closes_this_one(world: World) -> None:
    c, base = world.c, f"/api/v1/projects/{world.project}"
    r = c.post(base + "/inspectors", json={"units": [A], "inspector": "dux"}, headers=world.admin)
    assert (r.status_code, r.json()) == (200, {"changed": 1})
    assert c.post(base + "/next-round", json={}, headers=world.inspector).status_code == 403
    r = c.post(base + "/next-round", json={"reason": "复评"}, headers=world.admin)
    assert r.status_code == 201, r.text
    new = r.json()
    assert (new["round"], new["previous_id"], new["state"], new["name"]) == (
        2,
        world.project,
        "填报中",
        "2026 年春季督评",
    )
    units = c.get(f"/api/v1/projects/{new['id']}/units", headers=world.admin).json()
    assert [(u["code"], u["name"], u["inspector"]) for u in units] == [
        (A, "滨江实验小学", "dux"),
        (B, "北山中学", None),
    ]
    assert c.get(base, headers=world.admin).json()["state"] == "已关闭"
    with service_of(c).sessions() as session:  # each copied unit has its own audit row
        made = [
            a.new["code"] for a in session.query(AuditEntry).filter_by(entity="unit", reason="开启第 2 轮")
        ]
    assert sorted(made) == [A, B]
    again = c.post(base + "/next-round", json={}, headers=world.admin)
    assert again.status_code == 409
    assert "已开启" in again.json()["message"]
    # the school reaches its own unit in the new round, and still not the other school's
    assert c.get(f"/api/v1/projects/{new['id']}/units/{A}", headers=world.school_a).status_code == 200
    assert c.get(f"/api/v1/projects/{new['id']}/units/{B}", headers=world.school_a).status_code == 404


def test_assignment_names_an_active_inspector_and_known_units(world: World) -> None:
    c, path = world.c, f"/api/v1/projects/{world.project}/inspectors"
    assert c.post(path, json={"units": [A], "inspector": "school-a"}, headers=world.admin).status_code == 422
    assert c.post(path, json={"units": [A], "inspector": "nobody"}, headers=world.admin).status_code == 422
    assert c.post(path, json={"units": ["999"], "inspector": "dux"}, headers=world.admin).status_code == 404
    assert (
        c.post(path, json={"units": [A, B], "inspector": "dux"}, headers=world.inspector).status_code == 403
    )
    assert c.post(path, json={"units": [A, B], "inspector": "dux"}, headers=world.admin).json() == {
        "changed": 2
    }
    assert c.post(path, json={"units": [A, B], "inspector": "dux"}, headers=world.admin).json() == {
        "changed": 0
    }
    assert c.get(world.unit_path(B), headers=world.inspector).json()["inspector"] == "dux"
    assert c.post(path, json={"units": [B], "inspector": None}, headers=world.admin).json() == {"changed": 1}
    assert c.get(world.unit_path(B), headers=world.inspector).json()["inspector"] is None
