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

from .export import export_path, export_project
from .importing import import_project
from .reading import Source
from .records import (
    ARCHIVE_LIMITS,
    FORMAT,
    FORMAT_VERSION,
    FRAMEWORK_MEMBER,
    MANIFEST,
    REVIEW_STATES,
    TABLES,
    ArchiveError,
    AuditRec,
    CountyRec,
    EvidenceRec,
    FrameworkRef,
    Imported,
    Manifest,
    ProjectFile,
    ProjectRec,
    RectificationRec,
    ResultRec,
    SubmissionRec,
    UnitRec,
    UserRec,
    upload_limits,
)

__all__ = [
    "ARCHIVE_LIMITS",
    "FORMAT",
    "FORMAT_VERSION",
    "FRAMEWORK_MEMBER",
    "MANIFEST",
    "REVIEW_STATES",
    "TABLES",
    "ArchiveError",
    "AuditRec",
    "CountyRec",
    "EvidenceRec",
    "FrameworkRef",
    "Imported",
    "Manifest",
    "ProjectFile",
    "ProjectRec",
    "RectificationRec",
    "ResultRec",
    "Source",
    "SubmissionRec",
    "UnitRec",
    "UserRec",
    "export_path",
    "export_project",
    "import_project",
    "upload_limits",
]
