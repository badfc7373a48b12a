"""A whole project as one zip archive, and back: for a backup, and for moving a project from one store to another
(SQLite → PostgreSQL). :func:`export_project` writes it, :func:`import_project` reads it into a store as a new
project; the endpoints (``api/archive.py``) and a command line call the same two functions.

The archive (format version 3; version 2 archives, which have no county data, and version 1 archives, which have
no 佐证材料 and no reviews either, are read as well)::

    manifest.json          format and version, the framework (id, version, content hash), counts, and the
                           SHA-256 of every other member
    project.json           the project, and the users its rows name (name, role, unit; never a password)
    units.jsonl            one JSON object a line: the units
    submissions.jsonl      every version of every unit: file name, size, SHA-256, status, problems, who, when,
                           and the 督学's review (state, reason, who, when)
    files/<sha256>         the bytes of each submission and 佐证材料 file, once per content
    results.jsonl          each scored part: engine, framework hash, total, grade and the result JSON as stored
    rectifications.jsonl   the 整改 items as they stand (their history is in the audit rows)
    evidence.jsonl         (version 2) the 佐证材料 of the 整改 items: name, media type, size, SHA-256, who, when,
                           when withdrawn (withdrawn files are kept, so they are archived too)
    county.jsonl           (version 3) every version of the county's own data (县级填报) of a county project:
                           file name, size, SHA-256, status, problems, who, when
    audit.jsonl            every audit row of the project, its units, submissions and 整改 items, oldest first

Rows refer to each other by ids local to the archive (1, 2, … in the order of the store's ids), users by name.
Importing gives every row a new id in the target store and keeps everything else as it was: times, who, the
bytes, the result documents, the audit rows (old → new as recorded then). Users an archive names that the target
does not have are created inactive, without a password (an administrator sets one to let them in); a user the
target has already is the same user by name. The import adds one audit row of its own (``import``, project).

Reading is bounded like an upload: the archive's size, its member count, each member's declared size, the total
and the compression ratio are checked with ``io.safety``'s limits before anything is inflated; every member must
be listed in the manifest with its SHA-256 and must have it, so a changed or corrupt archive is refused — with
the member named — before a single row is written, and the import is one transaction (all or nothing). The hashes
find damage and edits made without the manifest; they are no signature (whoever can rewrite the manifest can
make a consistent archive: keep archives where backups are kept).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from ..engine.plan import Plan
from ..io.safety import FileLimits, UnsafeFile, check_member, check_size
from ..version import __version__
from .audit import record
from .county_data import READ as COUNTY_READ
from .county_data import REFUSED as COUNTY_REFUSED
from .errors import ApiError
from .evidence import KINDS
from .frameworks import checked_plan, keep, stored_file
from .models import (
    ROLES,
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
from .rectify import ASKED, CLOSED, OPEN, RETURNED, WORKING
from .rounds import STATES
from .state import Service

FORMAT = "duping-scoring-project-archive"
FORMAT_VERSION = 3  # 3: county.jsonl (县级填报); 2: evidence.jsonl (佐证材料) and reviews; 1 and 2 are read
MANIFEST = "manifest.json"
FRAMEWORK_MEMBER = "framework.yaml"  # the project's framework when a 管理员 uploaded it (not shipped)
TABLES = ("units", "submissions", "results", "rectifications", "audit")  # every version has these
_ADDED = ("evidence", "county")  # the tables versions 2, 3 … added, in order
REVIEW_STATES = (None, "已通过", "已退回")
_STAMP = (1980, 1, 1, 0, 0, 0)  # every member's time: the same project exports to the same bytes
_CHUNK = 1024 * 1024
MiB = 1024 * 1024

ARCHIVE_LIMITS = FileLimits(
    max_file=4096 * MiB,  # a district's project: thousands of units, a few versions each
    max_members=200_000,
    max_member=1024 * MiB,
    max_total=8192 * MiB,
    max_ratio=200,
)


def upload_limits(max_upload: int) -> FileLimits:
    """The limits of an archive sent over HTTP: no larger than an uploaded file may be, and inflating to at most
    16 times that (JSON compresses about tenfold; a workbook is compressed already)."""
    return FileLimits(
        max_file=max_upload,
        max_members=ARCHIVE_LIMITS.max_members,
        max_member=16 * max_upload,
        max_total=16 * max_upload,
        max_ratio=ARCHIVE_LIMITS.max_ratio,
    )


class ArchiveError(ApiError):
    """An archive that cannot be imported: why, in Chinese and English; nothing has been written."""

    def __init__(self, zh: str, en: str, code: str = "archive-invalid", status: int = 422):
        super().__init__(
            status, code, f"评估项目档案无法导入：{zh}；未导入任何数据", f"archive refused: {en}"
        )


@dataclass
class Imported:
    """What an import made: the new project's id, the rows written per table, and the users created."""

    project_id: int
    counts: dict[str, int]
    users_created: list[str] = field(default_factory=list)
    framework_current: bool = True


