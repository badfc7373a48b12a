"""Rounds in a real Chromium: the 管理员 assigns a 督学 to a unit, closes the round (a school's upload is then
refused with the reason), opens the next round (units and 督学 copied, a link back); the school uploads its
second-round workbook, and the 督学's dashboard of the new round shows each unit's change against the round
before, with the numbers the stored results give."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from scoring.engine.diff import diff
from scoring.engine.result import Result, result_from_json
from scoring.service.models import Project, ResultRow, Submission, Unit

from .conftest import ADMIN_PASSWORD, EXAMPLES, A, Contexts, Live
from .test_dashboard import cells, demo_project
from .test_workspace import shot, sign_in


def _result(live: Live, project: int, code: str) -> Result:
    with live.svc.sessions() as session:
        doc = session.scalars(
            select(ResultRow.document)
            .join(Submission, Submission.id == ResultRow.submission_id)
            .join(Unit, Unit.id == Submission.unit_id)
            .where(Unit.project_id == project, Unit.code == code, Submission.status == "已评分")
            .order_by(Submission.version.desc())
        ).first()
    assert doc is not None
    return result_from_json(doc)


def _half_up(value: Decimal, places: int | None) -> str:
    return str(
        value if places is None else value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    )


def _total(live: Live, project: int, code: str) -> Decimal:
    total = _result(live, project, code).total
    assert total is not None
    return total


def test_an_office_closes_a_round_opens_the_next_and_the_dashboard_shows_the_change(
    contexts: Contexts, live: Live
) -> None:
    first = demo_project(live)
    admin = sign_in(contexts(), live, "admin", then=f"/projects/{first}", secret=ADMIN_PASSWORD)

    # assign the 督学 to 滨江实验小学
    admin.locator(f"input[name=units][value='{A}']").check()
    admin.get_by_label("督学").select_option("dux")
    admin.get_by_role("button", name="分配").click()
    admin.locator("#assigned").wait_for()
    assert "1 个单位" in admin.inner_text("#assigned")
    row = next(r for r in cells(admin, "#units tbody tr") if r[1] == A)
    assert row[5] == "dux"

    # close the round: the school's upload is refused, saying why
    admin.locator("#close-round").click()
    admin.wait_for_url(f"{live.base}/projects/{first}")
    assert admin.inner_text("#project-state") == "已关闭"
    school = sign_in(contexts(), live, "school-a", then=f"/projects/{first}/units/{A}")
    assert "填报已关闭" in school.inner_text("#round-closed")  # the page says so, and offers no upload
    assert school.locator("#submit input[type=file]").count() == 0
    assert "负责督学 dux" in school.inner_text("main")
    refused = school.request.post(
        f"{live.base}/projects/{first}/units/{A}/upload",
        multipart={"file": {"name": "strong.xlsx", "mimeType": "application/octet-stream", "buffer": b"x"}},
    )
    assert refused.status == 409
    assert "填报已关闭" in refused.text()

    # the next round: the same units with their 督学, a link back, this one still closed
    admin.get_by_role("button", name="开启第 4 轮").click()
    admin.wait_for_url(lambda url: not url.endswith(f"/projects/{first}"))
    second = int(admin.url.rsplit("/", 1)[-1])
    assert second != first
    assert admin.inner_text("#project-state") == "填报中"
    assert "上一轮：第 3 轮" in admin.inner_text("main")
    names = {r[1]: r[5] for r in cells(admin, "#units tbody tr")}
    assert names == {A: "dux", "3201020007": "—", "3201030009": "—"}
    with live.svc.sessions() as session:
        made = session.get(Project, second)
        assert made is not None and (made.round, made.previous_id) == (4, first)

    # the school uploads its second-round workbook through the page
    school.goto(f"{live.base}/projects/{second}/units/{A}")
    school.set_input_files("input[name=file]", EXAMPLES / "strong-round2.xlsx")
    school.get_by_role("button", name="上传并评分").click()
    school.locator(".notice").wait_for()

    # its unit page compares it with round 3: the one first-level indicator that moved, as the library's diff says
    change = diff(_result(live, first, A), _result(live, second, A))
    (moved,) = [s for s in change.scores if s.delta]
    assert moved.old is not None and moved.new is not None and moved.delta is not None
    section = school.locator("#unit-change")
    section.wait_for()
    assert "与上一轮比较" in section.inner_text() and "第 3 轮 → 第 4 轮" in section.inner_text()
    rows = cells(school, "#unit-change .change-scores tbody tr")
    places = _result(live, second, A).precision
    moved_shown = [_half_up(v, places) for v in (moved.old, moved.new, moved.delta)]
    assert [moved.code, moved.name, moved_shown[0], moved_shown[1], "+" + moved_shown[2]] in rows
    assert len(rows) == len(change.scores)
    closed = school.locator("#unit-change .change-closed li").all_inner_texts()
    assert [t.split(" ", 1)[0] for t in closed] == [i.code for i in change.closed]
    section.scroll_into_view_if_needed()
    shot(school, "unit-change")

    # the 督学's dashboard of the new round: 滨江实验小学 against round 3
    dux = sign_in(contexts(), live, "dux", then=f"/projects/{second}?mine=1")
    assert [r[1] for r in cells(dux, "#units tbody tr")] == ["滨江实验小学"]
    dux.goto(f"{live.base}/projects/{second}/dashboard")
    section = dux.locator("#change")
    section.wait_for()
    before, after = _total(live, first, A), _total(live, second, A)
    delta = after - before
    shown = f"+{delta}" if delta > 0 else (f"−{-delta}" if delta < 0 else str(delta))
    rows = cells(dux, "#change-units tbody tr")
    assert rows == [["滨江实验小学", str(before), "优秀", str(after), rows[0][4], shown]]
    facts = section.inner_text().replace("\n", "").replace("\t", "")
    assert f"平均变化{shown} 分" in facts
    section.scroll_into_view_if_needed()
    shot(dux, "round-change")
