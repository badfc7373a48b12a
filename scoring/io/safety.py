"""Checks on untrusted files before any parser opens them: size, and for zip containers (.xlsx, .ods) the
member count, each member's declared size, the total and the compression ratio (zip bombs); then every member
is inflated once, in bounded chunks, to hold it to its directory entry and to look at the start of its XML.

The checks run on the file's bytes, so an upload or an HTTP body is checked exactly like a file on disk; a path
is only ever read up to the size limit. Inflating each member (stored or deflated, the only methods Excel, WPS and
LibreOffice write) stops at one byte past its declared size, and a member must inflate to exactly that size with
the CRC its entry declares: a zip that lies about a size is refused here with the member's name, not by a
parser halfway through it. An XML member may not declare a DOCTYPE (or any ``<!`` declaration) before its root
element: no workbook needs one, and external entities (XXE), internal entities and entity expansion ("billion
laughs") all live there — so they are refused before calamine, openpyxl or defusedxml see them, with the member,
its sheet and the line and column of the declaration.

calamine turns a sheet into one dense grid from A1 to its last cell, and trusts the numbers a legacy .xls gives:
one cell at XFD1048576, a DIMENSIONS record declaring four billion rows, or a chain of sectors that loops made it
abort the whole process or read for ever. So a worksheet's cells are counted while its member is inflated, and an
.xls (an OLE2 compound file) has its header, every sector chain and each sheet's declared and real extent checked
in pure Python first; a sheet's area is bounded by ``FileLimits.max_cells``.
"""

from __future__ import annotations

import codecs
import functools
import html
import io
import os
import posixpath
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol, TypeAlias

from ..problems import Problem, SubmissionError

MiB = 1024 * 1024
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip's first local header, or the end record of an empty zip
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the compound file that holds a legacy .xls
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
    max_cells: int = 1_000_000  # a sheet's used area from A1 (rows × columns): the 自评表 has a few hundred


DEFAULT_FILE_LIMITS = FileLimits()


class BinaryReadable(Protocol):
    """Anything to read bytes from: an open file ("rb"), io.BytesIO, an upload's stream."""

    def read(self, size: int = -1, /) -> bytes: ...


FileSource: TypeAlias = str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryReadable
"""What a reader accepts: a path, the file's contents, or a binary file object."""


class UnsafeFile(Exception):
    """A refusal: the Chinese and English reason, and where in the file (a zip member, its sheet) if known."""

    def __init__(self, zh: str, en: str, place: str | None = None):
        self.zh, self.en, self.place = zh, en, place
        super().__init__(en)


def is_zip(data: bytes) -> bool:
    """Whether ``data`` is a zip container (.xlsx, .xlsm, .ods), by its first bytes: the format the readers go by."""
    return data[:4] in ZIP_MAGIC


def check_bytes(data: bytes, limits: FileLimits = DEFAULT_FILE_LIMITS) -> None:
    """Raise UnsafeFile if the contents are too large or a zip container that would inflate beyond the limits.

    Zip is recognised by content, not name, so a workbook disguised under another name is checked all the same."""
    check_size(len(data), limits)
    if is_zip(data):
        _check_zip(io.BytesIO(data), limits)
    elif data.startswith(OLE_MAGIC):
        _check_ole(data, limits)


def check_file(path: Path, limits: FileLimits = DEFAULT_FILE_LIMITS) -> None:
    """Raise UnsafeFile if the file is too large or a zip container that would inflate beyond the limits.

    For callers that hand the path itself to a parser (statistics tables); readers that take bytes use
    :func:`read_checked`, which reads the file once and checks what it read."""
    check_size(path.stat().st_size, limits)
    if path.suffix.lower() in ZIP_SUFFIXES or _starts_as_zip(path):
        _check_zip(path, limits)
    elif _starts_with(path, OLE_MAGIC):
        _check_ole(path.read_bytes(), limits)  # within the size limit, checked above


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
        raise SubmissionError([Problem(code, exc.zh, exc.en, file=file, cell=exc.place)]) from None
    except IsADirectoryError:
        raise SubmissionError(
            [Problem("io", "这是一个文件夹，不是文件", "this is a folder, not a file", file=file)]
        ) from None
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
            check_size(os.fstat(fh.fileno()).st_size, limits)  # refuse a huge file before reading it
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


