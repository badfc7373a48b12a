"""A unit against its previous round: the library's :func:`engine.diff.diff` of the unit's newest scored result in
the round before (the project ``Project.previous_id`` points to, the unit with the same code) and its newest scored
result now — each first-level indicator's points, the 整改 items 已销号 / 仍未整改 / 新增, and the 问责情形.

Both rounds are read through the caller's scoped queries (``access.Actor``): the previous round's unit must be one
the caller sees (a 学校 user sees its own code in every round). The unit page (``web/unit_change.py``) and the API
(``GET …/units/{code}/change``) call these same functions."""

from __future__ import annotations

from dataclasses import dataclass, fields

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..engine.diff import RoundDiff, diff
from ..engine.result import Result, result_from_json
from ..engine.rows import norm_text
from .access import Actor
from .errors import not_found
from .models import Project, ResultRow, Unit
from .models import Submission as Upload
from .schemas import RoundDiffOut, ScoreChangeOut, UnitChangeOut
from .state import Service
from .submitting import SCORED


@dataclass
class PartChange:
    """One part of the unit (a 九年一贯制 unit may be scored as two): its results in both rounds, and their diff."""

    before: Result
    after: Result
    diff: RoundDiff


@dataclass
class UnitChange:
    previous: Project  # the round before, as the caller sees it
    parts: list[PartChange]  # empty: no scored result in one of the two rounds


def previous_round(session: Session, actor: Actor, unit: Unit) -> Project | None:
    """The round before the unit's project, if there is one the caller may see."""
    if unit.project.previous_id is None:
        return None
    return session.scalars(actor.projects().where(Project.id == unit.project.previous_id)).first()


def scored_results(session: Session, unit: Unit) -> list[Result]:
    """The results of the unit's newest scored submission, by part; empty without one."""
    newest = session.scalars(
        select(Upload.id)
        .where(Upload.unit_id == unit.id, Upload.status == SCORED)
        .order_by(Upload.version.desc())
        .limit(1)
    ).first()
    if newest is None:
        return []
    rows = session.scalars(
        select(ResultRow.document).where(ResultRow.submission_id == newest).order_by(ResultRow.part)
    )
    return [result_from_json(doc) for doc in rows]


def _same_part(old: Result, new: Result) -> bool:
    """Two results of one unit are the same part when their types agree (or one names none)."""
    a, b = old.unit.type, new.unit.type
    return not a or not b or norm_text(a) == norm_text(b)


def compare_unit(session: Session, actor: Actor, unit: Unit) -> UnitChange | None:
    """The unit (already reached through ``actor``) against the previous round; None without a previous round the
    caller sees. Its parts are empty when either round has no scored result of the unit (or no part in common)."""
    previous = previous_round(session, actor, unit)
    if previous is None:
        return None
    before_unit = session.scalars(actor.units(previous.id).where(Unit.code == unit.code)).first()
    before = scored_results(session, before_unit) if before_unit is not None else []
    after = scored_results(session, unit) if before else []
    parts: list[PartChange] = []
    left = list(before)
    for new in after:
        old = next((r for r in left if _same_part(r, new)), None)
        if old is not None:
            left.remove(old)
            parts.append(PartChange(old, new, diff(old, new)))
    return UnitChange(previous, parts)


def unit_change(svc: Service, actor: Actor, project_id: int, code: str) -> UnitChangeOut:
    """``GET /projects/{id}/units/{code}/change``: 404 for a unit the caller does not see, and when there is no
    previous round or no scored result in either round to compare."""
    with svc.sessions() as session:
        unit = actor.unit(session, project_id, code)
        found = compare_unit(session, actor, unit)
        if found is None:
            raise not_found("上一轮评估项目", "previous round")
        if not found.parts:
            raise not_found(
                f"单位 {code} 在第 {found.previous.round} 轮和本轮都已评分的结果",
                "a scored result in both rounds",
            )
        parts = [diff_out(p) for p in found.parts]
        return UnitChangeOut(
            project=project_id,
            code=unit.code,
            previous_project=found.previous.id,
            previous_round=found.previous.round,
            parts=parts,
            **dict(parts[0]),
        )


def diff_out(part: PartChange) -> RoundDiffOut:
    """A part's RoundDiff with its fields as they are (decimals written as strings, as results write them), and
    each score change's ``delta``."""
    d = part.diff
    given = {f.name: getattr(d, f.name) for f in fields(d) if f.name != "scores"}
    scores = [
        ScoreChangeOut(
            code=s.code,
            name=s.name,
            old=s.old,
            new=s.new,
            old_status=s.old_status,
            new_status=s.new_status,
            delta=s.delta,
        )
        for s in d.scores
    ]
    return RoundDiffOut(type=part.after.unit.type, scores=scores, **given)
