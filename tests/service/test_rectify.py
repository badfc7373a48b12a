"""The 整改 workflow on SQLite and PostgreSQL: items come from the scored result; the unit works on them and asks
for 销号; a 督学 closes or returns; a step out of turn is 409, a role's step it may not take 403."""

from __future__ import annotations

from .conftest import EXAMPLES, B, World


def _items(world: World, who: dict[str, str]) -> list[dict[str, object]]:
    r = world.c.get(world.unit_path(B, "/rectifications"), headers=who)
    assert r.status_code == 200
    items: list[dict[str, object]] = r.json()
    return items


def _step(world: World, who: dict[str, str], item: object, status: str, **extra: str) -> int:
    r = world.c.post(
        world.unit_path(B, f"/rectifications/{item}"), json={"status": status, **extra}, headers=who
    )
    return r.status_code


def test_the_workflow_from_open_to_closed_with_a_return(world: World) -> None:
    data = (EXAMPLES / "weak.json").read_bytes()
    assert (
        world.c.post(
            world.unit_path(B, "/submissions"), files={"file": ("weak.json", data)}, headers=world.school_b
        ).status_code
        == 201
    )
    items = _items(world, world.school_b)
    result = world.c.get(world.unit_path(B, "/result"), headers=world.school_b).json()["results"][0]
    assert [i["indicator"] for i in items] == [r["code"] for r in result["rectification"]]
    assert {i["status"] for i in items} == {"待整改"}
    first = items[0]["id"]
    assert _step(world, world.school_b, first, "申请销号") == 409  # not yet in work
    assert _step(world, world.school_b, first, "整改中", evidence="已制定方案") == 200
    assert _step(world, world.school_b, first, "申请销号") == 200
    assert _step(world, world.school_b, first, "已销号") == 403  # the school cannot close its own item
    assert _step(world, world.inspector, first, "退回", reason="佐证不足") == 200
    assert _step(world, world.school_b, first, "整改中") == 200
    assert _step(world, world.school_b, first, "申请销号") == 200
    assert _step(world, world.inspector, first, "已销号") == 200
    assert _step(world, world.school_a, first, "整改中") == 404  # another school's item does not exist for it
    closed = next(i for i in _items(world, world.inspector) if i["id"] == first)
    assert closed["status"] == "已销号" and closed["evidence"] == "已制定方案"
    steps = [
        e
        for e in world.c.get("/api/v1/audit?entity=rectification", headers=world.admin).json()
        if e["action"] == "step"
    ]
    assert [e["new"]["status"] for e in reversed(steps)] == [
        "整改中",
        "申请销号",
        "退回",
        "整改中",
        "申请销号",
        "已销号",
    ]
    assert any(e["reason"] == "佐证不足" for e in steps)
    r = world.c.post(
        world.unit_path(B, f"/rectifications/{first}"), json={"status": "整改中"}, headers=world.school_b
    )
    assert r.status_code == 409 and "已销号" in r.json()["message"]


def test_a_new_submission_reopens_a_closed_item_whose_shortfall_remains(world: World) -> None:
    data = (EXAMPLES / "weak.json").read_bytes()
    path = world.unit_path(B, "/submissions")
    world.c.post(path, files={"file": ("weak.json", data)}, headers=world.school_b)
    first = _items(world, world.school_b)[0]["id"]
    for who, status in (
        (world.school_b, "整改中"),
        (world.school_b, "申请销号"),
        (world.inspector, "已销号"),
    ):
        assert _step(world, who, first, status) == 200
    world.c.post(path, files={"file": ("weak-again.json", data)}, headers=world.school_b)
    again = next(i for i in _items(world, world.school_b) if i["id"] == first)
    assert again["status"] == "待整改"


def test_an_item_past_its_deadline_and_not_closed_says_how_many_days(world: World) -> None:
    """``overdue_days``: days past the deadline (a date in China) while the item is not 已销号; 0 otherwise."""
    import datetime as dt

    from scoring.service.models import Rectification
    from scoring.service.rectify import office_today

    from .conftest import service_of

    data = (EXAMPLES / "weak.json").read_bytes()
    path = world.unit_path(B, "/submissions")
    assert world.c.post(path, files={"file": ("weak.json", data)}, headers=world.school_b).status_code == 201
    first, second = (i["id"] for i in _items(world, world.school_b)[:2])
    with service_of(world.c).transaction() as session:
        for item_id, days in ((first, 3), (second, 0)):
            row = session.get(Rectification, item_id)
            assert row is not None
            row.deadline = office_today() - dt.timedelta(days=days)
    found = {i["id"]: i["overdue_days"] for i in _items(world, world.school_b)}
    assert found[first] == 3 and found[second] == 0  # due today is not yet overdue
    assert _step(world, world.school_b, first, "整改中", evidence="已制定方案") == 200
    assert next(i for i in _items(world, world.school_b) if i["id"] == first)["overdue_days"] == 3
    assert _step(world, world.school_b, first, "申请销号") == 200
    assert _step(world, world.inspector, first, "已销号") == 200
    assert next(i for i in _items(world, world.school_b) if i["id"] == first)["overdue_days"] == 0
