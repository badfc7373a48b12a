"""佐证材料 and the 督学's review in a real Chromium: a school attaches a PDF to a 整改 item and sees it listed,
withdraws a wrong one (struck through, kept), asks for 销号; the 督学 sees the file on the item beside the 销号
form, opens it (the same bytes), and closes the item. On its own project, so the shared server's other tests
keep theirs."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from scoring.service.access import actor_of
from scoring.service.models import EvidenceFile, Unit, User
from scoring.service.submitting import store_upload

from .conftest import EXAMPLES, B, Contexts, Live, new_project
from .test_workspace import shot, sign_in

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def project_with_weak_unit(live: Live, name: str) -> int:
    """A project of 北山中学 with weak.xlsx scored (so it has 整改 items)."""
    plan = live.svc.plan("demo-school")
    with live.svc.transaction() as session:
        project = new_project(session, plan, name, round=5)
        session.add(Unit(project_id=project.id, code=B, name="北山中学", type="初中", region="示范区"))
        admin = session.scalars(select(User).where(User.name == "admin")).one()
        actor = actor_of(admin, 0)
        project_id = project.id
    data = (EXAMPLES / "weak.xlsx").read_bytes()
    assert store_upload(live.svc, actor, project_id, B, data, "weak.xlsx", None).status == "已评分"
    return project_id


def test_a_school_attaches_a_pdf_and_the_inspector_sees_it_before_closing(
    contexts: Contexts, live: Live, tmp_path: Path
) -> None:
    project = project_with_weak_unit(live, "2026 年佐证材料")
    unit_path = f"/projects/{project}/units/{B}"
    school = sign_in(contexts(), live, "school-b", unit_path)
    first = school.locator("#rectify article.item").first
    item = first.get_attribute("id")
    assert item
    item_id = int(item.removeprefix("item-"))
    assert "佐证材料：无" in first.locator(".files").inner_text()

    wrong = tmp_path / "错误的文件.pdf"
    wrong.write_bytes(PDF + b"% wrong\n")
    good = tmp_path / "整改前后照片.pdf"
    good.write_bytes(PDF)
    for path in (wrong, good):
        entry = school.locator(f"#{item}")
        entry.locator("form.attach input[name=file]").set_input_files(path)
        entry.get_by_role("button", name="上传佐证材料").click()
        school.locator(f"#{item} .evidence-files li", has_text=path.name).wait_for()
    entry = school.locator(f"#{item}")
    entry.get_by_role("button", name="撤回 错误的文件.pdf").click()
    school.locator(f"#{item} li.withdrawn", has_text="错误的文件.pdf").wait_for()
    listed = entry.locator(".evidence-files").inner_text()
    assert "已于" in listed and "撤回" in listed and "school-b" in listed
    assert entry.locator("li.withdrawn del").count() == 1
    history = entry.locator(".history").inner_text()  # attach and withdraw are in the item's 办理记录
    assert "添加佐证材料" in history and "撤回佐证材料" in history and "整改前后照片.pdf" in history
    entry.scroll_into_view_if_needed()
    shot(school, "rectify-evidence")

    # a refused kind is said in Chinese, nothing kept
    exe = tmp_path / "照片.pdf"
    exe.write_bytes(b"MZ\x90\0 a program")
    entry.locator("form.attach input[name=file]").set_input_files(exe)
    entry.get_by_role("button", name="上传佐证材料").click()
    school.locator("main", has_text="无法识别的文件类型").wait_for()
    assert files_of(live, item_id) == 2

    school.goto(f"{live.base}{unit_path}")
    entry = school.locator(f"#{item}")
    entry.get_by_label("整改措施").fill("已增配专任教师两名，附整改前后照片")
    entry.get_by_role("button", name="申请销号").click()
    school.locator(f"#{item} .status", has_text="申请销号").wait_for()
    assert school.locator(f"#{item} form.attach").count() == 0  # asked to close: the files are fixed

    # the 督学 sees the files beside the 销号 form and opens the PDF
    inspector = sign_in(contexts(), live, "dux", unit_path)
    entry = inspector.locator(f"#{item}")
    assert entry.locator("form.decide").count() == 1
    assert entry.locator("form.attach").count() == 0 and entry.locator("form.withdraw").count() == 0
    link = entry.get_by_role("link", name="整改前后照片.pdf")
    href = link.get_attribute("href")
    assert href
    got = inspector.request.get(f"{live.base}{href}")
    assert got.status == 200 and got.body() == PDF
    assert (
        got.headers["content-type"] == "application/pdf"
        and got.headers["x-content-type-options"] == "nosniff"
    )
    entry.scroll_into_view_if_needed()
    shot(inspector, "rectify-evidence-decide")
    entry.get_by_role("button", name="销号").click()
    inspector.locator(f"#{item} .status", has_text="已销号").wait_for()

    # another school: the file is 404, as an unknown one
    other = sign_in(contexts(), live, "school-a")
    assert other.request.get(f"{live.base}{href}").status == 404


def files_of(live: Live, item_id: int) -> int:
    with live.svc.sessions() as session:
        return len(
            session.scalars(select(EvidenceFile.id).where(EvidenceFile.rectification_id == item_id)).all()
        )
