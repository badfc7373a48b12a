"""The 督学's 督评 on a unit page, in a real Chromium: beside the school's 自评 values the 督学 enters a lower 督评
value with its reason; it is saved as the unit's next version (uploaded by the 督学, the reason in the audit row,
the 自评 values kept) and scored like any upload, and the page shows 自评虚高 for it and the new total. A 督评
change without a reason stores nothing. The 督学 also overrides an indicator's points (out of range or without a
reason: nothing stored) and sees the new total and the change listed. A school sees no form and is refused
(403 on its own unit, 404 on another's)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

import scoring
from scoring.service.models import AuditEntry, ResultRow, Submission, Unit, User

from .conftest import A, B, Contexts, Live
from .test_workspace import shot, sign_in

REASON = "现场抽查体质健康测试记录，实际合格率约 60%"


def newest(live: Live, code: str) -> tuple[Submission, list[ResultRow], str]:
    with live.svc.sessions() as session:
        unit = session.scalars(select(Unit).where(Unit.project_id == live.project, Unit.code == code)).one()
        row = session.scalars(
            select(Submission).where(Submission.unit_id == unit.id).order_by(Submission.version.desc())
        ).first()
        assert row is not None
        results = list(session.scalars(select(ResultRow).where(ResultRow.submission_id == row.id)))
        by = session.get(User, row.uploaded_by)
        return row, results, by.name if by else ""


def test_an_inspector_enters_a_lower_evaluator_value_and_sees_the_self_assessment_flagged(
    contexts: Contexts, live: Live
) -> None:
    before, _, _ = newest(live, B)
    dux = sign_in(contexts(), live, "dux", then=f"/projects/{live.project}/units/{B}")
    form = dux.locator("#review")
    row = form.locator("#review-pe_pass_rate")
    assert row.locator("td").nth(1).inner_text() == "85"  # the school's 自评
    row.get_by_label("督评 体质健康测试合格率").fill("60")

    # no reason: nothing stored, the page says which
    form.get_by_role("button", name="保存督评并重新评分").click()
    dux.locator("#review-problems").wait_for()
    assert "体质健康测试合格率：请写明修改督评的原因" in dux.inner_text("#review-problems")
    assert newest(live, B)[0].version == before.version

    row = dux.locator("#review-pe_pass_rate")
    assert row.get_by_label("督评 体质健康测试合格率").input_value() == "60"  # what was typed is kept
    row.get_by_label("原因 体质健康测试合格率").fill(REASON)
    shot(dux, "review")
    dux.locator("#review").get_by_role("button", name="保存督评并重新评分").click()
    dux.locator("#review .notice", has_text="督评已保存").wait_for()

    stored, results, by = newest(live, B)
    assert stored.version == before.version + 1 and by == "dux"
    sub = json.loads(stored.content)
    assert sub["evaluator_values"]["pe_pass_rate"] == "60"
    assert sub["values"]["pe_pass_rate"] == "85"  # the 自评 kept
    document = json.loads(results[0].document)
    flagged = {g["input"] for g in document["gap_flags"]}
    assert "pe_pass_rate" in flagged
    with live.svc.sessions() as session:
        audit = session.scalars(
            select(AuditEntry).where(AuditEntry.entity == "submission", AuditEntry.entity_id == stored.id)
        ).one()
    assert REASON in audit.reason and "体质健康测试合格率" in audit.reason

    result = dux.inner_text("#result")
    assert f"（第 {stored.version} 版）" in result
    assert "自评虚高" in result and "体质健康测试合格率" in result
    assert results[0].total is not None and results[0].total in result  # the new total
    assert document["self_total"] is not None and "自评得分" in result
    gaps = dux.locator("#result table.t-gaps")
    assert "体质健康测试合格率" in gaps.inner_text()
    gaps.scroll_into_view_if_needed()
    shot(dux, "review-gaps")

    # no CSRF token, or another site: refused, nothing stored
    fields: dict[str, Any] = {
        "version": str(stored.version),
        "ev:pe_pass_rate": "10",
        "why:ev:pe_pass_rate": "x",
    }
    assert dux.request.post(live.unit(B, "/review"), form=fields).status == 403
    token = dux.locator("#review input[name=csrf]").input_value()
    foreign = {"Origin": "https://evil.example"}
    assert (
        dux.request.post(live.unit(B, "/review"), form={**fields, "csrf": token}, headers=foreign).status
        == 403
    )
    assert newest(live, B)[0].version == stored.version

    # a school: no form; 403 on its own unit, 404 on another's
    school = sign_in(contexts(), live, "school-b", then=f"/projects/{live.project}/units/{B}")
    assert school.locator("#review").count() == 0
    token = school.locator("form.upload input[name=csrf]").input_value()
    fields["csrf"] = token
    assert school.request.post(live.unit(B, "/review"), form=fields).status == 403
    assert school.request.post(live.unit(A, "/review"), form=fields).status == 404
    assert newest(live, B)[0].version == stored.version


ADJUST = "现场核查课后服务签到记录，参与率实为 96%"


def test_an_inspector_overrides_an_indicator_and_sees_the_new_total_and_the_change(
    contexts: Contexts, live: Live
) -> None:
    before, _, _ = newest(live, B)
    dux = sign_in(contexts(), live, "dux", then=f"/projects/{live.project}/units/{B}")
    adjust = dux.locator("#adjust")
    assert "调整与豁免" in adjust.inner_text()
    first = adjust.locator("#adjust-0")
    first.get_by_label("调整指标 第 1 行").select_option("A2.1")
    first.get_by_label("调整方式 第 1 行").select_option("调整得分")
    first.get_by_label("调整后得分 第 1 行").fill("11")  # above the indicator's 10

    # out of range and no reason: nothing stored, the page says both
    dux.locator("#review").get_by_role("button", name="保存督评并重新评分").click()
    dux.locator("#review-problems").wait_for()
    problems = dux.inner_text("#review-problems")
    assert "得分 11 超出 0–10 分" in problems and "请写明调整得分的原因" in problems
    assert newest(live, B)[0].version == before.version

    first = dux.locator("#adjust-0")
    assert first.get_by_label("调整指标 第 1 行").input_value() == "A2.1"  # what was chosen is kept
    first.get_by_label("调整后得分 第 1 行").fill("9")
    first.get_by_label("调整原因 第 1 行").fill(ADJUST)
    shot(dux, "review-adjust")
    dux.locator("#review").get_by_role("button", name="保存督评并重新评分").click()
    dux.locator("#review .notice", has_text="督评已保存").wait_for()

    stored, results, by = newest(live, B)
    assert stored.version == before.version + 1 and by == "dux"
    sub = json.loads(stored.content)
    assert [(o["indicator"], o["points"], o["by"], o["reason"]) for o in sub["overrides"]] == [
        ("A2.1", "9", "dux", ADJUST)
    ]
    # the library scores the same submission with the same override alike
    plan = scoring.compile_plan(scoring.load_framework("demo-school"))
    expected = scoring.score(plan, scoring.submission_from_data(sub))
    assert results[0].total == str(expected.total)
    document = json.loads(results[0].document)
    assert next(i for i in document["indicators"] if i["code"] == "A2.1")["points"] == "9"

    result = dux.inner_text("#result")
    assert f"（第 {stored.version} 版）" in result and results[0].total in result  # the new total
    changes = dux.locator("#result table.t-changes")
    listed = changes.inner_text()
    assert "改判" in listed and "A2.1" in listed and "dux" in listed and ADJUST in listed and "→" in listed
    changes.scroll_into_view_if_needed()
    shot(dux, "review-changes")
    # carried into the next version: shown, removable
    held = dux.locator("#adjust-held")
    assert "A2.1 课后服务学生参与率" in held.inner_text() and "调整得分 9 分" in held.inner_text()
    assert held.get_by_label("撤销 A2.1 课后服务学生参与率 调整得分 9 分").count() == 1
