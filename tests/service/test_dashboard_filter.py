"""The 区域统计 dashboard narrowed to one 学段 and/or one 区域 (``?phase=…&region=…``), on SQLite and PostgreSQL:
units in two 学段 and two 区域 (one with no 学段 but its type, one of a third 学段 with nothing uploaded); for each
filter every figure — completion, grade distribution, rankings, first-level 得分率 (四舍五入 to one decimal),
overdue 整改 items — equals the figure computed here from the stored results of the matching units only, with
the line saying which units are shown; the selects list the values the units have; an unknown value shows no
units and says so; the round comparison (and the link to the round before) keeps the filter; a 学校 user is
still refused."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from html.parser import HTMLParser

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from scoring.engine.result import Result, result_from_json
from scoring.service.models import Project, Rectification, ResultRow, Submission, Unit

from .conftest import ADMIN_PASSWORD, EXAMPLES, A, B, World, service_of
from .test_web_county_data import sign_in

C, D, E = "3201030009", "3201020011", "3201040001"
STRONG_UNIT = 'unit: {name: 滨江实验小学, code: "3201010001", type: 小学, region: 示范区,'
PAST = dt.date(2001, 1, 1)


class Cells(HTMLParser):
    """The rows of the tables under one element id: each cell's text, or its <summary>'s if it has one."""

    def __init__(self, html: str, id: str) -> None:
        super().__init__()
        self.id, self.depth = id, 0
        self.rows: list[list[str]] = []
        self.headings: list[str] = []
        self.text: list[str] = []
        self.cell: list[str] | None = None
        self.summary: list[str] | None = None
        self.in_summary = self.in_h3 = self.in_tbody = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.depth == 0:
            if dict(attrs).get("id") == self.id:
                self.depth = 1
            return
        if tag not in ("br", "input", "img", "meta", "link"):
            self.depth += 1
        if tag == "tbody":
            self.in_tbody = True
        elif tag == "tr" and self.in_tbody:
            self.rows.append([])
        elif tag == "td" and self.in_tbody:
            self.cell, self.summary = [], None
        elif tag == "summary":
            self.in_summary, self.summary = True, []
        elif tag == "h3":
            self.in_h3 = True
            self.headings.append("")

    def handle_endtag(self, tag: str) -> None:
        if self.depth == 0:
            return
        self.depth -= 1
        if tag == "tbody":
            self.in_tbody = False
        elif tag == "td" and self.cell is not None:
            chosen = self.summary if self.summary is not None else self.cell
            self.rows[-1].append("".join(chosen).strip())
            self.cell = None
        elif tag == "summary":
            self.in_summary = False
        elif tag == "h3":
            self.in_h3 = False

    def handle_data(self, data: str) -> None:
        if self.depth == 0:
            return
        self.text.append(data)
        if self.cell is not None:
            self.cell.append(data)
        if self.in_summary and self.summary is not None:
            self.summary.append(data)
        if self.in_h3:
            self.headings[-1] += data.strip()


def part(html: str, id: str) -> Cells:
    return Cells(html, id)


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def percent(rate: Decimal) -> str:
    return f"{(rate * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"


def upload(world: World, code: str, name: str, text: str | None = None) -> None:
    data = (EXAMPLES / name).read_bytes() if text is None else text.encode("utf-8")
    r = world.c.post(world.unit_path(code, "/submissions"), files={"file": (name, data)}, headers=world.admin)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "已评分", r.text


def as_unit(name: str, code: str, unit: str) -> str:
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    assert STRONG_UNIT in text
    return text.replace(STRONG_UNIT, unit.replace("CODE", code))


def district(world: World) -> None:
    """A, B (world: 小学 and 初中 of 示范区); C 南湖小学 (小学, 南湖区); D 南湖中学 (no 学段, type 初中, 南湖区, nothing
    uploaded); E 滨江幼儿园 (学前, 示范区, nothing uploaded). Every 整改 item overdue; one of A's 已销号."""
    with service_of(world.c).transaction() as session:
        session.add(
            Unit(
                project_id=world.project, code=C, name="南湖小学", type="小学", phase="小学", region="南湖区"
            )
        )
        session.add(Unit(project_id=world.project, code=D, name="南湖中学", type="初中", region="南湖区"))
        session.add(
            Unit(
                project_id=world.project,
                code=E,
                name="滨江幼儿园",
                type="幼儿园",
                phase="学前",
                region="示范区",
            )
        )
    upload(world, A, "strong.yaml")
    upload(world, B, "weak.json")
    unit_c = 'unit: {name: 南湖小学, code: "CODE", type: 小学, region: 南湖区,'
    upload(world, C, "strong-round2.yaml", as_unit("strong-round2.yaml", C, unit_c))
    world.extra["tie"] = tie(world)
    overdue(world, world.project)


