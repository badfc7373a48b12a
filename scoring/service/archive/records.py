"""What an archive is made of (the format the package docstring describes): its name and version, the members,
the limits it is read under, the error that refuses it and what an import made, and one pydantic record per row
of each member, with the manifest. Both directions use them: ``export`` writes these records, ``reading`` parses
and checks them, ``importing`` writes them into a store."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

from ...io.safety import FileLimits
from ..errors import ApiError

FORMAT = "duping-scoring-project-archive"
FORMAT_VERSION = 3  # 3: county.jsonl (县级填报); 2: evidence.jsonl (佐证材料) and reviews; 1 and 2 are read
MANIFEST = "manifest.json"
FRAMEWORK_MEMBER = "framework.yaml"  # the project's framework when a 管理员 uploaded it (not shipped)
TABLES = ("units", "submissions", "results", "rectifications", "audit")  # every version has these
_ADDED = ("evidence", "county")  # the tables versions 2, 3 … added, in order
REVIEW_STATES = (None, "已通过", "已退回")
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


R = TypeVar("R", bound=_Record)

_PROJECT_ENTITIES = ("project", "demo")  # audit rows whose entity_id is the project's
