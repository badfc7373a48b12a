"""整改进展 in a real Chromium: a school saves its 措施 twice without asking to close the item (保存进展), sees
整改中 and its newest text, the saves in the item's 办理记录, then asks for 销号. On its own project, so the
shared server's other tests keep theirs."""

from __future__ import annotations

import re

from .conftest import B, Contexts, Live
from .test_evidence import project_with_weak_unit
from .test_workspace import shot, sign_in

FIRST, SECOND = "已制定整改方案，正在招聘专任教师", "已招聘专任教师两名，下周到岗"


def test_a_school_reports_progress_twice_then_asks_to_close(contexts: Contexts, live: Live) -> None:
    project = project_with_weak_unit(live, "2026 年整改进展")
    unit_path = f"/projects/{project}/units/{B}"
    school = sign_in(contexts(), live, "school-b", unit_path)
    first = school.locator("#rectify article.item").first
    item = first.get_attribute("id")
    assert item and first.locator(".status").inner_text() == "待整改"

    entry = school.locator(f"#{item}")
    entry.get_by_label("整改措施").fill(FIRST)
    entry.get_by_role("button", name="保存进展").click()
    school.locator(f"#{item} .status", has_text="整改中").wait_for()
    school.locator(f"#{item} .evidence", has_text=FIRST).wait_for()

    entry = school.locator(f"#{item}")
    assert entry.get_by_label("整改措施").input_value() == FIRST  # the form keeps the text to go on with
    entry.get_by_label("整改措施").fill(SECOND)
    entry.get_by_role("button", name="保存进展").click()
    school.locator(f"#{item} .evidence", has_text=SECOND).wait_for()
    entry = school.locator(f"#{item}")
    assert entry.locator(".status").inner_text() == "整改中"
    assert FIRST not in entry.locator(".evidence").inner_text()  # replaced, not appended
    rows = [re.sub(r"\s+", " ", r.inner_text()) for r in entry.locator(".history tbody tr").all()]
    assert len(rows) == 3, rows
    assert "school-b" in rows[1] and "待整改 → 整改中" in rows[1] and FIRST in rows[1]
    assert "school-b" in rows[2] and "保存整改进展" in rows[2] and SECOND in rows[2]
    entry.scroll_into_view_if_needed()
    shot(school, "rectify-progress")

    # the form posts back to the item (303 to its place on the page), CSRF-checked like every form
    url = f"{live.base}{unit_path}/rectifications/{item.removeprefix('item-')}"
    token = entry.locator("input[name=csrf]").first.input_value()
    sent = school.request.post(
        url, form={"csrf": token, "status": "整改中", "evidence": SECOND}, max_redirects=0
    )
    assert sent.status == 303 and sent.headers["location"] == f"{unit_path}#{item}"
    refused = school.request.post(url, form={"status": "整改中", "evidence": "没有令牌"}, max_redirects=0)
    assert refused.status == 403

    school.goto(f"{live.base}{unit_path}")
    entry = school.locator(f"#{item}")
    assert len(entry.locator(".history tbody tr").all()) == 3  # the same text again changes nothing
    entry.get_by_role("button", name="申请销号").click()
    school.locator(f"#{item} .status", has_text="申请销号").wait_for()
    entry = school.locator(f"#{item}")
    assert SECOND in entry.locator(".evidence").inner_text()
    assert entry.get_by_role("button", name="保存进展").count() == 0  # asked to close: no more progress
