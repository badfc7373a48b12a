"""The whole round of issue #17 in one run, in a real Chromium, each step through the pages: the 管理员 creates a
project and imports its units; a school uploads a workbook with one bad cell (the cell is named, nothing kept),
fixes it and uploads again; the 督学 enters a 督评 value with its reason; the school answers a 整改 item; the
督学 销号 it; and the district dashboard shows the change — the 督评 total in the ranking, the item no longer
overdue. No page asks anything of another host (the guard of every browser test)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
from sqlalchemy import select

from scoring.service.models import ResultRow, Submission, Unit

from .conftest import ADMIN_PASSWORD, EXAMPLES, A, B, Contexts, Live
from .test_dashboard import cells
from .test_workspace import sign_in

REASON = "现场清点图书室藏书，生均约 10 册"


def _weak_with_a_bad_cell(folder: Path) -> Path:
    wb = openpyxl.load_workbook(EXAMPLES / "weak.xlsx")
    ws = wb["自评表"]
    assert ws["A13"].value == "students"
    ws["F13"] = "八百多"
    path = folder / "北山-有误.xlsx"
    wb.save(path)
    return path


def _total(live: Live, project: int, code: str) -> str:
    with live.svc.sessions() as session:
        total = session.scalars(
            select(ResultRow.total)
            .join(Submission, Submission.id == ResultRow.submission_id)
            .join(Unit, Unit.id == Submission.unit_id)
            .where(Unit.project_id == project, Unit.code == code)
            .order_by(Submission.version.desc())
        ).first()
    assert total is not None
    return total


def _ranked(page: object, name: str) -> list[str]:
    return next(r for r in cells(page, "#phases table tbody tr") if r[1] == name)


def test_a_round_from_the_project_to_the_dashboard(contexts: Contexts, live: Live, tmp_path: Path) -> None:
    # 管理员: the project and its units
    admin = sign_in(contexts(), live, "admin", secret=ADMIN_PASSWORD)
    form = admin.locator("#new-project")
    form.locator("select[name=framework]").select_option("demo-school")
    form.get_by_label("年度").fill("2026")
    form.get_by_label("项目名称").fill("2026 年全流程督评")
    form.get_by_role("button", name="创建项目").click()
    admin.wait_for_url(re.compile(r".*/projects/\d+\?created=1$"))
    project = int(re.findall(r"/projects/(\d+)", admin.url)[0])
    units = tmp_path / "名单.csv"
    units.write_text(
        f"单位代码,单位名称,单位类型,区域\n{A},滨江实验小学,小学,示范区\n{B},北山中学,初中,示范区\n", "utf-8"
    )
    admin.set_input_files("#import input[name=file]", units)
    admin.get_by_role("button", name="导入").click()
    admin.locator(".notice", has_text="新增 2 个").wait_for()
    # blank templates per unit type, for schools outside the workspace
    assert admin.locator("#templates a").all_inner_texts() == ["小学", "初中"]
    with admin.expect_download() as got:
        admin.locator("#templates a", has_text="初中").click()
    assert got.value.suggested_filename == "自评表模板-2026 年全流程督评-初中.xlsx"
    blank = openpyxl.load_workbook(io.BytesIO(Path(got.value.path()).read_bytes()))
    sheet = blank["自评表"]
    assert sheet["F7"].value == "初中" and sheet["F5"].value in (None, "")  # the type, no unit's name

    # the school: one bad cell named and nothing kept; fixed, kept and scored
    unit = f"/projects/{project}/units/{B}"
    school = sign_in(contexts(), live, "school-b", then=unit)
    assert school.request.get(f"{live.base}/projects/{project}/templates/初中.xlsx").status == 403
    school.set_input_files("#submit input[name=file]", _weak_with_a_bad_cell(tmp_path))
    school.get_by_role("button", name="上传并评分").click()
    school.locator("#problems").wait_for()
    assert "北山-有误.xlsx — 自评表!F13" in school.inner_text("#problems")
    assert "这里是 “八百多”" in school.inner_text("#problems")
    school.set_input_files("#submit input[name=file]", EXAMPLES / "weak.xlsx")
    school.get_by_role("button", name="上传并评分").click()
    school.locator(".notice", has_text="第 1 版已保存并评分").wait_for()
    first_total = _total(live, project, B)

    # the dashboard before: 北山中学 ranked with its 自评 total, its 整改 items overdue (due 2026)
    dux = sign_in(contexts(), live, "dux", then=f"/projects/{project}/dashboard")
    assert _ranked(dux, "北山中学")[2] == first_total
    overdue_before = cells(dux, "#overdue table tbody tr")
    assert overdue_before and all(r[0] == "北山中学" for r in overdue_before)

    # the 督学: a lower 督评 value with its reason (the workbook's own 督评 values stay)
    dux.goto(f"{live.base}{unit}")
    row = dux.locator("#review-reading_books")
    row.get_by_label("督评 生均图书册数").fill("10")
    row.get_by_label("原因 生均图书册数").fill(REASON)
    dux.locator("#review").get_by_role("button", name="保存督评并重新评分").click()
    dux.locator("#review .notice", has_text="督评已保存").wait_for()
    reviewed_total = _total(live, project, B)
    assert (first_total, reviewed_total) == ("23.00", "20.43")  # 生均图书 5 × 10 ÷ 35 = 1.43 instead of 4.00

    # the school answers the first overdue item; the 督学 销号 it
    school.goto(f"{live.base}{unit}")
    indicator = overdue_before[0][1]
    item = school.locator("#rectify article.item", has_text=indicator).first
    item_id = item.get_attribute("id")
    assert item_id
    item.get_by_label("整改措施").fill("已增配体育教师，补测并公示体质健康测试结果")
    item.get_by_role("button", name="申请销号").click()
    school.locator(f"#{item_id} .status", has_text="申请销号").wait_for()
    dux.goto(f"{live.base}{unit}")
    dux.locator(f"#{item_id}").get_by_role("button", name="销号").click()
    dux.locator(f"#{item_id} .status", has_text="已销号").wait_for()

    # the dashboard after: the 督评 total ranked, the closed item no longer overdue
    dux.goto(f"{live.base}/projects/{project}/dashboard")
    assert _ranked(dux, "北山中学")[2] == reviewed_total
    overdue_after = cells(dux, "#overdue table tbody tr")
    assert len(overdue_after) == len(overdue_before) - 1
    assert [r[1] for r in overdue_after].count(indicator) == [r[1] for r in overdue_before].count(
        indicator
    ) - 1
