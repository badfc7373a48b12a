"""Importing an archive into a store as a new project: :func:`import_project` opens and checks it (``reading``),
then writes every row in one transaction with new ids — the users it names (created inactive when new), the
framework file it carries, the rows whose bytes are read member by member — and one audit row of its own."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...engine.plan import Plan
from ...io.safety import FileLimits, UnsafeFile, check_size
from ..audit import record
from ..errors import ApiError
from ..frameworks import checked_plan, keep
from ..models import (
    AuditEntry,
    CountySubmission,
    EvidenceFile,
    Project,
    Rectification,
    ResultRow,
    Submission,
    Unit,
    User,
)
from ..state import Service
from .reading import Source, _check_directory, _Content, _member, _open, _require, _zip
from .records import (
    _PROJECT_ENTITIES,
    ARCHIVE_LIMITS,
    FRAMEWORK_MEMBER,
    ArchiveError,
    CountyRec,
    EvidenceRec,
    Imported,
    R,
    SubmissionRec,
    UserRec,
)


def import_project(
    svc: Service,
    source: Source,
    user_id: int | None = None,
    reason: str | None = None,
    limits: FileLimits = ARCHIVE_LIMITS,
) -> Imported:
    """Read an archive (a path, its bytes or a binary file) into ``svc``'s store as a new project, as one
    transaction; ``user_id`` is who imports (the audit row of the import). Refused with an :class:`ArchiveError`
    — and nothing written — when it is too large, not an archive, of an unknown format version, changed
    (a member's SHA-256 is not the manifest's) or inconsistent."""
    opened, size = _open(source)
    try:
        try:
            check_size(size, limits)
        except UnsafeFile as exc:
            raise ArchiveError(exc.zh, exc.en, "too-large", 413) from None
        with _zip(opened) as zf:
            try:
                _check_directory(zf, limits)
            except UnsafeFile as exc:
                raise ArchiveError(exc.zh, exc.en, "archive-unsafe") from None
            content = _Content.read(zf)
            content.check(svc.settings.limits.max_units, svc.settings.limits.max_versions)
            return _write(svc, zf, content, user_id, reason)
    finally:
        if opened is not source:
            opened.close()


def _write(
    svc: Service, zf: zipfile.ZipFile, c: _Content, user_id: int | None, reason: str | None
) -> Imported:
    p = c.head.project
    plan = _framework_plan(c) if c.framework is not None else None
    current = True
    try:
        current = svc.plan(p.framework_id).hash == p.framework_hash
    except ApiError:
        current = plan is not None
    with svc.transaction() as session:
        if plan is not None and c.framework is not None:
            keep(session, plan, c.framework, FRAMEWORK_MEMBER, user_id, "导入评估项目档案")
        users, created = _users(session, c.head.users, user_id)
        project = Project(
            name=p.name,
            framework_id=p.framework_id,
            framework_version=p.framework_version,
            framework_hash=p.framework_hash,
            year=p.year,
            round=p.round,
            created_at=p.created_at,
            created_by=users[p.created_by] if p.created_by else None,
            state=p.state,
        )
        session.add(project)
        session.flush()
        unit_ids = _add(
            session,
            c.units,
            lambda u: Unit(
                project_id=project.id,
                inspector_id=users[u.inspector] if u.inspector else None,
                **u.model_dump(exclude={"id", "inspector"}),
            ),
        )
        sub_ids = _with_bytes(
            session,
            zf,
            c.submissions,
            "填报数据",
            lambda s, content: Submission(
                unit_id=unit_ids[s.unit],
                content=content,
                uploaded_by=users[s.uploaded_by],
                reviewed_by=users[s.reviewed_by] if s.reviewed_by else None,
                **s.model_dump(exclude={"id", "unit", "uploaded_by", "reviewed_by"}),
            ),
        )
        result_ids = _add(
            session,
            c.results,
            lambda r: ResultRow(
                submission_id=sub_ids[r.submission], **r.model_dump(exclude={"id", "submission"})
            ),
        )
        item_ids = _add(
            session,
            c.items,
            lambda i: Rectification(
                unit_id=unit_ids[i.unit],
                result_id=result_ids[i.result],
                **i.model_dump(exclude={"id", "unit", "result"}),
            ),
        )
        file_ids = _with_bytes(
            session,
            zf,
            c.evidence,
            "佐证材料",
            lambda f, content: EvidenceFile(
                rectification_id=item_ids[f.item],
                content=content,
                uploaded_by=users[f.uploaded_by],
                **f.model_dump(exclude={"id", "item", "uploaded_by"}),
            ),
        )
        county_ids = _with_bytes(
            session,
            zf,
            c.county,
            "县级填报",
            lambda d, content: CountySubmission(
                project_id=project.id,
                content=content,
                uploaded_by=users[d.uploaded_by],
                **d.model_dump(exclude={"id", "uploaded_by"}),
            ),
        )
        known = {
            "unit": unit_ids,
            "submission": sub_ids,
            "rectification": item_ids,
            "evidence": file_ids,
            "county_submission": county_ids,
        }
        session.add_all(
            AuditEntry(
                at=e.at,
                user_id=users[e.user] if e.user else None,
                action=e.action,
                entity=e.entity,
                entity_id=project.id if e.entity in _PROJECT_ENTITIES else known[e.entity][e.entity_id or 0],
                old=e.old,
                new=e.new,
                reason=e.reason,
            )
            for e in c.audit
        )
        counts = {
            "units": len(unit_ids),
            "submissions": len(sub_ids),
            "files": sum(1 for n in c.manifest.members if n.startswith("files/")),
            "results": len(result_ids),
            "rectifications": len(item_ids),
            "evidence": len(file_ids),
            "county": len(county_ids),
            "audit": len(c.audit),
        }
        session.flush()
        record(
            session,
            user_id,
            "import",
            "project",
            project.id,
            new={
                "name": p.name,
                "format_version": c.manifest.format_version,
                "exported_at": c.manifest.exported_at.isoformat(),
                "counts": counts,
                "users_created": created,
            },
            reason=reason,
        )
        return Imported(project.id, counts, created, current)


F = TypeVar("F", SubmissionRec, EvidenceRec, CountyRec)


def _with_bytes(
    session: Session, zf: zipfile.ZipFile, rows: list[F], what: str, make: Callable[[F, bytes], Any]
) -> dict[int, int]:
    """Rows that carry a file, one at a time: each one's bytes are read from the archive (checked against its
    SHA-256) as it is written, and let go once it is; archive-local id → the new store id."""
    ids: dict[int, int] = {}
    for rec in rows:
        row = make(rec, _member(zf, f"files/{rec.sha256}", rec.sha256))
        _require(row.size == len(row.content), f"{what} {rec.id} 的大小与文件不符", "size mismatch")
        session.add(row)
        session.flush()
        ids[rec.id] = row.id
        session.expunge(row)
    return ids


def _framework_plan(c: _Content) -> Plan:
    """The plan of the framework file an archive carries: validated as an upload is, and the very framework the
    project was made with (its content hash), else the archive is refused."""
    assert c.framework is not None
    try:
        plan, _ = checked_plan(c.framework, FRAMEWORK_MEMBER)
    except ApiError as err:
        raise ArchiveError(
            f"档案中的框架文件不能使用：{err.zh}", f"the archive's framework: {err.en}"
        ) from None
    if plan.hash != c.head.project.framework_hash:
        raise ArchiveError(
            "档案中的框架文件与项目记录的框架内容哈希不符",
            "the archive's framework file is not the project's",
        )
    return plan


def _add(session: Session, rows: list[R], make: Callable[[R], Any]) -> dict[int, int]:
    """Insert ``make(row)`` for each record; archive-local id → the new store id."""
    made = [make(r) for r in rows]
    session.add_all(made)
    session.flush()
    return {r.id: m.id for r, m in zip(rows, made, strict=True)}  # type: ignore[attr-defined]


def _users(session: Session, listed: list[UserRec], by: int | None) -> tuple[dict[str, int], list[str]]:
    """Each user the archive names → its id here: the same name is the same user; one the store does not have
    is created inactive and without a password (an administrator sets one to let the person in)."""
    ids: dict[str, int] = {}
    created: list[str] = []
    for u in listed:
        found = session.scalars(select(User).where(User.name == u.name)).first()
        if found is None:
            found = User(
                name=u.name,
                display_name=u.display_name,
                role=u.role,
                unit_code=u.unit_code,
                password_hash=None,
                active=False,
            )
            session.add(found)
            session.flush()
            record(
                session,
                by,
                "create",
                "user",
                found.id,
                new={"name": u.name, "role": u.role, "unit_code": u.unit_code, "active": False},
                reason="导入评估项目档案：档案中的用户，停用且无密码，需管理员设置密码并启用",
            )
            created.append(u.name)
        ids[u.name] = found.id
    return ids, created
