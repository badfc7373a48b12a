"""The store, on SQLite and PostgreSQL: migrations at start-up, projects and units, every upload kept with its
bytes and hash (the newest counts), results as the CLI writes them, and an audit row for every change."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import inspect, select

from scoring.service.models import AuditEntry, Token, User

from .conftest import EXAMPLES, A, B, World, make_client, service_of


def test_start_up_migrates_to_the_newest_revision_and_again_changes_nothing(
    client: TestClient, tmp_path: Path
) -> None:
    svc = service_of(client)
    tables = set(inspect(svc.engine).get_table_names())
    assert {
        "users",
        "tokens",
        "projects",
        "units",
        "submissions",
        "results",
        "rectifications",
        "audit_log",
        "batches",
        "evidence_files",
        "framework_files",
    } <= tables
    with svc.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one() == "0006"
    again = make_client(tmp_path, svc.settings.database_url)  # a restart on the same database
    service_of(again).close()


def test_the_migrations_make_exactly_the_tables_the_models_declare(client: TestClient) -> None:
    """Alembic's own comparison of the migrated database with the models: a column added to a model without a
    revision (or a revision that differs from its model) is a difference here, on both databases."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from scoring.service.models import Base

    svc = service_of(client)
    with svc.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_the_embedded_default_is_a_file_under_the_data_folder(lite: TestClient, tmp_path: Path) -> None:
    assert service_of(lite).settings.url.endswith("data/scoring.db")
    assert (tmp_path / "data" / "scoring.db").is_file()


def test_a_project_fixes_its_framework_version_and_hash(world: World) -> None:
    r = world.c.get(f"/api/v1/projects/{world.project}", headers=world.inspector)
    assert r.status_code == 200
    body = r.json()
    assert (body["framework_id"], body["framework_version"], body["year"], body["round"]) == (
        "demo-school",
        "1.0",
        2026,
        1,
    )
    assert body["framework_hash"] == service_of(world.c).plan("demo-school").hash


def test_a_unit_list_imports_by_code_and_a_second_import_updates_in_place(world: World) -> None:
    c, path = world.c, f"/api/v1/projects/{world.project}/units"
    assert [u["code"] for u in c.get(path, headers=world.admin).json()] == [A, B]
    again = "学校代码,学校名称,类型\n3201010001,滨江实验小学（新校区）,小学\n3201020007,北山中学,初中\n3201030001,南湖小学,小学\n"
    r = c.post(
        path + "/import?reason=更名",
        files={"file": ("名单.csv", again.encode("gb18030"))},
        headers=world.admin,
    )
    assert r.json() == {"created": 1, "updated": 1, "unchanged": 1}  # 学段, 区域: no column, kept
    unit = c.get(path + f"/{A}", headers=world.admin).json()
    assert (unit["name"], unit["phase"], unit["region"]) == ("滨江实验小学（新校区）", "小学", "示范区")
    audit = c.get("/api/v1/audit?entity=unit", headers=world.admin).json()
    renamed = next(e for e in audit if e["action"] == "update" and e["old"].get("name") == "滨江实验小学")
    assert (
        renamed["new"]["name"] == "滨江实验小学（新校区）"
        and renamed["reason"] == "更名"
        and renamed["user"] == "admin"
    )


def test_a_unit_list_with_bad_rows_imports_nothing_and_says_where(world: World) -> None:
    bad = "单位代码,单位名称\n3201030001,\n3201030001,东湖小学\n"
    r = world.c.post(
        f"/api/v1/projects/{world.project}/units/import",
        files={"file": ("名单.csv", bad.encode())},
        headers=world.admin,
    )
    assert r.status_code == 422
    cells = [p["cell"] for p in r.json()["problems"]]
    assert cells == ["第 2 行 (单位名称)", "第 3 行 (单位代码)"]
    assert "重复" in r.json()["problems"][1]["message"]
    assert len(world.c.get(f"/api/v1/projects/{world.project}/units", headers=world.admin).json()) == 2