# ------------------------------------------------------------------------------------------------ records


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)


class UserRec(_Record):
    name: str
    display_name: str = ""
    role: str
    unit_code: str | None = None
    active: bool = True


class ProjectRec(_Record):
    name: str
    framework_id: str
    framework_version: str
    framework_hash: str
    year: int
    round: int
    created_at: dt.datetime
    created_by: str | None = None
    state: str = "填报中"  # 填报中 or 已关闭 (an archive of before rounds could close: open)


class UnitRec(_Record):
    id: int
    code: str
    name: str
    type: str | None = None
    phase: str | None = None
    region: str | None = None
    inspector: str | None = None  # the assigned 督学, by name (listed in project.json's users)


class SubmissionRec(_Record):
    id: int
    unit: int
    version: int
    filename: str
    size: int
    sha256: str
    status: str
    problems: list[dict[str, Any]]
    uploaded_by: str
    uploaded_at: dt.datetime
    # version 2: the 督学's review (a version 1 archive has none: 待审核)
    review_state: str | None = None
    review_reason: str = ""
    reviewed_by: str | None = None
    reviewed_at: dt.datetime | None = None


class ResultRec(_Record):
    id: int
    submission: int
    part: int
    engine: str
    framework_hash: str
    total: str | None
    grade: str | None
    document: str
    created_at: dt.datetime


class RectificationRec(_Record):
    id: int
    unit: int
    indicator: str
    problem: str
    requirement: str
    deadline: dt.date | None
    status: str
    evidence: str
    result: int
    updated_at: dt.datetime


class EvidenceRec(_Record):
    id: int
    item: int
    filename: str
    media_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: dt.datetime
    withdrawn_at: dt.datetime | None = None


class CountyRec(_Record):
    id: int
    version: int
    filename: str
    size: int
    sha256: str
    status: str
    problems: list[dict[str, Any]]
    uploaded_by: str
    uploaded_at: dt.datetime


class AuditRec(_Record):
    at: dt.datetime
    user: str | None
    action: str
    entity: str
    entity_id: int | None
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    reason: str


class ProjectFile(_Record):
    project: ProjectRec
    users: list[UserRec]


class FrameworkRef(_Record):
    id: str
    version: str
    hash: str


class Manifest(_Record):
    format: str
    format_version: int
    exported_at: dt.datetime
    exported_by: str | None = None
    engine: str
    framework: FrameworkRef
    counts: dict[str, int]
    members: dict[str, str]


# ------------------------------------------------------------------------------------------------- export


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


_PROJECT_ENTITIES = ("project", "demo")  # audit rows whose entity_id is the project's


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


# ------------------------------------------------------------------------------------------------- import

Source = str | os.PathLike[str] | bytes | IO[bytes]
R = TypeVar("R", bound=_Record)


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


def _open(source: Source) -> tuple[IO[bytes], int]:
    if isinstance(source, (bytes, bytearray)):
        return io.BytesIO(source), len(source)
    if isinstance(source, (str, os.PathLike)):
        fh = open(source, "rb")  # noqa: SIM115 (closed by the caller)
        return fh, os.fstat(fh.fileno()).st_size
    here = source.tell()
    size = source.seek(0, os.SEEK_END) - here
    source.seek(here)
    return source, size


