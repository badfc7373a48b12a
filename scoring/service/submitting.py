"""Storing an upload: scored against its project's framework, kept as its bytes with its SHA-256, numbered as
the unit's next version, its results and 整改 items written, an audit row — one path for the API, the browser
workspace and the demo data, so a submission is kept the same way whoever sends it."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..engine.plan import Plan
from ..engine.result import Result
from ..io.read import UPLOAD_NAME
from ..problems import Problem, ScoringError
from .access import Actor
from .audit import record
from .db import lock_rows
from .errors import ApiError
from .models import ResultRow, Unit, User
from .models import Submission as Upload
from .rectify import sync
from .rounds import require_open
from .schemas import ResultSummary, SubmissionOut
from .state import Service
from .work import score_bytes

SCORED, REFUSED = "已评分", "未通过"


def store_upload(
    svc: Service,
    actor: Actor,
    project_id: int,
    code: str,
    data: bytes,
    filename: str | None,
    reason: str | None,
) -> SubmissionOut:
    with svc.sessions() as session:
        unit = actor.unit(session, project_id, code)
        project = unit.project
        require_open(project)
    plan = svc.project_plan(project)
    results, problems = score_upload(plan, data, filename, svc, unit)
    return next_version(lambda: save_upload(svc, actor, unit, data, filename, results, problems, reason))


T = TypeVar("T")


def take_version_number(
    session: Session,
    owner: Select[Any],
    versions: Select[int, int | None],
    limit: int,
    zh: tuple[str, str],
    en: tuple[str, str],
) -> int:
    """The number of the version about to be kept: one past the newest of ``versions`` (count, newest number),
    read with ``owner``'s row (or SQLite's write lock) held, so one upload at a time takes it (a number taken
    meanwhile all the same makes the insert fail: :func:`next_version` retries). 409 when ``limit`` versions are
    kept already; ``zh``/``en``: (whose, what) the refusal names."""
    lock_rows(session, owner)
    count, last = session.execute(versions).one()
    if count >= limit:
        raise ApiError(
            409,
            "too-many-versions",
            f"{zh[0]}已有 {count} 版{zh[1]}，达到 {limit} 版的上限：已拒绝（已有的版本均保留）",
            f"{en[0]} has {count} {en[1]}, the limit; refused (all kept)",
        )
    return int(last or 0) + 1


def next_version(save: Callable[[], T]) -> T:
    """``save()``, which numbers a new version: again (up to five times) when another upload took the number
    meanwhile and the unique key refused this one."""
    for attempt in range(5):
        try:
            return save()
        except IntegrityError:
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def score_upload(
    plan: Plan, data: bytes, filename: str | None, svc: Service, unit: Unit
) -> tuple[list[Result], list[Problem]]:
    try:
        results = score_bytes(plan, data, filename, svc.file_limits)
    except ScoringError as err:
        return [], err.problems
    wrong = sorted({r.unit.code for r in results if r.unit.code and r.unit.code != unit.code})
    if wrong:
        return [], [
            Problem(
                "unit-mismatch",
                f"填报数据中的单位代码 {'、'.join(wrong)} 与上传到的单位 {unit.code}（{unit.name}）不一致",
                f"the submission's unit code {', '.join(wrong)} is not the unit {unit.code} it was uploaded to",
                file=filename or UPLOAD_NAME,
            )
        ]
    return results, []


def save_upload(
    svc: Service,
    actor: Actor,
    unit: Unit,
    data: bytes,
    filename: str | None,
    results: list[Result],
    problems: list[Problem],
    reason: str | None,
) -> SubmissionOut:
    limit = svc.settings.limits.max_versions
    with svc.transaction() as session:
        version = take_version_number(
            session,
            select(Unit.id).where(Unit.id == unit.id),
            select(func.count(Upload.id), func.max(Upload.version)).where(Upload.unit_id == unit.id),
            limit,
            (f"单位 {unit.code} ", "填报数据"),
            (f"unit {unit.code}", "submissions"),
        )
        row = Upload(
            unit_id=unit.id,
            version=version,
            filename=filename or UPLOAD_NAME,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            content=data,
            status=SCORED if results else REFUSED,
            problems=[p.to_dict("zh") for p in problems],
            uploaded_by=actor.id,
        )
        session.add(row)
        session.flush()
        stored = [(result_row(row.id, part, r), r) for part, r in enumerate(results)]
        session.add_all([s for s, _ in stored])
        session.flush()
        fields = {
            "version": row.version,
            "filename": row.filename,
            "sha256": row.sha256,
            "status": row.status,
        }
        record(
            session,
            actor.id,
            "upload",
            "submission",
            row.id,
            new={"unit": unit.code, **fields},
            reason=reason,
        )
        if stored:
            sync(session, actor.id, unit, stored)
        out = submission_out(session, row, unit, [s for s, _ in stored], current=True)
    if problems:
        raise ApiError(
            422,
            "problems",
            f"第 {out.version} 版填报数据已保存，但无法评分：发现 {len(problems)} 个问题（见 problems）",
            f"version {out.version} is kept but cannot be scored: {len(problems)} problem(s)",
            problems,
            version=out.version,
        )
    return out


def result_row(submission_id: int, part: int, r: Result) -> ResultRow:
    return ResultRow(
        submission_id=submission_id,
        part=part,
        engine=r.engine,
        framework_hash=r.framework.hash,
        total=None if r.total is None else str(r.total),
        grade=r.grade,
        document=r.to_json(),
    )


def submission_out(
    session: Session, row: Upload, unit: Unit, results: list[ResultRow], current: bool
) -> SubmissionOut:
    who = session.get(User, row.uploaded_by)
    reviewer = session.get(User, row.reviewed_by) if row.reviewed_by is not None else None
    return SubmissionOut(
        version=row.version,
        filename=row.filename,
        size=row.size,
        sha256=row.sha256,
        status=row.status,
        uploaded_by=who.name if who else "",
        uploaded_at=row.uploaded_at,
        current=current,
        results=[
            ResultSummary(part=r.part, unit=unit.name, total=r.total, grade=r.grade, engine=r.engine)
            for r in results
        ],
        problems=row.problems,
        # the 督学's review (``approval``): 待审核 until decided; — for a version that could not be scored
        review_state=(row.review_state or "待审核") if row.status == SCORED else "—",
        review_reason=row.review_reason,
        reviewed_by=reviewer.name if reviewer else None,
        reviewed_at=row.reviewed_at,
    )


def result_rows(session: Session, row: Upload) -> list[ResultRow]:
    return list(
        session.scalars(select(ResultRow).where(ResultRow.submission_id == row.id).order_by(ResultRow.part))
    )
