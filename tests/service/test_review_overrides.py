"""The 督评 form's 调整与豁免 (``web/reviewing.py``, ``web/review_page.py``) on SQLite and PostgreSQL: a 督学 sets a
leaf indicator's points (the total changes by exactly that, as the library scores the same override) or waives it
(已豁免, out of the denominator: its group is rescaled); the next version's JSON carries ``overrides`` /
``waivers`` by the 督学, dated today, the audit row says old → new and why, and the page lists the change. The
waivers and overrides are carried into later 督评 versions and removable (撤销, with a reason). A bad row — an
unknown code, points out of range, no reason — is the page again (422) saying what is wrong, nothing stored; a
学校 user may not post the form (403 on its own unit, 404 on another's)."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from typing import Any

from sqlalchemy import select

import scoring
from scoring.engine.submission import Override, Waiver
from scoring.service.models import AuditEntry, ResultRow, Submission, Unit, User
from scoring.service.web.render import BEIJING

from .conftest import EXAMPLES, A, B, World, service_of
from .test_web_county_data import csrf, sign_in

WEAK = EXAMPLES / "weak.json"  # 北山中学 (B): total 23.00; A2.1 部分达标 5.00 of 10; A4.2 未达标 0.00 of 3
WHY = "现场核查课后服务签到记录，参与率实为 96%"


def newest(world: World, code: str = B) -> tuple[Submission, dict[str, Any], str, str]:
    """The unit's newest version: its row, its result JSON, who uploaded it, and its audit row's reason."""
    with service_of(world.c).sessions() as session:
        unit = session.scalars(select(Unit).where(Unit.project_id == world.project, Unit.code == code)).one()
        row = session.scalars(
            select(Submission).where(Submission.unit_id == unit.id).order_by(Submission.version.desc())
        ).first()
        assert row is not None
        result = session.scalars(select(ResultRow).where(ResultRow.submission_id == row.id)).first()
        by = session.get(User, row.uploaded_by)
        audit = session.scalars(
            select(AuditEntry).where(AuditEntry.entity == "submission", AuditEntry.entity_id == row.id)
        ).first()
        document = json.loads(result.document) if result is not None else {}
        return row, document, by.name if by else "", audit.reason if audit and audit.reason else ""


def start(world: World) -> str:
    """weak.json uploaded to B by its school; the 督学 signed in on the web; B's page."""
    r = world.c.post(
        world.unit_path(B, "/submissions"),
        files={"file": ("weak.json", WEAK.read_bytes())},
        headers=world.school_b,
    )
    assert r.status_code == 201, r.text
    sign_in(world.c, "dux", "dux-password")
    return f"/projects/{world.project}/units/{B}"


def post(world: World, page: str, fields: dict[str, str]) -> Any:
    html = world.c.get(page).text
    version = re.search(r'name="version" value="(\d+)"', html)
    assert version, html
    body = {"csrf": csrf(html), "version": version.group(1), **fields}
    return world.c.post(f"{page}/review", data=body, follow_redirects=False)


def row(i: int, code: str, kind: str, reason: str, **more: str) -> dict[str, str]:
    fields = {f"adj:{i}:code": code, f"adj:{i}:kind": kind, f"why:adj:{i}": reason}
    return fields | {f"adj:{i}:{k}": v for k, v in more.items()}


def section(html: str, key: str) -> str:
    """The page's card ``key`` (its tables are sections too): up to the next card."""
    begin = html.find(f'<section class="card" id="{key}">')
    assert begin >= 0, html
    end = html.find('<section class="card"', begin + 1)
    return html[begin : end if end > 0 else len(html)]


def indicator(document: dict[str, Any], code: str) -> dict[str, Any]:
    found: dict[str, Any] = next(i for i in document["indicators"] if i["code"] == code)
    return found