def _zip(fh: IO[bytes]) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(fh)
    except Exception:  # BadZipFile, struct.error, EOFError … on a directory that is not one
        raise ArchiveError(
            "文件不是 zip 格式的评估项目档案，或已损坏", "not a zip archive, or corrupt"
        ) from None


def _check_directory(zf: zipfile.ZipFile, limits: FileLimits) -> None:
    """What the directory declares, before anything is inflated: members, each one's size and ratio, the total
    (``io.safety``'s checks for a workbook); a member's real size is held to its entry when it is read."""
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise UnsafeFile(
            f"压缩包内文件数 {len(infos)} 超过上限 {limits.max_members}，已拒绝读取", "too many zip members"
        )
    total = 0
    for info in infos:
        check_member(info, limits)
        total += info.file_size
        if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ArchiveError(
                f"成员 {info.filename} 已加密或使用了不支持的压缩方式", f"member {info.filename}: unsupported"
            )
    if total > limits.max_total:
        raise UnsafeFile(
            f"解压后总大小 {total // MiB} MiB 超过上限 {limits.max_total // MiB} MiB（疑似压缩炸弹），已拒绝读取",
            f"archive inflates to {total} bytes (zip bomb?)",
        )


def _member(zf: zipfile.ZipFile, name: str, expected: str | None) -> bytes:
    """A member's bytes, inflated no further than its entry declares, and checked against its SHA-256."""
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise ArchiveError(f"缺少成员 {name}", f"member {name} is missing") from None
    try:
        with zf.open(info) as fh:
            data = fh.read(info.file_size + 1)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise ArchiveError(
            f"成员 {name} 已损坏（{exc}）", f"member {name} is corrupt: {exc}", "archive-tampered"
        ) from None
    if len(data) != info.file_size:
        raise ArchiveError(
            f"成员 {name} 解压后的大小与目录中声明的不符", f"member {name}: wrong size", "archive-tampered"
        )
    if expected is not None:
        actual = hashlib.sha256(data).hexdigest()
        if actual != expected:
            raise ArchiveError(
                f"成员 {name} 的 SHA-256 为 {actual[:16]}…，与清单（manifest.json）记录的 {expected[:16]}… 不符："
                "档案已被改动或已损坏",
                f"member {name} has SHA-256 {actual}, not the manifest's {expected}: changed or corrupt",
                "archive-tampered",
            )
    return data


def _parse(name: str, data: bytes, model: type[R]) -> R:
    try:
        return model.model_validate_json(data)
    except ValidationError as exc:
        raise ArchiveError(_where(name, exc), f"{name}: {exc.errors()[0]['msg']}") from None


def _lines(name: str, data: bytes, model: type[R]) -> list[R]:
    out = []
    for n, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(model.model_validate_json(line))
        except ValidationError as exc:
            raise ArchiveError(f"{_where(name, exc)}（第 {n} 行）", f"{name} line {n}: invalid") from None
    return out


def _where(name: str, exc: ValidationError) -> str:
    first = exc.errors()[0]
    place = ".".join(str(x) for x in first.get("loc", ()))
    return f"成员 {name} 的内容不正确：{place or '格式'}（{first.get('msg', '')}）"


