"""A project's district dashboard in a real Chromium: on a project of three demo units (two submitted through the
upload path, one not), a 督学 sees 已提交 2 / 3, the grade distribution as a table and as the chart drawn by the
bundled ECharts (a canvas), the ranking in each 学段 and 区域, the weakest first-level indicators and the
overdue 整改 items — with no request to any other host (the guard). Choosing a 学段 (then also a 区域) in the
form at the top narrows every count to the matching units, saying which are shown; 下载 Excel then gives the
workbook of those units (区域统计-<项目名>.xlsx). A school is refused (403)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import openpyxl
from sqlalchemy import select

from scoring.engine.result import result_from_json
from scoring.service.access import actor_of
from scoring.service.models import Rectification, ResultRow, Submission, Unit, User
from scoring.service.submitting import store_upload

from .conftest import EXAMPLES, A, B, Contexts, Live, new_project
from .test_workspace import shot, sign_in

C = "3201030009"


def demo_project(live: Live) -> int:
    """A project of 滨江实验小学 (strong.xlsx), 北山中学 (weak.xlsx) and 南湖小学 (nothing yet)."""
    plan = live.svc.plan("demo-school")
    with live.svc.transaction() as session:
        project = new_project(session, plan, "2026 年区域统计", round=3)
        session.add(Unit(project_id=project.id, code=A, name="滨江实验小学", type="小学", region="示范区"))
        session.add(Unit(project_id=project.id, code=B, name="北山中学", type="初中", region="示范区"))
        session.add(Unit(project_id=project.id, code=C, name="南湖小学", type="小学", region="南湖区"))
        admin = session.scalars(select(User).where(User.name == "admin")).one()
        actor = actor_of(admin, 0)
        project_id = project.id
    for code, name in ((A, "strong.xlsx"), (B, "weak.xlsx")):
        stored = store_upload(live.svc, actor, project_id, code, (EXAMPLES / name).read_bytes(), name, None)
        assert stored.status == "已评分"
    return project_id


def test_an_inspector_sees_the_district_dashboard_with_its_chart(contexts: Contexts, live: Live) -> None:
    project = demo_project(live)
    with live.svc.sessions() as session:
        rows = session.execute(
            select(Unit.code, ResultRow.grade, ResultRow.document)
            .join(Submission, Submission.id == ResultRow.submission_id)
            .join(Unit, Unit.id == Submission.unit_id)
            .where(Unit.project_id == project, Submission.status == "已评分")
        ).all()
        overdue = session.execute(
            select(Unit.name, Rectification)
            .join(Unit, Unit.id == Rectification.unit_id)
            .where(Unit.project_id == project, Rectification.status != "已销号")
        ).all()
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
    late = [(name, r) for name, r in overdue if r.deadline and r.deadline < today]
    assert len(late) >= 2  # weak.xlsx (2026-06-15) has items due within months
    with live.svc.transaction() as session:  # one of them closed: no longer overdue
        closed = session.get(Rectification, late[0][1].id)
        assert closed is not None
        closed.status = "已销号"
    late = late[1:]

    dux = sign_in(contexts(), live, "dux", then=f"/projects/{project}")
    dux.locator("#dashboard-link").click()
    dux.wait_for_url(f"{live.base}/projects/{project}/dashboard")
    assert "已提交2 / 3" in dux.inner_text("#completion").replace("\n", "").replace("\t", "")
    assert "已评分2 / 3" in dux.inner_text("#completion").replace("\n", "").replace("\t", "")

    # the grade distribution: the table's numbers and the chart drawn by the bundled ECharts
    table = {r[0]: int(r[1]) for r in cells(dux, "#grades table tbody tr")}
    assert len(rows) == 2 and sum(table.values()) == 2
    assert table == {g: sum(1 for _, grade, _ in rows if grade == g) for g in table}
    assert table["优秀"] == 1
    dux.locator("#grades .chart canvas").wait_for()
    assert dux.locator("#grades .chart").get_attribute("data-drawn") == "1"
    # counts of units: whole ticks on the value axis, never 0.2, 0.4 …
    min_interval = dux.evaluate(
        "echarts.getInstanceByDom(document.querySelector('#grades .chart')).getOption().yAxis[0].minInterval"
    )
    assert min_interval == 1

    # ranking within each 学段 and each 区域
    phases = dux.inner_text("#phases")
    assert "小学" in phases and "初中" in phases and "滨江实验小学" in phases and "北山中学" in phases
    assert "南湖小学" not in phases  # nothing submitted: not ranked
    regions = cells(dux, "#regions table tbody tr")
    assert [r[1] for r in regions] == ["滨江实验小学", "北山中学"] and [r[0] for r in regions] == ["1", "2"]

    # the weakest first-level indicators: the mean 得分率 of the stored results, lowest first
    weakest = cells(dux, "#weakest table tbody tr")
    expected = mean_rates([result_from_json(doc) for _, _, doc in rows])
    assert [r[0] for r in weakest] == [code for code, _ in expected]
    # each 得分率 to one decimal, 四舍五入 (not the half-even of Python's format)
    assert [r[2] for r in weakest] == [
        f"{(rate * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%" for _, rate in expected
    ]
    # … and opened, the mean's terms: each unit's points ÷ possible
    dux.locator("#weakest details summary").first.click()
    assert "个单位本项得分率的平均" in dux.locator("#weakest details").first.inner_text()
    term = dux.locator("#weakest details a").first
    assert (term.get_attribute("href") or "").endswith(f"#ind-{weakest[0][0]}")
    # a grade's count opens to the units that have it, each linked to its result
    dux.locator("#grades details summary").first.click()
    assert dux.locator("#grades details a").first.get_attribute("href", timeout=2000)

    # overdue 整改: past the deadline, not 已销号
    shown = cells(dux, "#overdue table tbody tr")
    assert sorted((r[0], r[1], r[3]) for r in shown) == sorted(
        (name, r.indicator, str(r.deadline)) for name, r in late
    )
    assert all(int(r[4]) > 0 for r in shown)
    shot(dux, "dashboard")
    dux.locator("#weakest").scroll_into_view_if_needed()
    shot(dux, "dashboard-indicators")

    # the weakest indicator's term leads to that indicator's row, with its explanation, on the unit's page
    term.click()
    dux.locator(f"#ind-{weakest[0][0]}").wait_for()
    assert weakest[0][1] in dux.inner_text(f"#ind-{weakest[0][0]}")

    # one 学段 at a time: 小学 is 滨江实验小学 (submitted) and 南湖小学 (not yet)
    dux.goto(f"{live.base}/projects/{project}/dashboard")
    assert dux.locator("#shown").count() == 0
    phases_offered = dux.locator("#filter select[name=phase] option").all_inner_texts()
    assert phases_offered == ["全部", "初中", "小学"]
    dux.locator("#filter select[name=phase]").select_option("小学")
    dux.locator("#filter button").click()
    dux.wait_for_url(lambda url: "phase=" in url)
    assert dux.inner_text("#shown").startswith("仅显示：学段 小学（2 个单位）")
    completion = dux.inner_text("#completion").replace("\n", "").replace("\t", "")
    assert "已提交1 / 2" in completion and "已评分1 / 2" in completion
    table = {r[0]: int(r[1]) for r in cells(dux, "#grades table tbody tr")}
    assert sum(table.values()) == 1 and table["优秀"] == 1
    assert [r[1] for r in cells(dux, "#phases table tbody tr")] == ["滨江实验小学"]
    assert dux.locator("#phases h3").all_inner_texts() == ["小学"]
    strong = [result_from_json(doc) for code, _, doc in rows if code == A]
    assert [r[2] for r in cells(dux, "#weakest table tbody tr")] == [
        f"{(rate * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%" for _, rate in mean_rates(strong)
    ]
    assert sorted(r[0] for r in cells(dux, "#overdue table tbody tr")) == sorted(
        name for name, _ in late if name == "滨江实验小学"
    )
    assert dux.locator("#filter select[name=phase]").input_value() == "小学"  # the form keeps the choice
    # … and one 区域 too: 小学 of 南湖区 is 南湖小学 alone, nothing submitted
    dux.locator("#filter select[name=region]").select_option("南湖区")
    dux.locator("#filter button").click()
    dux.wait_for_url(lambda url: "region=%E5%8D%97" in url)  # 南…
    assert dux.inner_text("#shown").startswith("仅显示：学段 小学 · 区域 南湖区（1 个单位）")
    assert "已提交0 / 1" in dux.inner_text("#completion").replace("\n", "").replace("\t", "")
    assert cells(dux, "#phases table tbody tr") == []
    shot(dux, "dashboard-filtered")
    # the workbook of what is shown: the link keeps the filter
    with dux.expect_download() as got:
        dux.locator("#dashboard-xlsx").click()
    assert got.value.suggested_filename == "区域统计-2026 年区域统计.xlsx"
    data = Path(got.value.path()).read_bytes()
    assert data.startswith(b"PK")
    book = openpyxl.load_workbook(io.BytesIO(data))
    completion = {r[0]: r[1:] for r in book["概况"].iter_rows(min_row=2, values_only=True) if r[0]}
    assert completion["已提交"] == (0, 1)
    assert str(completion["统计范围"][0]).startswith("学段 小学 · 区域 南湖区（1 个单位）")
    # 全部 again: every unit
    dux.locator("#shown a").click()
    dux.wait_for_url(f"{live.base}/projects/{project}/dashboard")
    assert "已提交2 / 3" in dux.inner_text("#completion").replace("\n", "").replace("\t", "")

    school = sign_in(contexts(), live, "school-a", then=f"/projects/{project}")
    assert school.locator("#dashboard-link").count() == 0
    assert school.request.get(f"{live.base}/projects/{project}/dashboard").status == 403
    assert school.request.get(f"{live.base}/projects/{project}/dashboard?phase=小学").status == 403
    assert school.request.get(f"{live.base}/projects/{project}/dashboard.xlsx").status == 403


def cells(page: Any, rows: str) -> list[list[str]]:
    found = page.locator(rows)
    return [[c.strip() for c in found.nth(i).locator("td").all_inner_texts()] for i in range(found.count())]


def mean_rates(results: list[Any]) -> list[tuple[str, Decimal]]:
    rates: dict[str, list[Decimal]] = {}
    for r in results:
        for ind in r.indicators:
            if ind.parent is None and ind.points is not None and ind.possible:
                rates.setdefault(ind.code, []).append(ind.points / ind.possible)
    means = [(code, sum(v, Decimal(0)) / len(v)) for code, v in rates.items()]
    return sorted(means, key=lambda m: (m[1], m[0]))
