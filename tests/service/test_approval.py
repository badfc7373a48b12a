"""The 督学's review of a submission on SQLite and PostgreSQL: 通过, or 退回 with a required reason; only the unit's
newest scored version (409 in Chinese otherwise); a new upload is 待审核 again; the review is in the submission
JSON and the audit log; a school may not review (403), nor see another unit's (404)."""

from __future__ import annotations

from typing import Any

from .conftest import EXAMPLES, A, B, World


def upload(world: World, who: dict[str, str], name: str = "weak.json") -> dict[str, Any]:
    data = (EXAMPLES / name).read_bytes()
    r = world.c.post(world.unit_path(B, "/submissions"), files={"file": (name, data)}, headers=who)
    assert r.status_code == 201, r.text
    found: dict[str, Any] = r.json()
    return found


def decide(world: World, who: dict[str, str], version: int, decision: str, reason: str | None = None) -> Any:
    body = {"decision": decision} | ({"reason": reason} if reason is not None else {})
    return world.c.post(world.unit_path(B, f"/submissions/{version}/review"), json=body, headers=who)


def test_an_inspector_sends_a_version_back_and_the_next_upload_is_pending_again(world: World) -> None:
    first = upload(world, world.school_b)
    assert first["review_state"] == "待审核" and first["reviewed_by"] is None

    r = decide(world, world.inspector, 1, "退回")
    assert r.status_code == 422 and "原因" in r.json()["message"]  # a return needs its reason
    r = decide(world, world.inspector, 1, "退回", "在校生数与学籍系统不符，请核实后重新上传")
    assert r.status_code == 200, r.text
    back = r.json()
    assert back["review_state"] == "已退回" and back["reviewed_by"] == "dux" and back["reviewed_at"]
    assert back["review_reason"] == "在校生数与学籍系统不符，请核实后重新上传"
    seen = world.c.get(world.unit_path(B, "/submissions/1"), headers=world.school_b).json()
    assert seen["review_state"] == "已退回" and "学籍系统" in seen["review_reason"]  # the school reads why

    second = upload(world, world.school_b)
    assert second["version"] == 2 and second["review_state"] == "待审核"
    r = decide(world, world.inspector, 1, "通过")
    assert r.status_code == 409 and "第 2 版" in r.json()["message"]  # only the newest scored version
    r = decide(world, world.admin, 2, "通过")
    assert (
        r.status_code == 200 and r.json()["review_state"] == "已通过" and r.json()["reviewed_by"] == "admin"
    )

    listed = world.c.get(world.unit_path(B, "/submissions"), headers=world.school_b).json()
    assert [(v["version"], v["review_state"]) for v in listed] == [(2, "已通过"), (1, "已退回")]
    audit = world.c.get("/api/v1/audit?entity=submission", headers=world.admin).json()
    reviews = [e for e in audit if e["action"] == "review"]
    assert [e["new"]["review_state"] for e in reversed(reviews)] == ["已退回", "已通过"]
    assert reviews[-1]["old"] == {"review_state": None, "review_reason": ""}
    assert "学籍系统" in reviews[-1]["reason"]


def test_a_school_cannot_review_and_another_unit_is_404(world: World) -> None:
    upload(world, world.school_b)
    r = decide(world, world.school_b, 1, "通过")
    assert r.status_code == 403 and "学校" in r.json()["message"]
    assert decide(world, world.school_a, 1, "通过").status_code == 404  # not its unit: as if it did not exist
    assert decide(world, world.inspector, 9, "通过").status_code == 404
    r = world.c.post(
        world.unit_path(A, "/submissions/1/review"), json={"decision": "通过"}, headers=world.admin
    )
    assert r.status_code == 404  # A has no submission
    r = decide(world, world.inspector, 1, "同意")
    assert r.status_code == 422


def test_a_version_that_could_not_be_scored_is_not_reviewed(world: World) -> None:
    upload(world, world.school_b)
    bad = world.c.post(
        world.unit_path(B, "/submissions"),
        content=b'{"unit": {"code": "3201020007"}, "values": {"students": "many"}}',
        headers={**world.school_b, "content-type": "application/json"},
    )
    assert bad.status_code == 422
    r = decide(world, world.inspector, 2, "通过")
    assert r.status_code == 409 and "未通过评分" in r.json()["message"]
    refused = world.c.get(world.unit_path(B, "/submissions/2"), headers=world.inspector).json()
    assert refused["review_state"] == "—"
    # the scored version before it still counts, and may be reviewed
    assert decide(world, world.inspector, 1, "通过").status_code == 200