def tie(world: World) -> str:
    """C's stored points of a first-level indicator set so that A's and C's mean 得分率 is exactly half-way at the
    page's precision (x.x5 %): 四舍五入 rounds it up where Python's half-even format would not always. The
    indicator's code."""
    with service_of(world.c).transaction() as session:
        docs = {
            code: row
            for code, row in session.execute(
                select(Unit.code, ResultRow)
                .join(Submission, Submission.unit_id == Unit.id)
                .join(ResultRow, ResultRow.submission_id == Submission.id)
                .where(Unit.project_id == world.project, Unit.code.in_([A, C]))
            ).all()
        }
        a, c = json.loads(docs[A].document), json.loads(docs[C].document)
        for ind in c["indicators"]:
            theirs = next(i for i in a["indicators"] if i["code"] == ind["code"])
            if ind["parent"] is not None or not ind["possible"] or theirs["points"] is None:
                continue
            rate = Decimal(theirs["points"]) / Decimal(theirs["possible"])
            if rate < Decimal("0.01") or rate != rate.quantize(Decimal("0.0001")):
                continue
            half = ((rate * 1000).to_integral_value(rounding=ROUND_FLOOR) - Decimal("0.5")) / 1000
            ind["points"] = str((2 * half - rate) * Decimal(ind["possible"]))
            docs[C].document = json.dumps(c, ensure_ascii=False)
            return str(ind["code"])
    raise AssertionError("no first-level indicator to tie")


def overdue(world: World, project: int) -> None:
    with service_of(world.c).transaction() as session:
        items = session.scalars(
            select(Rectification)
            .join(Unit, Unit.id == Rectification.unit_id)
            .where(Unit.project_id == project)
            .order_by(Rectification.id)
        ).all()
        for item in items:
            item.deadline = PAST
        closed = next(i for i in items if session.get(Unit, i.unit_id).code == A)  # type: ignore[union-attr]
        closed.status = "已销号"


FIELDS = {
    A: ("小学", "示范区"),
    B: ("初中", "示范区"),
    C: ("小学", "南湖区"),
    D: ("初中", "南湖区"),
    E: ("学前", "示范区"),
}


def matching(phase: str | None, region: str | None) -> list[str]:
    return sorted(c for c, (p, r) in FIELDS.items() if phase in (None, p) and region in (None, r))


def stored(world: World, project: int, codes: list[str]) -> tuple[set[str], dict[str, list[Result]]]:
    """The units among ``codes`` with any upload, and each one's results of its newest scored version."""
    with service_of(world.c).sessions() as session:
        submitted = set(
            session.scalars(
                select(Unit.code)
                .join(Submission, Submission.unit_id == Unit.id)
                .where(Unit.project_id == project, Unit.code.in_(codes))
            )
        )
        newest = dict(
            session.execute(
                select(Unit.code, func.max(Submission.version))
                .join(Submission, Submission.unit_id == Unit.id)
                .where(Unit.project_id == project, Unit.code.in_(codes), Submission.status == "已评分")
                .group_by(Unit.code)
            ).all()
        )
        results: dict[str, list[Result]] = {}
        for code, version, doc in session.execute(
            select(Unit.code, Submission.version, ResultRow.document)
            .join(Submission, Submission.unit_id == Unit.id)
            .join(ResultRow, ResultRow.submission_id == Submission.id)
            .where(Unit.project_id == project, Unit.code.in_(codes))
            .order_by(ResultRow.part)
        ):
            if newest.get(code) == version:
                results.setdefault(code, []).append(result_from_json(doc))
    return submitted, results


def late(world: World, project: int, codes: list[str]) -> list[tuple[str, str, str]]:
    with service_of(world.c).sessions() as session:
        rows = session.execute(
            select(Unit.name, Rectification.indicator, Rectification.deadline)
            .join(Unit, Unit.id == Rectification.unit_id)
            .where(Unit.project_id == project, Unit.code.in_(codes), Rectification.status != "已销号")
        ).all()
    return sorted((name, ind, str(deadline)) for name, ind, deadline in rows)


