"""Checks on untrusted files before any parser opens them: size, and for zip containers (.xlsx, .ods) the
member count, each member's declared size, the total and the compression ratio (zip bombs).

The checks run on the file's bytes, so an upload or an HTTP body is checked exactly like a file on disk; a path
is only ever read up to the size limit. openpyxl (through zipfile) and calamine enforce the declared sizes while
reading, so checking the declared sizes is enough for them (../shared/EXCEL-NOTES.md). XML entity attacks are
handled by the readers: calamine refuses unknown entities; openpyxl uses defusedxml, which this package installs.
"""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol, TypeAlias

from ..problems import Problem, SubmissionError

MiB = 1024 * 1024
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip's first local header, or the end record of an empty zip
ZIP_SUFFIXES = (".xlsx", ".xlsm", ".ods")
_CHUNK = MiB


@dataclass(frozen=True)
class FileLimits:
    """Bounds for one submitted workbook; legitimate 自评表 are far below them."""

    max_file: int = 50 * MiB
    max_members: int = 2_000
    max_member: int = 50 * MiB
    max_total: int = 200 * MiB
    max_ratio: int = 200


DEFAULT_FILE_LIMITS = FileLimits()


class BinaryReadable(Protocol):
    """Anything to read bytes from: an open file ("rb"), io.BytesIO, an upload's stream."""

    def read(self, size: int = -1, /) -> bytes: ...


FileSource: TypeAlias = str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryReadable
"""What a reader accepts: a path, the file's contents, or a binary file object."""


class UnsafeFile(Exception):
    def __init__(self, zh: str, en: str):
        self.zh, self.en = zh, en
        super().__init__(en)


def is_zip(data: bytes) -> bool:
    """Whether ``data`` is a zip container (.xlsx, .xlsm, .ods), by its first bytes: the format the readers go by."""
    return data[:4] in ZIP_MAGIC


def check_bytes(data: bytes, limits: FileLimits = DEFAULT_FILE_LIMITS) -> None:
    """Raise UnsafeFile if the contents are too large or a zip container that would inflate beyond the limits.

    Zip is recognised by content, not name, so a workbook disguised under another name is checked all the same."""
    _check_size(len(data), limits)
    if is_zip(data):
        _check_zip(io.BytesIO(data), limits)


def check_file(path: Path, limits: FileLimits = DEFAULT_FILE_LIMITS) -> None:
    """Raise UnsafeFile if the file is too large or a zip container that would inflate beyond the limits.

    For callers that hand the path itself to a parser (statistics tables); readers that take bytes use
    :func:`read_checked`, which reads the file once and checks what it read."""
    _check_size(path.stat().st_size, limits)
    if path.suffix.lower() in ZIP_SUFFIXES or _starts_as_zip(path):
        _check_zip(path, limits)


def read_checked(
    source: FileSource, file: str, limits: FileLimits = DEFAULT_FILE_LIMITS, *, code: str = "workbook-unsafe"
) -> bytes:
    """The bytes of a path, a file object or given contents, after :func:`check_bytes`; a path or a stream is read
    no further than the size limit. Refusals and I/O faults become a SubmissionError naming ``file``
    (``code`` for the refusal's problem)."""
    try:
        data = _read_bounded(source, limits)
        check_bytes(data, limits)
    except UnsafeFile as exc:
        raise SubmissionError([Problem(code, exc.zh, exc.en, file=file)]) from None
    except OSError as exc:
        raise SubmissionError(
            [Problem("io", f"无法读取文件：{exc.strerror or exc}", f"cannot read file: {exc}", file=file)]
        ) from None
    return data


def _read_bounded(source: FileSource, limits: FileLimits) -> bytes:
    """At most ``limits.max_file + 1`` bytes: one more than allowed is enough to refuse, and no more is read."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as fh:
            _check_size(os.fstat(fh.fileno()).st_size, limits)  # refuse a huge file before reading it
            return _read_at_most(fh, limits.max_file + 1)
    if callable(getattr(source, "read", None)):
        return _read_at_most(source, limits.max_file + 1)
    raise TypeError(f"expected a path, bytes or a binary file object, not {type(source).__name__}")


def _read_at_most(fh: BinaryReadable | IO[bytes], n: int) -> bytes:
    """Up to ``n`` bytes, looping because a raw stream (a socket, a pipe) may return less than asked."""
    parts: list[bytes] = []
    left = n
    while left > 0:
        part = fh.read(min(left, _CHUNK))
        if not isinstance(part, (bytes, bytearray)):
            raise TypeError("the file object must be opened in binary mode (open(path, 'rb'))")
        if not part:
            break
        parts.append(bytes(part))
        left -= len(part)
    return b"".join(parts)


def _starts_as_zip(path: Path) -> bool:
    with path.open("rb") as fh:
        return is_zip(fh.read(4))


def _check_size(size: int, limits: FileLimits) -> None:
    if size > limits.max_file:
        raise UnsafeFile(
            f"文件 {size // MiB} MiB，超过 {limits.max_file // MiB} MiB 的上限",
            f"file larger than {limits.max_file // MiB} MiB",
        )


def _check_zip(container: Path | IO[bytes], limits: FileLimits) -> None:
    """Refuse a zip whose directory declares too many members or too much inflated data (no member is inflated)."""
    try:
        with zipfile.ZipFile(container) as zf:
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
        _check_member(info, limits)
        total += info.file_size
    if total > limits.max_total:
        raise UnsafeFile(
            f"解压后总大小 {total // MiB} MiB 超过上限 {limits.max_total // MiB} MiB（疑似压缩炸弹），已拒绝读取",
            f"archive inflates to {total} bytes (zip bomb?)",
        )


def _check_member(info: zipfile.ZipInfo, limits: FileLimits) -> None:
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
