"""What a request may carry: the body is bounded before it is buffered, one file of bounded size per request,
a form of a few parts, a bounded number of versions per unit; the bytes pass the same safety checks as in
``scoring score`` (a zip bomb is refused with the same words) before any parser sees them. On SQLite and
PostgreSQL."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from scoring.service.bootstrap import first_admin
from scoring.service.settings import Limits

from .conftest import ADMIN_PASSWORD, EXAMPLES, login, make_client, make_world, service_of

KiB = 1024
SMALL = Limits(max_upload=64 * KiB, max_body=96 * KiB, max_form_parts=3, max_versions=2)


@pytest.fixture
def small(tmp_path: Path, database: str | None) -> Iterator[TestClient]:
    """Small limits, on SQLite and PostgreSQL."""
    with make_client(tmp_path, database, SMALL) as c:
        first_admin(service_of(c), ADMIN_PASSWORD)
        yield c
        service_of(c).close()


def _score(c: TestClient, **kwargs: Any) -> tuple[int, Any]:
    auth = login(c, "admin", ADMIN_PASSWORD)
    headers = {**auth, **kwargs.pop("headers", {})}
    r = c.post("/api/v1/score?framework=demo-school", headers=headers, **kwargs)
    return r.status_code, r.json()


def test_a_body_over_the_limit_is_413_before_it_is_read(small: TestClient) -> None:
    status, body = _score(small, content=b"x" * (100 * KiB), headers={"content-type": "application/json"})
    assert status == 413 and body["error"] == "too-large" and body["message"].startswith("请求太大")


def test_a_streamed_body_without_a_length_is_cut_off_at_the_limit(small: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b"x" * (10 * KiB)

    status, body = _score(small, content=chunks(), headers={"content-type": "application/json"})
    assert status == 413 and body["message"].startswith("请求太大")


def test_a_file_over_the_upload_limit_is_413(small: TestClient) -> None:
    status, body = _score(small, files={"file": ("big.json", b" " * (80 * KiB))})
    assert status == 413 and body["message"].startswith("文件太大")


def test_a_form_with_more_files_or_parts_than_allowed_is_refused(small: TestClient) -> None:
    data = (EXAMPLES / "weak.json").read_bytes()
    files = [("file", ("a.json", data)), ("file", ("b.json", data))]
    status, body = _score(small, files=files)
    assert status == 400 and body["error"] == "http" and body["message"].startswith("请求格式不正确")
    status, _ = _score(small, files={"file": ("a.json", data)}, data={"a": "1", "b": "2", "c": "3", "d": "4"})
    assert status == 400


def test_a_zip_bomb_is_refused_like_the_cli_refuses_it(client: TestClient) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (8 * 1024 * KiB))
    status, body = _score(client, files={"file": ("bomb.xlsx", buffer.getvalue())})
    (p,) = body["problems"]
    assert (
        status == 422
        and p["code"] == "workbook-unsafe"
        and "疑似压缩炸弹" in p["message"]
        and p["file"] == "bomb.xlsx"
    )


def test_a_unit_keeps_at_most_the_versions_allowed_and_says_so(small: TestClient) -> None:
    world = make_world(small)
    data = (EXAMPLES / "strong.yaml").read_bytes()
    path = world.unit_path("3201010001", "/submissions")
    for _ in range(2):
        assert small.post(path, files={"file": ("s.yaml", data)}, headers=world.school_a).status_code == 201
    r = small.post(path, files={"file": ("s.yaml", data)}, headers=world.school_a)
    assert r.status_code == 409 and "上限" in r.json()["message"]
    assert len(small.get(path, headers=world.school_a).json()) == 2