def mean_rates(results: list[Result]) -> list[tuple[str, Decimal, int]]:
    """Each first-level indicator's mean 得分率 over the results that scored it, lowest first, with their count."""
    rates: dict[str, list[Decimal]] = {}
    for r in results:
        for ind in r.indicators:
            if ind.parent is None and ind.points is not None and ind.possible:
                rates.setdefault(ind.code, []).append(ind.points / ind.possible)
    means = [(code, sum(v, Decimal(0)) / len(v), len(v)) for code, v in rates.items()]
    return sorted(means, key=lambda m: (m[1], m[0]))


def page(c: TestClient, project: int, **query: str) -> str:
    r = c.get(f"/projects/{project}/dashboard", params=query)
    assert r.status_code == 200, r.text
    return r.text


def options(html: str, name: str) -> list[str]:
    found = re.search(rf'<select name="{name}">(.*?)</select>', html, re.S)
    assert found, html
    return [flat(o) for o in re.findall(r"<option[^>]*>(.*?)</option>", found.group(1))]


def shown_line(html: str) -> str | None:
    found = re.search(r'<p class="[a-z]+" id="shown">(.*?)<a ', html, re.S)
    return flat(found.group(1)) if found else None


def test_each_figure_counts_the_matching_units_only(world: World) -> None:
    district(world)
    sign_in(world.c, "dux", "dux-password")
    names = {A: "滨江实验小学", B: "北山中学", C: "南湖小学", D: "南湖中学", E: "滨江幼儿园"}
    for phase, region in [(None, None), ("小学", None), ("初中", None), (None, "南湖区"), ("小学", "示范区")]:
        query = {k: v for k, v in (("phase", phase), ("region", region)) if v is not None}
        html = page(world.c, world.project, **query)
        codes = matching(phase, region)
        submitted, results = stored(world, world.project, codes)
        assert submitted == {c for c in codes if c in (A, B, C)}

        # the selects: the values the project's units have, 全部 first, the chosen one selected
        assert options(html, "phase") == ["全部", "初中", "学前", "小学"]
        assert options(html, "region") == ["全部", "南湖区", "示范区"]
        if phase:
            assert f'<option value="{phase}" selected>' in html
        # the line saying which units are shown
        words = [f"学段{phase}" if phase else "", f"区域{region}" if region else ""]
        line = "·".join(w for w in words if w)
        assert shown_line(html) == (f"仅显示：{line}（{len(codes)}个单位）。" if query else None)

        # completion
        facts = flat("".join(part(html, "completion").text))
        assert f"已提交{len(submitted)}/{len(codes)}" in facts
        assert f"已评分{len(results)}/{len(codes)}" in facts
        assert f"未提交{len(codes) - len(submitted)}" in facts

        # the grade distribution: every grade of the framework, with the matching units' counts
        every = [r for code in sorted(results) for r in results[code]]
        grades = {row[0]: int(row[1]) for row in part(html, "grades").rows}
        assert sum(grades.values()) == len(every)
        assert {g: n for g, n in grades.items() if n} == dict(Counter(r.grade or "未定等级" for r in every))

        # the rankings: only the matching units, highest total first, in their 学段 and 区域
        ranking = part(html, "phases")
        expected_phases = sorted({FIELDS[c][0] for c in results})
        assert ranking.headings == expected_phases
        order = sorted(results, key=lambda c: (FIELDS[c][0], -(results[c][0].total or 0), c))
        assert [row[1] for row in ranking.rows] == [names[c] for c in order]
        assert [row[2] for row in ranking.rows] == [str(results[c][0].total) for c in order]
        regions = part(html, "regions")
        assert regions.headings == sorted({FIELDS[c][1] for c in results})

        # the weakest first-level indicators: mean 得分率 over the matching results, 四舍五入 to one decimal
        weakest = part(html, "weakest").rows
        means = mean_rates(every)
        assert [(row[0], row[2], row[3]) for row in weakest] == [
            (code, percent(rate), str(n)) for code, rate, n in means
        ]

        # overdue 整改: the matching units' open items past their deadline
        rows = part(html, "overdue").rows
        assert sorted((r[0], r[1], r[3]) for r in rows) == late(world, world.project, codes)
        today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
        assert all(int(r[4]) in ((today - PAST).days, (today - PAST).days + 1) for r in rows)

    # the tied 得分率 of 小学 (A and C): exactly half-way at one decimal of a percent, shown rounded half-up
    code = world.extra["tie"]
    _, results = stored(world, world.project, [A, C])
    mean = next(m for c, m, _ in mean_rates([r for rs in results.values() for r in rs]) if c == code)
    assert (mean * 1000) % 1 == Decimal("0.5")
    shown = next(
        row[2] for row in part(page(world.c, world.project, phase="小学"), "weakest").rows if row[0] == code
    )
    up = Decimal((mean * 1000).to_integral_value(rounding=ROUND_FLOOR) + 1).scaleb(-1)
    assert shown == f"{up}%" == percent(mean)  # up, also where half-even would go down


