"""Reading a unit list (单位名单): CSV or a workbook's first sheet, one unit per row, after the same safety
checks as any upload. Columns are found by their Chinese or English names (代码 and 名称 are required; 类型,
学段 and 区域 may be left out); every bad row is reported with its place (``单位名单.csv — 第 5 行 (单位代码)``)
and nothing is imported while any is bad."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from ..framework.values import normalize_text
from ..io.safety import OLE_MAGIC, FileLimits, is_zip, read_checked
from ..problems import Problem, SubmissionError

COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("code", "unit_code", "单位代码", "学校代码", "学校标识码", "代码"),
    "name": ("name", "unit_name", "单位名称", "学校名称", "名称"),
    "type": ("type", "unit_type", "单位类型", "学校类型", "类型"),
    "phase": ("phase", "学段"),
    "region": ("region", "区域", "所在区域"),
}
LABELS = {"code": "单位代码", "name": "单位名称", "type": "单位类型", "phase": "学段", "region": "区域"}
MAX_TEXT = 200


@dataclass(frozen=True)
class UnitRow:
    code: str
    name: str
    type: str | None
    phase: str | None
    region: str | None


@dataclass(frozen=True)
class UnitList:
    rows: list[UnitRow]
    columns: frozenset[str]  # the fields the list has a column for: an import changes only those


def read_units(data: bytes, file: str, limits: FileLimits, max_rows: int) -> UnitList:
    """The units of a list; SubmissionError with every problem (and its row) if any row is bad."""
    data = read_checked(data, file, limits, code="file-unsafe")
    sheet, rows = (
        _workbook_rows(data, file) if is_zip(data) or data.startswith(OLE_MAGIC) else _csv(data, file)
    )
    rows = [r for r in rows if any(_text(c) for c in r)]
    if not rows:
        raise SubmissionError([Problem("units-empty", "单位名单是空的", "the unit list is empty", file=file)])
    columns = _columns(rows[0], file)
    if len(rows) - 1 > max_rows:
        raise SubmissionError(
            [
                Problem(
                    "units-too-many",
                    f"单位名单有 {len(rows) - 1} 行，超过 {max_rows} 行的上限",
                    f"{len(rows) - 1} rows, over the limit of {max_rows}",
                    file=file,
                )
            ]
        )
    out: list[UnitRow] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        values = {key: _text(row[i], key == "code") if i < len(row) else "" for key, i in columns.items()}
        where = f"{sheet}第 {number} 行"
        for key in ("code", "name"):
            if not values.get(key):
                problems.append(_cell(file, where, key, f"{LABELS[key]}不能为空", f"{key} is empty"))
        for key, value in values.items():
            if len(value) > MAX_TEXT:
                problems.append(
                    _cell(file, where, key, f"超过 {MAX_TEXT} 个字", f"over {MAX_TEXT} characters")
                )
        code = values.get("code", "")
        if code and code in seen:
            problems.append(
                _cell(
                    file,
                    where,
                    "code",
                    f"单位代码 {code} 与第 {seen[code]} 行重复",
                    f"code repeats row {seen[code]}",
                )
            )
        seen.setdefault(code, number)
        out.append(
            UnitRow(
                code,
                values.get("name", ""),
                values.get("type") or None,
                values.get("phase") or None,
                values.get("region") or None,
            )
        )
    if problems:
        raise SubmissionError(problems)
    return UnitList(out, frozenset(columns))


def _cell(file: str, where: str, key: str, zh: str, en: str) -> Problem:
    return Problem(
        "units-row", f"{LABELS[key]}：{zh}", f"{key}: {en}", file=file, cell=f"{where} ({LABELS[key]})"
    )


def _text(value: Any, normal: bool = True) -> str:
    """A cell's text: a code or a header as typed or in 全角 alike (normalised); a name as typed, trimmed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a code typed into a number cell: 3201010001.0 → 3201010001
    return normalize_text(str(value)) if normal else str(value).strip()


def _columns(header: list[Any], file: str) -> dict[str, int]:
    names = {normalize_text(alias).lower(): key for key, aliases in COLUMNS.items() for alias in aliases}
    found: dict[str, int] = {}
    for i, cell in enumerate(header):
        key = names.get(_text(cell).lower())
        if key is not None and key not in found:
            found[key] = i
    missing = [LABELS[k] for k in ("code", "name") if k not in found]
    if missing:
        raise SubmissionError(
            [
                Problem(
                    "units-header",
                    f"单位名单的第一行（表头）缺少列：{'、'.join(missing)}（可用的列名：单位代码、单位名称、单位类型、"
                    "学段、区域）",
                    f"the header lacks: {', '.join(missing)}",
                    file=file,
                    line=1,
                )
            ]
        )
    return found


def _csv(data: bytes, file: str) -> tuple[str, list[list[Any]]]:
    text = None
    encodings = ("utf-16",) if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        raise SubmissionError(
            [
                Problem(
                    "encoding",
                    "CSV 文件既不是 UTF-8、UTF-16 也不是 GBK 编码：请另存为 “CSV UTF-8”",
                    "the CSV is neither UTF-8, UTF-16 nor GBK",
                    file=file,
                )
            ]
        )
    reader = csv.reader(io.StringIO(text))
    try:
        return "", [list(r) for r in reader]
    except csv.Error as exc:
        raise SubmissionError(
            [
                Problem(
                    "table-csv",
                    f"CSV 第 {reader.line_num} 行无法解析：{exc}",
                    f"CSV line {reader.line_num}: {exc}",
                    file=file,
                    line=reader.line_num,
                )
            ]
        ) from None


def _workbook_rows(data: bytes, file: str) -> tuple[str, list[list[Any]]]:
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        name = book.sheet_names[0]
        rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        book.close()
    except Exception as exc:  # calamine's errors for a corrupt file
        raise SubmissionError(
            [
                Problem(
                    "workbook-corrupt",
                    f"无法打开表格：{type(exc).__name__}",
                    f"cannot open the table: {exc}",
                    file=file,
                )
            ]
        ) from None
    return f"工作表“{name}”", [list(r) for r in rows]