def test_a_unit_list_from_a_workbook(world: World, tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["单位代码", "单位名称", "区域"])
    sheet.append([3201040001, "西山幼儿园", "示范区"])  # a code typed as a number
    book.save(tmp_path / "名单.xlsx")
    r = world.c.post(
        f"/api/v1/projects/{world.project}/units/import",
        files={"file": ("名单.xlsx", (tmp_path / "名单.xlsx").read_bytes())},
        headers=world.admin,
    )
    assert r.json()["created"] == 1
    unit = world.c.get(f"/api/v1/projects/{world.project}/units/3201040001", headers=world.admin).json()
    assert (unit["name"], unit["region"]) == ("西山幼儿园", "示范区")


def test_every_upload_is_kept_with_its_bytes_and_hash_and_the_newest_counts(world: World) -> None:
    c, subs = world.c, world.unit_path(A, "/submissions")
    first = (EXAMPLES / "strong.xlsx").read_bytes()
    second = (EXAMPLES / "strong-round2.yaml").read_bytes()
    r1 = c.post(subs, files={"file": ("strong.xlsx", first)}, headers=world.school_a)
    assert r1.status_code == 201, r1.text
    r2 = c.post(subs + "?reason=更正数据", files={"file": ("round2.yaml", second)}, headers=world.school_a)
    assert r2.status_code == 201, r2.text
    listed = c.get(subs, headers=world.inspector).json()
    assert [(s["version"], s["current"], s["uploaded_by"]) for s in listed] == [
        (2, True, "school-a"),
        (1, False, "school-a"),
    ]
    assert listed[1]["sha256"] == hashlib.sha256(first).hexdigest() and listed[1]["size"] == len(first)
    got = c.get(subs + "/1/file", headers=world.inspector)
    assert got.content == first and got.headers["x-content-sha256"] == hashlib.sha256(first).hexdigest()
    current = c.get(world.unit_path(A, "/result"), headers=world.school_a).json()["results"][0]
    round2 = c.get(subs + "/2/results", headers=world.school_a).json()["results"][0]
    assert current == round2 and current["source"] == "round2.yaml"
    uploads = [e for e in c.get("/api/v1/audit?entity=submission", headers=world.admin).json()]
    assert [(e["new"]["version"], e["reason"]) for e in uploads] == [(2, "更正数据"), (1, "")]


