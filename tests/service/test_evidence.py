"""佐证材料 on SQLite and PostgreSQL: a school attaches files to its 整改 item, lists and downloads them (the same
bytes, the media type found from the content, a safe Content-Disposition), withdraws one (kept, audited); the
limits and refused kinds answer in Chinese; another school gets 404 for everything, a 督学 may read but not attach;
nothing changes once the item is 申请销号."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

from scoring.service.evidence import DOCX, JPEG, PDF, XLSX, clean_name
from scoring.service.settings import Limits

from .conftest import EXAMPLES, B, World, make_client, make_world, service_of

PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def docx_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<?xml version='1.0'?><Types/>")
        zf.writestr("word/document.xml", "<?xml version='1.0'?><w:document/>")
    return out.getvalue()


def plain_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("照片.jpg", b"\xff\xd8\xff" + b"\0" * 10)
    return out.getvalue()


def scored_item(world: World) -> int:
    """B's weak submission, scored; the id of its first 整改 item."""
    data = (EXAMPLES / "weak.json").read_bytes()
    r = world.c.post(
        world.unit_path(B, "/submissions"), files={"file": ("weak.json", data)}, headers=world.admin
    )
    assert r.status_code == 201, r.text
    items = world.c.get(world.unit_path(B, "/rectifications"), headers=world.school_b).json()
    item: int = items[0]["id"]
    return item


def attach(world: World, who: dict[str, str], item: int, name: str, data: bytes) -> Any:
    return world.c.post(
        world.unit_path(B, f"/rectifications/{item}/evidence"), files={"file": (name, data)}, headers=who
    )


def test_a_school_attaches_lists_downloads_and_withdraws_a_file(world: World) -> None:
    item = scored_item(world)
    base = world.unit_path(B, f"/rectifications/{item}/evidence")
    r = world.c.post(base, files={"file": ("整改前后 照片.pdf", PDF_BYTES)}, headers=world.school_b)
    assert r.status_code == 201, r.text
    pdf = r.json()
    assert pdf["filename"] == "整改前后 照片.pdf" and pdf["media_type"] == "application/pdf"
    assert pdf["size"] == len(PDF_BYTES) and pdf["uploaded_by"] == "school-b" and pdf["withdrawn_at"] is None
    r = world.c.post(base, files={"file": ("方案.docx", docx_bytes())}, headers=world.school_b)
    assert r.status_code == 201, r.text
    word = r.json()
    assert word["media_type"] == DOCX.media_type

    listed = world.c.get(base, headers=world.inspector).json()  # a 督学 reads them
    assert [f["filename"] for f in listed] == ["整改前后 照片.pdf", "方案.docx"]

    got = world.c.get(f"{base}/{pdf['id']}", headers=world.inspector)
    assert got.status_code == 200 and got.content == PDF_BYTES
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"].startswith("inline;")
    assert f"filename*=UTF-8''{quote('整改前后 照片.pdf', safe='')}" in got.headers["content-disposition"]
    got = world.c.get(f"{base}/{word['id']}", headers=world.school_b)
    assert got.content == docx_bytes() and got.headers["content-disposition"].startswith("attachment;")

    r = world.c.delete(f"{base}/{pdf['id']}", headers=world.inspector)
    assert r.status_code == 403  # a 督学 decides on the files; the school supplies them
    r = world.c.delete(f"{base}/{pdf['id']}?reason=传错了", headers=world.school_b)
    assert r.status_code == 200 and r.json()["withdrawn_at"] is not None
    listed = world.c.get(base, headers=world.school_b).json()
    assert [f["withdrawn_at"] is not None for f in listed] == [True, False]  # kept, marked
    assert world.c.get(f"{base}/{pdf['id']}", headers=world.admin).content == PDF_BYTES  # bytes kept

    audit = world.c.get("/api/v1/audit?entity=evidence", headers=world.admin).json()
    assert sorted(e["action"] for e in audit) == ["attach", "attach", "withdraw"]
    withdrawn = next(e for e in audit if e["action"] == "withdraw")
    indicator = world.c.get(world.unit_path(B, "/rectifications"), headers=world.admin).json()[0]["indicator"]
    assert withdrawn["reason"] == "传错了" and withdrawn["new"]["indicator"] == indicator


