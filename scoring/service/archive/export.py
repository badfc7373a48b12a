"""Writing a project as an archive: :func:`export_project` (and :func:`export_path` for a command line) read
the project from one snapshot of the store and write each member as its rows come, with archive-local ids
(``_Ids``), users by name (``_UserNames``) and every member's SHA-256 in the manifest (``_Writer``)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel
from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from ...version import __version__
from ..errors import ApiError
from ..frameworks import stored_file
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
from .records import (
    _PROJECT_ENTITIES,
    FORMAT,
    FORMAT_VERSION,
    FRAMEWORK_MEMBER,
    MANIFEST,
    AuditRec,
    CountyRec,
    EvidenceRec,
    FrameworkRef,
    Manifest,
    MiB,
    ProjectFile,
    ProjectRec,
    RectificationRec,
    ResultRec,
    SubmissionRec,
    UnitRec,
    UserRec,
)

_STAMP = (1980, 1, 1, 0, 0, 0)  # every member's time: the same project exports to the same bytes
_CHUNK = 1024 * 1024


def export_project(svc: Service, project_id: int, out: IO[bytes], by: str | None = None) -> Manifest:
    """Write project ``project_id`` as an archive to ``out`` (a file open for writing bytes); its manifest.
    The project must exist (the caller has checked who may see it)."""
    with svc.sessions() as session, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        _snapshot(session)
        project = session.get(Project, project_id)
        if project is None:
            raise ApiError(
                404, "not-found", f"找不到评估项目 {project_id}", f"project {project_id} not found"
            )
        writer = _Writer(zf)
        ids = _Ids()
        users = _UserNames(session)
        units = list(session.scalars(select(Unit).where(Unit.project_id == project_id).order_by(Unit.id)))
        writer.lines("units.jsonl", [_unit_rec(u, ids, users) for u in units])
        uploaded = stored_file(session, project.framework_id, project.framework_hash)
        if uploaded is not None:  # a framework a 管理员 uploaded travels with its project
            writer.raw(FRAMEWORK_MEMBER, uploaded.content)
        unit_ids = select(Unit.id).where(Unit.project_id == project_id)
        writer.lines("submissions.jsonl", _submissions(session, unit_ids, ids, users, writer))
        writer.lines("results.jsonl", _results(session, unit_ids, ids))
        items = select(Rectification).where(Rectification.unit_id.in_(unit_ids)).order_by(Rectification.id)
        writer.lines("rectifications.jsonl", [_item_rec(r, ids) for r in session.scalars(items)])
        writer.lines("evidence.jsonl", _evidence(session, unit_ids, ids, users, writer))
        writer.lines("county.jsonl", _county(session, project_id, ids, users, writer))
        writer.lines("audit.jsonl", _audit(session, project_id, ids, users))
        created_by = users.name(project.created_by) if project.created_by else None
        head = ProjectRec(
            name=project.name,
            framework_id=project.framework_id,
            framework_version=project.framework_version,
            framework_hash=project.framework_hash,
            year=project.year,
            round=project.round,
            created_at=project.created_at,
            created_by=created_by,
            state=project.state,
        )
        writer.json("project.json", ProjectFile(project=head, users=users.records()).model_dump(mode="json"))
        manifest = Manifest(
            format=FORMAT,
            format_version=FORMAT_VERSION,
            exported_at=dt.datetime.now(dt.timezone.utc).replace(microsecond=0, tzinfo=None),
            engine=f"scoring {__version__}",
            framework=FrameworkRef(
                id=project.framework_id, version=project.framework_version, hash=project.framework_hash
            ),
            exported_by=by,
            counts={**writer.counts, "files": writer.files},
            members=dict(sorted(writer.members.items())),
        )
        writer.json(MANIFEST, manifest.model_dump(mode="json"), listed=False)
    return manifest


def _claim(tmp: Path, path: Path) -> None:
    """Give ``tmp`` the name ``path`` unless a file has it: a hard link fails if the name is taken; a file system
    without hard links gets a check, then a rename."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError:
        if path.exists():
            raise FileExistsError(17, "File exists", str(path)) from None
        os.replace(tmp, path)


