"""The 督学's review of a submission in a real Chromium: the 督学 sends the newest version back with a reason;
the school reads the reason at the top of its unit page, uploads again and the new version is 待审核; the 督学
approves it. The school has no review form, and posting one is refused (403)."""

from __future__ import annotations

from sqlalchemy import select

from scoring.service.models import Submission, Unit

from .conftest import EXAMPLES, B, Contexts, Live
from .test_evidence import project_with_weak_unit
from .test_workspace import shot, sign_in

REASON = "在校生数与学籍系统不符，请核实后重新上传"


def review_state(live: Live, project: int) -> list[tuple[int, str | None]]:
    with live.svc.sessions() as session:
        unit = session.scalars(select(Unit).where(Unit.project_id == project, Unit.code == B)).one()
        rows = session.execute(
            select(Submission.version, Submission.review_state)
            .where(Submission.unit_id == unit.id)
            .order_by(Submission.version)
        ).all()
        return [(v, s) for v, s in rows]


def test_an_inspector_sends_a_submission_back_and_approves_the_corrected_one(
    contexts: Contexts, live: Live
) -> None:
    project = project_with_weak_unit(live, "2026 年审核")
    unit_path = f"/projects/{project}/units/{B}"

    inspector = sign_in(contexts(), live, "dux", unit_path)
    card = inspector.locator("#approval")
    assert "待审核" in card.locator(".review-state").inner_text()
    card.get_by_role("button", name="退回重填").click()  # no reason: refused, said why
    inspector.locator("main", has_text="退回时请写明原因").wait_for()
    assert review_state(live, project) == [(1, None)]
    inspector.goto(f"{live.base}{unit_path}")
    card = inspector.locator("#approval")
    card.get_by_label("审核意见").fill(REASON)
    card.get_by_role("button", name="退回重填").click()
    inspector.locator("#approval .review-state", has_text="已退回").wait_for()
    assert review_state(live, project) == [(1, "已退回")]

    # the school reads why, first thing on its page, and has no review form
    school = sign_in(contexts(), live, "school-b", unit_path)
    returned = school.locator("#returned")
    assert REASON in returned.inner_text() and "重新上传" in returned.inner_text()
    assert school.locator("form.approval").count() == 0
    shot(school, "approval-returned")
    token = school.locator("form.upload input[name=csrf]").input_value()
    sent = school.request.post(
        f"{live.base}{unit_path}/submissions/1/approval", form={"csrf": token, "decision": "通过"}
    )
    assert sent.status == 403 and review_state(live, project) == [(1, "已退回")]

    # a new upload is 待审核 again; the 督学 approves it
    school.set_input_files("form.upload input[name=file]", EXAMPLES / "weak.xlsx")
    school.get_by_role("button", name="上传并评分").click()
    school.locator(".notice", has_text="第 2 版已保存并评分").wait_for()
    assert school.locator("#returned").count() == 0
    assert "待审核" in school.locator("#approval .review-state").inner_text()
    inspector.goto(f"{live.base}{unit_path}")
    inspector.locator("#approval").get_by_role("button", name="审核通过").click()
    inspector.locator("#approval .review-state", has_text="已通过").wait_for()
    assert review_state(live, project) == [(1, "已退回"), (2, "已通过")]
    versions = inspector.inner_text("#versions")
    assert "已通过" in versions and "已退回" in versions
    shot(inspector, "approval-passed")
