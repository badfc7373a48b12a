"""A 管理员 corrects a unit in a real Chromium: on the unit's page, 修改单位信息 with a type from the framework's
select; back on the page with a notice, and the project page lists the unit by its new name. A type the framework
does not declare cannot be chosen; a refused name shows the page again with why and stores nothing. The project
and its unit are this test's own, so the package's shared project is left as the other tests expect it."""

from __future__ import annotations

import re
from typing import Any

from scoring.service.models import AuditEntry, Unit

from .conftest import ADMIN_PASSWORD, Contexts, Live, new_project
from .test_workspace import shot, sign_in

CODE = "3201990009"


def _own_project(live: Live) -> int:
    plan = live.svc.plan("demo-school")
    with live.svc.transaction() as session:
        project = new_project(session, plan, "2026 年更正演示")
        session.add(Unit(project_id=project.id, code=CODE, name="东湖小学", type="小学", region="示范区"))
        return project.id


def _audit(live: Live, unit: str) -> list[tuple[Any, Any, str]]:
    with live.svc.sessions() as session:
        found = session.query(Unit).filter_by(code=CODE, name=unit).one()
        rows = session.query(AuditEntry).filter_by(entity="unit", entity_id=found.id, action="update")
        return [(a.old, a.new, a.reason) for a in rows]


def test_an_admin_renames_a_unit_and_sees_the_new_name_on_the_project_page(
    contexts: Contexts, live: Live
) -> None:
    project = _own_project(live)
    path = f"/projects/{project}/units/{CODE}"
    admin = sign_in(contexts(), live, "admin", then=path, secret=ADMIN_PASSWORD)
    form = admin.locator("#edit-unit")
    options = form.locator("select[name=type] option").all_inner_texts()
    assert "小学" in options and "初中" in options and "大学" not in options
    # an empty name: refused with why, nothing stored
    form.get_by_label("单位名称").fill(" ")
    form.get_by_role("button", name="保存单位信息").click()
    admin.locator("#edit-problems").wait_for()
    assert "请填写单位名称" in admin.inner_text("#edit-problems")
    # the correction
    form = admin.locator("#edit-unit")
    form.get_by_label("单位名称").fill("东湖实验学校")
    form.locator("select[name=type]").select_option("初中")
    form.get_by_label("学段").fill("初中")
    form.get_by_label("修改原因").fill("学校更名")
    shot(admin, "edit-unit")
    form.get_by_role("button", name="保存单位信息").click()
    admin.wait_for_url(re.compile(r".*\?edited=1$"))
    assert "单位信息已保存" in admin.inner_text("#edited")
    assert admin.inner_text("h1").startswith("东湖实验学校")
    admin.goto(f"{live.base}/projects/{project}")
    row = admin.locator("#units tbody tr", has_text=CODE)
    assert "东湖实验学校" in row.inner_text() and "初中" in row.inner_text()
    assert _audit(live, "东湖实验学校") == [
        (
            {"name": "东湖小学", "type": "小学", "phase": None},
            {"name": "东湖实验学校", "type": "初中", "phase": "初中"},
            "学校更名",
        )
    ]