def _snapshot(session: Session) -> None:
    """Read everything from one snapshot of the database, so uploads made meanwhile are all in the archive or
    not at all (PostgreSQL: a REPEATABLE READ transaction; SQLite: a read transaction begun now — its driver
    would begin none for reads, and each query would see the database as it is then)."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    else:
        session.connection().exec_driver_sql("BEGIN")


class _Ids:
    """Archive-local ids: 1, 2, … per table, in the order rows are written (the order of the store's ids)."""

    def __init__(self) -> None:
        self.maps: dict[str, dict[int, int]] = {
            t: {} for t in ("unit", "submission", "result", "rectification", "evidence", "county_submission")
        }

    def add(self, table: str, store_id: int) -> int:
        found = self.maps[table]
        found[store_id] = len(found) + 1
        return found[store_id]

    def of(self, table: str, store_id: int) -> int:
        return self.maps[table][store_id]


class _UserNames:
    """Users by id, named in the archive; each one named is listed in project.json."""

    def __init__(self, session: Session):
        self.session = session
        self.seen: dict[int, User] = {}

    def name(self, user_id: int) -> str:
        user = self.seen.get(user_id) or self.session.get(User, user_id)
        assert user is not None  # a foreign key
        self.seen[user_id] = user
        return user.name

    def records(self) -> list[UserRec]:
        return [
            UserRec(
                name=u.name, display_name=u.display_name, role=u.role, unit_code=u.unit_code, active=u.active
            )
            for u in sorted(self.seen.values(), key=lambda u: u.name)
        ]


class _Writer:
    def __init__(self, zf: zipfile.ZipFile):
        self.zf = zf
        self.members: dict[str, str] = {}
        self.counts: dict[str, int] = {}
        self.files = 0

    def _put(self, name: str, data: bytes, compress: bool = True) -> None:
        info = zipfile.ZipInfo(name, _STAMP)
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        self.zf.writestr(info, data)

    def json(self, name: str, value: Any, listed: bool = True) -> None:
        data = (json.dumps(value, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
        self._put(name, data)
        if listed:
            self.members[name] = hashlib.sha256(data).hexdigest()

    def lines(self, name: str, rows: Iterable[BaseModel]) -> int:
        """A JSON Lines member, written as the rows come; the number of rows."""
        digest, n = hashlib.sha256(), 0
        info = zipfile.ZipInfo(name, _STAMP)
        info.compress_type = zipfile.ZIP_DEFLATED
        # the rows go to a spooled file first: writing them may write members too (a submission's bytes)
        with tempfile.SpooledTemporaryFile(max_size=16 * MiB) as spool:
            for row in rows:
                line = (json.dumps(row.model_dump(mode="json"), ensure_ascii=False) + "\n").encode("utf-8")
                digest.update(line)
                spool.write(line)
                n += 1
            spool.seek(0)
            with self.zf.open(info, "w", force_zip64=True) as fh:
                shutil.copyfileobj(spool, fh, _CHUNK)
        self.members[name] = digest.hexdigest()
        self.counts[name.split(".")[0]] = n
        return n

    def raw(self, name: str, data: bytes) -> None:
        self._put(name, data)
        self.members[name] = hashlib.sha256(data).hexdigest()

    def blob(self, sha256: str, data: bytes) -> None:
        name = f"files/{sha256}"
        if name in self.members:
            return  # the same bytes uploaded again: kept once
        self._put(name, data, compress=not zipfile.is_zipfile(io.BytesIO(data)))  # a workbook is compressed
        self.members[name] = sha256
        self.files += 1


def _unit_rec(u: Unit, ids: _Ids, users: _UserNames) -> UnitRec:
    return UnitRec(
        id=ids.add("unit", u.id),
        code=u.code,
        name=u.name,
        type=u.type,
        phase=u.phase,
        region=u.region,
        inspector=users.name(u.inspector_id) if u.inspector_id else None,
    )


def _submissions(
    session: Session, unit_ids: Select[Any], ids: _Ids, users: _UserNames, writer: _Writer
) -> Iterator[SubmissionRec]:
    query = select(Submission).where(Submission.unit_id.in_(unit_ids)).order_by(Submission.id)
    for s in session.scalars(query.execution_options(yield_per=20)):
        writer.blob(s.sha256, s.content)
        yield SubmissionRec(
            id=ids.add("submission", s.id),
            unit=ids.of("unit", s.unit_id),
            version=s.version,
            filename=s.filename,
            size=s.size,
            sha256=s.sha256,
            status=s.status,
            problems=s.problems,
            uploaded_by=users.name(s.uploaded_by),
            uploaded_at=s.uploaded_at,
            review_state=s.review_state,
            review_reason=s.review_reason,
            reviewed_by=users.name(s.reviewed_by) if s.reviewed_by is not None else None,
            reviewed_at=s.reviewed_at,
        )
        session.expunge(s)  # its bytes are written: let them go


def _results(session: Session, unit_ids: Select[Any], ids: _Ids) -> Iterator[ResultRec]:
    mine = select(Submission.id).where(Submission.unit_id.in_(unit_ids))
    query = select(ResultRow).where(ResultRow.submission_id.in_(mine)).order_by(ResultRow.id)
    for r in session.scalars(query.execution_options(yield_per=50)):
        yield ResultRec(
            id=ids.add("result", r.id),
            submission=ids.of("submission", r.submission_id),
            part=r.part,
            engine=r.engine,
            framework_hash=r.framework_hash,
            total=r.total,
            grade=r.grade,
            document=r.document,
            created_at=r.created_at,
        )
        session.expunge(r)


def _item_rec(r: Rectification, ids: _Ids) -> RectificationRec:
    return RectificationRec(
        id=ids.add("rectification", r.id),
        unit=ids.of("unit", r.unit_id),
        indicator=r.indicator,
        problem=r.problem,
        requirement=r.requirement,
        deadline=r.deadline,
        status=r.status,
        evidence=r.evidence,
        result=ids.of("result", r.result_id),
        updated_at=r.updated_at,
    )


def _evidence(
    session: Session, unit_ids: Select[Any], ids: _Ids, users: _UserNames, writer: _Writer
) -> Iterator[EvidenceRec]:
    items = select(Rectification.id).where(Rectification.unit_id.in_(unit_ids))
    query = select(EvidenceFile).where(EvidenceFile.rectification_id.in_(items)).order_by(EvidenceFile.id)
    for f in session.scalars(query.execution_options(yield_per=20)):
        writer.blob(f.sha256, f.content)
        yield EvidenceRec(
            id=ids.add("evidence", f.id),
            item=ids.of("rectification", f.rectification_id),
            filename=f.filename,
            media_type=f.media_type,
            size=f.size,
            sha256=f.sha256,
            uploaded_by=users.name(f.uploaded_by),
            uploaded_at=f.uploaded_at,
            withdrawn_at=f.withdrawn_at,
        )
        session.expunge(f)  # its bytes are written: let them go


def _county(
    session: Session, project_id: int, ids: _Ids, users: _UserNames, writer: _Writer
) -> Iterator[CountyRec]:
    query = select(CountySubmission).where(CountySubmission.project_id == project_id)
    for c in session.scalars(query.order_by(CountySubmission.id)):
        writer.blob(c.sha256, c.content)
        yield CountyRec(
            id=ids.add("county_submission", c.id),
            version=c.version,
            filename=c.filename,
            size=c.size,
            sha256=c.sha256,
            status=c.status,
            problems=c.problems,
            uploaded_by=users.name(c.uploaded_by),
            uploaded_at=c.uploaded_at,
        )
        session.expunge(c)


def _audit(session: Session, project_id: int, ids: _Ids, users: _UserNames) -> Iterator[AuditRec]:
    """The audit rows of the project and of its units, submissions and 整改 items, oldest first."""
    query = select(AuditEntry).order_by(AuditEntry.id)
    units = select(Unit.id).where(Unit.project_id == project_id)
    subs = select(Submission.id).where(Submission.unit_id.in_(units))
    items = select(Rectification.id).where(Rectification.unit_id.in_(units))
    files = select(EvidenceFile.id).where(EvidenceFile.rectification_id.in_(items))
    county = select(CountySubmission.id).where(CountySubmission.project_id == project_id)
    query = query.where(
        or_(
            and_(AuditEntry.entity.in_(_PROJECT_ENTITIES), AuditEntry.entity_id == project_id),
            and_(AuditEntry.entity == "unit", AuditEntry.entity_id.in_(units)),
            and_(AuditEntry.entity == "submission", AuditEntry.entity_id.in_(subs)),
            and_(AuditEntry.entity == "rectification", AuditEntry.entity_id.in_(items)),
            and_(AuditEntry.entity == "evidence", AuditEntry.entity_id.in_(files)),
            and_(AuditEntry.entity == "county_submission", AuditEntry.entity_id.in_(county)),
        )
    )
    for e in session.scalars(query.execution_options(yield_per=500)):
        local = _local_entity(e, project_id, ids)
        if local is None:
            continue
        yield AuditRec(
            at=e.at,
            user=users.name(e.user_id) if e.user_id is not None else None,
            action=e.action,
            entity=e.entity,
            entity_id=local,
            old=e.old,
            new=e.new,
            reason=e.reason,
        )


def _local_entity(e: AuditEntry, project_id: int, ids: _Ids) -> int | None:
    """The archive-local id of an audit row's entity when it belongs to the project, else None."""
    if e.entity_id is None:
        return None
    if e.entity in _PROJECT_ENTITIES:
        return 1 if e.entity_id == project_id else None
    found = ids.maps.get(e.entity)
    if found is None:
        return None
    return found.get(e.entity_id)


def export_path(svc: Service, project_id: int, path: Path, by: str | None = None) -> Manifest:
    """Write the archive to ``path`` (for a command line): into a temporary file beside it, synced, then linked
    to its name — whole or not at all, and never over a file already there (FileExistsError: a backup is not
    overwritten by the next)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            manifest = export_project(svc, project_id, fh, by)
            fh.flush()
            os.fsync(fh.fileno())
        _claim(Path(tmp), path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return manifest