def test_another_school_gets_404_for_everything_and_an_inspector_cannot_attach(world: World) -> None:
    item = scored_item(world)
    base = world.unit_path(B, f"/rectifications/{item}/evidence")
    made = world.c.post(base, files={"file": ("a.pdf", PDF_BYTES)}, headers=world.school_b).json()
    other = world.school_a
    for method, path in (
        ("GET", base),
        ("GET", f"{base}/{made['id']}"),
        ("DELETE", f"{base}/{made['id']}"),
    ):
        r = world.c.request(method, path, headers=other)
        assert r.status_code == 404, (method, path, r.text)
    assert attach(world, other, item, "a.pdf", PDF_BYTES).status_code == 404
    unknown = world.c.get(world.unit_path(B, "/rectifications/999999/evidence"), headers=world.admin)
    assert unknown.status_code == 404
    assert world.c.get(f"{base}/999999", headers=world.admin).status_code == 404
    r = attach(world, world.inspector, item, "a.pdf", PDF_BYTES)
    assert r.status_code == 403 and "督学" in r.json()["message"]
    assert attach(world, world.admin, item, "a.pdf", PDF_BYTES).status_code == 201


def test_refused_kinds_and_names_and_a_closed_item(world: World) -> None:
    item = scored_item(world)
    for name, data, words in (
        ("照片.zip", plain_zip(), "压缩包"),
        ("说明.pdf", b"MZ\x90\0 this is a program", "无法识别"),
        ("空.pdf", b"", "空"),
    ):
        r = attach(world, world.school_b, item, name, data)
        assert r.status_code == 422, r.text
        message = r.json()["message"]
        assert words in message, message
    # a PDF under a misleading name is kept as a PDF, with a name that cannot disguise it
    r = attach(world, world.school_b, item, "../../照片\u202egpj.exe", PDF_BYTES)
    assert r.status_code == 201 and r.json()["filename"] == "照片gpj.exe.pdf"

    steps = world.unit_path(B, f"/rectifications/{item}")
    assert world.c.post(steps, json={"status": "整改中"}, headers=world.school_b).status_code == 200
    assert world.c.post(steps, json={"status": "申请销号"}, headers=world.school_b).status_code == 200
    r = attach(world, world.school_b, item, "a.pdf", PDF_BYTES)
    assert r.status_code == 409 and "申请销号" in r.json()["message"]


def test_size_and_count_limits_are_clear(tmp_path: Path, database: str | None) -> None:
    from scoring.service.bootstrap import first_admin

    from .conftest import ADMIN_PASSWORD

    limits = Limits(max_upload=64 * 1024, max_body=128 * 1024, max_evidence=2)
    with make_client(tmp_path, database, limits) as c:
        first_admin(service_of(c), ADMIN_PASSWORD)
        world = make_world(c)
        item = scored_item(world)
        big = PDF_BYTES + b"0" * (64 * 1024)
        r = attach(world, world.school_b, item, "大.pdf", big)
        assert r.status_code == 413 and "64 KiB" in r.json()["message"]
        for n in range(2):
            assert attach(world, world.school_b, item, f"{n}.png", PNG_BYTES).status_code == 201
        r = attach(world, world.school_b, item, "3.png", PNG_BYTES)
        assert r.status_code == 409 and "上限" in r.json()["message"]
        service_of(c).close()


def test_office_files_are_known_by_their_parts(world: World) -> None:
    item = scored_item(world)
    r = attach(world, world.school_b, item, "统计表", (EXAMPLES / "strong.xlsx").read_bytes())
    assert r.status_code == 201 and r.json()["media_type"] == XLSX.media_type
    assert r.json()["filename"] == "统计表.xlsx"
    got = world.c.get(
        world.unit_path(B, f"/rectifications/{item}/evidence/{r.json()['id']}"), headers=world.admin
    )
    assert got.headers["content-disposition"].startswith("attachment;")
    # a zip that only says it is a Word file (no [Content_Types].xml) is a zip
    fake = io.BytesIO()
    with zipfile.ZipFile(fake, "w") as zf:
        zf.writestr("word/document.xml", "<w:document/>")
    r = attach(world, world.school_b, item, "方案.docx", fake.getvalue())
    assert r.status_code == 422 and "压缩包" in r.json()["message"]
    # a zip bomb dressed as a Word file is refused by the upload's safety checks
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", b"\0" * (30 * 1024 * 1024))
    r = attach(world, world.school_b, item, "方案.docx", bomb.getvalue())
    assert r.status_code == 422 and "安全检查" in r.json()["message"], r.text


def test_names_are_cleaned_for_display_and_headers() -> None:
    assert clean_name("C:\\Users\\校长\\整改报告.PDF", PDF) == "整改报告.pdf"
    assert clean_name('a"b<c>.jpeg', JPEG) == "a_b_c_.jpeg"
    assert clean_name(None, PDF) == "佐证材料.pdf"
    assert clean_name("...", DOCX) == "佐证材料.docx"
    assert clean_name("x" * 300 + ".pdf", PDF) == "x" * 116 + ".pdf"
