"""The store's tables as typed SQLAlchemy 2 models. The schema itself is made by the Alembic migrations
(``migrations/versions``); a change here needs a new revision there (``docs/service.md``).

Nothing is overwritten: a unit's submissions are numbered versions (the newest counts), each kept as the bytes
uploaded with their SHA-256; results belong to the submission they were scored from; every change to any row
writes an :class:`AuditEntry` (who, when, what, old → new, why).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ROLES = ("管理员", "督学", "学校")
ADMIN, INSPECTOR, SCHOOL = ROLES


def now() -> dt.datetime:
    """The time rows are stamped with: UTC, to the second (both databases keep it the same)."""
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0, tzinfo=None)


class Base(DeclarativeBase):
    pass


class User(Base):
    """A person or a system. A 学校 user belongs to one unit by its code (the same school in every project);
    ``password_hash`` is argon2id, empty for a system that signs in only with API tokens."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16))
    unit_code: Mapped[str | None] = mapped_column(String(64), default=None)
    password_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)


class Token(Base):
    """A bearer token, stored as the SHA-256 of its secret (the secret is shown once). ``kind``: ``api`` (made
    for a system, until revoked or its expiry) or ``session`` (a password login, for ``Settings.session_hours``)."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200), default="")
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)

    user: Mapped[User] = relationship()


class Project(Base):
    """An evaluation (评估项目): one framework at a fixed version and content hash, a year and a round."""

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    framework_id: Mapped[str] = mapped_column(String(100))
    framework_version: Mapped[str] = mapped_column(String(50))
    framework_hash: Mapped[str] = mapped_column(String(100))
    year: Mapped[int] = mapped_column(Integer)
    round: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    # 填报状态: 填报中 (schools may upload) or 已关闭 (closed by the office: uploads refused, results kept)
    state: Mapped[str] = mapped_column(String(16), default="填报中")
    # the project of the round before this one (same framework and units), for round-over-round change
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"), default=None)


class Unit(Base):
    """A unit evaluated in a project (a school, a kindergarten, a county): its code is unique in the project."""

    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("project_id", "code", name="uq_units_project_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str | None] = mapped_column(String(50), default=None)
    phase: Mapped[str | None] = mapped_column(String(50), default=None)  # 学段
    region: Mapped[str | None] = mapped_column(String(100), default=None)  # 区域
    # the 督学 assigned to this unit (a user of role 督学), or None
    inspector_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)

    project: Mapped[Project] = relationship()


class Submission(Base):
    """One upload, kept as its bytes: version 1, 2, … per unit, the newest counts. ``status``: 已评分 (scored,
    with results) or 未通过 (refused: ``problems`` says why, with the place of each)."""

    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("unit_id", "version", name="uq_submissions_unit_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16))
    problems: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    # the 督学's review of a scored version: None (待审核), 已通过 or 已退回 (with the reason the school reads)
    review_state: Mapped[str | None] = mapped_column(String(16), default=None)
    review_reason: Mapped[str] = mapped_column(Text, default="")
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)


class ResultRow(Base):
    """The engine's result JSON for one unit of a submission (a 九年一贯制 row may be scored as two parts)."""

    __tablename__ = "results"
    __table_args__ = (UniqueConstraint("submission_id", "part", name="uq_results_submission_part"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    part: Mapped[int] = mapped_column(Integer, default=0)
    engine: Mapped[str] = mapped_column(String(100))
    framework_hash: Mapped[str] = mapped_column(String(100))
    total: Mapped[str | None] = mapped_column(String(40), default=None)  # a decimal, as the result writes it
    grade: Mapped[str | None] = mapped_column(String(50), default=None)
    document: Mapped[str] = mapped_column(Text)  # the result JSON, exactly as ``scoring score`` writes it
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)


class Rectification(Base):
    """A 整改 item of a unit, from its scored result: status 待整改 → 整改中 → 申请销号 → 已销号, or 退回."""

    __tablename__ = "rectifications"
    __table_args__ = (UniqueConstraint("unit_id", "indicator", name="uq_rectifications_unit_indicator"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    indicator: Mapped[str] = mapped_column(String(64))
    problem: Mapped[str] = mapped_column(Text)
    requirement: Mapped[str] = mapped_column(Text, default="")
    deadline: Mapped[dt.date | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(String(16))
    evidence: Mapped[str] = mapped_column(Text, default="")
    result_id: Mapped[int] = mapped_column(ForeignKey("results.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)


class AuditEntry(Base):
    """One change: who (a user, or none for the service itself), when, what (``action`` on ``entity`` #id),
    the fields before and after, and why."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=now, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    action: Mapped[str] = mapped_column(String(50))
    entity: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[int | None] = mapped_column(Integer, default=None)
    old: Mapped[dict[str, object] | None] = mapped_column(JSON, default=None)
    new: Mapped[dict[str, object] | None] = mapped_column(JSON, default=None)
    reason: Mapped[str] = mapped_column(Text, default="")


class FrameworkFile(Base):
    """A framework a 管理员 uploaded (a district's own scheme, or a tailoring of a shipped one by ``extends``), kept
    as its bytes. Its id may not be a shipped framework's; a changed file of the same id is a new row (a project
    keeps the hash it was created with, as for a shipped framework)."""

    __tablename__ = "framework_files"
    __table_args__ = (UniqueConstraint("framework_id", "hash", name="uq_framework_files_id_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(50))
    hash: Mapped[str] = mapped_column(String(100))  # the plan's content hash, as a project pins it
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    # who uploaded it (None: kept by the service itself, as from an archive imported on the command line)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)


class EvidenceFile(Base):
    """A file a school attaches to a 整改 item as 佐证材料, kept as its bytes with their SHA-256. Nothing is
    deleted: a file the school withdraws keeps its row and bytes, marked ``withdrawn_at``."""

    __tablename__ = "evidence_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    rectification_id: Mapped[int] = mapped_column(ForeignKey("rectifications.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)


class Batch(Base):
    """A batch upload (``POST /projects/{id}/batches``): its files scored in worker processes, each stored as a
    submission of the unit it names. ``state``: 排队中, 进行中 or 已完成; ``files`` holds one line per file sent
    (its name and, once done, its unit, version, total and grade, or its problems), in the order received."""

    __tablename__ = "batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    state: Mapped[str] = mapped_column(String(16))
    files: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)


class CountySubmission(Base):
    """The county's own data (县级填报) of a county (优质均衡) project: the values of the county framework's own
    indicators (政府保障程度, 教育质量, 社会认可度, 一票否决), which the schools' data cannot give. Every upload is
    kept as its bytes, numbered 1, 2, … per project; the newest one that could be read counts. ``status``: 已读取
    or 未通过 (``problems`` says why, with the place of each)."""

    __tablename__ = "county_submissions"
    __table_args__ = (
        UniqueConstraint("project_id", "version", name="uq_county_submissions_project_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16))
    problems: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)


class LoginFailure(Base):
    """A failed sign-in (API or page) for a user name, known or not, from a client address: the store's count
    for throttling password guessing (``service/throttle.py``). Rows older than the window are deleted as new
    ones are written; a successful sign-in deletes its name's rows. No password is kept."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
