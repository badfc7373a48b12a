"""Submissions (填报数据) of a unit: every upload kept as its bytes, numbered; the newest counts. An upload is
scored at once against the project's framework; one that cannot be read is kept too, with its problems."""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ...engine.plan import Plan
from ...engine.result import Result
from ...io.read import UPLOAD_NAME
from ...problems import Problem, ScoringError
from ..access import Actor, CurrentActor, CurrentService
from ..audit import record
from ..errors import ApiError
from ..models import ResultRow, Unit, User
from ..models import Submission as Upload
from ..rectify import sync
from ..schemas import ResultSummary, SubmissionOut
from ..state import Service
from ..uploads import body_spec, read_upload
from ..work import documents_json, score_bytes

router = APIRouter(tags=["填报与结果 / submissions and results"])

SCORED, REFUSED = "已评分", "未通过"
UNIT_PATH = "/projects/{project_id}/units/{code}"


@router.post(
    UNIT_PATH + "/submissions",
    status_code=201,
    summary="上传填报数据（评分并保存）/ upload a submission",
    openapi_extra=body_spec("自评表（.xlsx/.xls/.ods）或 JSON/YAML 填报数据"),
)
async def upload(
    project_id: int,
    code: str,
    request: Request,
    actor: CurrentActor,
    svc: CurrentService,
    reason: Annotated[str | None, Query(max_length=2000)] = None,
) -> SubmissionOut:
    """Kept as the bytes uploaded, with their SHA-256, who and when, as the unit's next version. A submission
    that cannot be read or scored is kept as well (status 未通过) and answered 422 with every problem."""
    await run_in_threadpool(_reachable, svc, actor, project_id, code)
    data = await read_upload(request, svc.settings.limits)
    why = data.fields.get("reason") or reason
    return await run_in_threadpool(_store, svc, actor, project_id, code, data.data, data.filename, why)


def _reachable(svc: Service, actor: Actor, project_id: int, code: str) -> None:
    """404 for a unit the caller may not see, 403 for a role that may not upload: before the body is read."""
    with svc.sessions() as session:
        actor.unit(session, project_id, code)
    actor.require("upload")


def _store(
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
        plan = svc.plan(project.framework_id)
    if plan.hash != project.framework_hash:
        raise ApiError(
            409,
            "framework-changed",
            f"评估项目使用的框架 {project.framework_id}（{project.framework_version}，{project.framework_hash}）"
            f"已被更新为 {plan.framework.version}（{plan.hash}）：请管理员按新框架另建评估项目",
            "the project's framework has changed since the project was created",
        )
    results, problems = _score(plan, data, filename, svc, unit)
    for attempt in range(5):
        try:
            return _save(svc, actor, unit, data, filename, results, problems, reason)
        except IntegrityError:  # another upload to the same unit took the version number: take the next
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def _score(
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


def _save(
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
        # one upload at a time per unit takes the next number (PostgreSQL locks the unit's row; SQLite writes one
        # transaction at a time, and a number taken meanwhile is retried by the caller)
        session.execute(select(Unit.id).where(Unit.id == unit.id).with_for_update())
        count, last = session.execute(
            select(func.count(Upload.id), func.max(Upload.version)).where(Upload.unit_id == unit.id)
        ).one()
        if count >= limit:
            raise ApiError(
                409,
                "too-many-versions",
                f"单位 {unit.code} 已有 {count} 版填报数据，达到 {limit} 版的上限：已拒绝（已有的版本均保留）",
                f"unit {unit.code} has {count} submissions, the limit; refused (all kept)",
            )
        row = Upload(
            unit_id=unit.id,
            version=(last or 0) + 1,
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
        stored = [(_result_row(row.id, part, r), r) for part, r in enumerate(results)]
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
        out = _out(session, row, unit, [s for s, _ in stored], current=True)
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


def _result_row(submission_id: int, part: int, r: Result) -> ResultRow:
    return ResultRow(
        submission_id=submission_id,
        part=part,
        engine=r.engine,
        framework_hash=r.framework.hash,
        total=None if r.total is None else str(r.total),
        grade=r.grade,
        document=r.to_json(),
    )


def _out(session: Session, row: Upload, unit: Unit, results: list[ResultRow], current: bool) -> SubmissionOut:
    who = session.get(User, row.uploaded_by)
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
    )


def _results(session: Session, row: Upload) -> list[ResultRow]:
    return list(
        session.scalars(select(ResultRow).where(ResultRow.submission_id == row.id).order_by(ResultRow.part))
    )


@router.get(UNIT_PATH + "/submissions", summary="填报数据的各版本 / a unit's submissions")
def versions(project_id: int, code: str, actor: CurrentActor, svc: CurrentService) -> list[SubmissionOut]:
    """Every version, newest first; ``current`` marks the one that counts (the newest)."""
    with svc.sessions() as session:
        unit = actor.unit(session, project_id, code)
        rows = session.scalars(
            select(Upload).where(Upload.unit_id == unit.id).order_by(Upload.version.desc())
        ).all()
        return [_out(session, r, unit, _results(session, r), current=i == 0) for i, r in enumerate(rows)]


@router.get(UNIT_PATH + "/submissions/{version}", summary="某一版填报数据 / one submission")
def version(
    project_id: int, code: str, version: int, actor: CurrentActor, svc: CurrentService
) -> SubmissionOut:
    with svc.sessions() as session:
        unit = actor.unit(session, project_id, code)
        row = actor.submission(session, unit, version)
        newest = session.scalar(select(func.max(Upload.version)).where(Upload.unit_id == unit.id))
        return _out(session, row, unit, _results(session, row), current=row.version == newest)


@router.get(UNIT_PATH + "/submissions/{version}/file", summary="下载上传的原文件 / the bytes uploaded")
def original(project_id: int, code: str, version: int, actor: CurrentActor, svc: CurrentService) -> Response:
    with svc.sessions() as session:
        row = actor.submission(session, actor.unit(session, project_id, code), version)
        headers = {
            "Content-Disposition": f"attachment; filename*=UTF-8''{_quoted(row.filename)}",
            "X-Content-SHA256": row.sha256,
            "X-Content-Type-Options": "nosniff",
        }
        return Response(row.content, media_type="application/octet-stream", headers=headers)


def _quoted(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


@router.get(UNIT_PATH + "/submissions/{version}/results", summary="某一版的评分结果 / a version's results")
def version_results(
    project_id: int, code: str, version: int, actor: CurrentActor, svc: CurrentService
) -> Response:
    with svc.sessions() as session:
        row = actor.submission(session, actor.unit(session, project_id, code), version)
        return _documents(_results(session, row), f"第 {version} 版")


@router.get(UNIT_PATH + "/result", summary="单位当前的评分结果（最新一版）/ the unit's current result")
def current_result(project_id: int, code: str, actor: CurrentActor, svc: CurrentService) -> Response:
    """The results of the newest scored submission, as ``POST /score`` answers (``{"results": [...]}``)."""
    with svc.sessions() as session:
        unit = actor.unit(session, project_id, code)
        row = session.scalars(
            select(Upload)
            .where(Upload.unit_id == unit.id, Upload.status == SCORED)
            .order_by(Upload.version.desc())
        ).first()
        return _documents(_results(session, row) if row else [], "已评分的")


def _documents(rows: list[ResultRow], which: str) -> Response:
    if not rows:
        raise ApiError(404, "not-found", f"找不到{which}评分结果", "no result")
    return Response(documents_json([r.document for r in rows]), media_type="application/json")
