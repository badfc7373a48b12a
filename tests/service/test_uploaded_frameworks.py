"""Frameworks a 管理员 uploads, on SQLite and PostgreSQL: a file with errors is refused with every problem at its
line and column (as ``scoring validate`` reports them) and nothing kept; a shipped id is refused; a district's
tailoring (``extends: demo-school``) is kept once, listed, and a project made from it scores a submission for it
exactly as the library does; a changed file is a new row for new projects, while an earlier project scores on with
the file it was made with.
Only a 管理员 may upload."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scoring.engine.plan import compile_plan
from scoring.engine.score import score, split
from scoring.framework.load import load_text
from scoring.io.read import read_submission
from scoring.service.models import FrameworkFile

from .conftest import EXAMPLES, World, service_of

LOCAL = """id: demo-local
name: 本区办学质量考评
version: "2026"
extends: demo-school
"""
BROKEN = """id: broken-local
name: 有错的框架
version: "1"
inputs:
  teachers: {label: 教师数, type: integer, minn: 0}
indicators:
  - code: A1
    name: 教师数
    rule: {threshold: {value: teacher, at_least: 5}}
"""


def _upload(world: World, text: str, who: dict[str, str] | None = None) -> tuple[int, dict[str, object]]:
    r = world.c.post(
        "/api/v1/frameworks", files={"file": ("本区方案.yaml", text.encode())}, headers=who or world.admin
    )
    return r.status_code, r.json()


def test_a_framework_with_errors_is_refused_at_each_place_and_nothing_is_kept(world: World) -> None:
    status, body = _upload(world, BROKEN)
    assert status == 422
    assert body["error"] == "framework-invalid"
    places = {(p["line"], p["code"]) for p in body["problems"]}  # type: ignore[union-attr]
    assert any(line == 5 for line, _ in places)  # minn: the input's line
    assert any(line == 9 for line, _ in places)  # teacher: the rule's line
    assert all(p["file"] == "本区方案.yaml" for p in body["problems"])  # type: ignore[union-attr]
    with service_of(world.c).sessions() as session:
        assert session.query(FrameworkFile).count() == 0


def test_a_shipped_id_is_refused_and_only_an_admin_uploads(world: World) -> None:
    shipped = (Path(__file__).resolve().parents[2] / "frameworks" / "demo-school.yaml").read_text("utf-8")
    status, body = _upload(world, shipped)
    assert (status, body["error"]) == (409, "framework-shipped")
    assert "与内置框架相同" in str(body["message"])
    assert _upload(world, LOCAL, world.inspector)[0] == 403
    assert _upload(world, LOCAL, world.school_a)[0] == 403


def test_a_tailoring_is_kept_once_listed_and_scores_a_project(world: World) -> None:
    status, first = _upload(world, LOCAL)
    assert status == 201
    plan = compile_plan(load_text(LOCAL, "本区方案.yaml"))
    assert (first["id"], first["source"], first["hash"]) == ("demo-local", "uploaded", plan.hash)
    assert _upload(world, LOCAL)[1] == first  # the same file again: the row already kept
    with service_of(world.c).sessions() as session:
        assert session.query(FrameworkFile).count() == 1
    listed = world.c.get("/api/v1/frameworks", headers=world.inspector).json()
    assert [f["id"] for f in listed if f["source"] == "uploaded"] == ["demo-local"]

    r = world.c.post(
        "/api/v1/projects",
        json={"name": "本区考评", "framework": "demo-local", "year": 2026},
        headers=world.admin,
    )
    assert r.status_code == 201, r.text
    project = r.json()
    assert (project["framework_id"], project["framework_hash"]) == ("demo-local", plan.hash)
    units = "单位代码,单位名称,单位类型\n3201020007,北山中学,初中\n".encode()
    path = f"/api/v1/projects/{project['id']}"
    assert (
        world.c.post(
            path + "/units/import", files={"file": ("u.csv", units)}, headers=world.admin
        ).status_code
        == 200
    )
    doc = json.loads((EXAMPLES / "weak.json").read_text(encoding="utf-8")) | {"framework": "demo-local"}
    data = json.dumps(doc, ensure_ascii=False).encode()
    r = world.c.post(
        path + "/units/3201020007/submissions", files={"file": ("weak.json", data)}, headers=world.school_b
    )
    assert r.status_code == 201, r.text
    expected = [score(plan, u) for u in split(plan, read_submission(data, filename="weak.json", plan=plan))]
    stored = world.c.get(path + "/units/3201020007/result", headers=world.school_b).json()["results"]
    assert [s["total"] for s in stored] == [str(e.total) for e in expected]

    # the district changes its file: a new row, offered for new projects; the project made from the first keeps
    # scoring on the file it was made with (every uploaded version is kept)
    changed = LOCAL.replace('version: "2026"', 'version: "2026.2"\nscoring: {precision: 1}')
    status, second = _upload(world, changed)
    assert status == 201 and second["hash"] != first["hash"]
    r = world.c.post(
        path + "/units/3201020007/submissions", files={"file": ("weak.json", data)}, headers=world.school_b
    )
    assert r.status_code == 201, r.text
    assert [x["total"] for x in r.json()["results"]] == [
        str(e.total) for e in expected
    ]  # 2 decimals, as pinned
    r = world.c.post(
        "/api/v1/projects",
        json={"name": "本区考评（新版）", "framework": "demo-local", "year": 2026},
        headers=world.admin,
    )
    assert r.json()["framework_hash"] == second["hash"]


def _bomb() -> str:
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        text += f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]\n"
    return text


@pytest.mark.parametrize(
    ("name", "text", "code", "line"),
    [
        ("alias bomb", _bomb(), "yaml-too-large", 6),
        ("recursive alias", 'id: h\nname: x\nversion: "1"\nnotes: &n [*n]\n', "yaml-too-deep", 4),
        (
            "python tag",
            'id: h\nname: x\nversion: "1"\nnotes: !!python/name:os.system\n',
            "yaml-unsafe-tag",
            4,
        ),
        ("deep nesting", "a: " + "[" * 5000 + "]" * 5000 + "\n", "yaml-too-deep", 1),
        ("not UTF-8", "id: 县\n".encode("gbk").decode("latin-1"), None, None),
        (
            "extends a file on the server",
            'id: x\nname: x\nversion: "1"\nextends: /etc/passwd\n',
            "extends-not-shipped",
            4,
        ),
    ],
)
def test_a_hostile_framework_file_is_refused_at_its_place_and_nothing_is_kept(
    world: World, name: str, text: str, code: str | None, line: int | None
) -> None:
    """What the validator refuses from a file on disk it refuses from an upload: at its place, with nothing kept
    and nothing run (the bombs are bounded by the YAML reader's limits, as tests/hostile shows for the CLI)."""
    data = text.encode("latin-1") if name == "not UTF-8" else text.encode()
    r = world.c.post("/api/v1/frameworks", files={"file": ("敌意.yaml", data)}, headers=world.admin)
    assert r.status_code == 422, (name, r.text)
    body = r.json()
    assert body["error"] == "framework-invalid" and body["message"].startswith("框架文件 敌意.yaml 有")
    if code is not None:
        assert any(p["code"] == code and p["line"] == line for p in body["problems"]), body["problems"]
    with service_of(world.c).sessions() as session:
        assert session.query(FrameworkFile).count() == 0
