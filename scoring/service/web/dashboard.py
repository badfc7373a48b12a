"""A project's district dashboard (督学 and 管理员): how many units have submitted, the grade distribution (an
ECharts bar chart drawn by ``workspace.js``, with the same numbers as a table), the ranking within each 学段 and
each 区域, the weakest first-level indicators (mean 得分率 over the units) and the overdue 整改 items. Every
number is computed here from the stored results, reached through the caller's scoped queries (``access.Actor``);
a 学校 user gets 404 for a project it does not see and 403 for one it does.

The page may be narrowed to one 学段 and/or one 区域 (``?phase=…&region=…``, a plain GET form listing the values
the caller's units of the project have): ``_units`` is the one place that picks the units, so every figure —
completion, grades, rankings, 得分率, overdue items and the round comparison — counts the matching units only. A
value no unit has shows no units, and the page says so.

The same figures download as a workbook (``GET …/dashboard.xlsx``, the same filter): ``dashboard_export`` shapes them
into report blocks at the page's precision, ``report.dashboard_xlsx`` writes them."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ...engine.result import Result, result_from_json
from ..access import Actor, CurrentService
from ..errors import forbidden
from ..models import ADMIN, INSPECTOR, Project, Rectification, ResultRow, Unit
from ..models import Submission as Upload
from ..rectify import CLOSED, office_today
from ..state import Service
from ..submitting import SCORED
from .change import RoundChange, compare, item_counts, percent
from .render import Page, page
from .session import CurrentVisitor

router = APIRouter(route_class=Page, include_in_schema=False)

NO_GRADE = "未定等级"
WEAKEST = 3  # the ones shown in bold
# a unit's 学段 for the filter: ``Unit.phase``, else its type (as the 学段 ranking reads it)
unit_phase = func.coalesce(Unit.phase, Unit.type)


@dataclass(frozen=True)
class Filter:
    """The 学段 and 区域 the caller chose; None is 全部."""

    phase: str | None = None
    region: str | None = None

    @property
    def active(self) -> bool:
        return self.phase is not None or self.region is not None

    @property
    def query(self) -> str:
        """The filter as a query string for links that keep it ("" for none, else "?phase=…&region=…")."""
        pairs = [(k, v) for k, v in (("phase", self.phase), ("region", self.region)) if v is not None]
        return "?" + urlencode(pairs) if pairs else ""


@dataclass
class Choices:
    """The values the caller's units of the project have, for the selects."""

    phases: list[str]
    regions: list[str]


@dataclass
class Scored:
    """One scored result of a unit (a 九年一贯制 unit may have two)."""

    unit: Unit
    result: Result
    version: int

    @property
    def name(self) -> str:
        return self.unit.name if self.result.unit.name == self.unit.name else self.result.unit.name

    @property
    def phase(self) -> str:
        return self.unit.phase or self.result.unit.type or self.unit.type or "未填学段"


@dataclass
class Ranked:
    rank: int
    entry: Scored


@dataclass
class Weak:
    code: str
    name: str
    rate: Decimal  # mean 得分率, 0–1
    units: int
    # the mean's terms: (unit code, unit name, its points ÷ possible = 得分率)
    parts: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def shown(self) -> str:
        return percent(self.rate)


@dataclass
class Overdue:
    unit: Unit
    item: Rectification
    days: int


@dataclass
class Dashboard:
    project: Project
    units: int
    submitted: int
    scored: int
    grades: list[tuple[str, int]]
    phases: list[tuple[str, list[Ranked]]]
    regions: list[tuple[str, list[Ranked]]]
    weakest: list[Weak]
    overdue: list[Overdue]
    today: dt.date
    chart: dict[str, Any] = field(default_factory=dict)
    change: RoundChange | None = None  # against the round before, when there is one
    graded: dict[str, list[Scored]] = field(
        default_factory=dict
    )  # each grade's results, for its count's list
    chosen: Filter = field(default_factory=Filter)
    choices: Choices = field(default_factory=lambda: Choices([], []))

    @property
    def unknown(self) -> list[tuple[str, str]]:
        """The chosen values no unit of the project has: (学段 or 区域, the value)."""
        found = []
        if self.chosen.phase is not None and self.chosen.phase not in self.choices.phases:
            found.append(("学段", self.chosen.phase))
        if self.chosen.region is not None and self.chosen.region not in self.choices.regions:
            found.append(("区域", self.chosen.region))
        return found