def _starts_with(path: Path, magic: bytes) -> bool:
    with path.open("rb") as fh:
        return fh.read(len(magic)) == magic


def check_size(size: int, limits: FileLimits) -> None:
    """UnsafeFile for a file (or anything held whole in memory: an upload, an archive) past the size limit."""
    if size > limits.max_file:
        raise UnsafeFile(
            f"文件 {size // MiB} MiB，超过 {limits.max_file // MiB} MiB 的上限",
            f"file larger than {limits.max_file // MiB} MiB",
        )


def _check_zip(container: Path | IO[bytes], limits: FileLimits) -> None:
    """Refuse a zip whose directory declares too many members or too much inflated data (no member is inflated
    before that), then one whose members do not inflate to what the directory declares, or whose XML declares a
    DOCTYPE (:func:`_check_members`)."""
    try:
        with zipfile.ZipFile(container) as zf:
            infos = zf.infolist()
    except (
        Exception
    ):  # zipfile raises BadZipFile, NotImplementedError, struct.error, EOFError … on a bad directory
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
        check_member(info, limits)
        total += info.file_size
    if total > limits.max_total:
        raise UnsafeFile(
            f"解压后总大小 {total // MiB} MiB 超过上限 {limits.max_total // MiB} MiB（疑似压缩炸弹），已拒绝读取",
            f"archive inflates to {total} bytes (zip bomb?)",
        )
    if isinstance(container, Path):
        with container.open("rb") as fh:
            _check_members(fh, infos, limits)
    else:
        _check_members(container, infos, limits)


def check_member(info: zipfile.ZipInfo, limits: FileLimits) -> None:
    """UnsafeFile for a zip member that declares more than a member may hold, or inflates past the ratio a zip
    bomb has (the project archive checks its members with it too)."""
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


# ------------------------------------------------------------------------------------- inflating each member

_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature … file name length, extra field length (30 bytes)


def _check_members(fh: IO[bytes], infos: list[zipfile.ZipInfo], limits: FileLimits) -> None:
    """Inflate every member once, in bounded chunks: refuse an encrypted member, a compression method no
    workbook uses, a size or CRC other than declared, and an XML member that declares a DOCTYPE."""
    for info in infos:
        if info.is_dir():
            continue
        name = info.filename
        if info.flag_bits & 0x1:
            raise UnsafeFile(
                f"压缩包成员 {name} 已加密：请去掉工作簿的打开密码后再提交",
                f"zip member {name} is encrypted: remove the workbook's password",
                _member_place(fh, infos, name),
            )
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise UnsafeFile(
                f"压缩包成员 {name} 使用了工作簿不会使用的压缩方式（{info.compress_type}）：请在 Excel 或 WPS 中另存后再提交",
                f"zip member {name} uses compression method {info.compress_type}, which no workbook uses",
                _member_place(fh, infos, name),
            )
        member = _Member(info, limits)
        try:
            member.inflate(fh)
        except (zlib.error, struct.error, OSError, ValueError):
            member.fault = member.fault or "corrupt"
        if member.fault is not None:
            raise _member_fault(member, _member_place(fh, infos, name))
        if member.prolog.declaration is not None:
            line, column = member.prolog.declaration
            place = _member_place(fh, infos, name, line, column)
            raise UnsafeFile(
                f"压缩包成员 {name} 含有 DOCTYPE 声明（第 {line} 行第 {column} 列）：Excel、WPS 保存的工作簿不会有，"
                "它可用于外部实体（XXE）或实体展开（“十亿笑”）攻击，已拒绝读取",
                f"zip member {name} declares a DOCTYPE (line {line}, column {column}): no saved workbook has one, "
                "and it can carry external entities (XXE) or entity expansion (billion laughs); refused",
                place,
            )
        if member.cells.area > limits.max_cells:
            raise _too_many_cells(member.cells, limits, _member_place(fh, infos, name))