@dataclass
class _Content:
    manifest: Manifest
    head: ProjectFile
    units: list[UnitRec]
    submissions: list[SubmissionRec]
    results: list[ResultRec]
    items: list[RectificationRec]
    audit: list[AuditRec]
    evidence: list[EvidenceRec]
    county: list[CountyRec]
    framework: bytes | None = None  # the uploaded framework's file, when the project was made from one

    @classmethod
    def read(cls, zf: zipfile.ZipFile) -> _Content:
        manifest = _read_manifest(zf)
        listed = set(manifest.members)
        extra = sorted(set(zf.namelist()) - listed - {MANIFEST})
        if extra:
            raise ArchiveError(
                f"成员 {extra[0]} 不在清单（manifest.json）中", f"member {extra[0]} is not in the manifest"
            )
        for name, sha in manifest.members.items():
            if name.startswith("files/"):
                if name != f"files/{sha}":
                    raise ArchiveError(
                        f"文件成员 {name} 的名称与其 SHA-256 不符", f"{name}: name is not its hash"
                    )
                _member(zf, name, sha)  # checked now, read again when written
        members: dict[str, str] = {}
        tables = TABLES + _ADDED[: manifest.format_version - 1]
        for name in ("project.json", *(f"{t}.jsonl" for t in tables)):
            if name not in manifest.members:
                raise ArchiveError(f"清单中缺少成员 {name}", f"the manifest does not list {name}")
            members[name] = manifest.members[name]

        def table(t: str, model: type[R]) -> list[R]:
            return _lines(f"{t}.jsonl", _member(zf, f"{t}.jsonl", members[f"{t}.jsonl"]), model)

        return cls(
            manifest=manifest,
            head=_parse("project.json", _member(zf, "project.json", members["project.json"]), ProjectFile),
            units=table("units", UnitRec),
            submissions=table("submissions", SubmissionRec),
            results=table("results", ResultRec),
            items=table("rectifications", RectificationRec),
            audit=table("audit", AuditRec),
            evidence=table("evidence", EvidenceRec) if "evidence" in tables else [],
            county=table("county", CountyRec) if "county" in tables else [],
            framework=(
                _member(zf, FRAMEWORK_MEMBER, manifest.members[FRAMEWORK_MEMBER])
                if FRAMEWORK_MEMBER in manifest.members
                else None
            ),
        )

    def check(self, max_units: int, max_versions: int) -> None:
        """The rows refer to rows that are there, keys are unique, values are ones the store can hold."""
        fw, project = self.manifest.framework, self.head.project
        if (fw.id, fw.version, fw.hash) != (
            project.framework_id,
            project.framework_version,
            project.framework_hash,
        ):
            raise ArchiveError(
                "清单中的框架与项目记录的框架不一致", "the manifest's framework is not the project's"
            )
        users = {u.name for u in self.head.users}
        for u in self.head.users:
            _require(u.role in ROLES, f"用户 {u.name} 的角色 {u.role} 无效", "invalid role")
        _require(len(users) == len(self.head.users), "用户名重复", "duplicate user")
        _require(project.state in STATES, f"项目的填报状态 {project.state} 无效", "invalid project state")
        for unit in self.units:
            _require(
                unit.inspector is None or unit.inspector in users,
                f"单位 {unit.code} 的负责督学 {unit.inspector} 未列出",
                "unknown user",
            )
        _require(len(self.units) <= max_units, f"单位数超过 {max_units} 的上限", "too many units")
        units = _unique(self.units, lambda u: u.id, "单位编号")
        _unique(self.units, lambda u: u.code, "单位代码")
        subs = _unique(self.submissions, lambda s: s.id, "填报数据编号")
        _unique(self.submissions, lambda s: (s.unit, s.version), "单位的填报版本")
        per_unit: dict[int, int] = {}
        for s in self.submissions:
            _require(s.unit in units, f"填报数据 {s.id} 指向不存在的单位 {s.unit}", "unknown unit")
            _require(
                s.uploaded_by in users, f"填报数据 {s.id} 的上传人 {s.uploaded_by} 未列出", "unknown user"
            )
            _require(s.status in ("已评分", "未通过"), f"填报数据 {s.id} 的状态无效", "invalid status")
            _require(s.review_state in REVIEW_STATES, f"填报数据 {s.id} 的审核状态无效", "invalid review")
            _require(
                s.reviewed_by is None or s.reviewed_by in users,
                f"填报数据 {s.id} 的审核人 {s.reviewed_by} 未列出",
                "unknown user",
            )
            _require(
                f"files/{s.sha256}" in self.manifest.members, f"缺少填报数据 {s.id} 的文件", "file missing"
            )
            per_unit[s.unit] = per_unit.get(s.unit, 0) + 1
        _require(
            max(per_unit.values(), default=0) <= max_versions, "某单位的填报版本超过上限", "too many versions"
        )
        results = _unique(self.results, lambda r: r.id, "评分结果编号")
        _unique(self.results, lambda r: (r.submission, r.part), "评分结果")
        for r in self.results:
            _require(r.submission in subs, f"评分结果 {r.id} 指向不存在的填报数据", "unknown submission")
        items = _unique(self.items, lambda r: r.id, "整改事项编号")
        _unique(self.items, lambda r: (r.unit, r.indicator), "整改事项")
        for i in self.items:
            _require(i.unit in units and i.result in results, f"整改事项 {i.id} 的引用无效", "bad reference")
            _require(
                i.status in (OPEN, WORKING, ASKED, CLOSED, RETURNED), f"整改事项 {i.id} 状态无效", "status"
            )
        files = _unique(self.evidence, lambda f: f.id, "佐证材料编号")
        kinds = {k.media_type for k in KINDS}
        for f in self.evidence:
            _require(f.item in items, f"佐证材料 {f.id} 指向不存在的整改事项 {f.item}", "unknown item")
            _require(
                f.uploaded_by in users, f"佐证材料 {f.id} 的上传人 {f.uploaded_by} 未列出", "unknown user"
            )
            _require(f.media_type in kinds, f"佐证材料 {f.id} 的类型 {f.media_type} 无效", "invalid kind")
            _require(
                f"files/{f.sha256}" in self.manifest.members, f"缺少佐证材料 {f.id} 的文件", "file missing"
            )
        county = self.check_county(users, max_versions)
        known: dict[str, dict[int, Any]] = {
            "unit": units,
            "submission": subs,
            "rectification": items,
            "evidence": files,
            "county_submission": county,
        }
        for n, e in enumerate(self.audit, 1):
            _require(e.user is None or e.user in users, f"审计记录 {n} 的用户未列出", "unknown user")
            ok = e.entity_id == 1 if e.entity in _PROJECT_ENTITIES else e.entity_id in known.get(e.entity, {})
            _require(ok, f"审计记录 {n} 指向不属于本项目的 {e.entity} {e.entity_id}", "audit row outside")
        if project.created_by is not None:
            _require(project.created_by in users, "项目创建人未列出", "unknown user")

    def check_county(self, users: set[str], max_versions: int) -> dict[int, CountyRec]:
        rows = _unique(self.county, lambda c: c.id, "县级填报编号")
        _unique(self.county, lambda c: c.version, "县级填报版本")
        _require(len(rows) <= max_versions, "县级填报的版本超过上限", "too many versions")
        for c in self.county:
            _require(
                c.uploaded_by in users, f"县级填报 {c.id} 的上传人 {c.uploaded_by} 未列出", "unknown user"
            )
            _require(
                c.status in (COUNTY_READ, COUNTY_REFUSED), f"县级填报 {c.id} 的状态无效", "invalid status"
            )
            _require(
                f"files/{c.sha256}" in self.manifest.members, f"缺少县级填报 {c.id} 的文件", "file missing"
            )
        return rows


