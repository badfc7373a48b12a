"""The 县级填报数据 section of the county page (``web/county.py``, ``_county_data.html``), on SQLite and
PostgreSQL: without the county's own data it says the verdict is 暂定; the county.yaml uploaded through the page's
form (CSRF token, multipart) is 第 1 版 and the verdict becomes 不予认定; a file that cannot be read is the page
again (422) with its problem, kept as 未通过; the original bytes and a blank 县级自评表 download; a 学校 user
can neither see nor upload; a closed round shows why nothing can be uploaded."""

from __future__ import annotations

import io
import re

import openpyxl
from fastapi.testclient import TestClient

from .conftest import ADMIN_PASSWORD, ROOT
from .test_cohort_api import county_project, school_files

COUNTY = ROOT / "examples" / "ysjh-2017" / "county.yaml"


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def sign_in(c: TestClient, name: str, password: str) -> None:
    form = c.get("/login")
    r = c.post(
        "/login",
        data={"name": name, "password": password, "csrf": csrf(form.text), "next": "/projects"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


def section(html: str) -> str:
    found = re.search(r'<section class="card" id="county-data">.*?</section>', html, re.S)
    assert found, html
    return found.group(0)


def verdict(html: str) -> str:
    found = re.search(r'<section class="card" id="verdict">.*?</section>', html, re.S)
    assert found, html
    return found.group(0)


def test_the_county_page_takes_the_county_data_through_its_form(client: TestClient) -> None:
    project, _ = county_project(client, school_files())
    sign_in(client, "admin", ADMIN_PASSWORD)
    page = f"/projects/{project}/county"
    before = client.get(page)
    assert before.status_code == 200
    assert "尚未上传县级填报数据" in section(before.text) and "暂定" in section(before.text)
    assert "暂定" in verdict(before.text)
    token = csrf(before.text)

    # without the session's token: refused, nothing kept
    r = client.post(
        f"{page}/upload", files={"file": ("county.yaml", COUNTY.read_bytes())}, data={"csrf": "x"}
    )
    assert r.status_code == 403

    r = client.post(
        f"{page}/upload",
        files={"file": ("county.yaml", COUNTY.read_bytes())},
        data={"csrf": token, "reason": "县督导室填报"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == f"{page}?saved=1", r.text
    after = client.get(r.headers["location"])
    data = section(after.text)
    assert "第 1 版" in data and "county.yaml" in data and "已读取" in data and "尚未上传" not in data
    assert "第 1 版县级填报数据已读取" in data
    assert "不予认定" in verdict(after.text) and "暂定" not in verdict(after.text)
    original = client.get(f"{page}/data/1")
    assert original.status_code == 200 and original.content == COUNTY.read_bytes()
    assert client.get(f"{page}/data/9").status_code == 404

    # a file that cannot be read: the page again with the problem, kept as 未通过, version 1 still counts
    bad = COUNTY.read_text(encoding="utf-8").replace("教师平均工资: 98760", "教师平均工资: 很高")
    r = client.post(f"{page}/upload", files={"file": ("county-2.yaml", bad.encode())}, data={"csrf": token})
    assert r.status_code == 422
    assert "Traceback" not in r.text
    data = section(r.text)
    assert 'id="county-problems"' in data and "county-2.yaml" in data and "教师平均工资" in data
    assert "已保存为第 2 版" in data and "未通过" in data
    assert "计入县域评估的是 <strong>第 1 版</strong>" in data
    assert "不予认定" in verdict(r.text)
    again = section(client.get(page).text)
    assert re.search(r'id="county-version-2".*?未通过.*?教师平均工资', again, re.S)
    # an empty file: asked for one, nothing kept
    r = client.post(f"{page}/upload", files={"file": ("empty.yaml", b"")}, data={"csrf": token})
    assert r.status_code == 422 and "请先选择要上传的文件" in r.text
    assert 'id="county-version-3"' not in r.text

    # the blank 县级自评表 of the county framework
    r = client.get(f"{page}/template.xlsx")
    assert r.status_code == 200 and r.content.startswith(b"PK")
    assert "attachment" in r.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    assert "自评表" in book.sheetnames


def test_a_school_can_neither_see_nor_upload_the_county_data(client: TestClient) -> None:
    files = school_files()[:2]
    project, admin = county_project(client, files)
    body = {"name": "school", "role": "学校", "unit_code": files[0][0], "password": "school-password"}
    assert client.post("/api/v1/users", json=body, headers=admin).status_code == 201
    sign_in(client, "school", "school-password")
    page = f"/projects/{project}/county"
    assert client.get(page).status_code == 403
    token = csrf(client.get("/projects").text)
    r = client.post(
        f"{page}/upload", files={"file": ("county.yaml", COUNTY.read_bytes())}, data={"csrf": token}
    )
    assert r.status_code == 403
    assert client.get(f"{page}/template.xlsx").status_code == 403
    assert client.get(f"{page}/data/1").status_code == 403
    assert client.get("/projects/999/county").status_code == 404
    r = client.post("/projects/999/county/upload", files={"file": ("c.yaml", b"x")}, data={"csrf": token})
    assert r.status_code == 404
    assert client.get(f"/api/v1/projects/{project}/county-data", headers=admin).json() == []


def test_a_closed_round_shows_why_the_county_data_cannot_be_uploaded(client: TestClient) -> None:
    project, admin = county_project(client, school_files()[:1])
    r = client.post(f"/api/v1/projects/{project}/state", json={"state": "已关闭"}, headers=admin)
    assert r.status_code == 200, r.text
    sign_in(client, "admin", ADMIN_PASSWORD)
    page = f"/projects/{project}/county"
    shown = client.get(page)
    data = section(shown.text)
    assert 'id="round-closed"' in data and "填报已关闭" in data and 'id="county-upload"' not in data
    r = client.post(
        f"{page}/upload",
        files={"file": ("county.yaml", COUNTY.read_bytes())},
        data={"csrf": csrf(shown.text)},
    )
    assert r.status_code == 409 and "填报已关闭" in r.text
    assert client.get(f"/api/v1/projects/{project}/county-data", headers=admin).json() == []