class _Member:
    """One member inflated in chunks of at most 1 MiB: its size, CRC and XML prolog as they really are."""

    def __init__(self, info: zipfile.ZipInfo, limits: FileLimits):
        self.info = info
        self.size = 0
        self.crc = 0
        self.fault: str | None = None  # "truncated", "larger", "smaller", "crc", "corrupt"
        self.prolog = _Prolog()
        self.cells = _Cells()
        self.xml = info.filename.lower().endswith(".xml")

    def inflate(self, fh: IO[bytes]) -> None:
        info = self.info
        fh.seek(info.header_offset)
        head = fh.read(_LOCAL_HEADER.size)
        if len(head) < _LOCAL_HEADER.size or head[:4] != b"PK\x03\x04":
            self.fault = "corrupt"
            return
        _, name_len, extra_len = _LOCAL_HEADER.unpack(head)
        fh.seek(info.header_offset + _LOCAL_HEADER.size + name_len + extra_len)
        inflater = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
        left = info.compress_size
        while left > 0 and self.fault is None:
            chunk = fh.read(min(left, _CHUNK))
            if not chunk:
                self.fault = "truncated"
                return
            left -= len(chunk)
            if inflater is None:
                self.take(chunk)
                continue
            while chunk and self.fault is None and not inflater.eof:
                self.take(inflater.decompress(chunk, _CHUNK))
                chunk = inflater.unconsumed_tail
        if self.fault is None and inflater is not None:
            if not inflater.eof:
                self.take(inflater.flush())
            if not inflater.eof:
                self.fault = "truncated"
        if self.fault is None:
            self.prolog.close()
            if self.size != info.file_size:
                self.fault = "smaller"
            elif self.crc != info.CRC:
                self.fault = "crc"

    def take(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.info.file_size:
            self.fault = "larger"
            return
        self.crc = zlib.crc32(data, self.crc)
        self.prolog.feed(data)
        if self.xml:
            self.cells.feed(data)


def _member_fault(member: _Member, place: str | None) -> UnsafeFile:
    name, declared = member.info.filename, member.info.file_size
    if member.fault in ("larger", "smaller"):
        more = "大于" if member.fault == "larger" else "小于"
        return UnsafeFile(
            f"压缩包成员 {name} 解压后{more}目录中声明的大小（{declared} 字节）：文件已损坏或被篡改，已拒绝读取",
            f"zip member {name} inflates to {'more' if member.fault == 'larger' else 'less'} than the "
            f"{declared} bytes its entry declares: the file is corrupt or was tampered with; refused",
            place,
        )
    return UnsafeFile(
        f"压缩包成员 {name} 已损坏（{'校验和不符' if member.fault == 'crc' else '数据不完整或无法解压'}）："
        "请重新导出或另存工作簿后再提交",
        f"zip member {name} is corrupt ({'CRC mismatch' if member.fault == 'crc' else 'truncated or not inflatable'})"
        ": export or save the workbook again",
        place,
    )


class _Prolog:
    """The start of a member up to its root element, fed in chunks: where a ``<!`` declaration (a DOCTYPE)
    stands, if one comes before it. Text that does not start with ``<`` is no XML and ends the look at once;
    the markup is ASCII, so UTF-8 is read as Latin-1 (exact for it, and never failing), UTF-16/32 by their marks."""

    def __init__(self) -> None:
        self.head = b""
        self.decoder: codecs.IncrementalDecoder | None = None
        self.text = ""
        self.until = ""  # the end of the processing instruction or comment being skipped
        self.line, self.column = 1, 0  # of the start of self.text (column: characters before it on its line)
        self.done = False
        self.declaration: tuple[int, int] | None = None

    def feed(self, data: bytes) -> None:
        if self.done:
            return
        if self.decoder is None:
            self.head += data
            if len(self.head) < 4:
                return
            self.decoder = codecs.getincrementaldecoder(_xml_encoding(self.head))(errors="replace")
            data, self.head = self.head, b""
        self.text += self.decoder.decode(data)
        self.scan()

    def close(self) -> None:
        if not self.done and self.decoder is None and self.head:
            self.decoder = codecs.getincrementaldecoder("latin-1")()
            self.text += self.decoder.decode(self.head, final=True)
            self.scan()
        self.done = True

    def consume(self, n: int) -> None:
        part = self.text[:n]
        newlines = part.count("\n")
        if newlines:
            self.line += newlines
            self.column = n - part.rfind("\n") - 1
        else:
            self.column += n
        self.text = self.text[n:]

    def scan(self) -> None:
        while not self.done:
            if self.until:
                end = self.text.find(self.until)
                if end < 0:
                    self.consume(max(0, len(self.text) - len(self.until) + 1))
                    return
                self.consume(end + len(self.until))
                self.until = ""
                continue
            self.consume(len(self.text) - len(self.text.lstrip(" \t\r\n\ufeff")))
            text = self.text
            if not text or (len(text) < 4 and ("<!--".startswith(text) or "<?".startswith(text))):
                return  # more is needed to tell
            if text.startswith("<?"):
                self.consume(2)
                self.until = "?>"
            elif text.startswith("<!--"):
                self.consume(4)
                self.until = "-->"
            else:
                if text.startswith("<!"):
                    self.declaration = (self.line, self.column + 1)
                self.done = True  # the root element, a declaration, or no XML at all


def _xml_encoding(head: bytes) -> str:
    """The codec to read an XML text's markup with, from its first four bytes (XML 1.0 appendix F)."""
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)) or head in (b"<\0\0\0", b"\0\0\0<"):
        return "utf-32-le" if head[:1] in (b"\xff", b"<") else "utf-32-be"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8"  # its BOM decodes to U+FEFF, which the scan skips
    if head[:2] == b"<\0":
        return "utf-16-le"
    if head[:2] == b"\0<":
        return "utf-16-be"
    return "latin-1"


