"""Forging hostile workbooks for tests: a real 自评表 with one member rewritten (a cell set, a DOCTYPE added, a
size lied about), and a minimal legacy .xls built byte by byte (a compound file holding a BIFF stream), so that
every attack is made the same way on every machine, without LibreOffice.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

from ..conftest import ROOT

STRONG_XLSX = ROOT / "examples" / "demo-school" / "strong.xlsx"
SHEET_XML = "xl/worksheets/sheet1.xml"  # the 自评表 of the examples
META_XML = "xl/worksheets/sheet3.xml"  # its hidden _meta sheet
XXE = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {b} "{f"&{a};" * 10}">' for a, b in zip("abcdefgh", "bcdefghi", strict=True))
    + "]>"
)
INTERNAL = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY name "滨江实验小学">]>'


def rewrite(member: str, change: Callable[[bytes], bytes], source: bytes | Path = STRONG_XLSX) -> bytes:
    """The workbook with one member's bytes changed, re-zipped (so every size and CRC is true)."""
    data = source.read_bytes() if isinstance(source, Path) else source
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zf, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as new:
        for info in zf.infolist():
            body = zf.read(info)
            if info.filename == member:
                body = change(body)
            new.writestr(info.filename, body, compress_type=info.compress_type)
    return out.getvalue()


def sheet_text(data: bytes | Path = STRONG_XLSX, member: str = SHEET_XML) -> str:
    raw = data.read_bytes() if isinstance(data, Path) else data
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        return zf.read(member).decode("utf-8")


def input_row(key: str, data: bytes | Path = STRONG_XLSX) -> int:
    """The 1-based row of an input in the 自评表 (by the id in its hidden column A)."""
    m = re.search(rf'<row r="(\d+)"><c r="A\d+" t="inlineStr"><is><t>{re.escape(key)}</t>', sheet_text(data))
    assert m, key
    return int(m[1])


def set_cell(ref: str, cell_xml: str, source: bytes | Path = STRONG_XLSX) -> bytes:
    """The workbook with the 自评表's cell ``ref`` replaced by ``cell_xml`` (a whole ``<c …>`` element; the
    cell must exist in the template, as every yellow cell does)."""

    def change(body: bytes) -> bytes:
        text, n = re.subn(rf'<c r="{ref}"[^>]*?(?:/>|>.*?</c>)', cell_xml, body.decode("utf-8"), count=1)
        assert n == 1, ref
        return text.encode("utf-8")

    return rewrite(SHEET_XML, change, source)


def number_cell(ref: str, value: str) -> str:
    return f'<c r="{ref}" t="n"><v>{value}</v></c>'


def text_cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def with_prolog(prolog: str, member: str = SHEET_XML, replace: tuple[str, str] | None = None) -> bytes:
    """The workbook with ``prolog`` (an XML declaration and a DOCTYPE) before a member's root element, and
    optionally some text of the member replaced (to use an entity)."""

    def change(body: bytes) -> bytes:
        text = body.decode("utf-8")
        if replace is not None:
            text = text.replace(*replace)
        return (prolog + re.sub(r"^<\?xml[^>]*\?>", "", text)).encode("utf-8")

    return rewrite(member, change)


def falsify_size(data: bytes, member: str, size: int) -> bytes:
    """The zip with the uncompressed size of ``member`` declared as ``size`` in its local header and its central
    directory entry (its data and CRC untouched)."""
    out = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo(member)
    struct.pack_into("<I", out, info.header_offset + 22, size)
    name = member.encode()
    at = out.find(b"PK\x01\x02")
    while at >= 0:
        (length,) = struct.unpack_from("<H", out, at + 28)
        if out[at + 46 : at + 46 + length] == name:
            struct.pack_into("<I", out, at + 24, size)
        at = out.find(b"PK\x01\x02", at + 4)
    return bytes(out)


# ------------------------------------------------------------------------------------------- a legacy .xls

END, FREE, FATSECT = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD


def record(typ: int, body: bytes) -> bytes:
    return struct.pack("<HH", typ, len(body)) + body


def biff(
    dimensions: tuple[int, int, int, int] = (0, 2, 0, 2),
    cells: tuple[tuple[int, int], ...] = ((0, 0), (1, 1)),
) -> bytes:
    """A BIFF8 workbook stream: the globals naming one sheet ``S``, then the sheet with its Dimensions record
    (first row, last row + 1, first column, last column + 1) and a number in each of ``cells``."""
    bof_globals = record(0x0809, struct.pack("<HHHHII", 0x0600, 0x0005, 0x0DBB, 0x07CC, 0, 6))
    bof_sheet = record(0x0809, struct.pack("<HHHHII", 0x0600, 0x0010, 0x0DBB, 0x07CC, 0, 6))
    eof = record(0x000A, b"")

    def boundsheet(offset: int) -> bytes:
        return record(0x0085, struct.pack("<IBB", offset, 0, 0) + bytes([1, 0]) + b"S")

    head = bof_globals + boundsheet(0) + eof
    offset = len(head)
    first, last, first_col, last_col = dimensions
    sheet = bof_sheet + record(0x0200, struct.pack("<IIHHH", first, last, first_col, last_col, 0))
    for row, col in cells:
        sheet += record(0x0203, struct.pack("<HHHd", row, col, 0, 1.0))
    return bof_globals + boundsheet(offset) + eof + sheet + eof