def _units(actor: Actor, project_id: int, chosen: Filter, within: Select[Unit] | None = None) -> Select[Unit]:
    """The units the dashboard counts: the caller's (``access.Actor``) of the chosen 学段 and 区域. For the round
    before, ``within`` is this round's selection: that round's units with the same codes (a next round copies
    them), whatever their 学段 or 区域 was then. The one place the filter applies."""
    query = actor.units(project_id)
    if within is not None:
        if chosen.active:
            query = query.where(Unit.code.in_(within.with_only_columns(Unit.code).order_by(None)))
        return query
    if chosen.phase is not None:
        query = query.where(unit_phase == chosen.phase)
    if chosen.region is not None:
        query = query.where(Unit.region == chosen.region)
    return query


def _choices(session: Session, actor: Actor, project_id: int) -> Choices:
    mine = actor.units(project_id).order_by(None)
    phases = session.scalars(
        mine.with_only_columns(unit_phase).where(unit_phase.is_not(None)).distinct()
    ).all()
    regions = session.scalars(
        mine.with_only_columns(Unit.region).where(Unit.region.is_not(None)).distinct()
    ).all()
    return Choices(sorted(p for p in phases if p), sorted(r for r in regions if r))


def _scored(session: Session, scoped: Select[Unit]) -> tuple[list[Unit], set[int], list[Scored]]:
    """The units picked (``_units``), those with any upload, and each one's newest scored results."""
    units = list(session.scalars(scoped))
    by_id = {u.id: u for u in units}
    mine = scoped.with_only_columns(Unit.id).order_by(None)
    submitted = set(session.scalars(select(Upload.unit_id).where(Upload.unit_id.in_(mine)).distinct()))
    newest = (
        select(Upload.unit_id, func.max(Upload.version).label("v"))
        .where(Upload.unit_id.in_(mine), Upload.status == SCORED)
        .group_by(Upload.unit_id)
        .subquery()
    )
    rows = session.execute(
        select(Upload.unit_id, Upload.version, ResultRow.document)
        .join(newest, (newest.c.unit_id == Upload.unit_id) & (newest.c.v == Upload.version))
        .join(ResultRow, ResultRow.submission_id == Upload.id)
        .order_by(Upload.unit_id, ResultRow.part)
    ).all()
    scored = [Scored(by_id[unit_id], result_from_json(doc), version) for unit_id, version, doc in rows]
    return units, submitted, scored


def _rank(entries: list[Scored]) -> list[Ranked]:
    """Highest total first; equal totals share a rank (1, 2, 2, 4); no total last, unranked (rank 0)."""
    order = sorted(entries, key=lambda e: (e.result.total is None, -(e.result.total or 0), e.unit.code))
    ranked: list[Ranked] = []
    for i, e in enumerate(order):
        if e.result.total is None:
            ranked.append(Ranked(0, e))
        elif ranked and ranked[-1].entry.result.total == e.result.total:
            ranked.append(Ranked(ranked[-1].rank, e))
        else:
            ranked.append(Ranked(i + 1, e))
    return ranked


def _groups(entries: list[Scored], key: Any) -> list[tuple[str, list[Ranked]]]:
    found: dict[str, list[Scored]] = defaultdict(list)
    for e in entries:
        found[key(e)].append(e)
    return [(name, _rank(found[name])) for name in sorted(found)]


def _grades(svc: Service, project: Project, scored: list[Scored]) -> list[tuple[str, int]]:
    """Every grade of the framework, best first, with how many results have it (none is 0)."""
    counted = Counter(e.result.grade or NO_GRADE for e in scored)
    plan = svc.pinned_plan(project)
    names = [g.grade.name for g in plan.grades] if plan is not None else []
    names += sorted(n for n in counted if n not in names)
    return [(n, counted.get(n, 0)) for n in names]


def _weakest(scored: list[Scored]) -> list[Weak]:
    """First-level indicators by mean 得分率 (points ÷ possible over the results that scored them), lowest
    first."""
    rates: dict[str, list[Decimal]] = defaultdict(list)
    parts: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    names: dict[str, str] = {}
    for e in scored:
        for ind in e.result.indicators:
            if ind.parent is not None or ind.points is None or not ind.possible:
                continue
            names[ind.code] = ind.name
            rates[ind.code].append(ind.points / ind.possible)
            shown = f"{ind.points} / {ind.possible} = {percent(ind.points / ind.possible)}"
            parts[ind.code].append((e.unit.code, e.name, shown))
    weak = [Weak(c, names[c], sum(r, Decimal(0)) / len(r), len(r), parts[c]) for c, r in rates.items()]
    return sorted(weak, key=lambda w: (w.rate, w.code))