class _Cells:
    """The extent of the cells of a worksheet's XML, fed in chunks: the last row and column any ``<c>`` stands
    in (by its ``r``, or after the cell before it). calamine makes a sheet one dense grid from A1 to its last
    cell, so one cell at XFD1048576 would ask for 17 billion: the area is bounded before it opens the file."""

    _TAG = re.compile(rb"<(?:[\w.-]+:)?(row|c)(?=[\s/>])([^<>]*)>")
    _R = re.compile(rb"(?<![\w:.-])r\s*=\s*[\"']([^\"']*)[\"']")
    _REF = re.compile(r"\$?([A-Z]+)\$?([0-9]+)$")

    def __init__(self) -> None:
        self.rest = b""
        self.row = self.col = 0
        self.rows = self.cols = 0  # the largest row and column of a cell (1-based)

    @property
    def area(self) -> int:
        return self.rows * self.cols

    def feed(self, data: bytes) -> None:
        data = self.rest + data
        cut = data.rfind(b"<")
        if cut >= 0 and data.find(b">", cut) < 0:
            data, self.rest = data[:cut], data[cut:]
        else:
            self.rest = b""
        if b"<" not in data:
            return
        cells = self._CELL.findall(data)  # the attributes of each tag _TAG finds as a cell
        if cells and self._plain_cells(cells):
            last = self._LAST_CELL.match(data)
            assert last is not None  # there are cells
            self._walk(self._TAG.findall(data, last.end()))  # the rows after the last cell
        elif cells or b"row" in data:  # else there is no tag to walk (a theme, the styles)
            self._walk(self._TAG.findall(data))

    def _walk(self, tags: list[tuple[bytes, bytes]]) -> None:
        """The tags one by one: a row or cell however it names its place (or does not)."""
        row, col, rows, cols = self.row, self.col, self.rows, self.cols
        plain, find_r = self._PLAIN.fullmatch, self._R.findall
        for kind, attrs in tags:
            given = find_r(attrs)
            if kind == b"row":
                row, col = self._row(given, row), 0
                continue
            m = plain(given[0]) if len(given) == 1 else None
            if m is not None:  # the common case: one r="F12"
                row, col = int(m[2]), _column_number(m[1].decode())
            else:
                row, col = self._cell(given, row, col)
            rows, cols = max(rows, row), max(cols, col)
        self.row, self.col, self.rows, self.cols = row, col, rows, cols

    _PLAIN = re.compile(rb"([A-Z]{1,3})([0-9]{1,7})")
    # the cells' attributes joined by "<" (which no attribute text holds): each one opens with r="F12" and has no
    # other letter r where _R could start (any other r follows a letter, digit, _ : . or -, as in t="str"), so
    # the r= that _R finds in it is that one and only that one
    _ALL_PLAIN = re.compile(rb'(?:<\s+r="[A-Z]{1,3}[0-9]{1,7}"[^<r]*(?:(?<=[\w:.-])r[^<r]*)*)*')
    _LEAD = re.compile(rb'<\s+r="([A-Z]{1,3})([0-9]{1,7})"')
    _CELL = re.compile(rb"<(?:[\w.-]+:)?c(?=[\s/>])([^<>]*)>")  # exactly the cells among _TAG's tags
    _LAST_CELL = re.compile(rb"(?s).*<(?:[\w.-]+:)?c(?=[\s/>])[^<>]*>")  # up to the end of the last cell

    def _plain_cells(self, cells: list[bytes]) -> bool:
        """The quick path for the usual sheet, where every cell is named once by a plain ``r="F12"`` first among
        its attributes (``cells``: their attribute texts): the extent and the place of the last cell from all of
        them at once, exactly as :meth:`_walk` would take them (a cell with its own reference takes no place from
        the row or cell before it), and True; False, nothing taken, when any cell names its place another way."""
        blob = b"<" + b"<".join(cells)
        if self._ALL_PLAIN.fullmatch(blob) is None:
            return False
        refs = self._LEAD.findall(blob)
        letters = {c for c, _ in refs}
        self.rows = max(self.rows, max(map(int, {r for _, r in refs})))
        self.cols = max(self.cols, max(_column_number(c.decode()) for c in letters))
        self.row, self.col = int(refs[-1][1]), _column_number(refs[-1][0].decode())
        return True

    @staticmethod
    def _texts(given: list[bytes]) -> list[str]:
        """Every r= of a tag, unescaped and in upper case: a parser may take any of them."""
        return [html.unescape(v.decode("latin-1")).strip().upper() for v in given]

    def _row(self, given: list[bytes], row: int) -> int:
        numbers = [_bounded_int(v) for v in self._texts(given) if v.isascii() and v.isdigit()]
        return max(numbers) if numbers else row + 1

    def _cell(self, given: list[bytes], row: int, col: int) -> tuple[int, int]:
        refs = [m for m in map(self._REF.match, self._texts(given)) if m]
        if not refs:
            return row, col + 1  # placed after the cell before it
        return max(_bounded_int(m[2]) for m in refs), max(_column_number(m[1]) for m in refs)