def test_the_stored_result_is_the_json_the_cli_writes(world: World, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from scoring.cli import main

    out = tmp_path / "out"
    ran = CliRunner().invoke(
        main, ["score", "demo-school", str(EXAMPLES / "weak.xlsx"), "-o", str(out), "--format", "json"]
    )
    assert ran.exit_code == 0, ran.output
    (written,) = out.glob("*.result.json")
    r = world.c.post(
        world.unit_path(B, "/submissions"),
        files={"file": ("weak.xlsx", (EXAMPLES / "weak.xlsx").read_bytes())},
        headers=world.inspector,
    )
    assert r.status_code == 201, r.text
    stored = world.c.get(world.unit_path(B, "/result"), headers=world.school_b).json()["results"]
    cli = json.loads(written.read_text(encoding="utf-8"))
    assert stored == [cli | {"source": "weak.xlsx"}]  # the CLI names the file by its path


def test_a_submission_that_cannot_be_read_is_kept_and_answered_with_its_problems(world: World) -> None:
    bad = b'{"unit": {"name": "\\u6ee8\\u6c5f", "code": "3201010001"}, "values": {"students": "many"}}'
    r = world.c.post(
        world.unit_path(A, "/submissions"),
        content=bad,
        headers={**world.school_a, "content-type": "application/json"},
    )
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "problems" and body["version"] == 1 and "已保存" in body["message"]
    assert body["problems"] and all(p["message"] for p in body["problems"])
    kept = world.c.get(world.unit_path(A, "/submissions/1"), headers=world.school_a).json()
    assert kept["status"] == "未通过" and kept["problems"] == body["problems"] and kept["results"] == []
    assert world.c.get(world.unit_path(A, "/result"), headers=world.school_a).status_code == 404


def test_a_submission_for_another_unit_code_is_not_scored_as_this_one(world: World) -> None:
    r = world.c.post(
        world.unit_path(A, "/submissions"),
        files={"file": ("weak.json", (EXAMPLES / "weak.json").read_bytes())},
        headers=world.inspector,
    )
    assert r.status_code == 422
    assert (
        "3201020007" in r.json()["problems"][0]["message"]
        and r.json()["problems"][0]["code"] == "unit-mismatch"
    )


def test_passwords_are_argon2id_and_tokens_are_stored_hashed(world: World) -> None:
    svc = service_of(world.c)
    secret = world.admin["Authorization"].split()[1]
    with svc.sessions() as session:
        hashes = session.scalars(select(User.password_hash)).all()
        tokens = session.scalars(select(Token.secret_hash)).all()
    assert all(h and h.startswith("$argon2id$") for h in hashes)
    assert hashlib.sha256(secret.encode()).hexdigest() in tokens and secret not in tokens


def test_every_change_has_an_audit_row(world: World) -> None:
    world.c.post(
        world.unit_path(A, "/submissions"),
        files={"file": ("s.yaml", (EXAMPLES / "strong.yaml").read_bytes())},
        headers=world.school_a,
    )
    with service_of(world.c).sessions() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        seen = {(e.action, e.entity) for e in rows}
    assert {
        ("create", "user"),
        ("create", "project"),
        ("create", "unit"),
        ("login", "token"),
        ("upload", "submission"),
        ("create", "rectification"),
    } <= seen


def test_a_user_change_is_audited_old_to_new_and_deactivating_signs_the_user_out(world: World) -> None:
    c = world.c
    r = c.patch("/api/v1/users/school-a", json={"unit_code": B, "reason": "调任"}, headers=world.admin)
    assert r.status_code == 200 and r.json()["unit_code"] == B
    assert [
        u["code"] for u in c.get(f"/api/v1/projects/{world.project}/units", headers=world.school_a).json()
    ] == [B]
    entry = c.get("/api/v1/audit?entity=user", headers=world.admin).json()[0]
    assert (entry["old"], entry["new"], entry["reason"]) == ({"unit_code": A}, {"unit_code": B}, "调任")
    bad = c.patch("/api/v1/users/school-a", json={"role": "督学"}, headers=world.admin)
    assert bad.status_code == 422  # a 督学 with a unit: refused, nothing changed
    assert c.patch("/api/v1/users/school-a", json={"active": False}, headers=world.admin).status_code == 200
    assert c.get("/api/v1/me", headers=world.school_a).status_code == 401
    assert (
        c.post("/api/v1/login", json={"name": "school-a", "password": "school-a-password"}).status_code == 401
    )


def test_a_project_whose_framework_changed_since_refuses_uploads(world: World) -> None:
    from scoring.service.models import Project

    with service_of(world.c).transaction() as session:
        project = session.get(Project, world.project)
        assert project is not None
        project.framework_hash = "sha256:0000000000000000"  # as if the shipped file changed after the project
    data = (EXAMPLES / "strong.yaml").read_bytes()
    r = world.c.post(
        world.unit_path(A, "/submissions"), files={"file": ("s.yaml", data)}, headers=world.school_a
    )
    assert (
        r.status_code == 409
        and r.json()["error"] == "framework-changed"
        and "另建评估项目" in r.json()["message"]
    )
    assert world.c.get(world.unit_path(A, "/submissions"), headers=world.school_a).json() == []


def test_uploads_at_the_same_time_each_get_their_own_version(world: World) -> None:
    from concurrent.futures import ThreadPoolExecutor

    data = (EXAMPLES / "strong.yaml").read_bytes()
    path = world.unit_path(A, "/submissions")

    def upload(i: int) -> int:
        return world.c.post(path, files={"file": (f"s{i}.yaml", data)}, headers=world.school_a).status_code

    # eight at once, sixteen in all: each reads the next number only once it holds the write lock (SQLite: BEGIN
    # IMMEDIATE; PostgreSQL: the unit's row), so none has to be retried more than the few times allowed
    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(upload, range(16))) == [201] * 16
    listed = world.c.get(path, headers=world.school_a).json()
    assert sorted(s["version"] for s in listed) == list(range(1, 17))
    assert sorted(s["filename"] for s in listed) == sorted(f"s{i}.yaml" for i in range(16))
