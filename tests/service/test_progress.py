"""整改进展 on SQLite and PostgreSQL: a unit saves its 措施 without asking to close the item (``PUT
…/rectifications/{id}/measures``): from 待整改 it is the step to 整改中, while 整改中 the text is replaced, each save
audited old → new; 申请销号 still follows. Refused once asked or closed (409), for an empty text (422), for another
school's item (404); a 督学 may (``rectify-work``)."""

from __future__ import annotations

from typing import Any

from .conftest import EXAMPLES, B, World


def _weak(world: World) -> int:
    """北山中学 scored on weak.json; its first item's id."""
    data = (EXAMPLES / "weak.json").read_bytes()
    r = world.c.post(
        world.unit_path(B, "/submissions"), files={"file": ("weak.json", data)}, headers=world.school_b
    )
    assert r.status_code == 201, r.text
    items = world.c.get(world.unit_path(B, "/rectifications"), headers=world.school_b).json()
    assert items[0]["status"] == "待整改"
    first: int = items[0]["id"]
    return first


def _save(world: World, who: dict[str, str], item: int, text: str, code: str = B) -> Any:
    return world.c.put(
        world.unit_path(code, f"/rectifications/{item}/measures"), json={"evidence": text}, headers=who
    )


def _audit(world: World, item: int) -> list[dict[str, Any]]:
    rows = world.c.get("/api/v1/audit?entity=rectification", headers=world.admin).json()
    return [e for e in reversed(rows) if e["entity_id"] == item and e["action"] != "create"]


def test_progress_is_saved_replaced_audited_and_then_asked_to_close(world: World) -> None:
    item = _weak(world)
    r = _save(world, world.school_b, item, "  已制定整改方案  ")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "整改中" and r.json()["evidence"] == "已制定整改方案"
    r = _save(world, world.school_b, item, "已制定整改方案；已招聘专任教师一名")
    assert r.status_code == 200 and r.json()["status"] == "整改中"
    assert _save(world, world.school_b, item, "已制定整改方案；已招聘专任教师一名").status_code == 200
    got = next(
        i
        for i in world.c.get(world.unit_path(B, "/rectifications"), headers=world.school_b).json()
        if i["id"] == item
    )
    assert got["status"] == "整改中" and got["evidence"] == "已制定整改方案；已招聘专任教师一名"
    rows = _audit(world, item)
    assert [e["action"] for e in rows] == ["step", "measures"]  # the same text again changes nothing
    assert rows[0]["old"] == {"status": "待整改", "evidence": ""}
    assert rows[0]["new"] == {"status": "整改中", "evidence": "已制定整改方案"}
    assert rows[1]["old"] == {"evidence": "已制定整改方案"}
    assert rows[1]["new"] == {"evidence": "已制定整改方案；已招聘专任教师一名"}
    assert rows[1]["user"] == "school-b" and rows[1]["at"]
    r = world.c.post(
        world.unit_path(B, f"/rectifications/{item}"), json={"status": "申请销号"}, headers=world.school_b
    )
    assert r.status_code == 200 and r.json()["status"] == "申请销号"
    assert r.json()["evidence"] == "已制定整改方案；已招聘专任教师一名"


def test_progress_is_refused_once_asked_or_closed_and_when_empty(world: World) -> None:
    item = _weak(world)
    r = _save(world, world.school_b, item, "   ")
    assert r.status_code == 422 and r.json()["message"] == "请填写整改措施"
    assert _save(world, world.school_b, item, "已整改").status_code == 200
    r = world.c.post(
        world.unit_path(B, f"/rectifications/{item}"), json={"status": "申请销号"}, headers=world.school_b
    )
    assert r.status_code == 200
    r = _save(world, world.school_b, item, "再补充一点")
    assert r.status_code == 409
    assert r.json()["message"] == "整改事项当前为 “申请销号”，不能再保存整改措施；可以改为：已销号、退回"
    r = world.c.post(
        world.unit_path(B, f"/rectifications/{item}"), json={"status": "已销号"}, headers=world.inspector
    )
    assert r.status_code == 200
    r = _save(world, world.school_b, item, "再补充一点")
    assert r.status_code == 409 and "已销号" in r.json()["message"] and "无（已销号）" in r.json()["message"]
    got = world.c.get(world.unit_path(B, "/rectifications"), headers=world.school_b).json()
    assert next(i for i in got if i["id"] == item)["evidence"] == "已整改"


def test_progress_after_a_return_and_who_may_save_it(world: World) -> None:
    item = _weak(world)
    assert _save(world, world.school_a, item, "别人的整改").status_code == 404  # another school's item
    assert _save(world, world.school_a, item, "别人的整改", code="3201010001").status_code == 404
    assert _save(world, world.inspector, item, "督学代为记录：已开始整改").status_code == 200  # rectify-work
    for who, status in ((world.school_b, "申请销号"), (world.inspector, "退回")):
        body = {"status": status, "reason": "佐证不足"}
        r = world.c.post(world.unit_path(B, f"/rectifications/{item}"), json=body, headers=who)
        assert r.status_code == 200
    r = _save(world, world.school_b, item, "已补充照片与名单")
    assert r.status_code == 200 and r.json()["status"] == "整改中"
    rows = _audit(world, item)
    assert rows[-1]["action"] == "step" and rows[-1]["old"]["status"] == "退回"
    assert rows[-1]["new"] == {"status": "整改中", "evidence": "已补充照片与名单"}
    assert rows[0]["user"] == "dux"
    assert (
        world.c.put(
            world.unit_path(B, f"/rectifications/{item}/measures"), json={}, headers=world.school_b
        ).status_code
        == 422
    )
