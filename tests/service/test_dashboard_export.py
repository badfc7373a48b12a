"""The 区域统计 dashboard as a workbook (``GET /projects/{id}/dashboard.xlsx?phase=…&region=…``), on SQLite and
PostgreSQL, for the district of ``test_dashboard_filter``: the page links it with its filter; the workbook opens
with openpyxl, named 区域统计-<项目名>.xlsx (RFC 5987); for each filter its numbers are real numbers equal to the
page's figures — 填报进度, the grade distribution, the rankings' totals, each first-level mean 得分率 as the page
rounds it (四舍五入, the tie too), the overdue 整改 items; a unit named "=1+1" stays text; a 学校 user is refused
as on the page."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import re
from decimal import Decimal
from io import BytesIO
from typing import Any
from urllib.parse import quote

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from openpyxl.workbook import Workbook
from sqlalchemy import select

from scoring.service.models import Project, Unit

from .conftest import B, World, service_of
from .test_dashboard_filter import district, flat, page, part
from .test_web_county_data import sign_in

SHEETS = ["概况", "等级分布", "学段排名", "区域排名", "一级指标得分率", "逾期整改"]


def workbook(c: TestClient, project: int, **query: str) -> Workbook:
    r = c.get(f"/projects/{project}/dashboard.xlsx", params=query)
    assert r.status_code == 200, r.text
    assert r.content.startswith(b"PK")
    assert r.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return load_workbook(BytesIO(r.content))


def body(wb: Workbook, sheet: str) -> list[tuple[Any, ...]]:
    """The rows under a sheet's header (row 1)."""
    return [row for row in wb[sheet].iter_rows(min_row=2, values_only=True)]


def number(text: str) -> float:
    return float(Decimal(text))


def rate(text: str) -> float:
    """A page's percentage (12.3%) as the ratio the workbook writes (0.123)."""
    assert text.endswith("%"), text
    return float(Decimal(text[:-1]) / 100)


