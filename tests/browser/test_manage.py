"""The 管理员 and 整改 pages in a real Chromium: an admin creates a project from a shipped framework and imports
its unit list (a bad list shows each row's problem and imports nothing); a school uploads and answers a 整改 item
(措施 + 申请销号); a 督学 sends it back with a reason, the school answers again, the 督学 closes it; the item's
history shows every step (who, when, old → new, why); another school cannot open the item (404)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import openpyxl
from sqlalchemy import func, select

from scoring.service.models import Unit

from .conftest import ADMIN_PASSWORD, EXAMPLES, A, B, Contexts, Live
from .test_workspace import shot, sign_in

REASON = "佐证材料不足，请补充整改前后的照片"


def units_in(live: Live, project: int) -> int:
    with live.svc.sessions() as session:
        return session.scalar(select(func.count(Unit.id)).where(Unit.project_id == project)) or 0


def unit_list(folder: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["单位代码", "单位名称", "单位类型", "区域"])
    ws.append([A, "滨江实验小学", "小学", "示范区"])
    ws.append([B, "北山中学", "初中", "示范区"])
    path = folder / "单位名单.xlsx"
    wb.save(path)
    return path


def status_is(page: Any, item: str, status: str) -> None:
    page.locator(f"#{item} .status", has_text=status).wait_for()


def test_an_admin_makes_a_project_and_a_rectification_item_goes_back_and_is_closed(
    contexts: Contexts, live: Live, tmp_path: Path
) -> None:
    # 管理员: a project from a shipped framework
    admin = sign_in(contexts(), live, "admin", secret=ADMIN_PASSWORD)
    form = admin.locator("#new-project")
    assert "demo-school" in form.locator("select[name=framework]").inner_text()
    form.locator("select[name=framework]").select_option("demo-school")
    form.get_by_label("年度").fill("2026")
    form.get_by_label("轮次").fill("2")
    form.get_by_label("项目名称").fill("2026 年秋季督评")
    shot(admin, "new-project")
    form.get_by_role("button", name="创建项目").click()
    admin.wait_for_url(re.compile(r".*/projects/\d+\?created=1$"))
    project = int(re.findall(r"/projects/(\d+)", admin.url)[0])
    assert "这个项目还没有单位" in admin.inner_text("main")

    # a bad list: each row's problem, nothing imported
    bad = tmp_path / "名单-有误.csv"
    bad.write_text(f"单位代码,单位名称\n{A},滨江实验小学\n,无代码学校\n{A},重复的学校\n", encoding="utf-8")
    admin.set_input_files("#import input[name=file]", bad)
    admin.get_by_role("button", name="导入").click()
    problems = admin.locator("#import-problems")
    problems.wait_for()
    text = problems.inner_text()
    assert "未导入" in text and "名单-有误.csv" in text
    assert "第 3 行 (单位代码)" in text and "单位代码不能为空" in text, text
    assert f"单位代码 {A} 与第 2 行重复" in text, text
    assert units_in(live, project) == 0
    shot(admin, "import-problems")

    # a good list (xlsx)
    admin.set_input_files("#import input[name=file]", unit_list(tmp_path))
    admin.get_by_role("button", name="导入").click()
    admin.locator(".notice", has_text="单位名单已导入").wait_for()
    assert "新增 2 个" in admin.inner_text(".notice")
    assert units_in(live, project) == 2
    assert "已提交 0 / 2" in admin.inner_text("#submitted")

    # the school uploads and answers its first 整改 item
    unit_path = f"/projects/{project}/units/{B}"
    school = sign_in(contexts(), live, "school-b", unit_path)
    school.set_input_files("input[name=file]", EXAMPLES / "weak.xlsx")
    school.get_by_role("button", name="上传并评分").click()
    school.locator(".notice").wait_for()
    first = school.locator("#rectify article.item").first
    item = first.get_attribute("id")
    assert item and first.locator(".status").inner_text() == "待整改"
    assert school.locator("#rectify .decide").count() == 0  # a school cannot 销号
    first.get_by_label("整改措施").fill("已增配专任教师两名")
    shot(school, "rectify")
    first.get_by_role("button", name="申请销号").click()
    status_is(school, item, "申请销号")

    # another school: the item is 404, as an unknown one, and its form is refused the same way
    other = sign_in(contexts(), live, "school-a")
    item_url = f"{live.base}{unit_path}/rectifications/{item.removeprefix('item-')}"
    opened = other.goto(item_url)
    assert opened is not None and opened.status == 404
    assert "已增配专任教师" not in other.content()
    token = other.locator("form.inline input[name=csrf]").input_value()
    sent = other.request.post(item_url, form={"csrf": token, "status": "申请销号", "evidence": "x"})
    assert sent.status == 404

    # the 督学 sends it back with a reason
    inspector = sign_in(contexts(), live, "dux", unit_path)
    entry = inspector.locator(f"#{item}")
    assert "已增配专任教师两名" in entry.locator(".evidence").inner_text()
    entry.get_by_label("审核意见（退回时必填）").fill(REASON)
    shot(inspector, "rectify-decide")
    entry.get_by_role("button", name="退回").click()
    status_is(inspector, item, "退回")

    # the school answers again; the 督学 closes it
    school.goto(f"{live.base}{unit_path}")
    again = school.locator(f"#{item}")
    assert REASON in again.locator(".history").inner_text()
    again.get_by_label("整改措施").fill("已增配专任教师两名，附整改前后照片")
    again.get_by_role("button", name="申请销号").click()
    status_is(school, item, "申请销号")
    inspector.goto(f"{live.base}{unit_path}")
    inspector.locator(f"#{item}").get_by_role("button", name="销号").click()
    status_is(inspector, item, "已销号")

    # the history: who, when, old → new, why
    rows = [r.inner_text() for r in inspector.locator(f"#{item} .history tbody tr").all()]
    steps = [re.sub(r"\s+", " ", r) for r in rows]
    assert len(steps) == 7, steps
    assert "— → 待整改" in steps[0]
    assert "school-b" in steps[1] and "待整改 → 整改中" in steps[1] and "已增配专任教师两名" in steps[1]
    assert "整改中 → 申请销号" in steps[2]
    assert "dux" in steps[3] and "申请销号 → 退回" in steps[3] and REASON in steps[3]
    assert "退回 → 整改中" in steps[4] and "附整改前后照片" in steps[4]
    assert "dux" in steps[6] and "申请销号 → 已销号" in steps[6]
    assert all(re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", s) for s in steps)
    assert inspector.locator(f"#{item} form").count() == 0  # closed: nothing more to do
    inspector.locator(f"#{item}").scroll_into_view_if_needed()
    shot(inspector, "rectify-history")

    # the admin sees who has submitted
    admin.goto(f"{live.base}/projects/{project}")
    assert "已提交 1 / 2" in admin.inner_text("#submitted") and "滨江实验小学" in admin.inner_text(
        "#submitted"
    )
    shot(admin, "project-submitted")