def test_an_override_of_points_changes_the_total_exactly(world: World) -> None:
    page = start(world)
    form = section(world.c.get(page).text, "review")
    assert "调整与豁免" in form
    assert '<option value="A2.1">A2.1 课后服务学生参与率（满分 10，现 部分达标 5.00 分）</option>' in form
    assert 'value="A2"' not in form  # leaves only

    r = post(world, page, row(0, "A2.1", "调整得分", WHY, points="9"))
    assert r.status_code == 303, r.text
    stored, document, by, reason = newest(world)
    today = dt.datetime.now(BEIJING).date()
    assert stored.version == 2 and by == "dux"
    sub = json.loads(stored.content)
    assert sub["overrides"] == [
        {"indicator": "A2.1", "points": "9", "by": "dux", "at": today.isoformat(), "reason": WHY}
    ]
    assert sub["waivers"] == [] and sub["values"]["after_school_rate"] == "80%"  # the 自评 kept

    # by hand: A2.1 5 → 9 of A2's plain sum, so the total 23.00 → 27.00
    assert document["total"] == "27.00" and indicator(document, "A2.1")["points"] == "9"
    # and as the library scores weak.json with the same override
    plan = scoring.compile_plan(scoring.load_framework("demo-school"))
    base = scoring.read_submission(WEAK)
    o = Override(indicator="A2.1", points=Decimal(9), by="dux", at=today, reason=WHY)
    expected = json.loads(
        scoring.result_to_json(scoring.score(plan, base.model_copy(update={"overrides": [o]})))
    )
    assert document["total"] == expected["total"] and document["grade"] == expected["grade"]
    assert document["changes"] == expected["changes"]
    assert [(i["code"], i["points"], i["status"]) for i in document["indicators"]] == [
        (i["code"], i["points"], i["status"]) for i in expected["indicators"]
    ]
    assert f"调整得分 A2.1 课后服务学生参与率：部分达标 5.00 分 → 9 分：{WHY}" in reason

    shown = world.c.get(r.headers["location"])
    result = section(shown.text, "result")
    assert "（第 2 版）" in result and "27.00" in result
    assert "豁免与改判" in result and "改判" in result and WHY in result and "dux" in result
    changes = result[result.index("t-changes") :]
    assert "A2.1" in changes and "→" in changes and today.isoformat() in changes
    held = section(shown.text, "review")
    assert "A2.1 课后服务学生参与率" in held and "调整得分 9 分" in held and "撤销" in held


def test_a_waiver_takes_the_indicator_out_is_carried_and_removable(world: World) -> None:
    page = start(world)
    r = post(world, page, row(0, "A4.2", "豁免", "本学期体测因场地改造顺延", expires="2026-12-31"))
    assert r.status_code == 303, r.text
    stored, document, _, reason = newest(world)
    sub = json.loads(stored.content)
    assert [(w["indicator"], w["expires"], w["by"]) for w in sub["waivers"]] == [
        ("A4.2", "2026-12-31", "dux")
    ]
    assert indicator(document, "A4.2")["status"] == "waived"
    # out of the denominator: A4 earns 6 of the 12 left of its 15, rescaled to 7.50; the total 23.00 → 24.50
    assert indicator(document, "A4")["points"] == "7.50" and document["total"] == "24.50"
    assert [(c["kind"], c["indicator"]) for c in document["changes"]] == [("waiver", "A4.2")]
    assert "豁免 A4.2 体质健康：未达标 0.00 分 → 豁免（至 2026-12-31）：本学期体测因场地改造顺延" in reason
    shown = world.c.get(r.headers["location"]).text
    assert "已豁免" in section(shown, "result") and "24.50" in section(shown, "result")

    # the next 督评 carries it
    r = post(world, page, row(0, "A2.1", "调整状态", "核查后认定达标", status="达标"))
    assert r.status_code == 303, r.text
    stored, document, _, _ = newest(world)
    sub = json.loads(stored.content)
    assert stored.version == 3 and [w["indicator"] for w in sub["waivers"]] == ["A4.2"]
    assert [(o["indicator"], o.get("points"), o["status"]) for o in sub["overrides"]] == [
        ("A2.1", None, "达标")
    ]
    assert (
        indicator(document, "A4.2")["status"] == "waived" and indicator(document, "A2.1")["status"] == "met"
    )

    # 撤销 without a reason: nothing stored
    r = post(world, page, {"drop:w0": "1"})
    assert r.status_code == 422
    assert "撤销 A4.2 体质健康 的豁免（至 2026-12-31）：请写明撤销的原因" in section(r.text, "review")
    assert newest(world)[0].version == 3
    # with a reason: the waiver is gone, the override stays
    r = post(world, page, {"drop:w0": "1", "why:drop:w0": "场地已恢复，按实际体测计分"})
    assert r.status_code == 303, r.text
    stored, document, _, reason = newest(world)
    sub = json.loads(stored.content)
    assert (
        stored.version == 4
        and sub["waivers"] == []
        and [o["indicator"] for o in sub["overrides"]] == ["A2.1"]
    )
    assert indicator(document, "A4.2")["status"] == "unmet" and indicator(document, "A4")["points"] == "6.00"
    assert "撤销豁免（至 2026-12-31） A4.2 体质健康" in reason and "场地已恢复" in reason