def _bounded_int(digits: str) -> int:
    """A row number as written; one too long to matter (or to convert) counts as very far."""
    return int(digits) if len(digits) <= 18 else 10**18


@functools.lru_cache(maxsize=1024)
def _column_number(letters: str) -> int:
    n = 0
    for ch in letters[:14]:  # more letters than that is farther than any limit
        n = n * 26 + ord(ch) - 64
    return n if len(letters) <= 14 else 10**18


def _column_letters(n: int) -> str:
    out = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out or "A"


def _too_many_cells(cells: _Cells, limits: FileLimits, place: str | None) -> UnsafeFile:
    far = f"{_column_letters(cells.cols)}{cells.rows}"
    return UnsafeFile(
        f"工作表的使用区域 A1:{far} 有 {cells.rows:,} 行 × {cells.cols:,} 列，超过 {limits.max_cells:,} 个单元格的上限："
        f"请删除远处单元格（如 {far}）中的内容后再提交",
        f"the sheet's used area A1:{far} ({cells.rows:,} rows × {cells.cols:,} columns) is over the limit of "
        f"{limits.max_cells:,} cells: clear the far cells (such as {far})",
        place,
    )


# ------------------------------------------------------------------------------------- a legacy .xls (OLE2)

_END, _RESERVED = 0xFFFFFFFE, 0xFFFFFFFA  # end of a chain; sector numbers from here on are markers
_WORKBOOK_STREAMS = ("Workbook", "Book", "WORKBOOK", "BOOK")  # what calamine looks for, in its order
# BIFF records that hold one cell (row, column first), and the two that hold a run of cells in a row
_CELL_RECORDS = frozenset((0x0006, 0x00D6, 0x00FD, 0x0201, 0x0203, 0x0204, 0x0205, 0x027E))
_MULTI_CELL_RECORDS = frozenset((0x00BD, 0x00BE))


class _BadOle(Exception):
    def __init__(self, what_zh: str, what_en: str):
        self.zh, self.en = what_zh, what_en


