"""Round-over-round change on a project's dashboard: each unit scored in both rounds with its total and grade
before and after, how many rose, fell or held, the mean change, each first-level indicator's mean 得分率 in both
rounds over the units scored in both, and what became of the earlier round's 整改 items. Units are matched by code (a next round copies them);
both rounds are read through the caller's scoped queries, so a 督学 sees what the dashboard already shows."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ...engine.result import Result
from ..models import Project, Rectification, Unit
from ..rectify import CLOSED

TENTH = Decimal("0.1")


def signed(delta: Decimal) -> str:
    """A change as a 督学 writes it: +1.50, −2.00, 0.00 (the totals' own precision; a true minus sign)."""
    if delta > 0:
        return f"+{delta}"
    if delta < 0:
        return f"−{-delta}"
    return str(delta)


def percent(rate: Decimal) -> str:
    """A 0–1 rate as a percentage to one decimal, 四舍五入."""
    return f"{(rate * 100).quantize(TENTH, rounding=ROUND_HALF_UP)}%"


def mean_change(deltas: list[Decimal], places: int) -> str:
    """The mean of the changes, 四舍五入 at ``places`` decimals, signed; "—" without any."""
    if not deltas:
        return "—"
    unit = Decimal(1).scaleb(-places)
    return signed((sum(deltas, Decimal(0)) / len(deltas)).quantize(unit, rounding=ROUND_HALF_UP))


@dataclass
class UnitChange:
    code: str
    name: str
    before: Result
    after: Result

    @property
    def delta(self) -> Decimal | None:
        if self.before.total is None or self.after.total is None:
            return None
        return self.after.total - self.before.total

    @property
    def shown(self) -> str:
        return "—" if self.delta is None else signed(self.delta)

    @property
    def grade_moved(self) -> bool:
        return self.before.grade != self.after.grade


@dataclass
class IndicatorChange:
    code: str
    name: str
    before: Decimal  # mean 得分率, 0–1
    after: Decimal

    @property
    def shown(self) -> str:
        points = ((self.after - self.before) * 100).quantize(TENTH, rounding=ROUND_HALF_UP)
        return signed(points) + " 个百分点"


@dataclass
class RoundChange:
    previous: Project
    units: list[UnitChange]
    rose: int
    fell: int
    held: int
    mean: str  # the mean change of the totals, or "—"
    indicators: list[IndicatorChange]
    items: int  # the earlier round's 整改 items
    closed: int  # … of them 已销号


def compare(
    previous: Project,
    before: list[tuple[Unit, Result]],
    after: list[tuple[Unit, Result]],
    items: tuple[int, int],
    places: int,
) -> RoundChange:
    """Each unit's first result of each round (a 九年一贯制 unit's first part), matched by unit code; the mean
    change at ``places`` decimals (the framework's precision of the total), 四舍五入."""
    old = _first(before)
    changes = [UnitChange(u.code, u.name, old[u.code], r) for u, r in _first_pairs(after) if u.code in old]
    deltas = [c.delta for c in changes if c.delta is not None]
    return RoundChange(
        previous,
        sorted(changes, key=lambda c: (c.delta is None, c.delta or 0, c.code)),
        sum(1 for d in deltas if d > 0),
        sum(1 for d in deltas if d < 0),
        sum(1 for d in deltas if d == 0),
        mean_change(deltas, places),
        _indicators([old[c.code] for c in changes], [c.after for c in changes]),
        *items,
    )


def _first_pairs(entries: list[tuple[Unit, Result]]) -> list[tuple[Unit, Result]]:
    seen: dict[str, tuple[Unit, Result]] = {}
    for u, r in entries:
        seen.setdefault(u.code, (u, r))
    return list(seen.values())


def _first(entries: list[tuple[Unit, Result]]) -> dict[str, Result]:
    return {u.code: r for u, r in _first_pairs(entries)}


def _rates(results: list[Result]) -> tuple[dict[str, Decimal], dict[str, str]]:
    found: dict[str, list[Decimal]] = defaultdict(list)
    names: dict[str, str] = {}
    for r in results:
        for ind in r.indicators:
            if ind.parent is None and ind.points is not None and ind.possible:
                names[ind.code] = ind.name
                found[ind.code].append(ind.points / ind.possible)
    return {c: sum(v, Decimal(0)) / len(v) for c, v in found.items()}, names


def _indicators(before: list[Result], after: list[Result]) -> list[IndicatorChange]:
    """First-level indicators scored in both rounds, the largest fall first — over the same units (those scored
    in both rounds), so a unit that has not submitted yet does not move a mean."""
    old, _ = _rates(before)
    new, names = _rates(after)
    both = [IndicatorChange(c, names[c], old[c], new[c]) for c in new if c in old]
    return sorted(both, key=lambda i: (i.after - i.before, i.code))


def item_counts(session: Session, units: Select[Unit]) -> tuple[int, int]:
    """The 整改 items of a round's units (the caller's, as the dashboard picks them), and how many of them are
    已销号."""
    mine = units.with_only_columns(Unit.id).order_by(None)
    rows = dict(
        session.execute(
            select(Rectification.status, func.count())
            .where(Rectification.unit_id.in_(mine))
            .group_by(Rectification.status)  # by the column: PostgreSQL does not match two bound comparisons
        ).all()
    )
    return sum(rows.values()), rows.get(CLOSED, 0)
