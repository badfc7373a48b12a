"""The workspace's pages without a browser (no script runs: plain forms, as with JavaScript off): sign-in and its
CSRF token, the session cookie, scoping, a refused upload that keeps nothing, and assets that are all bundled."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from scoring.service.app import create_app
from scoring.service.auth import issue
from scoring.service.models import Project, Rectification, Submission, Unit, User
from scoring.service.settings import Settings
from scoring.service.state import Service
from scoring.service.web.render import STATIC

from .conftest import ADMIN_PASSWORD, EXAMPLES, FAST, ROOT, A, B, bad_workbook, password, seed

TEMPLATES = STATIC.parent / "templates"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[TestClient, Service, int]]:
    with TestClient(create_app(Settings(data_dir=tmp_path / "data"), FAST)) as c:
        svc: Service = c.app.state.service  # type: ignore[attr-defined]
        yield c, svc, seed(svc)
        svc.close()


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def sign_in(c: TestClient, name: str, target: str = "/projects") -> None:
    form = c.get(f"/login?next={target}")
    r = c.post(
        "/login",
        data={"name": name, "password": password(name), "csrf": _csrf(form.text), "next": target},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == target, r.text


def _count(svc: Service, code: str) -> int:
    with svc.sessions() as s:
        return (
            s.scalar(
                select(func.count(Submission.id))
                .join(Unit, Unit.id == Submission.unit_id)
                .where(Unit.code == code)
            )
            or 0
        )


def test_signing_in_needs_the_forms_token_and_sets_a_safe_cookie(
    site: tuple[TestClient, Service, int],
) -> None:
    c, _, _ = site
    r = c.get("/projects", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/projects"
    form = c.get("/login")
    assert "HttpOnly" in form.headers["set-cookie"] and "SameSite=lax" in form.headers["set-cookie"]
    fields = {"name": "school-a", "password": password("school-a")}
    # without the token its cookie holds, or with another: refused, no session
    assert c.post("/login", data={**fields, "csrf": "x" * 43}, follow_redirects=False).status_code == 403
    c.cookies.clear()
    assert (
        c.post("/login", data={**fields, "csrf": _csrf(form.text)}, follow_redirects=False).status_code == 403
    )
    form = c.get("/login")
    wrong = c.post("/login", data={**fields, "password": "nope", "csrf": _csrf(form.text)})
    assert (
        wrong.status_code == 401 and "用户名或密码不正确" in wrong.text and "scoring_session" not in c.cookies
    )
    r = c.post("/login", data={**fields, "csrf": _csrf(form.text)}, follow_redirects=False)
    assert r.status_code == 303
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("scoring_session="))
    assert (
        "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie and "Max-Age=43200" in cookie
    )
    page = c.get("/projects")
    assert page.status_code == 200 and "2026 年春季督评" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"
    # the cookie is no bearer token: the API does not read it
    assert c.get("/api/v1/projects").status_code == 401


def test_after_signing_in_only_a_path_on_this_site(site: tuple[TestClient, Service, int]) -> None:
    c, _, _ = site
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        form = c.get("/login")
        r = c.post(
            "/login",
            data={"name": "dux", "password": password("dux"), "csrf": _csrf(form.text), "next": target},
            follow_redirects=False,
        )
        assert r.headers["location"] == "/projects"
        c.cookies.clear()


def test_an_api_token_in_the_cookie_is_no_session(site: tuple[TestClient, Service, int]) -> None:
    c, svc, _ = site
    with svc.transaction() as s:
        user = s.scalars(select(User).where(User.name == "dux")).one()
        _, secret = issue(s, user, "api", "系统")
    c.cookies.set("scoring_session", secret)
    assert c.get("/projects", follow_redirects=False).status_code == 303


def test_a_refused_upload_keeps_nothing_and_names_each_cell(
    site: tuple[TestClient, Service, int], tmp_path: Path
) -> None:
    c, svc, project = site
    unit = f"/projects/{project}/units/{A}"
    sign_in(c, "school-a", unit)
    token = _csrf(c.get(unit).text)
    bad = bad_workbook(tmp_path).read_bytes()
    r = c.post(f"{unit}/upload", files={"file": ("有误.xlsx", bad)}, data={"csrf": token})
    assert r.status_code == 422
    assert (
        "有误.xlsx — 自评表!F13 (填报值（自评） · 在校生数): 错误 [bad-value]: 应填数值，这里是 “很多”"
        in r.text
    )
    assert _count(svc, A) == 0
    r = c.post(f"{unit}/upload", files={"file": ("x.xlsx", b"")}, data={"csrf": token})
    assert r.status_code == 422 and "请先选择要上传的文件" in r.text and _count(svc, A) == 0
    weak = (EXAMPLES / "weak.xlsx").read_bytes()  # 北山中学's workbook, uploaded to 滨江实验小学
    r = c.post(f"{unit}/upload", files={"file": ("weak.xlsx", weak)}, data={"csrf": token})
    assert r.status_code == 422 and "[unit-mismatch]" in r.text and _count(svc, A) == 0
    assert c.post(f"{unit}/upload", files={"file": ("s.xlsx", bad)}).status_code == 403  # no token
    good = (EXAMPLES / "strong.xlsx").read_bytes()
    r = c.post(
        f"{unit}/upload", files={"file": ("strong.xlsx", good)}, data={"csrf": token}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == f"{unit}?saved=1" and _count(svc, A) == 1
    page = c.get(r.headers["location"]).text
    assert "第 1 版已保存并评分" in page and "97.85" in page and "整改清单" in page
    assert c.get(f"{unit}/submissions/1/file").content == good


def test_a_school_sees_only_the_projects_holding_its_unit(site: tuple[TestClient, Service, int]) -> None:
    c, svc, project = site
    with svc.transaction() as s:
        other = Project(
            name="北山专项督导",
            framework_id="demo-school",
            framework_version="1.0",
            framework_hash=svc.plan("demo-school").hash,
            year=2026,
            round=1,
        )
        s.add(other)
        s.flush()
        s.add(Unit(project_id=other.id, code=B, name="北山中学", type="初中"))
        other_id = other.id
    sign_in(c, "school-a")
    assert "北山专项督导" not in c.get("/projects").text
    assert c.get(f"/projects/{other_id}").status_code == 404
    unknown = c.get("/projects/999999")
    assert unknown.status_code == 404
    assert c.get(f"/projects/{project}/units/{B}").status_code == 404
    assert c.get("/projects/not-a-number").status_code == 404
    c.cookies.clear()
    sign_in(c, "dux")
    assert "北山专项督导" in c.get("/projects").text


VENDORED = {
    "htmx-2.0.4/htmx.min.js": "htmx-2.0.4/LICENSE",
    "echarts-5.6.0/echarts.min.js": "echarts-5.6.0/LICENSE",
}


def test_every_asset_is_bundled_and_the_vendored_files_are_the_recorded_releases() -> None:
    for path in [*TEMPLATES.rglob("*.html"), *STATIC.glob("*.css"), *STATIC.glob("*.js")]:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text), path  # no address elsewhere
    recorded = (ROOT / "docs" / "workspace.md").read_text(encoding="utf-8")
    for script, licence in VENDORED.items():
        assert hashlib.sha256((STATIC / "vendor" / script).read_bytes()).hexdigest() in recorded, script
        assert (STATIC / "vendor" / licence).is_file()
        assert f"/static/vendor/{script}" in (TEMPLATES / "base.html").read_text(encoding="utf-8")


def _admin(c: TestClient, target: str = "/projects") -> str:
    form = c.get(f"/login?next={target}")
    fields = {"name": "admin", "password": ADMIN_PASSWORD, "csrf": _csrf(form.text), "next": target}
    assert c.post("/login", data=fields, follow_redirects=False).status_code == 303
    return _csrf(c.get(target).text)


def test_only_an_admin_creates_projects_and_imports_unit_lists(site: tuple[TestClient, Service, int]) -> None:
    c, svc, project = site
    sign_in(c, "dux")
    token = _csrf(c.get("/projects").text)
    assert "新建评估项目" not in c.get("/projects").text
    fields = {"framework": "demo-school", "year": "2026", "round": "2", "name": "秋季督评"}
    assert c.post("/projects", data={**fields, "csrf": token}).status_code == 403
    units = {"file": ("名单.csv", f"单位代码,单位名称\n{A},甲\n".encode())}
    assert c.post(f"/projects/{project}/units/import", files=units, data={"csrf": token}).status_code == 403
    c.cookies.clear()
    token = _admin(c)
    assert c.post("/projects", data=fields).status_code == 403  # no token
    r = c.post("/projects", data={**fields, "year": "明年", "csrf": token})
    assert r.status_code == 422 and "年度应为 2000 至 2100 之间的年份" in r.text and "秋季督评" in r.text
    r = c.post("/projects", data={**fields, "framework": "no-such", "csrf": token})
    assert r.status_code == 422 and "no-such" in r.text
    r = c.post("/projects", data={**fields, "csrf": token}, follow_redirects=False)
    assert r.status_code == 303
    made = int(r.headers["location"].split("/")[2].split("?")[0])
    with svc.sessions() as s:
        assert s.get(Project, made) is not None
    bad = {"file": ("名单.csv", f"单位代码,单位名称\n{A},甲\n{A},乙\n".encode())}
    r = c.post(f"/projects/{made}/units/import", files=bad, data={"csrf": token})
    assert r.status_code == 422 and "名单.csv — 第 3 行 (单位代码)" in r.text and "与第 2 行重复" in r.text
    good = {"file": ("名单.csv", f"单位代码,单位名称\n{A},甲\n{B},乙\n".encode())}
    assert c.post(f"/projects/{made}/units/import", files=good).status_code == 403  # no token
    with svc.sessions() as s:
        assert s.scalar(select(func.count(Unit.id)).where(Unit.project_id == made)) == 0
    r = c.post(f"/projects/{made}/units/import", files=good, data={"csrf": token}, follow_redirects=False)
    assert r.headers["location"] == f"/projects/{made}?imported=2-0-0"
    assert "新增 2 个" in c.get(r.headers["location"]).text
    assert c.post("/projects/999999/units/import", files=good, data={"csrf": token}).status_code == 404


def test_the_rectification_steps_on_the_page_are_the_apis(site: tuple[TestClient, Service, int]) -> None:
    c, svc, project = site
    unit = f"/projects/{project}/units/{B}"
    sign_in(c, "school-b", unit)
    token = _csrf(c.get(unit).text)
    weak = (EXAMPLES / "weak.xlsx").read_bytes()
    assert (
        c.post(f"{unit}/upload", files={"file": ("weak.xlsx", weak)}, data={"csrf": token}).status_code == 200
    )
    with svc.sessions() as s:
        item = s.scalars(select(Rectification.id).order_by(Rectification.id)).first()
    url = f"{unit}/rectifications/{item}"
    assert c.post(url, data={"status": "申请销号", "evidence": "措施"}).status_code == 403  # no token
    r = c.post(url, data={"csrf": token, "status": "申请销号", "evidence": " "})
    assert r.status_code == 422 and "请填写整改措施" in r.text
    r = c.post(url, data={"csrf": token, "status": "已销号"})
    assert r.status_code == 409 and "可以改为：整改中" in r.text  # the API's refusal, on a page
    r = c.post(url, data={"csrf": token, "status": "申请销号", "evidence": "措施"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"{unit}#item-{item}"
    r = c.post(url, data={"csrf": token, "status": "已销号"})
    assert r.status_code == 403  # a school cannot 销号
    assert c.post(f"{unit}/rectifications/999999", data={"csrf": token, "status": "退回"}).status_code == 404
    c.cookies.clear()
    sign_in(c, "dux", unit)
    token = _csrf(c.get(unit).text)
    r = c.post(url, data={"csrf": token, "status": "退回", "reason": ""})
    assert r.status_code == 422 and "退回时请写明原因" in r.text
    assert c.post(url, data={"csrf": token, "status": "退回", "reason": "不足"}).status_code == 200
    with svc.sessions() as s:
        assert s.get(Rectification, item).status == "退回"  # type: ignore[union-attr]
