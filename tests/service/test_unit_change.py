"""A unit against its previous round (service/unit_change.py, web/unit_change.py, GET …/units/{code}/change), on
SQLite and PostgreSQL: 滨江实验小学 scored in round 1 (strong.yaml) and, after the next round is opened, again in
round 2 (strong-round2.yaml, which closes two 整改 items). The API and the unit page say exactly what the library's
``engine.diff.diff`` of the two stored result documents says — first-level points old → new half-up at the
framework's precision, 已销号 / 仍未整改 / 新增, 问责情形 with measures and basis. Without a previous round, or
without a scored result in it, there is nothing to compare (404; one sentence or nothing on the page); another
school's unit stays 404; a 学校 user sees its own unit's comparison."""

from __future__ import annotations

import html
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select

from scoring.engine.diff import RoundDiff, diff
from scoring.engine.result import Result, result_from_json
from scoring.service.models import ResultRow, Submission, Unit

from .conftest import EXAMPLES, A, B, World, service_of
from .test_web_county_data import csrf, sign_in


def _upload(world: World, project: int, code: str, who: dict[str, str], name: str) -> None:
    r = world.c.post(
        f"/api/v1/projects/{project}/units/{code}/submissions",
        files={"file": (name, (EXAMPLES / name).read_bytes())},
        headers=who,
    )
    assert r.status_code == 201, r.text


def _stored(world: World, project: int, code: str) -> Result:
    """The unit's newest scored result document, as the store keeps it."""
    with service_of(world.c).sessions() as session:
        doc = session.scalars(
            select(ResultRow.document)
            .join(Submission, Submission.id == ResultRow.submission_id)
            .join(Unit, Unit.id == Submission.unit_id)
            .where(Unit.project_id == project, Unit.code == code, Submission.status == "已评分")
            .order_by(Submission.version.desc(), ResultRow.part)
        ).first()
    assert doc is not None
    return result_from_json(doc)


def _next_round(world: World) -> int:
    r = world.c.post(
        f"/api/v1/projects/{world.project}/next-round", json={"reason": "复评"}, headers=world.admin
    )
    assert r.status_code == 201, r.text
    second: int = r.json()["id"]
    return second


def _two_rounds(world: World) -> tuple[int, RoundDiff, Result, Result]:
    _upload(world, world.project, A, world.school_a, "strong.yaml")
    _upload(world, world.project, B, world.school_b, "weak.json")  # 北山中学: round 1 only
    second = _next_round(world)
    _upload(world, second, A, world.school_a, "strong-round2.yaml")
    old, new = _stored(world, world.project, A), _stored(world, second, A)
    return second, diff(old, new), old, new


def _text(d: Decimal | None) -> str | None:
    return None if d is None else str(d)


def _half_up(d: Decimal, places: int | None) -> str:
    return str(d if places is None else d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def _signed(d: Decimal, places: int | None) -> str:
    text = _half_up(abs(d), places)
    return text if Decimal(text) == 0 else ("+" if d > 0 else "−") + text


def _items(found: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(i["code"], i["name"], i["problem"]) for i in found]


def test_the_api_gives_the_library_diff_of_the_two_stored_results(world: World) -> None:
    second, d, _, _ = _two_rounds(world)
    # what the demo pair is known to do: A3 rises, two items closed, two still open (both 逾期)
    assert [(s.code, s.delta) for s in d.scores if s.delta] == [("A3", Decimal("3.00"))]
    assert len(d.closed) == 2 and len(d.still_open) == 2 and not d.new and len(d.accountability) == 2

    r = world.c.get(f"/api/v1/projects/{second}/units/{A}/change", headers=world.inspector)
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["project"], got["code"], got["previous_project"], got["previous_round"]) == (
        second,
        A,
        world.project,
        1,
    )
    assert (got["total_old"], got["total_new"], got["grade_old"], got["grade_new"]) == (
        _text(d.total_old),
        _text(d.total_new),
        d.grade_old,
        d.grade_new,
    )
    assert [
        (s["code"], s["name"], s["old"], s["new"], s["old_status"], s["new_status"], s["delta"])
        for s in got["scores"]
    ] == [
        (s.code, s.name, _text(s.old), _text(s.new), s.old_status, s.new_status, _text(s.delta))
        for s in d.scores
    ]
    for key in ("closed", "still_open", "new", "overdue"):
        assert _items(got[key]) == [(i.code, i.name, i.problem) for i in getattr(d, key)], key
    assert [i["deadline"] for i in got["overdue"]] == [
        i.deadline.isoformat() if i.deadline else None for i in d.overdue
    ]
    assert [
        (a["code"], a["name"], a["situation"], a["measures"], a["deadline"], a["basis"])
        for a in got["accountability"]
    ] == [
        (a.code, a.name, a.situation, a.measures, a.deadline.isoformat() if a.deadline else None, a.basis)
        for a in d.accountability
    ]
    assert len(got["parts"]) == 1
    assert {k: v for k, v in got["parts"][0].items()} == {
        k: got[k] for k in got["parts"][0]
    }  # the top level is the (only) part

    # the school sees its own unit's comparison; another school's unit is 404 as if it did not exist
    mine = world.c.get(f"/api/v1/projects/{second}/units/{A}/change", headers=world.school_a)
    assert mine.status_code == 200 and mine.json() == got
    assert (
        world.c.get(f"/api/v1/projects/{second}/units/{A}/change", headers=world.school_b).status_code == 404
    )
    # no previous round: round 1 itself; no scored result now: 北山中学 in round 2
    first = world.c.get(f"/api/v1/projects/{world.project}/units/{A}/change", headers=world.admin)
    assert first.status_code == 404 and first.json()["error"] == "not-found"
    assert world.c.get(f"/api/v1/projects/{second}/units/{B}/change", headers=world.admin).status_code == 404
    assert world.c.get(f"/api/v1/projects/{second}/units/999/change", headers=world.admin).status_code == 404


