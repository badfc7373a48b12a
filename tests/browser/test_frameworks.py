"""A framework uploaded in a real Chromium: the 管理员 uploads a file with errors and sees each problem with its
line and column (nothing kept), then the district's tailoring of demo-school, which the new-project form then
offers; the project made from it names it."""

from __future__ import annotations

from pathlib import Path

from .conftest import ADMIN_PASSWORD, Contexts, Live
from .test_workspace import shot, sign_in

BROKEN = 'id: broken-local\nname: 有错的框架\nversion: "1"\ninputs:\n  teachers: {label: 教师数, type: integer, minn: 0}\n'
LOCAL = 'id: district-local\nname: 本区办学质量考评\nversion: "2026"\nextends: demo-school\n'


def test_an_office_uploads_its_own_framework_and_makes_a_project_of_it(
    contexts: Contexts, live: Live, tmp_path: Path
) -> None:
    admin = sign_in(contexts(), live, "admin", secret=ADMIN_PASSWORD)
    broken, local = tmp_path / "有错.yaml", tmp_path / "本区方案.yaml"
    broken.write_text(BROKEN, encoding="utf-8")
    local.write_text(LOCAL, encoding="utf-8")

    admin.set_input_files("#upload-framework input[name=file]", broken)
    admin.get_by_role("button", name="上传并检查").click()
    problems = admin.locator("#framework-problems")
    problems.wait_for()
    assert "未保存" in problems.inner_text()
    assert "有错.yaml:5:" in problems.inner_text()  # the file, line and column of minn
    shot(admin, "framework-problems")

    admin.set_input_files("#upload-framework input[name=file]", local)
    admin.get_by_role("button", name="上传并检查").click()
    admin.locator("#framework-kept").wait_for()
    form = admin.locator("#new-project form")
    assert form.get_by_label("评估框架").input_value() == "district-local"  # chosen for the next project
    form.get_by_label("年度").fill("2026")
    form.get_by_label("项目名称").fill("本区 2026 年考评")
    form.get_by_role("button", name="创建项目").click()
    admin.wait_for_url(lambda url: "/projects/" in url and "created=1" in url)
    assert "评估框架 district-local 版本 2026" in admin.inner_text("main")
