"""The workspace in a real Chromium against a real server: a school signs in, downloads its 自评表, uploads one
with a bad cell and sees the cell named, uploads a good one and sees its score; a 督学 sees the school's result;
a school cannot reach another school's pages or files (404, as an unknown code); cookies and forms are safe."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Any

import openpyxl
from sqlalchemy import func, select

from scoring.service.models import Submission, Unit

from .conftest import EXAMPLES, A, B, Contexts, Live, bad_workbook, password, shots


def sign_in(context: Any, live: Live, name: str, then: str = "/projects", secret: str | None = None) -> Any:
    page = context.new_page()
    page.goto(f"{live.base}{then}")
    assert page.url.startswith(f"{live.base}/login?next=")  # not signed in: to 登录, and back afterwards
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(secret or password(name))
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live.base}{then}")
    return page


def shot(page: Any, name: str) -> None:
    folder = shots()
    if folder is not None:
        page.screenshot(path=str(folder / f"workspace-{name}.png"))


def uploads(live: Live, code: str) -> int:
    with live.svc.sessions() as session:
        unit = session.scalars(select(Unit).where(Unit.project_id == live.project, Unit.code == code)).one()
        return session.scalar(select(func.count(Submission.id)).where(Submission.unit_id == unit.id)) or 0


def test_a_school_uploads_its_self_assessment_and_an_inspector_sees_the_result(
    browse: Any, contexts: Contexts, live: Live, tmp_path: Path
) -> None:
    page = sign_in(browse, live, "school-a")
    shot(page, "projects")
    assert page.evaluate("typeof htmx.version") == "string"  # the bundled htmx runs (forms are boosted)
    assert page.get_by_role("link", name="2026 年春季督评").is_visible()
    page.get_by_role("link", name="2026 年春季督评").click()
    page.wait_for_url(f"{live.base}/projects/{live.project}")
    rows = page.locator("table.grid tbody tr")
    assert rows.count() == 1 and "滨江实验小学" in rows.inner_text()  # its own unit only
    assert "北山中学" not in page.content()
    page.get_by_role("link", name="滨江实验小学").click()
    page.wait_for_url(live.unit(A))
    assert "还没有已评分的填报数据" in page.inner_text("#result")

    # the template for its unit type
    with page.expect_download() as download:
        page.get_by_role("link", name="下载本单位的自评表模板").click()
    template = tmp_path / "模板.xlsx"
    download.value.save_as(template)
    assert download.value.suggested_filename == f"自评表-{A}-滨江实验小学.xlsx"
    wb = openpyxl.load_workbook(template)
    sheet = wb["自评表"]
    assert [sheet[f"F{r}"].value for r in (5, 6, 7, 8)] == ["滨江实验小学", A, "小学", "示范区"]
    assert wb["_meta"].sheet_state == "hidden" and sheet.protection.sheet

    # one bad cell: named as the CLI names it, nothing kept
    before = uploads(live, A)
    page.set_input_files("input[name=file]", bad_workbook(tmp_path))
    page.get_by_role("button", name="上传并评分").click()
    problems = page.locator("#problems")
    problems.wait_for()
    text = problems.inner_text()
    assert "未保存" in text
    assert (
        "滨江-有误.xlsx — 自评表!F13 (填报值（自评） · 在校生数): 错误 [bad-value]: 应填数值，这里是 “很多”"
        in text
    )
    assert uploads(live, A) == before
    shot(page, "upload-problems")

    # the good workbook: kept, scored, shown with every indicator's explanation and the 整改清单
    page.set_input_files("input[name=file]", EXAMPLES / "strong.xlsx")
    page.get_by_role("button", name="上传并评分").click()
    page.locator(".notice").wait_for()
    assert "第 1 版已保存并评分" in page.inner_text(".notice")
    assert uploads(live, A) == before + 1
    facts = page.inner_text("#result .facts")
    assert re.search(r"总分\s*97\.85", facts) and re.search(r"等级\s*优秀", facts)
    indicators = page.inner_text("#indicators")
    assert "每百名学生拥有高于规定学历教师数 = 21 ÷ 500 × 100 = 4.20 ≥ 4.2 → 达标（15.00 分）" in indicators
    assert "整改清单" in page.inner_text("#rectification")
    assert (
        page.locator("#result .chart canvas").count() == 1
    )  # the bundled ECharts drew the first-level scores
    assert "strong.xlsx" in page.inner_text("#versions")
    shot(page, "unit")
    page.locator("#result .chart").scroll_into_view_if_needed()
    shot(page, "chart")
    page.locator("#indicators").scroll_into_view_if_needed()
    shot(page, "indicators")

    # a 督学 sees both units and the school's result
    inspector = sign_in(contexts(), live, "dux", f"/projects/{live.project}")
    table = inspector.inner_text("table.grid")
    assert "滨江实验小学" in table and "北山中学" in table and "97.85" in table and "优秀" in table
    shot(inspector, "project")
    inspector.get_by_role("link", name="滨江实验小学").click()
    inspector.wait_for_url(live.unit(A))
    assert re.search(r"总分\s*97\.85", inspector.inner_text("#result .facts"))
    assert "school-a" in inspector.inner_text("#versions")


def test_a_school_cannot_reach_another_schools_pages_or_files(browse: Any, live: Live) -> None:
    page = sign_in(browse, live, "school-a")
    other = page.goto(live.unit(B))
    assert other is not None and other.status == 404
    other_text = page.inner_text("main")
    unknown = page.goto(live.unit("9999999999"))
    assert unknown is not None and unknown.status == 404
    assert page.inner_text("main").replace("9999999999", B) == other_text  # the same as an unknown code
    assert "北山中学" not in other_text
    shot(page, "not-found")
    for rest in ("/template.xlsx", "/submissions/1/file", ""):
        assert page.request.get(live.unit(B, rest)).status == 404
    assert (
        page.request.get(f"{live.base}/api/v1/projects/{live.project}/units/{B}").status == 401
    )  # no cookie
    assert page.request.get(live.unit(A, "/template.xlsx")).status == 200


def test_the_session_cookie_and_every_form_are_protected(browse: Any, live: Live) -> None:
    page = sign_in(browse, live, "school-a", f"/projects/{live.project}/units/{A}")
    cookie = next(c for c in browse.cookies() if c["name"] == "scoring_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert page.evaluate("document.cookie") == ""  # scripts cannot read it
    upload = live.unit(A, "/upload")
    data = (EXAMPLES / "strong.xlsx").read_bytes()
    file = {"name": "strong.xlsx", "mimeType": "application/octet-stream", "buffer": data}
    before = uploads(live, A)
    assert page.request.post(upload, multipart={"file": file}).status == 403  # no token
    assert page.request.post(upload, multipart={"file": file, "csrf": "0" * 64}).status == 403
    token = page.locator("form.upload input[name=csrf]").input_value()
    foreign = {"Origin": "http://evil.example"}
    assert page.request.post(upload, multipart={"file": file, "csrf": token}, headers=foreign).status == 403
    assert page.request.post(f"{live.base}/logout", form={"csrf": ""}).status == 403
    assert uploads(live, A) == before
    # signing out revokes the session: the old cookie opens nothing
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url(f"{live.base}/login")
    shot(page, "login")
    browse.add_cookies([{**cookie}])
    again = page.goto(live.unit(A))
    assert again is not None and page.url.startswith(f"{live.base}/login?next=")


def test_the_guard_fails_a_page_that_reaches_another_host(chromium: Any, live: Live) -> None:
    """The checks the other tests rely on: a request to another host is refused and recorded, and a script that
    tries one from a page of the workspace is already stopped by its Content-Security-Policy (an error)."""
    from playwright.sync_api import Error

    made = Contexts(chromium, live)
    try:
        page = made().new_page()
        page.goto(f"{live.base}/login")
        page.evaluate("fetch('http://cdn.example.com/x.js').catch(() => null)")
        page.wait_for_timeout(100)
        with contextlib.suppress(Error):
            page.goto("http://cdn.example.com/htmx.min.js")
    finally:
        made.close()
    assert made.guard.foreign == ["http://cdn.example.com/htmx.min.js"]
    assert any("Content Security Policy" in e for e in made.guard.errors), made.guard.errors