def _section(page: str) -> str | None:
    found = re.search(r'<section class="card" id="unit-change">.*?</section>', page, re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(0)))) if found else None


def test_the_unit_page_shows_the_change_to_its_school(world: World) -> None:
    second, d, old, new = _two_rounds(world)
    sign_in(world.c, "school-a", "school-a-password")
    page = world.c.get(f"/projects/{second}/units/{A}")
    assert page.status_code == 200
    shown = _section(page.text)
    assert shown is not None, page.text
    assert "与上一轮比较 （ 第 1 轮 → 第 2 轮）" in shown
    totals = new.total_precision if new.total_precision is not None else new.precision
    assert d.total_old is not None and d.total_new is not None
    assert (
        f"总分 {_half_up(d.total_old, totals)} → {_half_up(d.total_new, totals)} "
        f"（{_signed(d.total_new - d.total_old, totals)}）" in shown
    )
    assert f"等级 {d.grade_old} → {d.grade_new}" in shown
    for s in d.scores:  # each first-level indicator old → new, half-up at the framework's precision
        assert s.old is not None and s.new is not None and s.delta is not None
        line = f"{s.code} {s.name} {_half_up(s.old, old.precision)} {_half_up(s.new, new.precision)} "
        assert line + _signed(s.delta, new.precision) in shown, line
    assert "A3 学校管理 22.00 25.00 +3.00" in shown  # the one that moved, as a 督学 reads it
    closed = shown.split("已销号 （")[1].split("仍未整改 （")[0]
    still = shown.split("仍未整改 （")[1].split("新增问题 （")[0]
    assert [i.code for i in d.closed] == re.findall(r"(A\d\.\d) ", closed)
    assert [i.code for i in d.still_open] == re.findall(r"(A\d\.\d) ", still)
    for i in d.closed + d.still_open:
        assert f"{i.code} {i.name}：{i.problem}" in shown
    assert "新增问题 （0 项）" in shown
    for i in d.overdue:
        assert f"逾期：上轮限期 {i.deadline}" in still
    assert f"问责情形 （{len(d.accountability)} 项，依据《教育督导问责办法》（国教督〔2021〕2号））" in shown
    for a in d.accountability:
        assert f"{a.code} {a.name} {a.situation} {'、'.join(a.measures)}" in shown

    # round 1 has no previous round: no section at all; another school's unit stays 404
    assert _section(world.c.get(f"/projects/{world.project}/units/{A}").text) is None
    assert world.c.get(f"/projects/{second}/units/{B}").status_code == 404


def test_a_unit_without_a_previous_result_gets_one_sentence(world: World) -> None:
    _upload(world, world.project, A, world.school_a, "strong.yaml")
    second = _next_round(world)
    _upload(world, second, B, world.school_b, "weak.json")  # 北山中学: nothing in round 1
    sign_in(world.c, "dux", "dux-password")
    for code in (A, B):  # A: nothing scored yet in round 2; B: nothing in round 1
        r = world.c.get(f"/projects/{second}/units/{code}")
        assert r.status_code == 200
        shown = _section(r.text)
        assert shown is not None and "暂无可比较的内容" in shown and "一级指标" not in shown
        assert (
            world.c.get(f"/api/v1/projects/{second}/units/{code}/change", headers=world.inspector).status_code
            == 404
        )
    csrf(r.text)  # the page is whole: its forms still carry the token
