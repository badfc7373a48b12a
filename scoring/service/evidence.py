"""佐证材料: the files a school attaches to a 整改 item beside its 措施 (``Rectification.evidence``).

A file is kept as its bytes with their SHA-256 and is never deleted: withdrawing it marks ``withdrawn_at`` and
keeps row and bytes, so what a 督学 saw when deciding stays on record. Each change writes an audit row in the
same transaction (entity ``evidence`` with the file's id; the item named by its indicator in ``new``/``old``).

What may be attached is decided by the **content** (its first bytes and, for a container, its directory), never
by the name a client sent:

- PDF, PNG, JPEG — shown in the browser (``inline``);
- Word and Excel files: .docx/.xlsx (zip containers with ``[Content_Types].xml`` and ``word/`` or ``xl/``) and
  legacy .doc/.xls (OLE2 compound files with a ``WordDocument`` or ``Workbook`` stream) — always downloaded
  (``attachment``). Their containers go through ``io.safety`` first (member count, declared sizes and ratios —
  zip bombs —, each member inflated once against its entry, no DOCTYPE in XML; an OLE2 file's sector chains),
  the same checks as a 自评表 upload, although the service never opens them itself: whoever downloads one does.
- **A plain zip (or rar, 7z, …) is refused**: a bundle hides what it holds from the 督学 deciding on the item
  and from these checks; a school attaches the files themselves.

Only the unit's own school (or a 管理员) attaches and withdraws, and only while the item is being worked on
(待整改, 整改中, 退回): once it is 申请销号 or 已销号 the files are what the decision was made on. A 督学 and a
管理员 read them; another school gets 404 for everything, as for an item that does not exist.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from ..io.safety import OLE_MAGIC, FileLimits, UnsafeFile, check_bytes, is_zip
from .access import Actor
from .audit import record
from .db import lock_rows
from .errors import ApiError, not_found
from .models import EvidenceFile, Rectification, Unit, User, now
from .rectify import OPEN, RETURNED, WORKING
from .state import Service
from .uploads import size as readable

ENTITY = "evidence"
WORKABLE = (OPEN, WORKING, RETURNED)  # the item's statuses in which its files may change


@dataclass(frozen=True)
class Kind:
    """A kind of file that may be attached: its media type, the extension its name gets, whether a browser may
    show it in place (``inline``) or must download it, and how people call it."""

    media_type: str
    extension: str
    inline: bool
    label: str


PDF = Kind("application/pdf", ".pdf", True, "PDF")
PNG = Kind("image/png", ".png", True, "PNG 图片")
JPEG = Kind("image/jpeg", ".jpg", True, "JPEG 图片")
DOCX = Kind(
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx", False, "Word 文档"
)
XLSX = Kind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx", False, "Excel 表格")
DOC = Kind("application/msword", ".doc", False, "Word 97-2003 文档")
XLS = Kind("application/vnd.ms-excel", ".xls", False, "Excel 97-2003 表格")
KINDS = (PDF, PNG, JPEG, DOCX, XLSX, DOC, XLS)
EXTENSIONS = {k.extension for k in KINDS} | {".jpeg"}
ACCEPT = ",".join(sorted(EXTENSIONS))  # for a file input's ``accept``
ALLOWED_ZH = "PDF、PNG/JPEG 图片、Word（.docx/.doc）或 Excel（.xlsx/.xls）文件"


def _refused(zh: str, en: str) -> ApiError:
    return ApiError(422, "evidence-kind", f"{zh}；佐证材料只能是 {ALLOWED_ZH}", en)


def kind_of(data: bytes, limits: FileLimits) -> Kind:
    """The kind of the file by its content; 422 (in Chinese, saying what is allowed) for any other."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if is_zip(data) or data.startswith(OLE_MAGIC):
        try:
            check_bytes(data, limits)
        except UnsafeFile as unsafe:
            raise ApiError(
                422, "evidence-unsafe", f"文件未通过安全检查：{unsafe.zh}", f"unsafe file: {unsafe.en}"
            ) from None
        found = _office_zip(data) if is_zip(data) else _office_ole(data)
        if found is None:
            raise _refused(
                "压缩包（zip 等）不能作为佐证材料，请直接上传其中的文件",
                "an archive (zip) is not accepted: attach its files themselves",
            )
        return found
    raise _refused("无法识别的文件类型（按文件内容判断，与文件名无关）", "unrecognised file type")