def test_bad_rows_are_the_page_again_and_nothing_is_stored(world: World) -> None:
    page = start(world)
    cases = [
        (row(0, "Z9", "调整得分", WHY, points="5"), "调整与豁免第 1 行：没有编码为 “Z9” 的末级指标"),
        (row(0, "A2", "调整得分", WHY, points="5"), "没有编码为 “A2” 的末级指标"),  # a group, not a leaf
        (
            row(1, "A2.1", "调整得分", WHY, points="11"),
            "第 2 行（A2.1 课后服务学生参与率）：得分 11 超出 0–10 分",
        ),
        (row(0, "A2.1", "调整得分", WHY, points="-1"), "超出 0–10 分"),
        (row(0, "A2.1", "调整得分", WHY, points="九"), "得分 “九” 不是数字"),
        (row(0, "A2.1", "调整得分", WHY), "请填写调整后的得分"),
        (row(0, "A2.1", "调整得分", "", points="9"), "（A2.1 课后服务学生参与率）：请写明调整得分的原因"),
        (row(2, "A4.2", "豁免", ""), "第 3 行（A4.2 体质健康）：请写明豁免的原因"),
        (row(0, "A4.2", "豁免", WHY, expires="明年"), "有效期至 “明年” 不是日期"),
        (row(0, "A2.1", "调整状态", WHY, status="优秀"), "调整后的状态应为 达标、未达标"),
        (row(0, "A2.1", "改分", WHY, points="9"), "调整方式应为 调整得分、调整状态、豁免 之一"),
        (row(0, "", "调整得分", WHY, points="9"), "调整与豁免第 1 行：请选择指标"),
        (
            row(0, "A2.1", "调整得分", WHY, points="9") | row(1, "A2.1", "调整状态", WHY, status="达标"),
            "只能调整一次",
        ),
        ({}, "没有修改任何督评值，也没有调整或豁免指标"),
    ]
    for fields, said in cases:
        r = post(world, page, fields)
        assert r.status_code == 422, (fields, r.text)
        problems = section(r.text, "review")
        assert "未保存" in problems and said in problems, (said, problems)
        assert newest(world)[0].version == 1
    # what was typed is kept
    r = post(world, page, row(1, "A2.1", "调整得分", WHY, points="11"))
    form = section(r.text, "review")
    assert 'name="adj:1:points" value="11"' in form and WHY in form


def test_a_school_cannot_post_the_form(world: World) -> None:
    page = start(world)
    world.c.cookies.clear()  # the 督学 signed out
    sign_in(world.c, "school-b", "school-b-password")
    html = world.c.get(page).text
    assert 'id="review"' not in html and "调整与豁免" not in html
    fields = {"csrf": csrf(html), "version": "1"} | row(0, "A2.1", "调整得分", WHY, points="10")
    assert world.c.post(f"{page}/review", data=fields, follow_redirects=False).status_code == 403
    other = f"/projects/{world.project}/units/{A}/review"
    assert world.c.post(other, data=fields, follow_redirects=False).status_code == 404
    assert newest(world)[0].version == 1


def test_a_waiver_by_the_library_matches(world: World) -> None:
    """The waiver the form stores scores as the library scores the same Waiver."""
    page = start(world)
    assert post(world, page, row(0, "A4.2", "豁免", WHY)).status_code == 303
    document = newest(world)[1]
    w = Waiver(indicator="A4.2", by="dux", at=dt.datetime.now(BEIJING).date(), reason=WHY)
    plan = scoring.compile_plan(scoring.load_framework("demo-school"))
    sub = scoring.read_submission(WEAK).model_copy(update={"waivers": [w]})
    expected = json.loads(scoring.result_to_json(scoring.score(plan, sub)))
    assert document["total"] == expected["total"] == "24.50"
    assert document["changes"] == expected["changes"]
