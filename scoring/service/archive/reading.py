"""Reading an archive without trusting it: opening the zip (a path, bytes or a file) and checking its directory
under ``io.safety``'s limits before anything is inflated, each member's bytes against the manifest's SHA-256, and
the members parsed into records (``_Content.read``) and checked for references, keys and values the store can hold
(``_Content.check``) — all before a row is written."""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any, TypeVar

from pydantic import ValidationError

from ...io.safety import FileLimits, UnsafeFile, check_member
from ..county_data import READ as COUNTY_READ
from ..county_data import REFUSED as COUNTY_REFUSED
from ..evidence import KINDS
from ..models import ROLES
from ..rectify import ASKED, CLOSED, OPEN, RETURNED, WORKING
from ..rounds import STATES
from .records import (
    _ADDED,
    _PROJECT_ENTITIES,
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
    Manifest,
    MiB,
    ProjectFile,
    R,
    RectificationRec,
    ResultRec,
    SubmissionRec,
    UnitRec,
)

Source = str | os.PathLike[str] | bytes | IO[bytes]


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
