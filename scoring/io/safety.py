"""Checks on untrusted files before any parser opens them: size, and for zip containers (.xlsx, .ods) the
member count, each member's declared size, the total and the compression ratio (zip bombs).

openpyxl (through zipfile) and calamine enforce the declared sizes while reading, so checking the declared
sizes is enough for them (../shared/EXCEL-NOTES.md). XML entity attacks are handled by the readers: calamine
refuses unknown entities; openpyxl uses defusedxml, which this package installs.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

MiB = 1024 * 1024


@dataclass(frozen=True)
class FileLimits:
    """Bounds for one submitted workbook; legitimate 自评表 are far below them."""

    max_file: int = 50 * MiB
    max_members: int = 2_000
    max_member: int = 50 * MiB
    max_total: int = 200 * MiB
    max_ratio: int = 200


DEFAULT_FILE_LIMITS = FileLimits()


class UnsafeFile(Exception):
    def __init__(self, zh: str, en: str):
        self.zh, self.en = zh, en
        super().__init__(en)


def check_file(path: Path, limits: FileLimits = DEFAULT_FILE_LIMITS) -> None:
    """Raise UnsafeFile if the file is too large or a zip container that would inflate beyond the limits."""
    size = path.stat().st_size
    if size > limits.max_file:
        raise UnsafeFile(
            f"文件 {size // MiB} MiB，超过 {limits.max_file // MiB} MiB 的上限",
            f"file larger than {limits.max_file // MiB} MiB",
        )
    if path.suffix.lower() not in (".xlsx", ".xlsm", ".ods"):
        return
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise UnsafeFile(
            "文件已损坏，或不是 Excel/WPS 工作簿（无法作为 zip 打开）",
            "corrupt file or not a workbook (not a zip)",
        ) from None
    if len(infos) > limits.max_members:
        raise UnsafeFile(
            f"压缩包内文件数 {len(infos)} 超过上限 {limits.max_members}，已拒绝读取", "too many zip members"
        )
    total = 0
    for info in infos:
        if info.file_size > limits.max_member:
            raise UnsafeFile(
                f"压缩包成员 {info.filename} 解压后 {info.file_size // MiB} MiB，超过上限 {limits.max_member // MiB} MiB（疑似压缩炸弹），已拒绝读取",
                f"zip member {info.filename} inflates to {info.file_size} bytes (zip bomb?)",
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > MiB and ratio > limits.max_ratio:
            raise UnsafeFile(
                f"压缩包成员 {info.filename} 的压缩比 {ratio:.0f}:1 异常（疑似压缩炸弹），已拒绝读取",
                f"zip member {info.filename} has compression ratio {ratio:.0f}:1 (zip bomb?)",
            )
        total += info.file_size
    if total > limits.max_total:
        raise UnsafeFile(
            f"解压后总大小 {total // MiB} MiB 超过上限 {limits.max_total // MiB} MiB（疑似压缩炸弹），已拒绝读取",
            f"archive inflates to {total} bytes (zip bomb?)",
        )