def _office_zip(data: bytes) -> Kind | None:
    """.docx or .xlsx by their parts (the directory only: nothing is inflated here); None for any other zip."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = set(zf.namelist())
    if "[Content_Types].xml" not in names:
        return None
    if "word/document.xml" in names:
        return DOCX
    if "xl/workbook.xml" in names:
        return XLSX
    return None


def _office_ole(data: bytes) -> Kind | None:
    """.doc or .xls by the stream a compound file holds (its directory entries name them in UTF-16)."""
    if "WordDocument".encode("utf-16-le") in data:
        return DOC
    if any(n.encode("utf-16-le") + b"\0\0" in data for n in ("Workbook", "Book")):
        return XLS
    return None


_UNSAFE_CHARS = re.compile(r'[\\/:*?"<>|]+')


def clean_name(name: str | None, kind: Kind) -> str:
    """A name to show and to send back in ``Content-Disposition``: no folders, control or format characters
    (a right-to-left override that disguises ``gpj.exe`` as ``exe.jpg``), or characters Windows refuses; at most
    120 characters; ending in the extension of the kind found (a PDF sent as ``a.exe`` is ``a.exe.pdf``)."""
    text = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    text = " ".join(_UNSAFE_CHARS.sub("_", text).split()).strip(" .")
    stem, dot, ext = text.rpartition(".")
    if dot and _kind_of_extension(ext) == kind:
        extension = "." + ext.lower()
    else:
        stem, extension = text, kind.extension
    stem = stem[: 120 - len(extension)].strip(" .") or "佐证材料"
    return stem + extension


def _kind_of_extension(ext: str) -> Kind | None:
    ext = "." + ext.lower()
    return JPEG if ext == ".jpeg" else next((k for k in KINDS if k.extension == ext), None)


# ---------------------------------------------------------------------------------------------- the store


def item_of(session: Session, unit: Unit, item_id: int) -> Rectification:
    """The unit's item (the caller reached ``unit`` through its scoped query), or 404."""
    found = session.scalars(
        select(Rectification).where(Rectification.unit_id == unit.id, Rectification.id == item_id)
    ).first()
    if found is None:
        raise not_found(f"整改事项 {item_id}", f"rectification item {item_id}")
    return found


def _workable(item: Rectification) -> None:
    if item.status not in WORKABLE:
        raise ApiError(
            409,
            "evidence-locked",
            f"整改事项当前为 “{item.status}”：佐证材料只能在 待整改、整改中 或 退回 时添加或撤回",
            f"the item is {item.status}: evidence may change only while it is being worked on",
        )


def attach(
    svc: Service,
    actor: Actor,
    project_id: int,
    code: str,
    item_id: int,
    data: bytes,
    filename: str | None,
    reason: str | None = None,
) -> EvidenceFile:
    """Keep ``data`` as a file of the item: checked (who, the item's status, size, count, kind), stored with its
    SHA-256, audited. The row is returned detached, without its bytes loaded."""
    limits = svc.settings.limits
    with svc.transaction() as session:
        unit = actor.unit(session, project_id, code)
        item = item_of(session, unit, item_id)
        actor.require("evidence-attach")
        _workable(item)
        if not data:
            raise ApiError(422, "upload-missing", "文件是空的，请选择要上传的佐证材料", "the file is empty")
        if len(data) > limits.max_upload:
            raise ApiError(
                413,
                "too-large",
                f"文件太大：超过 {readable(limits.max_upload)} 的上限，已拒绝",
                f"file too large: over the {readable(limits.max_upload)} limit",
            )
        kind = kind_of(data, FileLimits(max_file=limits.max_upload))
        # one attach at a time per item counts the files
        lock_rows(session, select(Rectification.id).where(Rectification.id == item.id))
        count = session.scalar(
            select(func.count(EvidenceFile.id)).where(EvidenceFile.rectification_id == item.id)
        )
        if (count or 0) >= limits.max_evidence:
            raise ApiError(
                409,
                "too-many-files",
                f"该整改事项已有 {count} 个佐证材料（含已撤回的，均保留），达到 {limits.max_evidence} 个的上限：已拒绝",
                f"the item has {count} files (withdrawn ones included), the limit; refused",
            )
        row = EvidenceFile(
            rectification_id=item.id,
            filename=clean_name(filename, kind),
            media_type=kind.media_type,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            content=data,
            uploaded_by=actor.id,
        )
        session.add(row)
        session.flush()
        # the item by its indicator, not its id: ids change when a project is archived and imported
        fields = {
            "indicator": item.indicator,
            "filename": row.filename,
            "sha256": row.sha256,
            "size": row.size,
        }
        record(session, actor.id, "attach", ENTITY, row.id, new=fields, reason=reason)
        session.flush()
        session.expunge(row)
    return row