def ranking(html: str, id: str) -> list[tuple[str, int | None, str, float]]:
    """A ranking section's rows as (group, rank, unit, total), each group named by its heading."""
    found = []
    sections = re.findall(r"<h3>(.*?)</h3>\s*<table.*?<tbody>(.*?)</tbody>", _section(html, id), re.S)
    for name, rows in sections:
        for row in re.findall(r"<tr>(.*?)</tr>", rows, re.S):
            cells = [flat(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            rank = int(cells[0]) if cells[0] != "—" else None
            found.append((htmllib.unescape(name), rank, htmllib.unescape(cells[1]), number(cells[2])))
    return found


def _section(html: str, id: str) -> str:
    found = re.search(rf'<section class="card" id="{id}">(.*?)</section>', html, re.S)
    return found.group(1) if found else ""


def test_the_workbook_holds_the_page_figures(world: World) -> None:
    district(world)
    sign_in(world.c, "dux", "dux-password")
    for query in [
        {},
        {"phase": "小学"},
        {"phase": "初中"},
        {"region": "南湖区"},
        {"phase": "小学", "region": "示范区"},
    ]:
        html = page(world.c, world.project, **query)
        # the page links the workbook, keeping its filter
        link = re.search(r'<a href="([^"]+)"[^>]*id="dashboard-xlsx">下载 Excel</a>', html)
        assert link, html
        href = htmllib.unescape(link.group(1))
        assert href.startswith(f"/projects/{world.project}/dashboard.xlsx")
        for key, value in query.items():
            assert f"{key}={quote(value)}" in href
        r = world.c.get(href)
        assert r.status_code == 200 and r.content.startswith(b"PK")
        wb = workbook(world.c, world.project, **query)
        assert wb.sheetnames == SHEETS

        # 概况: the project, the date, the units shown, 填报进度 as numbers
        overview = {row[0]: row[1:] for row in wb["概况"].iter_rows(min_row=2, values_only=True) if row[0]}
        with service_of(world.c).sessions() as session:
            project = session.get(Project, world.project)
            assert project is not None
            name = project.name
        assert overview["项目"][0] == name
        today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
        assert overview["统计日期"][0].date() in (today, today - dt.timedelta(days=1))
        scope = overview["统计范围"][0]
        if query:
            words = [f"学段 {query['phase']}" if "phase" in query else "", f"区域 {query.get('region')}"]
            assert scope.startswith(" · ".join(w for w in words if "None" not in w and w))
        else:
            assert scope.startswith("全部单位")
        facts = flat("".join(part(html, "completion").text))
        submitted, units = re.search(r"已提交(\d+)/(\d+)", facts).groups()  # type: ignore[union-attr]
        scored = re.search(r"已评分(\d+)/", facts).group(1)  # type: ignore[union-attr]
        assert overview["已提交"] == (int(submitted), int(units))
        assert overview["已评分"] == (int(scored), int(units))
        assert overview["未提交"] == (int(units) - int(submitted), int(units))
        assert f"（{units} 个单位）" in scope

        # 等级分布: every grade of the page with its count, a number
        grades = body(wb, "等级分布")
        assert [(g, n) for g, n in grades] == [(row[0], int(row[1])) for row in part(html, "grades").rows]
        assert all(isinstance(n, int) for _, n in grades)

        # the rankings: group, rank, unit and total as on the page; the total a number at the page's value
        for sheet, id in (("学段排名", "phases"), ("区域排名", "regions")):
            rows = [row for row in body(wb, sheet) if row[1] is not None or row[4] is not None]
            assert [(g, rank, unit, total) for g, rank, unit, _, total, _, _ in rows] == ranking(html, id)
            assert all(isinstance(row[4], float | int) and isinstance(row[6], int) for row in rows)

        # the first-level 得分率: the page's order, its rounding (to one decimal of a percent), as a percentage
        rates = body(wb, "一级指标得分率")
        shown = part(html, "weakest").rows
        if shown:
            assert [(c, n, r, u) for c, n, r, u in rates] == [
                (row[0], row[1], rate(row[2]), int(row[3])) for row in shown
            ]
            cells = list(wb["一级指标得分率"].iter_rows(min_row=2, min_col=3, max_col=3))
            assert all(row[0].number_format == "0.0%" for row in cells)
            assert [row[0].font.b for row in cells] == [i < 3 for i in range(len(cells))]  # the weakest bold
        else:
            assert rates == [(None, "还没有已评分的单位。", None, None)]

        # overdue 整改: unit, indicator, problem, deadline (a date), days (a number)
        overdue = body(wb, "逾期整改")
        page_rows = part(html, "overdue").rows
        if page_rows:
            assert [(o[0], o[2], o[3], o[4].date().isoformat(), o[5], o[6]) for o in overdue] == [
                (r[0], r[1], r[2], r[3], int(r[4]), r[5]) for r in page_rows
            ]
        else:
            assert overdue == [(None, None, None, "没有逾期的整改事项。", None, None, None)]

    # the tied mean 得分率 of 小学 (half-way at one decimal): rounded up, as on the page
    code = world.extra["tie"]
    html = page(world.c, world.project, phase="小学")
    shown = next(row[2] for row in part(html, "weakest").rows if row[0] == code)
    written = next(
        r
        for c, _, r, _ in body(workbook(world.c, world.project, phase="小学"), "一级指标得分率")
        if c == code
    )
    assert written == rate(shown)


def test_the_download_is_named_after_the_project(world: World) -> None:
    district(world)
    sign_in(world.c, "dux", "dux-password")
    with service_of(world.c).transaction() as session:
        project = session.get(Project, world.project)
        assert project is not None
        name = project.name
    r = world.c.get(f"/projects/{world.project}/dashboard.xlsx")
    assert r.status_code == 200
    disposition = r.headers["content-disposition"]
    assert f"filename*=UTF-8''{quote(f'区域统计-{name}.xlsx', safe='')}" in disposition
    assert disposition.startswith('attachment; filename="report.xlsx"')
    assert r.headers["cache-control"] == "no-store"


def test_a_unit_named_like_a_formula_stays_text(world: World) -> None:
    district(world)
    with service_of(world.c).transaction() as session:
        unit = session.scalars(select(Unit).where(Unit.project_id == world.project, Unit.code == B)).one()
        unit.name = "=1+1"
    sign_in(world.c, "dux", "dux-password")
    wb = load_workbook(BytesIO(world.c.get(f"/projects/{world.project}/dashboard.xlsx").content))
    cells = [c for row in wb["逾期整改"].iter_rows(min_row=2, max_col=1) for c in row if c.value == "=1+1"]
    assert cells, body(wb, "逾期整改")
    assert all(c.data_type == "s" and c.quotePrefix for c in cells)
    assert all(c.data_type != "f" for ws in wb for row in ws.iter_rows() for c in row)


def test_a_school_is_refused(world: World) -> None:
    district(world)
    sign_in(world.c, "school-a", "school-a-password")
    assert world.c.get(f"/projects/{world.project}/dashboard.xlsx").status_code == 403
    assert (
        world.c.get(f"/projects/{world.project}/dashboard.xlsx", params={"phase": "小学"}).status_code == 403
    )
    assert world.c.get("/projects/999999/dashboard.xlsx").status_code == 404