def _check_ole(data: bytes, limits: FileLimits) -> None:
    """A legacy .xls is a compound file (a little FAT file system) holding a BIFF stream. calamine trusts its
    numbers: a length in the header sizes an allocation, a chain of sectors that loops is followed forever, a
    sheet's DIMENSIONS record reserves rows × columns cells — each aborts the process or never ends. So the
    header, every sector chain (it must end, without loops, within the file) and the workbook stream's sheets
    (their declared and their real extent) are checked first, in pure Python, within the file's size."""
    try:
        stream = _OleFile(data).workbook()
        sheets = _biff_extents(stream) if stream is not None else []
    except _BadOle as bad:
        raise UnsafeFile(
            f"文件已损坏：.xls 文件的结构异常（{bad.zh}），已拒绝读取；请在 Excel 或 WPS 中打开后另存再提交",
            f"corrupt file: the .xls structure is broken ({bad.en}); refused — open and save it again in Excel or WPS",
        ) from None
    except (struct.error, IndexError, ValueError):
        raise UnsafeFile(
            "文件已损坏：.xls 文件的结构异常（数据不完整），已拒绝读取；请在 Excel 或 WPS 中打开后另存再提交",
            "corrupt file: the .xls structure is broken (truncated); refused",
        ) from None
    for name, rows, cols, declared in sheets:
        if rows * cols > limits.max_cells:
            cells = _Cells()
            cells.rows, cells.cols = rows, cols
            problem = _too_many_cells(cells, limits, name)
            if declared:
                problem = UnsafeFile(
                    f"工作表 “{name}” 声明的使用区域（DIMENSIONS 记录）有 {rows:,} 行 × {cols:,} 列，超过 "
                    f"{limits.max_cells:,} 个单元格的上限：文件已损坏或是伪造的，已拒绝读取",
                    f"sheet '{name}' declares a used area (DIMENSIONS) of {rows:,} rows × {cols:,} columns, over the "
                    f"limit of {limits.max_cells:,} cells: the file is corrupt or forged; refused",
                    name,
                )
            raise problem