def withdraw(
    svc: Service,
    actor: Actor,
    project_id: int,
    code: str,
    item_id: int,
    file_id: int,
    reason: str | None = None,
) -> EvidenceFile:
    """Mark the file withdrawn (row and bytes kept), audited; withdrawing one already withdrawn changes nothing."""
    with svc.transaction() as session:
        unit = actor.unit(session, project_id, code)
        item = item_of(session, unit, item_id)
        row = _file(session, item, file_id)
        actor.require("evidence-attach")
        _workable(item)
        if row.withdrawn_at is None:
            row.withdrawn_at = now()
            record(
                session,
                actor.id,
                "withdraw",
                ENTITY,
                row.id,
                old={"indicator": item.indicator, "filename": row.filename, "withdrawn_at": None},
                new={"indicator": item.indicator, "withdrawn_at": row.withdrawn_at.isoformat()},
                reason=reason,
            )
        session.flush()
        session.expunge(row)
    return row


def _file(session: Session, item: Rectification, file_id: int, content: bool = False) -> EvidenceFile:
    query = select(EvidenceFile).where(EvidenceFile.rectification_id == item.id, EvidenceFile.id == file_id)
    if not content:
        query = query.options(defer(EvidenceFile.content))
    found = session.scalars(query).first()
    if found is None:
        raise not_found(f"佐证材料 {file_id}", f"evidence file {file_id}")
    return found


@dataclass
class Listed:
    """A file as lists show it: the row (without its bytes) and who attached it."""

    row: EvidenceFile
    by: str

    @property
    def kind(self) -> Kind | None:
        return next((k for k in KINDS if k.media_type == self.row.media_type), None)

    @property
    def size_text(self) -> str:
        size = self.row.size
        return f"{size / (1024 * 1024):.1f} MB" if size >= 1024 * 1024 else f"{max(1, round(size / 1024))} KB"


def files_of(session: Session, item_ids: list[int]) -> dict[int, list[Listed]]:
    """The files of these items (reached through a scoped unit), oldest first, without their bytes."""
    out: dict[int, list[Listed]] = {i: [] for i in item_ids}
    if not item_ids:
        return out
    rows = session.execute(
        select(EvidenceFile, User.name)
        .options(defer(EvidenceFile.content))
        .outerjoin(User, User.id == EvidenceFile.uploaded_by)
        .where(EvidenceFile.rectification_id.in_(item_ids))
        .order_by(EvidenceFile.id)
    ).all()
    for row, by in rows:
        out[row.rectification_id].append(Listed(row, by or ""))
    return out


def listing(svc: Service, actor: Actor, project_id: int, code: str, item_id: int) -> list[Listed]:
    with svc.sessions() as session:
        unit = actor.unit(session, project_id, code)
        item = item_of(session, unit, item_id)
        return files_of(session, [item.id])[item.id]


def read(svc: Service, actor: Actor, project_id: int, code: str, item_id: int, file_id: int) -> EvidenceFile:
    """The file with its bytes (a withdrawn one too: it stays on record), through the caller's scoped unit."""
    with svc.sessions() as session:
        unit = actor.unit(session, project_id, code)
        row = _file(session, item_of(session, unit, item_id), file_id, content=True)
        session.expunge(row)
    return row


def disposition(row: EvidenceFile) -> dict[str, str]:
    """The headers a download is sent with: ``inline`` only for what a browser shows itself (PDF, images: the
    media type is the one found from the content), ``attachment`` for anything else; the name as
    RFC 5987 ``filename*`` (UTF-8) with an ASCII ``filename`` for old clients; never sniffed."""
    from urllib.parse import quote

    inline = any(k.inline and k.media_type == row.media_type for k in KINDS)
    ascii_name = row.filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return {
        "Content-Disposition": (
            f'{"inline" if inline else "attachment"}; filename="{ascii_name}"; '
            f"filename*=UTF-8''{quote(row.filename, safe='')}"
        ),
        "X-Content-Type-Options": "nosniff",
        "X-Content-SHA256": row.sha256,
        "Cache-Control": "no-store",
    }
