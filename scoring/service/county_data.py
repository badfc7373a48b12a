"""The county's own data (县级填报) of a county project: what ``scoring cohort --county FILE`` reads.

A county framework (优质均衡: ysjh-2017) judges the county on two kinds of values: statistics over its schools
(the 差异系数 of 表Ⅲ, from the units' submissions) and the county's own values — 政府保障程度, 教育质量,
社会认可度, 一票否决 — which no school's data can give. Without the second the county indicators are 缺报 and
the verdict stays 暂定. Here they are kept as the schools' submissions are: every upload as its bytes with its
SHA-256, numbered per project, read against the county framework when it arrives (a file that cannot be read is
kept too, as 未通过, with the place of every problem); the newest version that was read counts.

Who: 管理员 and 督学 (the office enters the county's data, a 督学 verifies it on site); a 学校 user may not.
Only into an open round, as every upload.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..engine.plan import Plan, compile_plan
from ..engine.score import score
from ..engine.submission import Submission
from ..framework import registry
from ..framework.load import load_framework
from ..framework.model import Framework
from ..io.read import UPLOAD_NAME, read_submission
from ..problems import Problem, ScoringError
from .access import Actor, overseer
from .audit import record
from .errors import ApiError, not_found
from .models import CountySubmission, Project, User
from .rounds import require_open
from .schemas import CountySubmissionOut
from .state import Service
from .submitting import next_version, take_version_number

READ, REFUSED = "已读取", "未通过"

# per shipped file and its modification time: the county framework it holds, compiled, or None (not a county)
_COUNTIES: dict[tuple[str, int], tuple[Framework, Plan] | None] = {}
_COUNTIES_LOCK = threading.Lock()


def county_framework(unit_framework_id: str) -> Framework | None:
    """The shipped county framework whose ``cohort`` aggregates units of ``unit_framework_id`` (for
    ysjh-2017-school: ysjh-2017), or None."""
    found = _county(unit_framework_id)
    return found[0] if found else None


def county_plan(unit_framework_id: str) -> Plan | None:
    """The compiled plan of :func:`county_framework` (what the county's own data is read and scored with)."""
    found = _county(unit_framework_id)
    return found[1] if found else None


def _county(unit_framework_id: str) -> tuple[Framework, Plan] | None:
    """Every project page asks, so a file is read (and a county file loaded and compiled) once per version of it:
    after that, a look-up costs a stat per shipped file."""
    for path in registry.framework_files():
        try:
            key = (str(path), path.stat().st_mtime_ns)
        except OSError:
            continue
        with _COUNTIES_LOCK:
            known = key in _COUNTIES
            found = _COUNTIES.get(key)
        if not known:
            found = _read_county(path)
            with _COUNTIES_LOCK:
                _COUNTIES[key] = found
        if (
            found is not None
            and found[0].cohort is not None
            and found[0].cohort.framework == unit_framework_id
        ):
            return found
    return None


def _read_county(path: Path) -> tuple[Framework, Plan] | None:
    """The county framework a shipped file holds, compiled; None for any other framework (or an unreadable file)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    if "\ncohort:" not in text:
        return None
    fw = load_framework(path)
    return fw, compile_plan(fw)


def no_county(project: Project) -> ApiError:
    return ApiError(
        404,
        "no-cohort",
        f"评估项目使用的框架 {project.framework_id} 没有县域汇总（优质均衡等）框架，不能做县域评估",
        f"no shipped county framework aggregates {project.framework_id}",
    )


def read_county(
    plan: Plan, data: bytes, filename: str | None, svc: Service
) -> tuple[Submission | None, list[Problem]]:
    """The county's data read against the county framework (a 自评表 made from it, or JSON/YAML), and scored once
    on its own so that a value of the wrong kind or data made for another framework is refused now, with its
    place — not when the county result is next computed."""
    try:
        sub = read_submission(data, filename=filename, plan=plan, limits=svc.file_limits)
        score(plan, sub)
    except ScoringError as err:
        return None, err.problems
    return sub, []


def county_project(svc: Service, actor: Actor, project_id: int) -> Project:
    """The project, if the caller may work on its county's data: 404 for a project the caller does not see or
    that no county framework aggregates, 403 for a 学校 user (checked before an upload's body is read)."""
    with svc.sessions() as session:
        project = actor.project(session, project_id)
    overseer(actor, "上传或查看县级填报数据", "upload or see the county's data")
    if county_framework(project.framework_id) is None:
        raise no_county(project)
    return project


def store_county(
    svc: Service, actor: Actor, project_id: int, data: bytes, filename: str | None, reason: str | None
) -> CountySubmissionOut:
    """Keep an upload of the county's data as the project's next version; 422 (kept, 未通过) when it cannot be
    read, with every problem."""
    project = county_project(svc, actor, project_id)
    require_open(project)
    plan = county_plan(project.framework_id)
    assert plan is not None  # county_project checked
    _, problems = read_county(plan, data, filename, svc)
    out = next_version(lambda: _save(svc, actor, project, data, filename, problems, reason))
    if problems:
        raise ApiError(
            422,
            "problems",
            f"第 {out.version} 版县级填报数据已保存，但无法读取：发现 {len(problems)} 个问题（见 problems）",
            f"version {out.version} of the county's data is kept but cannot be read: {len(problems)} problem(s)",
            problems,
            version=out.version,
        )
    return out


def _save(
    svc: Service,
    actor: Actor,
    project: Project,
    data: bytes,
    filename: str | None,
    problems: list[Problem],
    reason: str | None,
) -> CountySubmissionOut:
    limit = svc.settings.limits.max_versions
    with svc.transaction() as session:
        version = take_version_number(
            session,
            select(Project.id).where(Project.id == project.id),
            select(func.count(CountySubmission.id), func.max(CountySubmission.version)).where(
                CountySubmission.project_id == project.id
            ),
            limit,
            ("", "县级填报数据"),
            ("the project", "versions of the county's data"),
        )
        row = CountySubmission(
            project_id=project.id,
            version=version,
            filename=filename or UPLOAD_NAME,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            content=data,
            status=REFUSED if problems else READ,
            problems=[p.to_dict("zh") for p in problems],
            uploaded_by=actor.id,
        )
        session.add(row)
        session.flush()
        fields = {
            "version": row.version,
            "filename": row.filename,
            "sha256": row.sha256,
            "status": row.status,
        }
        record(session, actor.id, "upload", "county_submission", row.id, new=fields, reason=reason)
        current = None if problems else row.id
        return county_out(session, row, current)


def current_county(session: Session, project_id: int) -> CountySubmission | None:
    """The version that counts: the newest that was read."""
    return session.scalars(
        select(CountySubmission)
        .where(CountySubmission.project_id == project_id, CountySubmission.status == READ)
        .order_by(CountySubmission.version.desc())
        .limit(1)
    ).first()


def county_versions(svc: Service, actor: Actor, project_id: int) -> list[CountySubmissionOut]:
    """Every version of the county's data, newest first (管理员, 督学)."""
    county_project(svc, actor, project_id)
    with svc.sessions() as session:
        rows = session.scalars(
            select(CountySubmission)
            .where(CountySubmission.project_id == project_id)
            .order_by(CountySubmission.version.desc())
        ).all()
        now = current_county(session, project_id)
        return [county_out(session, row, now.id if now else None) for row in rows]


@dataclass(frozen=True)
class CountyFile:
    filename: str
    content: bytes


def county_file(svc: Service, actor: Actor, project_id: int, version: int) -> CountyFile:
    """One version's bytes, exactly as uploaded (管理员, 督学)."""
    county_project(svc, actor, project_id)
    with svc.sessions() as session:
        row = session.scalars(
            select(CountySubmission).where(
                CountySubmission.project_id == project_id, CountySubmission.version == version
            )
        ).first()
        if row is None:
            raise not_found(f"第 {version} 版县级填报数据", f"version {version} of the county's data")
        return CountyFile(row.filename, row.content)


def county_out(session: Session, row: CountySubmission, current_id: int | None) -> CountySubmissionOut:
    who = session.get(User, row.uploaded_by)
    return CountySubmissionOut(
        version=row.version,
        filename=row.filename,
        size=row.size,
        sha256=row.sha256,
        status=row.status,
        uploaded_by=who.name if who else "",
        uploaded_at=row.uploaded_at,
        current=row.id == current_id,
        problems=row.problems,
    )