def ole(stream: bytes, *, loop: bool = False, header: dict[int, int] | None = None) -> bytes:
    """A compound file (version 3, 512-byte sectors) holding ``stream`` as ``Workbook``, padded to at least
    4096 bytes so it lives in regular sectors: sector 0 is the FAT, sector 1 the directory, then the stream.
    ``loop``: the stream's last sector points back to its first. ``header``: u32 values to write at offsets."""
    stream = stream.ljust(4096, b"\0")
    size = 512
    count = -(-len(stream) // size)
    fat = [FATSECT, END] + [2 + i + 1 for i in range(count - 1)] + [2 if loop else END]
    fat += [FREE] * (size // 4 - len(fat))
    assert len(fat) == size // 4, "the stream is too large for one FAT sector"

    def entry(name: str, kind: int, start: int, length: int, child: int = FREE) -> bytes:
        raw = (name + "\0").encode("utf-16-le")
        return (
            raw.ljust(64, b"\0")
            + struct.pack("<HBB", len(raw), kind, 1)
            + struct.pack("<III", FREE, FREE, child)
            + b"\0" * 36
            + struct.pack("<IIHH", start, length, 0, 0)
        )

    directory = entry("Root Entry", 5, END, 0, child=1) + entry("Workbook", 2, 2, len(stream))
    directory = directory.ljust(size, b"\0")
    head = bytearray(512)
    head[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHH", head, 24, 0x3E, 3, 0xFFFE)
    struct.pack_into("<HH", head, 30, 9, 6)
    struct.pack_into("<IIIIIIII", head, 44, 1, 1, 0, 4096, END, 0, END, 0)
    struct.pack_into("<109I", head, 76, 0, *([FREE] * 108))
    for offset, value in (header or {}).items():
        struct.pack_into("<I", head, offset, value)
    return bytes(head) + struct.pack(f"<{size // 4}I", *fat) + directory + stream.ljust(count * size, b"\0")


def with_shared_strings(strings_xml: str, ref: str = "F5") -> bytes:
    """The workbook with a shared-strings part (as Excel and LibreOffice write one) holding ``strings_xml``, and
    the 自评表's cell ``ref`` showing its first string."""
    data = set_cell(ref, f'<c r="{ref}" t="s"><v>0</v></c>')
    data = rewrite(
        "[Content_Types].xml",
        lambda b: b.replace(
            b"</Types>",
            b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
            b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
        ),
        data,
    )
    data = rewrite(
        "xl/_rels/workbook.xml.rels",
        lambda b: b.replace(
            b"</Relationships>",
            b'<Relationship Id="rIdSS" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            b'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        ),
        data,
    )
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zf, zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as new:
        for info in zf.infolist():
            new.writestr(info.filename, zf.read(info), compress_type=info.compress_type)
        new.writestr("xl/sharedStrings.xml", strings_xml.encode("utf-8"))
    return out.getvalue()


def shared_strings(*texts: str, prolog: str = '<?xml version="1.0"?>') -> str:
    items = "".join(f"<si><t>{t}</t></si>" for t in texts)
    return (
        f'{prolog}<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{len(texts)}" '
        f'uniqueCount="{len(texts)}">{items}</sst>'
    )


# ------------------------------------------------------------------------------------------- an .ods

ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
ODS_CONTENT = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
    "<office:body><office:spreadsheet>"
    '<table:table table:name="自评表"><table:table-row>'
    '<table:table-cell office:value-type="string"><text:p>id</text:p></table:table-cell>'
    '<table:table-cell office:value-type="float" office:value="1"><text:p>1</text:p></table:table-cell>'
    "</table:table-row></table:table>"
    "</office:spreadsheet></office:body></office:document-content>"
)


def ods(content: str | bytes = ODS_CONTENT) -> bytes:
    """A minimal OpenDocument spreadsheet: its stored ``mimetype`` first, ``content.xml`` and a manifest."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("mimetype", ODS_MIMETYPE, compress_type=zipfile.ZIP_STORED)
        zf.writestr("content.xml", content.encode("utf-8") if isinstance(content, str) else content)
        zf.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
            'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
            '<manifest:file-entry manifest:full-path="/" manifest:media-type="'
            + ODS_MIMETYPE.decode()
            + '"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
            "</manifest:manifest>",
        )
    return out.getvalue()