def test_an_unknown_value_shows_no_units_and_says_so(world: World) -> None:
    district(world)
    sign_in(world.c, "dux", "dux-password")
    html = page(world.c, world.project, phase="高中")
    assert shown_line(html) == "仅显示：学段高中（0个单位）。本项目没有学段为“高中”的单位。"
    assert 'class="alert" id="shown"' in html
    assert "已提交0/0" in flat("".join(part(html, "completion").text))
    assert part(html, "phases").rows == [] and part(html, "weakest").rows == []
    assert part(html, "overdue").rows == []
    assert options(html, "phase")[-1] == "高中（无此学段）"  # kept selected, so the form says what was asked
    html = page(world.c, world.project, phase="小学", region="北极")
    assert shown_line(html) == "仅显示：学段小学·区域北极（0个单位）。本项目没有区域为“北极”的单位。"
    # known values that no unit has together
    html = page(world.c, world.project, phase="学前", region="南湖区")
    assert shown_line(html) == "仅显示：学段学前·区域南湖区（0个单位）。没有同时符合这些条件的单位。"
    # 全部 (an empty value) is no filter
    html = page(world.c, world.project, phase="", region="")
    assert shown_line(html) is None
    assert "已提交3/5" in flat("".join(part(html, "completion").text))


def test_a_school_still_cannot_see_the_dashboard(world: World) -> None:
    district(world)
    sign_in(world.c, "school-a", "school-a-password")
    r = world.c.get(f"/projects/{world.project}/dashboard", params={"phase": "小学"})
    assert r.status_code == 403


def test_the_round_comparison_takes_the_filter(world: World) -> None:
    district(world)
    r = world.c.post(f"/api/v1/projects/{world.project}/next-round", json={}, headers=world.admin)
    assert r.status_code == 201, r.text
    second = r.json()["id"]
    first = world.project
    world.project = second
    upload(world, A, "strong-round2.yaml")
    upload(
        world,
        C,
        "strong.yaml",
        as_unit("strong.yaml", C, 'unit: {name: 南湖小学, code: "CODE", type: 小学, region: 南湖区,'),
    )
    sign_in(world.c, "admin", ADMIN_PASSWORD)

    def items(codes: list[str]) -> tuple[int, int]:
        with service_of(world.c).sessions() as session:
            rows = session.execute(
                select(Rectification.status)
                .join(Unit, Unit.id == Rectification.unit_id)
                .where(Unit.project_id == first, Unit.code.in_(codes))
            ).all()
        return len(rows), sum(1 for (s,) in rows if s == "已销号")

    for region, codes in [(None, [A, C]), ("南湖区", [C]), ("示范区", [A])]:
        html = page(world.c, second, **({"region": region} if region else {}))
        units = part(html, "change-units").rows
        _, before = stored(world, first, codes)
        _, after = stored(world, second, codes)
        assert sorted(row[0] for row in units) == sorted({A: "滨江实验小学", C: "南湖小学"}[c] for c in codes)
        for row in units:
            code = A if row[0] == "滨江实验小学" else C
            assert (row[1], row[3]) == (str(before[code][0].total), str(after[code][0].total))
        total, closed = items(matching(None, region))
        facts = flat("".join(part(html, "change").text))
        assert f"上轮整改事项已销号{closed}/{total}" in facts
        link = f'href="/projects/{first}/dashboard{"?region=" + region if region else ""}"'
        assert (
            link.replace("南湖区", "%E5%8D%97%E6%B9%96%E5%8C%BA").replace(
                "示范区", "%E7%A4%BA%E8%8C%83%E5%8C%BA"
            )
            in html
        )
    # the previous round's dashboard, with the filter the link kept
    html = page(world.c, first, region="南湖区")
    assert shown_line(html) == "仅显示：区域南湖区（2个单位）。"
    with service_of(world.c).sessions() as session:
        assert session.get(Project, second) is not None