def _read_manifest(zf: zipfile.ZipFile) -> Manifest:
    raw = _member(zf, MANIFEST, None)
    try:
        head = json.loads(raw)
    except ValueError:
        raise ArchiveError("清单 manifest.json 不是 JSON", "manifest.json is not JSON") from None
    if not isinstance(head, dict) or head.get("format") != FORMAT:
        raise ArchiveError("这不是督评 scoring 的评估项目档案（清单格式不符）", "not a project archive")
    version = head.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION or version < 1:
        raise ArchiveError(
            f"档案格式版本 {version} 不受支持（本程序支持 1 至 {FORMAT_VERSION}）：请升级 scoring 后再导入",
            f"archive format version {version} is not supported (1 to {FORMAT_VERSION})",
        )
    return _parse(MANIFEST, raw, Manifest)


def _require(ok: bool, zh: str, en: str) -> None:
    if not ok:
        raise ArchiveError(zh, en)


K = TypeVar("K")


def _unique(rows: list[R], key: Callable[[R], K], what: str) -> dict[K, R]:
    out: dict[K, R] = {}
    for row in rows:
        k = key(row)
        if k in out:
            raise ArchiveError(f"{what}重复：{k}", f"duplicate {what}: {k}")
        out[k] = row
    return out


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


def export_path(svc: Service, project_id: int, path: Path, by: str | None = None) -> Manifest:
    """Write the archive to ``path`` (for a command line)."""
    with open(path, "wb") as fh:
        return export_project(svc, project_id, fh, by)
