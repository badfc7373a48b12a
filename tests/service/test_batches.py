"""Batch uploads (``POST /projects/{id}/batches``): a zip or several files, each matched to its unit by the code
inside it, scored in worker processes while the server goes on answering, every file accounted for, progress
readable while it runs; a 学校 user sees no batch. On SQLite and PostgreSQL (the ``world`` fixture)."""

from __future__ import annotations

import io
import time
import zipfile
from typing import Any

from fastapi.testclient import TestClient

from .conftest import EXAMPLES, A, B, World

STRONG = (EXAMPLES / "strong.xlsx").read_bytes()
WEAK = (EXAMPLES / "weak.xlsx").read_bytes()
OTHER = (EXAMPLES / "weak.json").read_text(encoding="utf-8").replace(B, "3209990001").encode("utf-8")
BROKEN = b"PK\x03\x04 this is not a workbook at all"
DONE = "已完成"


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _wait(c: TestClient, path: str, who: dict[str, str], seen: list[dict[str, Any]]) -> dict[str, Any]:
    """Poll the batch until it is done (at most 60 s), keeping every answer."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        r = c.get(path, headers=who)
        assert r.status_code == 200, r.text
        now: dict[str, Any] = r.json()
        seen.append(now)
        if now["state"] == DONE:
            problems = [p for f in now["files"] for p in f["problems"]]
            assert not [p for p in problems if p["code"] == "batch-internal"], problems  # no worker died
            return now
        time.sleep(0.05)
    raise AssertionError(f"the batch did not finish in 60 s: {seen[-1]}")


def test_a_zip_is_scored_in_the_background_and_every_file_is_accounted_for(world: World) -> None:
    c = world.c
    members = {
        "学校/strong.xlsx": STRONG,
        "学校/weak.xlsx": WEAK,
        "学校/broken.xlsx": BROKEN,
        "other.json": OTHER,
        **{f"again/strong-{n}.xlsx": STRONG for n in range(6)},  # enough work to be running when asked
    }
    r = c.post(
        f"/api/v1/projects/{world.project}/batches",
        files={"file": ("第一批.zip", _zip(members), "application/zip")},
        headers=world.inspector,
    )
    assert r.status_code == 202, r.text
    first = r.json()
    path = f"/api/v1/projects/{world.project}/batches/{first['id']}"
    assert r.headers["location"] == path
    assert first["total"] == len(members) and first["state"] in ("排队中", "进行中")
    assert [f["file"] for f in first["files"]] == list(members)

    # the server answers other requests while the batch runs
    started = time.monotonic()
    assert c.get("/api/v1/frameworks", headers=world.school_a).status_code == 200
    assert time.monotonic() - started < 5
    during = c.get(path, headers=world.admin).json()
    assert during["done"] < during["total"], "the batch finished before the other request was answered"

    seen: list[dict[str, Any]] = [first, during]
    out = _wait(c, path, world.admin, seen)
    dones = [s["done"] for s in seen]
    assert dones == sorted(dones) and all(s["total"] == len(members) for s in seen)
    assert out["done"] == len(members) and out["failed"] == 2 and out["finished_at"]

    lines = {f["file"]: f for f in out["files"]}
    strong, weak = lines["学校/strong.xlsx"], lines["学校/weak.xlsx"]
    assert (strong["state"], strong["unit"], strong["unit_name"]) == ("已评分", A, "滨江实验小学")
    assert (weak["state"], weak["unit"], weak["version"]) == ("已评分", B, 1)
    assert strong["total"] and strong["grade"] and weak["total"] and weak["grade"]
    assert sorted(f["version"] for n, f in lines.items() if f["unit"] == A) == list(range(1, 8))
    broken, other = lines["学校/broken.xlsx"], lines["other.json"]
    assert broken["state"] == "失败" and broken["problems"] and broken["version"] is None
    assert other["state"] == "失败" and other["unit"] == "3209990001"
    assert other["problems"][0]["code"] == "batch-unit-unknown"

    # stored through the one store path: versions, results, the bytes as sent
    versions = c.get(world.unit_path(B, "/submissions"), headers=world.admin).json()
    assert [(v["version"], v["status"], v["filename"]) for v in versions] == [(1, "已评分", "weak.xlsx")]
    raw = c.get(world.unit_path(B, "/submissions/1/file"), headers=world.admin)
    assert raw.content == WEAK
    assert (
        c.get(world.unit_path(B, "/result"), headers=world.school_b).json()["results"][0]["total"]
        == weak["total"]
    )

    # a school sees no batch, and may not send one
    assert c.get(path, headers=world.school_a).status_code == 404
    assert c.get(f"/api/v1/projects/{world.project}/batches", headers=world.school_a).status_code == 404
    listed = c.get(f"/api/v1/projects/{world.project}/batches", headers=world.admin).json()
    assert [b["id"] for b in listed] == [first["id"]]
    r = c.post(
        f"/api/v1/projects/{world.project}/batches",
        files={"file": ("x.zip", _zip({"a.xlsx": STRONG}))},
        headers=world.school_a,
    )
    assert r.status_code == 403
    assert c.get("/api/v1/audit?entity=batch", headers=world.admin).json()[0]["action"] == "batch"


def test_several_files_of_a_form_and_a_file_that_names_its_unit_but_cannot_be_scored(world: World) -> None:
    c = world.c
    unscorable = (
        (EXAMPLES / "weak.json")
        .read_text(encoding="utf-8")
        .replace('"students": "８００"', '"students": "很多"')
    )
    files = [
        ("file", ("strong.xlsx", STRONG)),
        ("file", ("weak.json", unscorable.encode("utf-8"))),
        ("file", ("nothing.txt", b"hello")),
    ]
    r = c.post(f"/api/v1/projects/{world.project}/batches", files=files, headers=world.admin)
    assert r.status_code == 202, r.text
    out = _wait(c, f"/api/v1/projects/{world.project}/batches/{r.json()['id']}", world.admin, [])
    states = [(f["file"], f["state"], f["unit"]) for f in out["files"]]
    assert states[0] == ("strong.xlsx", "已评分", A)
    assert states[2] == ("nothing.txt", "失败", None)
    weak = out["files"][1]
    if weak["state"] == "未通过":  # read as 北山中学's, kept as a refused version with its problems
        assert weak["unit"] == B and weak["version"] == 1 and weak["problems"]
    else:
        assert weak["state"] == "已评分"  # the reader may accept the text as a value it flags
    assert out["done"] == 3


def test_an_unsafe_zip_is_refused_before_anything_is_stored(world: World) -> None:
    c = world.c
    bomb = _zip({"strong.xlsx": STRONG, "zeros.json": b"0" * (3 * 1024 * 1024)})  # ratio far over 200:1
    r = c.post(
        f"/api/v1/projects/{world.project}/batches",
        content=bomb,
        headers={**world.admin, "content-type": "application/zip"},
    )
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "batch-unsafe" and r.json()["problems"]
    assert c.get(f"/api/v1/projects/{world.project}/batches", headers=world.admin).json() == []
    assert c.get(world.unit_path(A, "/submissions"), headers=world.admin).json() == []