def _overdue(session: Session, scoped: Select[Unit], today: dt.date) -> list[Overdue]:
    mine = scoped.with_only_columns(Unit.id).order_by(None)
    rows = session.execute(
        select(Rectification, Unit)
        .join(Unit, Unit.id == Rectification.unit_id)
        .where(
            Rectification.unit_id.in_(mine),
            Rectification.deadline.is_not(None),
            Rectification.deadline < today,
            Rectification.status != CLOSED,
        )
        .order_by(Rectification.deadline, Unit.code, Rectification.indicator)
    ).all()
    return [Overdue(unit, item, (today - item.deadline).days) for item, unit in rows if item.deadline]


def chart(grades: list[tuple[str, int]]) -> dict[str, Any]:
    """The grade distribution as the data ``workspace.js`` draws (the same shape as a unit's chart)."""
    return {
        "title": "等级分布",
        "axis": "单位数",
        "categories": [g for g, _ in grades],
        "series": [{"name": "单位数", "data": [n for _, n in grades]}],
        "whole": True,  # counts of units: the axis has no fractional ticks
    }


def dashboard(
    svc: Service, actor: Actor, project_id: int, today: dt.date, chosen: Filter | None = None
) -> Dashboard:
    """Every number of the dashboard, from the stored results the caller may see, of the chosen units only."""
    chosen = chosen or Filter()
    with svc.sessions() as session:
        project = actor.project(session, project_id)  # 404 for a project the caller does not see
        if actor.role not in (ADMIN, INSPECTOR):
            raise forbidden(
                f"{actor.role}用户不能查看区域统计", f"role {actor.role} may not see the dashboard"
            )
        scoped = _units(actor, project_id, chosen)
        units, submitted, scored = _scored(session, scoped)
        overdue = _overdue(session, scoped, today)
        change = _change(svc, session, actor, project, scored, chosen, scoped)
        choices = _choices(session, actor, project_id)
    grades = _grades(svc, project, scored)
    regions = [e for e in scored if e.unit.region]
    return Dashboard(
        project,
        len(units),
        len(submitted),
        len({e.unit.id for e in scored}),
        grades,
        _groups(scored, lambda e: e.phase),
        _groups(regions, lambda e: e.unit.region),
        _weakest(scored),
        overdue,
        today,
        chart(grades),
        change,
        _graded(scored),
        chosen,
        choices,
    )


def _graded(scored: list[Scored]) -> dict[str, list[Scored]]:
    found: dict[str, list[Scored]] = defaultdict(list)
    for e in scored:
        found[e.result.grade or NO_GRADE].append(e)
    return dict(found)


def _change(
    svc: Service,
    session: Session,
    actor: Actor,
    project: Project,
    scored: list[Scored],
    chosen: Filter,
    scoped: Select[Unit],
) -> RoundChange | None:
    """This round against the one before (``Project.previous_id``), through the same scoped queries: that round's
    units with the codes of this round's units picked (``_units``)."""
    if project.previous_id is None:
        return None
    previous = actor.project(session, project.previous_id)
    earlier = _units(actor, previous.id, chosen, within=scoped)
    _, _, before = _scored(session, earlier)
    plan = svc.pinned_plan(project)
    places = plan.total_precision if plan is not None else 2
    return compare(
        previous,
        [(e.unit, e.result) for e in before],
        [(e.unit, e.result) for e in scored],
        item_counts(session, earlier),
        places,
    )


@router.get("/projects/{project_id}/dashboard")
def show(
    request: Request,
    project_id: int,
    svc: CurrentService,
    who: CurrentVisitor,
    phase: Annotated[str | None, Query()] = None,
    region: Annotated[str | None, Query()] = None,
) -> Response:
    today = office_today()
    chosen = Filter(phase or None, region or None)  # "" is 全部
    found = dashboard(svc, who.actor, project_id, today, chosen)
    context = {"who": who, "d": found, "weakest": WEAKEST, "percent": percent}
    return page(request, "dashboard.html", context, 200)
