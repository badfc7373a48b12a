"""A project as one archive: exported from SQLite and imported into PostgreSQL it is the same project, row for
row (times, who, the bytes, results, 整改 items and their history, audit rows); a changed archive is refused with
the member named and nothing imported; an archive is bounded and checked like an upload; only a 管理员 may."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from scoring.io.safety import FileLimits
from scoring.service.archive import ArchiveError, export_path, import_project
from scoring.service.bootstrap import first_admin
from scoring.service.models import (
    AuditEntry,
    EvidenceFile,
    Project,
    Rectification,
    ResultRow,
    Submission,
    Unit,
    User,
)
from scoring.service.state import Service

from .conftest import (
    ADMIN_PASSWORD,
    EXAMPLES,
    A,
    B,
    Postgres,
    World,
    login,
    make_client,
    make_world,
    service_of,
)


def _populate(world: World) -> None:
    """Versions (one refused), results, 整改 items moved along their workflow, a renamed unit."""
    c = world.c

    def up(code: str, who: dict[str, str], name: str) -> int:
        files = {"file": (name, (EXAMPLES / name).read_bytes())}
        return c.post(world.unit_path(code, "/submissions"), files=files, headers=who).status_code

    assert up(A, world.school_a, "strong.xlsx") == 201
    assert up(A, world.school_a, "strong-round2.yaml") == 201
    assert up(B, world.inspector, "weak.xlsx") == 201
    assert up(B, world.school_b, "weak.json") == 201
    bad = c.post(
        world.unit_path(A, "/submissions"),
        content=b'{"unit": {"code": "3201010001"}, "values": {"students": "many"}}',
        headers={**world.school_a, "content-type": "application/json"},
    )
    assert bad.status_code == 422
    items = c.get(world.unit_path(B, "/rectifications"), headers=world.school_b).json()
    assert len(items) >= 2
    first, second = items[0]["id"], items[1]["id"]
    for who, item, status in (
        (world.school_b, first, "整改中"),
        (world.school_b, first, "申请销号"),
        (world.inspector, first, "已销号"),
        (world.school_b, second, "整改中"),
    ):
        r = c.post(
            world.unit_path(B, f"/rectifications/{item}"),
            json={"status": status, "evidence": f"{status}的说明", "reason": "按期整改"},
            headers=who,
        )
        assert r.status_code == 200, r.text
    evidence = world.unit_path(B, f"/rectifications/{second}/evidence")
    for name, data in (("照片.png", PNG), ("整改报告.pdf", PDF), ("同一份.pdf", PDF)):
        r = c.post(evidence, files={"file": (name, data)}, headers=world.school_b)
        assert r.status_code == 201, r.text
    withdrawn = c.get(evidence, headers=world.school_b).json()[0]["id"]
    assert c.delete(f"{evidence}/{withdrawn}?reason=传错了", headers=world.school_b).status_code == 200
    review = world.unit_path(B, "/submissions/2/review")
    r = c.post(review, json={"decision": "退回", "reason": "请补充在校生数的佐证"}, headers=world.inspector)
    assert r.status_code == 200, r.text
    renamed = "单位代码,单位名称\n3201010001,滨江实验小学（新校区）\n"
    files = {"file": ("名单.csv", renamed.encode())}
    r = c.post(f"/api/v1/projects/{world.project}/units/import?reason=更名", files=files, headers=world.admin)
    assert r.json()["updated"] == 1


PDF = b"%PDF-1.4\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def _export(c: TestClient, project: int, admin: dict[str, str]) -> bytes:
    r = c.get(f"/api/v1/projects/{project}/archive", headers=admin)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    assert "attachment" in r.headers["content-disposition"]
    return r.content


def _import(c: TestClient, data: bytes, admin: dict[str, str], name: str = "档案.zip") -> Any:
    return c.post("/api/v1/projects/import?reason=迁移", files={"file": (name, data)}, headers=admin)


def dump(svc: Service, project_id: int) -> dict[str, Any]:
    """Everything of a project, keyed by what identifies a row to a person (unit code, version, indicator), with
    users by name: what must be the same in any store."""
    with svc.sessions() as s:
        names = {u.id: u.name for u in s.scalars(select(User))}
        p = s.get(Project, project_id)
        assert p is not None
        units = {u.id: u for u in s.scalars(select(Unit).where(Unit.project_id == project_id))}
        subs = {x.id: x for x in s.scalars(select(Submission).where(Submission.unit_id.in_(units))).all()}
        results = {r.id: r for r in s.scalars(select(ResultRow).where(ResultRow.submission_id.in_(subs)))}
        items = {r.id: r for r in s.scalars(select(Rectification).where(Rectification.unit_id.in_(units)))}
        files = {
            f.id: f for f in s.scalars(select(EvidenceFile).where(EvidenceFile.rectification_id.in_(items)))
        }

        def sub_key(i: int) -> tuple[str, int]:
            return units[subs[i].unit_id].code, subs[i].version

        keys: dict[str, dict[int, Any]] = {
            "unit": {i: u.code for i, u in units.items()},
            "submission": {i: sub_key(i) for i in subs},
            "rectification": {i: (units[r.unit_id].code, r.indicator) for i, r in items.items()},
            "evidence": {
                i: (
                    units[items[f.rectification_id].unit_id].code,
                    items[f.rectification_id].indicator,
                    f.filename,
                )
                for i, f in files.items()
            },
        }
        audit = []
        for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id)):
            if e.entity in ("project", "demo"):
                if e.entity_id != project_id:
                    continue
                key: Any = "project"
            elif e.entity_id in keys.get(e.entity, {}):
                key = keys[e.entity][e.entity_id]
            else:
                continue
            who = names.get(e.user_id) if e.user_id else None
            audit.append((e.at, who, e.action, e.entity, key, e.old, e.new, e.reason))
        return {
            "project": (
                p.name,
                p.framework_id,
                p.framework_version,
                p.framework_hash,
                p.year,
                p.round,
                p.created_at,
                names.get(p.created_by) if p.created_by else None,
            ),
            "units": sorted((u.code, u.name, u.type, u.phase, u.region) for u in units.values()),
            "submissions": sorted(
                (
                    *sub_key(i),
                    x.filename,
                    x.size,
                    x.sha256,
                    x.content,
                    x.status,
                    json.dumps(x.problems, ensure_ascii=False),
                    names[x.uploaded_by],
                    x.uploaded_at,
                    x.review_state,
                    x.review_reason,
                    names.get(x.reviewed_by) if x.reviewed_by else None,
                    x.reviewed_at,
                )
                for i, x in subs.items()
            ),
            "results": sorted(
                (
                    *sub_key(r.submission_id),
                    r.part,
                    r.engine,
                    r.framework_hash,
                    r.total,
                    r.grade,
                    r.document,
                    r.created_at,
                )
                for r in results.values()
            ),
            "rectifications": sorted(
                (
                    units[r.unit_id].code,
                    r.indicator,
                    r.problem,
                    r.requirement,
                    r.deadline,
                    r.status,
                    r.evidence,
                    (*sub_key(results[r.result_id].submission_id), results[r.result_id].part),
                    r.updated_at,
                )
                for r in items.values()
            ),
            "evidence": sorted(
                (
                    *keys["evidence"][i],
                    f.media_type,
                    f.size,
                    f.sha256,
                    f.content,
                    names[f.uploaded_by],
                    f.uploaded_at,
                    f.withdrawn_at,
                )
                for i, f in files.items()
            ),
            "audit": audit,
        }


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


def test_a_project_exported_from_sqlite_and_imported_into_postgresql_is_the_same_project(
    tmp_path: Path, postgres: Postgres
) -> None:
    if postgres.url is None:
        pytest.skip(postgres.why)
    with make_client(tmp_path / "lite", None) as lite:
        first_admin(service_of(lite), ADMIN_PASSWORD)
        world = make_world(lite)
        _populate(world)
        data = _export(lite, world.project, world.admin)
        before = dump(service_of(lite), world.project)
        service_of(lite).close()
    url = postgres.create()
    try:
        with make_client(tmp_path / "pg", url) as pg:
            first_admin(service_of(pg), ADMIN_PASSWORD)
            admin = login(pg, "admin", ADMIN_PASSWORD)
            r = _import(pg, data, admin)
            assert r.status_code == 201, r.text
            body = r.json()
            assert body["users_created"] == ["dux", "school-a", "school-b"] and body["framework_current"]
            assert body["counts"] == {
                "units": 2,
                "submissions": 5,
                "files": 7,  # five submissions, a PNG and a PDF (attached twice, kept once)
                "results": 4,
                "rectifications": len(before["rectifications"]),
                "evidence": 3,
                "county": 0,
                "audit": len(before["audit"]),
            }
            after = dump(service_of(pg), body["project"]["id"])
            *same, (_, who, action, entity, key, _, new, reason) = after.pop("audit")
            assert (who, action, entity, key, reason) == ("admin", "import", "project", "project", "迁移")
            assert new["counts"] == body["counts"]
            assert same == before.pop("audit")
            assert after == before  # every row of every table, with its times, who, bytes and documents
            # the users the archive named are there, inactive and without a password, until an admin says so
            with service_of(pg).sessions() as s:
                dux = s.scalars(select(User).where(User.name == "dux")).one()
                assert (dux.role, dux.active, dux.password_hash) == ("督学", False, None)
            # exported again, it is the same archive but for the manifest and the import's own audit row
            again = _members(_export(pg, body["project"]["id"], admin))
            first = _members(data)
            assert again.keys() == first.keys()
            for name in first:
                if name not in ("manifest.json", "audit.jsonl", "project.json"):
                    assert again[name] == first[name], name
            heads = [json.loads(m["project.json"]) for m in (again, first)]
            assert [u.pop("active") for u in heads[0]["users"]] == [True, False, False, False]  # admin here
            assert [u.pop("active") for u in heads[1]["users"]] == [True] * 4
            assert heads[0] == heads[1]
            assert again["audit.jsonl"].startswith(first["audit.jsonl"])
            assert json.loads(again["audit.jsonl"].splitlines()[-1])["action"] == "import"
            # the imported project works: its results are served, and a new upload is its next version
            path = f"/api/v1/projects/{body['project']['id']}/units/{B}"
            assert pg.get(path + "/result", headers=admin).json()["results"][0]["unit"]["name"] == "北山中学"
            files = {"file": ("weak.json", (EXAMPLES / "weak.json").read_bytes())}
            r = pg.post(path + "/submissions", files=files, headers=admin)
            assert r.status_code == 201 and r.json()["version"] == 3
            service_of(pg).close()
    finally:
        postgres.drop(url)


def test_the_manifest_names_the_format_and_the_framework_and_hashes_every_member(world: World) -> None:
    _populate(world)
    data = _export(world.c, world.project, world.admin)
    members = _members(data)
    manifest = json.loads(members.pop("manifest.json"))
    assert (manifest["format"], manifest["format_version"]) == ("duping-scoring-project-archive", 3)
    fw = world.c.get(f"/api/v1/projects/{world.project}", headers=world.admin).json()
    assert manifest["framework"] == {
        "id": "demo-school",
        "version": fw["framework_version"],
        "hash": fw["framework_hash"],
    }
    assert manifest["members"] == {n: hashlib.sha256(b).hexdigest() for n, b in members.items()}
    assert (
        members[f"files/{hashlib.sha256((EXAMPLES / 'strong.xlsx').read_bytes()).hexdigest()}"]
        == (EXAMPLES / "strong.xlsx").read_bytes()
    )
    assert "password" not in json.dumps(json.loads(members["project.json"]))


def _rewrite(data: bytes, change: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            dst.writestr(name, change.get(name, src.read(name)))
        for name in change.keys() - set(src.namelist()):
            dst.writestr(name, change[name])
    return out.getvalue()


def _counts(svc: Service) -> tuple[int, ...]:
    with svc.sessions() as s:
        return tuple(
            len(s.scalars(select(t.id)).all())  # type: ignore[attr-defined]
            for t in (Project, Unit, Submission, ResultRow, Rectification, AuditEntry, User)
        )


def test_a_changed_archive_is_refused_in_chinese_and_nothing_is_imported(world: World) -> None:
    _populate(world)
    data = _export(world.c, world.project, world.admin)
    members = _members(data)
    blob = next(n for n in members if n.startswith("files/"))
    results = members["results.jsonl"].replace(b'"total": "', b'"total": "9', 1)
    svc = service_of(world.c)
    before = _counts(svc)
    for change in ({blob: members[blob] + b"x"}, {"results.jsonl": results}):
        r = _import(world.c, _rewrite(data, change), world.admin)
        assert r.status_code == 422, r.text
        body = r.json()
        (name,) = change
        assert body["error"] == "archive-tampered" and name in body["message"]
        assert "SHA-256" in body["message"] and body["message"].endswith("未导入任何数据")
        assert _counts(svc) == before
    # a member the manifest does not list
    r = _import(world.c, _rewrite(data, {"extra.txt": b"hello"}), world.admin)
    assert r.status_code == 422 and "extra.txt" in r.json()["message"]
    # a consistent archive whose rows refer to a unit that is not there
    bad = members["submissions.jsonl"].replace(b'"unit": 1', b'"unit": 9', 1)
    manifest = json.loads(members["manifest.json"])
    manifest["members"]["submissions.jsonl"] = hashlib.sha256(bad).hexdigest()
    r = _import(
        world.c,
        _rewrite(data, {"submissions.jsonl": bad, "manifest.json": json.dumps(manifest).encode()}),
        world.admin,
    )
    assert r.status_code == 422 and "不存在的单位" in r.json()["message"]
    assert _counts(svc) == before


def test_an_archive_is_bounded_and_checked_like_an_upload(client: TestClient, tmp_path: Path) -> None:
    admin = login(client, "admin", ADMIN_PASSWORD)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("manifest.json", b"{}")
        z.writestr("files/zeros", b"\0" * (8 * 1024 * 1024))
    r = _import(client, bomb.getvalue(), admin)
    assert r.status_code == 422 and r.json()["error"] == "archive-unsafe"
    assert "疑似压缩炸弹" in r.json()["message"] and r.json()["message"].endswith("未导入任何数据")
    r = _import(client, b"not a zip at all", admin)
    assert r.status_code == 422 and "zip" in r.json()["message"]
    newer = io.BytesIO()
    with zipfile.ZipFile(newer, "w") as z:
        z.writestr(
            "manifest.json", json.dumps({"format": "duping-scoring-project-archive", "format_version": 9})
        )
    r = _import(client, newer.getvalue(), admin)
    assert r.status_code == 422 and "格式版本 9 不受支持" in r.json()["message"]
    many = io.BytesIO()
    with zipfile.ZipFile(many, "w") as z:
        for i in range(20):
            z.writestr(f"files/{i}", b"x")
    svc = service_of(client)
    with pytest.raises(ArchiveError) as err:
        import_project(svc, many.getvalue(), limits=FileLimits(max_members=10))
    assert "文件数 20 超过上限 10" in err.value.zh
    with pytest.raises(ArchiveError) as err:
        import_project(svc, many.getvalue(), limits=FileLimits(max_file=100))
    assert err.value.status == 413


def test_only_an_admin_exports_or_imports(world: World) -> None:
    c = world.c
    for who in (world.inspector, world.school_a):
        assert c.get(f"/api/v1/projects/{world.project}/archive", headers=who).status_code == 403
        assert _import(c, b"PK", who).status_code == 403
    assert c.get("/api/v1/projects/999/archive", headers=world.admin).status_code == 404
    assert c.get(f"/api/v1/projects/{world.project}/archive").status_code == 401


def test_the_library_exports_to_a_file_and_imports_it_into_the_same_store(
    world: World, tmp_path: Path
) -> None:
    _populate(world)
    svc = service_of(world.c)
    path = tmp_path / "backup.zip"
    manifest = export_path(svc, world.project, path, by="cli")
    assert manifest.exported_by == "cli" and manifest.counts["submissions"] == 5
    admin_id = world.c.get("/api/v1/me", headers=world.admin).json()["id"]
    done = import_project(svc, path, admin_id, "恢复备份")
    assert done.users_created == [] and done.project_id != world.project
    old, new = dump(svc, world.project), dump(svc, done.project_id)
    assert new.pop("audit")[:-1] == old.pop("audit") and new == old
    listed = world.c.get("/api/v1/projects", headers=world.admin).json()
    assert [p["name"] for p in listed] == ["2026 年春季督评", "2026 年春季督评"]


def test_an_export_while_uploads_go_on_is_one_consistent_moment(world: World) -> None:
    from concurrent.futures import ThreadPoolExecutor

    data = (EXAMPLES / "strong.yaml").read_bytes()
    path = world.unit_path(A, "/submissions")
    svc = service_of(world.c)

    def upload(i: int) -> int:
        return world.c.post(path, files={"file": (f"s{i}.yaml", data)}, headers=world.school_a).status_code

    def export(_: int) -> bytes:
        return _export(world.c, world.project, world.admin)

    with ThreadPoolExecutor(4) as pool:
        uploads = pool.map(upload, range(8))
        archives = list(pool.map(export, range(3)))
        assert list(uploads) == [201] * 8
    for archive in archives:
        done = import_project(svc, archive)
        counts = done.counts
        assert counts["results"] == counts["submissions"]  # each version with its result, none without


def test_a_version_1_archive_is_still_read(world: World) -> None:
    """An archive written before 佐证材料 and reviews: no evidence.jsonl, submissions without a review."""
    _populate(world)
    data = _export(world.c, world.project, world.admin)
    members = _members(data)
    manifest = json.loads(members.pop("manifest.json"))
    members.pop("evidence.jsonl")
    members.pop("county.jsonl")
    lines = [json.loads(line) for line in members["submissions.jsonl"].splitlines()]
    for line in lines:
        for key in ("review_state", "review_reason", "reviewed_by", "reviewed_at"):
            line.pop(key)
    members["submissions.jsonl"] = "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines).encode()
    audit = [json.loads(line) for line in members["audit.jsonl"].splitlines()]
    kept = [x for x in audit if x["entity"] != "evidence" and x["action"] != "review"]
    members["audit.jsonl"] = "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in kept).encode()
    manifest["format_version"] = 1
    manifest["members"] = {n: hashlib.sha256(b).hexdigest() for n, b in members.items()}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False))
        for name, body in members.items():
            z.writestr(name, body)
    r = _import(world.c, out.getvalue(), world.admin)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["counts"]["evidence"] == 0 and body["counts"]["submissions"] == 5
    imported = dump(service_of(world.c), body["project"]["id"])
    assert imported["evidence"] == [] and {s[10] for s in imported["submissions"]} == {None}


def test_evidence_bytes_are_checked_on_import(world: World) -> None:
    _populate(world)
    data = _export(world.c, world.project, world.admin)
    members = _members(data)
    png = f"files/{hashlib.sha256(PNG).hexdigest()}"
    r = _import(world.c, _rewrite(data, {png: PNG + b"x"}), world.admin)
    assert r.status_code == 422 and r.json()["error"] == "archive-tampered" and png in r.json()["message"]
    # a consistent archive whose file refers to an item that is not there
    bad = members["evidence.jsonl"].replace(b'"item": ', b'"item": 9', 1)
    manifest = json.loads(members["manifest.json"])
    manifest["members"]["evidence.jsonl"] = hashlib.sha256(bad).hexdigest()
    changed = {"evidence.jsonl": bad, "manifest.json": json.dumps(manifest).encode()}
    r = _import(world.c, _rewrite(data, changed), world.admin)
    assert r.status_code == 422 and "不存在的整改事项" in r.json()["message"]


def test_a_project_on_an_uploaded_framework_travels_with_it_its_round_state_and_its_inspector(
    tmp_path: Path,
) -> None:
    """The framework file a 管理员 uploaded is archived with the project (framework.yaml, hashed like every
    member) and kept by the importing store, so the imported project scores on; the round's state and each unit's
    督学 come along."""
    local = 'id: demo-local\nname: 本区办学质量考评\nversion: "2026"\nextends: demo-school\n'
    doc = json.loads((EXAMPLES / "weak.json").read_text(encoding="utf-8")) | {"framework": "demo-local"}
    weak = json.dumps(doc, ensure_ascii=False).encode()
    with make_client(tmp_path / "a", None) as a:
        first_admin(service_of(a), ADMIN_PASSWORD)
        world = make_world(a)
        admin = world.admin
        assert (
            a.post(
                "/api/v1/frameworks", files={"file": ("本区.yaml", local.encode())}, headers=admin
            ).status_code
            == 201
        )
        r = a.post(
            "/api/v1/projects", json={"name": "本区", "framework": "demo-local", "year": 2026}, headers=admin
        )
        project = r.json()["id"]
        units = "单位代码,单位名称,单位类型\n3201020007,北山中学,初中\n".encode()
        a.post(f"/api/v1/projects/{project}/units/import", files={"file": ("u.csv", units)}, headers=admin)
        a.post(
            f"/api/v1/projects/{project}/inspectors", json={"units": [B], "inspector": "dux"}, headers=admin
        )
        path = f"/api/v1/projects/{project}/units/{B}/submissions"
        assert a.post(path, files={"file": ("weak.json", weak)}, headers=admin).status_code == 201
        a.post(f"/api/v1/projects/{project}/state", json={"state": "已关闭"}, headers=admin)
        data = _export(a, project, admin)
        total = a.get(f"/api/v1/projects/{project}/units/{B}/result", headers=admin).json()["results"][0][
            "total"
        ]
        service_of(a).close()
    members = _members(data)
    assert members["framework.yaml"] == local.encode()
    assert (
        json.loads(members["manifest.json"])["members"]["framework.yaml"]
        == hashlib.sha256(local.encode()).hexdigest()
    )
    with make_client(tmp_path / "b", None) as b:
        first_admin(service_of(b), ADMIN_PASSWORD)
        admin = login(b, "admin", ADMIN_PASSWORD)
        r = _import(b, data, admin)
        assert r.status_code == 201, r.text
        assert r.json()["framework_current"] is True
        new = r.json()["project"]["id"]
        assert b.get(f"/api/v1/projects/{new}", headers=admin).json()["state"] == "已关闭"
        assert b.get(f"/api/v1/projects/{new}/units/{B}", headers=admin).json()["inspector"] == "dux"
        assert [
            f["id"] for f in b.get("/api/v1/frameworks", headers=admin).json() if f["source"] == "uploaded"
        ] == ["demo-local"]
        path = f"/api/v1/projects/{new}/units/{B}"
        assert b.get(path + "/result", headers=admin).json()["results"][0]["total"] == total
        assert (
            b.post(path + "/submissions", files={"file": ("weak.json", weak)}, headers=admin).status_code
            == 409
        )
        b.post(f"/api/v1/projects/{new}/state", json={"state": "填报中"}, headers=admin)
        r = b.post(path + "/submissions", files={"file": ("weak.json", weak)}, headers=admin)
        assert (r.status_code, r.json()["version"]) == (201, 2)
        # a framework file changed inside the archive (manifest rewritten to match) is refused: not the project's
        changed = (local + "scoring: {precision: 1}\n").encode()
        manifest = json.loads(members["manifest.json"])
        manifest["members"]["framework.yaml"] = hashlib.sha256(changed).hexdigest()
        bad = _rewrite(data, {"framework.yaml": changed, "manifest.json": json.dumps(manifest).encode()})
        r = _import(b, bad, admin)
        assert r.status_code == 422 and "框架" in r.json()["message"]
        service_of(b).close()


def test_the_county_data_travels_with_its_project_and_a_version_2_archive_is_still_read(
    client: TestClient,
) -> None:
    """Every version of a county project's own data (县级填报, one refused) is in the archive (format 3) with its
    bytes and audit rows; imported, the county result is the same. An archive of format 2 has no county.jsonl."""
    from .test_cohort_api import county_project, school_files
    from .test_county_data import COUNTY, upload_county

    project, admin = county_project(client, school_files()[:3])
    assert upload_county(client, project, admin, "county.yaml", COUNTY.read_bytes()).status_code == 201
    assert upload_county(client, project, admin, "bad.yaml", b"values: [").status_code == 422
    data = _export(client, project, admin)
    members = _members(data)
    manifest = json.loads(members["manifest.json"])
    assert manifest["format_version"] == 3 and manifest["counts"]["county"] == 2
    r = _import(client, data, admin)
    assert r.status_code == 201, r.text
    copy = r.json()["project"]["id"]
    assert r.json()["counts"]["county"] == 2

    def versions(p: int) -> list[Any]:
        found = client.get(f"/api/v1/projects/{p}/county-data", headers=admin).json()
        return [{k: v for k, v in x.items()} for x in found]

    assert versions(copy) == versions(project)
    cohort = [client.get(f"/api/v1/projects/{p}/cohort", headers=admin).json() for p in (project, copy)]
    assert cohort[0] == cohort[1] and cohort[0]["county"]["unit"]["name"] == "某县"
    original = client.get(f"/api/v1/projects/{copy}/county-data/1/file", headers=admin)
    assert original.content == COUNTY.read_bytes()
    with service_of(client).sessions() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.entity == "county_submission")).all()
    assert len(rows) == 4  # two uploads, each in the project and in its copy

    del members["manifest.json"]
    members.pop("county.jsonl")
    audit = [json.loads(line) for line in members["audit.jsonl"].splitlines()]
    kept = [x for x in audit if x["entity"] != "county_submission"]
    members["audit.jsonl"] = "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in kept).encode()
    manifest["format_version"] = 2
    manifest["members"] = {n: hashlib.sha256(b).hexdigest() for n, b in members.items()}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False))
        for name, body in members.items():
            z.writestr(name, body)
    r = _import(client, out.getvalue(), admin)
    assert r.status_code == 201, r.text
    assert r.json()["counts"]["county"] == 0
    assert versions(r.json()["project"]["id"]) == []
