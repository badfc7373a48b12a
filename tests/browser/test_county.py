"""The county (优质均衡) page in a real Chromium: a project on ysjh-2017-school with the 17 schools of
examples/ysjh-2017/schools.csv uploaded; a 督学 follows 县域评估 from the project page and sees the verdict,
表Ⅱ-2 with each school's values, 表Ⅲ with 全县平均值 and 差异系数 — each 差异系数 a link to the county
indicator judging it (standard, status, arithmetic) — all as ``report.cohort_view`` words them, and no request
to any other host (the guard). Without the county's own data the verdict is 暂定; the 督学 uploads
examples/ysjh-2017/county.yaml through the page's 县级填报数据 form and it becomes 不予认定. A school of the county
gets 403."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from scoring.engine.cohort import cohort_from_json
from scoring.report.blocks import cell_text
from scoring.report.cohort_view import cohort_view, verdict
from scoring.service.access import actor_of
from scoring.service.models import SCHOOL, Unit, User
from scoring.service.reports import project_county
from scoring.service.submitting import store_upload

from ..service.test_cohort_api import school_files
from .conftest import FAST, Contexts, Live, new_project, password
from .test_workspace import shot, sign_in

COUNTY = Path(__file__).resolve().parents[2] / "examples" / "ysjh-2017" / "county.yaml"


def county_project(live: Live) -> tuple[int, list[tuple[str, str, str, bytes]]]:
    files = school_files()
    plan = live.svc.plan("ysjh-2017-school")
    with live.svc.transaction() as session:
        project = new_project(session, plan, "某县优质均衡 2026")
        for code, name, typ, _ in files:
            session.add(Unit(project_id=project.id, code=code, name=name, type=typ))
        session.add(
            User(
                name="county-school",
                role=SCHOOL,
                unit_code=files[0][0],
                password_hash=FAST.hash(password("county-school")),
            )
        )
        admin = session.scalars(select(User).where(User.name == "admin")).one()
        actor = actor_of(admin, 0)
        project_id = project.id
    for code, _, _, data in files:
        try:
            store_upload(live.svc, actor, project_id, code, data, f"{code}.json", None)
        except Exception as err:  # 南山教学点: no unit to evaluate, kept as 未通过 (422)
            assert getattr(err, "status", None) == 422
    return project_id, files


def test_an_inspector_sees_the_county_page_with_its_tables_and_verdict(
    contexts: Contexts, live: Live
) -> None:
    project, _ = county_project(live)
    with live.svc.sessions() as session:
        admin = session.scalars(select(User).where(User.name == "admin")).one()
        actor = actor_of(admin, 0)
    _, result = project_county(live.svc, actor, project)
    view = cohort_view(cohort_from_json(result.to_json()))
    tables = {t.key: t for t in view.tables}

    dux = sign_in(contexts(), live, "dux", then=f"/projects/{project}")
    dux.locator("#county-link").click()
    dux.wait_for_url(f"{live.base}/projects/{project}/county")
    assert dux.locator("h1").inner_text() == view.title
    assert verdict(result) in dux.inner_text("#verdict")
    assert view.reasons[0] in dux.inner_text("#reasons")

    # 表Ⅱ-2: every school and its values as the view shows them
    units = tables["units"]
    shown = cells(dux, "#units table tbody tr")
    assert shown == [[cell_text(c) for c in row.cells] for row in units.rows]
    assert any(r[0] == "石门乡中心小学" and r[-2] == "否" for r in shown)

    # 表Ⅲ: means and 差异系数, each 差异系数 linked to the county indicator that judges it
    stats = cells(dux, "#stats table tbody tr")
    assert [r[0] for r in stats] == [cell_text(r.cells[0]) for r in tables["stats"].rows]
    l1 = next(r for r in stats if r[0] == "L1")
    assert l1[2] == "5.73" and l1[3].startswith("0.081")  # expected.json: 小学 mean 5.73, CV 0.081
    link = dux.locator("#stats a.cv").first
    assert link.inner_text() == "0.081" and link.get_attribute("href") == "#county-R1.1"
    assert "达标" in l1[3]
    link.click()
    row = dux.locator("#county-R1\\.1")
    assert row.is_visible()
    text = row.inner_text()
    assert "0.081 ≤ 0.50" in text and "达标" in text
    assert dux.locator("#stats a.cv").count() == 14  # 7 indicators × 小学, 初中
    dux.locator("#stats").scroll_into_view_if_needed()
    shot(dux, "county")

    # the county report, as scoring cohort writes it, downloaded from the page
    with dux.expect_download() as got:
        dux.locator("#county-downloads a[data-kind=xlsx]").click()
    assert got.value.suggested_filename.endswith("-县域评估.xlsx")
    assert Path(got.value.path()).read_bytes().startswith(b"PK")

    # 县级填报数据: none yet, so 暂定; the county's own data uploaded through the page's form makes it final
    assert "暂定" in dux.inner_text("#county-current")
    assert "暂定" in dux.inner_text("#verdict")
    with dux.expect_download() as got:
        dux.locator("#county-template").click()
    assert got.value.suggested_filename.startswith("县级自评表-")
    assert Path(got.value.path()).read_bytes().startswith(b"PK")
    dux.set_input_files("#county-upload input[name=file]", COUNTY)
    dux.get_by_label("说明（可选，记入审计日志）").fill("县督导室填报")
    dux.get_by_role("button", name="上传并读取").click()
    dux.locator("#county-data .notice").wait_for()
    assert "第 1 版县级填报数据已读取" in dux.inner_text("#county-data .notice")
    assert "第 1 版" in dux.inner_text("#county-current") and "county.yaml" in dux.inner_text(
        "#county-current"
    )
    shown = dux.inner_text("#verdict")
    assert "不予认定" in shown and "暂定" not in shown
    with live.svc.sessions() as session:
        admin = session.scalars(select(User).where(User.name == "admin")).one()
        _, final = project_county(live.svc, actor_of(admin, 0), project)
    assert final.passed is False and verdict(final) in shown
    dux.locator("#county-data").scroll_into_view_if_needed()
    shot(dux, "county-data")

    school = sign_in(contexts(), live, "county-school", then=f"/projects/{project}")
    assert school.locator("#county-link").count() == 0
    assert school.request.get(f"{live.base}/projects/{project}/county").status == 403
    assert school.request.get(f"{live.base}/projects/{project}/county/template.xlsx").status == 403


def cells(page: Any, rows: str) -> list[list[str]]:
    found = page.locator(rows)
    return [[c.strip() for c in found.nth(i).locator("td").all_inner_texts()] for i in range(found.count())]