class _OleFile:
    """The parts of a compound file calamine and xlrd read, each checked as it is read."""

    def __init__(self, data: bytes):
        if len(data) < 512:
            raise _BadOle("文件头不完整", "truncated header")
        self.data = data
        shift, mini_shift = struct.unpack_from("<HH", data, 30)
        if shift not in (9, 12) or mini_shift != 6:
            raise _BadOle(f"扇区大小 2^{shift}/2^{mini_shift} 无效", f"sector shifts {shift}/{mini_shift}")
        self.size = 1 << shift
        self.count = len(data) // self.size - 1  # sectors after the header (which takes one sector)
        fats, self.dir_start, _, cutoff, mini_start, minis, difat_start, difats = struct.unpack_from(
            "<8I", data, 44
        )
        # calamine takes the DIFAT length from bytes 62..66 (overlapping two fields) to size a vector
        (misread,) = struct.unpack_from("<I", data, 62)
        if max(fats, minis, difats) > self.count or misread > 1 << 26 or cutoff != 4096:
            raise _BadOle("文件头中的数量与文件大小不符", "header counts do not fit the file")
        self.fat = self.load_fat(difat_start)
        self.mini_start, self.minis = mini_start, minis

    def sector(self, sid: int) -> bytes:
        if sid >= self.count:
            raise _BadOle(f"扇区 {sid} 超出文件范围", f"sector {sid} beyond the file")
        start = (sid + 1) * self.size
        return self.data[start : start + self.size]

    def load_fat(self, difat_start: int) -> list[int]:
        difat = list(struct.unpack_from("<109I", self.data, 76))
        seen: set[int] = set()
        sid = difat_start
        while sid < _RESERVED:
            if sid in seen or len(seen) > self.count:
                raise _BadOle("DIFAT 扇区链循环", "the DIFAT chain loops")
            seen.add(sid)
            entries = struct.unpack(f"<{self.size // 4}I", self.sector(sid))
            difat += entries[:-1]
            sid = entries[-1]
        fat: list[int] = []
        for sid in difat:
            if sid < 0xFFFFFFFC:
                fat += struct.unpack(f"<{self.size // 4}I", self.sector(sid))
        return fat

    def chain(self, start: int, table: list[int], limit: int) -> list[int]:
        """The sectors of a chain: each within ``limit``, none twice, ending with the end marker."""
        out: list[int] = []
        seen: set[int] = set()
        sid = start
        while sid != _END:
            if sid >= limit or sid >= len(table) or sid in seen:
                raise _BadOle("扇区链越界或循环", "a sector chain leaves the file or loops")
            seen.add(sid)
            out.append(sid)
            sid = table[sid]
        return out

    def read(self, start: int, length: int) -> bytes:
        return b"".join(self.sector(s) for s in self.chain(start, self.fat, self.count))[:length]

    def workbook(self) -> bytes | None:
        """The BIFF stream, after checking the chain of every stream in the directory (xlrd matches names
        without case, calamine with it: whichever is read, it ends)."""
        directory = self.read(self.dir_start, len(self.data))
        entries = [directory[i : i + 128] for i in range(0, len(directory) - 127, 128)]
        if not entries:
            raise _BadOle("目录为空", "empty directory")
        root_start, root_size = _entry(entries[0], self.size)
        mini_fat: list[int] = []
        ministream = b""
        if self.minis:
            ministream = self.read(root_start, root_size)
            raw = self.read(self.mini_start, self.minis * self.size)
            mini_fat = list(struct.unpack(f"<{len(raw) // 4}I", raw[: len(raw) // 4 * 4]))
        streams: dict[str, bytes] = {}
        for entry in entries[1:]:
            if entry[66] != 2:  # not a stream
                continue
            start, size = _entry(entry, self.size)
            if size == 0:
                continue
            if size < 4096:
                sectors = self.chain(start, mini_fat, len(ministream) // 64)
                data = b"".join(ministream[s * 64 : s * 64 + 64] for s in sectors)[:size]
            else:
                data = self.read(start, size)
            streams.setdefault(_entry_name(entry), data)
        return next((streams[n] for n in _WORKBOOK_STREAMS if n in streams), None)


def _entry(entry: bytes, sector_size: int) -> tuple[int, int]:
    """A directory entry's first sector and size (a 64-bit size in version 4 files)."""
    (start,) = struct.unpack_from("<I", entry, 116)
    (size,) = struct.unpack_from("<Q" if sector_size == 4096 else "<I", entry, 120)
    return start, size


def _entry_name(entry: bytes) -> str:
    name = entry[:64].decode("utf-16-le", errors="replace")
    return name.split("\0", 1)[0]


_MAX_SHEETS = 256  # a 自评表 workbook has three; each sheet is walked once


def _biff_extents(stream: bytes) -> list[tuple[str, int, int, bool]]:
    """Each sheet's extent as calamine would allocate it: (name, rows, columns, whether declared by its
    DIMENSIONS record rather than found from its cells). Like calamine, the workbook globals are read from the
    start and each sheet from the offset its BoundSheet8 record gives, up to its EOF."""
    names: dict[int, str] = {}
    _walk(stream, 0, names)
    if len(names) > _MAX_SHEETS:
        raise _BadOle(f"工作表多达 {len(names)} 个", f"{len(names)} sheets")
    out: list[tuple[str, int, int, bool]] = []
    for offset, name in names.items():
        out += _walk(stream, offset, {}, name)  # a BoundSheet8 in a sheet names nothing calamine reads
    return out


def _walk(
    stream: bytes, pos: int, names: dict[int, str], sheet: str = ""
) -> list[tuple[str, int, int, bool]]:
    """The records of one substream from ``pos`` to its EOF (nested substreams, such as a chart, included):
    the sheets it names (into ``names``) and its extents."""
    out: list[tuple[str, int, int, bool]] = []
    rows = cols = depth = 0
    first = True
    while pos + 4 <= len(stream):
        typ, length = struct.unpack_from("<HH", stream, pos)
        body = stream[pos + 4 : pos + 4 + length]
        pos += 4 + length
        if typ == 0x0809:  # BOF
            depth += 0 if first else 1
            first = False
        elif typ == 0x000A:  # EOF
            if depth == 0:
                break
            depth -= 1
        elif typ == 0x0085 and len(body) >= 8:  # BoundSheet8: where a sheet's substream starts, and its name
            (offset,) = struct.unpack_from("<I", body)
            names.setdefault(offset, _short_string(body[6:]))
        elif typ == 0x0200 and len(body) in (10, 14):  # Dimensions: calamine reserves its area
            out.append((sheet, *_dimensions(body), True))
        elif typ in _CELL_RECORDS and len(body) >= 4:
            row, col = struct.unpack_from("<HH", body)
            rows, cols = max(rows, row + 1), max(cols, col + 1)
        elif typ in _MULTI_CELL_RECORDS and len(body) >= 6:
            (row,) = struct.unpack_from("<H", body)
            (last,) = struct.unpack_from("<H", body, len(body) - 2)
            rows, cols = max(rows, row + 1), max(cols, last + 1)
    if rows or cols:
        out.append((sheet, rows, cols, False))
    return out


def _dimensions(body: bytes) -> tuple[int, int]:
    """The rows and columns calamine reserves for a Dimensions record (its u32 arithmetic wraps)."""
    if len(body) == 10:
        first, last, first_col, last_col = struct.unpack_from("<4H", body)
    else:
        first, last, first_col, last_col = struct.unpack_from("<IIHH", body)
    if first_col > 0xFF or last_col < first_col:
        first_col = 0
    if last < 1 or last_col < 1:
        return 1, 1
    return (last - first) % (1 << 32), (last_col - first_col) % (1 << 32)


def _short_string(raw: bytes) -> str:
    """A BIFF8 ShortXLUnicodeString (a sheet's name), leniently."""
    if len(raw) < 2:
        return "?"
    count, flags = raw[0], raw[1]
    text = (
        raw[2 : 2 + count * 2].decode("utf-16-le", "replace")
        if flags & 1
        else raw[2 : 2 + count].decode("latin-1")
    )
    return text or "?"


# ------------------------------------------------------------------------------------- naming a member's sheet

_ATTR = re.compile(r'([\w:]+)\s*=\s*(?:"([^"]*)"|\'([^\']*)\')')
_SHEET_TAG = re.compile(r"<(?:\w+:)?sheet\b([^>]*)>")
_REL_TAG = re.compile(r"<(?:\w+:)?Relationship\b([^>]*)>")
_SMALL = 4 * MiB  # workbook.xml and its relationships are a few KiB; anything larger is not read for a name


def _attrs(text: str) -> dict[str, str]:
    return {
        m[1].split(":")[-1]: html.unescape(m[2] if m[2] is not None else m[3]) for m in _ATTR.finditer(text)
    }


def sheet_members(zf: zipfile.ZipFile) -> dict[str, str]:
    """The sheet name of each worksheet member of an .xlsx (``xl/worksheets/sheet1.xml`` → ``自评表``), read
    leniently from the workbook's directory of sheets and its relationships; empty when they are missing, odd
    or large. For naming a place in a message and finding a sheet's XML: it never raises."""
    try:
        book = zf.getinfo("xl/workbook.xml")
        rels = zf.getinfo("xl/_rels/workbook.xml.rels")
        if book.file_size > _SMALL or rels.file_size > _SMALL:
            return {}
        sheets = {
            a.get("id", ""): a.get("name", "") for a in map(_attrs, _SHEET_TAG.findall(_text(zf, book)))
        }
        out: dict[str, str] = {}
        for rel in map(_attrs, _REL_TAG.findall(_text(zf, rels))):
            target, name = rel.get("Target", ""), sheets.get(rel.get("Id", ""))
            if name and target:
                path = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
                out[posixpath.normpath(path)] = name
        return out
    except Exception:  # a message without the sheet's name is still a message
        return {}


def _text(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> str:
    data = zf.read(info)
    encoding = _xml_encoding(data[:4])
    return data.decode("utf-8" if encoding == "latin-1" else encoding, errors="replace")


def _member_place(
    fh: IO[bytes], infos: list[zipfile.ZipInfo], name: str, line: int | None = None, column: int | None = None
) -> str:
    """``xl/worksheets/sheet1.xml:1:40 (自评表)``: the member, where in it, and its sheet when that is known (and
    its workbook directory is sound)."""
    where = name if line is None else f"{name}:{line}:{column}"
    sheet = None
    if name.startswith("xl/"):
        try:
            fh.seek(0)
            with zipfile.ZipFile(fh) as zf:
                sheet = sheet_members(zf).get(name)
        except Exception:
            sheet = None
    return f"{where} ({sheet})" if sheet else where
