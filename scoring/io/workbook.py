"""Reading a filled 自评表 (.xlsx, .xls, .ods) into a Submission.

Rows are matched by the input id the template recorded in hidden column A, never by position alone. Values are
typed with the same tolerant rules as JSON/YAML submissions (全角 digits, "95%", 是/否/√/×, numbers stored as
text, stray spaces). Every problem names the file, the sheet and cell, the column and the input:
``file — 自评表!F12 (填报值（自评） · 生均教学仪器设备值): 应填数值，这里是 “很多”``.

The readers work on the file's bytes (an upload needs no temporary file), and the format is taken from those
bytes, not from the name: a zip holding ``xl/`` is .xlsx, a zip whose ``mimetype`` says spreadsheet is .ods, an
OLE2 compound file is .xls.

A parser's failure on a file that passed the safety checks (a sheet whose XML is broken, a record xlrd cannot
read) is a refusal naming the file and the sheet, never an exception. Two doubts are reported with the submission
(``Submission.notes``) rather than silently read: a percent cell holding 0 < v ≤ 1 without a percent format (kept
as typed; was 93 % meant?), and a formula whose value was never saved (a file written by a program and not
opened in Excel or WPS): it reads as empty, so it is a refusal when the input is required, else a note.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, NamedTuple

from openpyxl.utils import get_column_letter

from ..engine.plan import InputSpec, Plan
from ..engine.submission import DataNote, Submission, UnitInfo
from ..framework.text import fmt
from ..framework.values import (
    coerce,
    english,
    normalize_text,
    number_bounds,
    number_out_of_bounds,
    parse_date,
)
from ..problems import Problem, SubmissionError
from .layout import COL_EVAL, COL_ID, COL_SELF, HEADERS, ID_HEADER, META, SHEET
from .safety import DEFAULT_FILE_LIMITS, OLE_MAGIC, FileLimits, is_zip, read_checked, sheet_members

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
WorkbookFormat = Literal["xlsx", "xls", "ods"]
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


def _problem(file: str, zh: str, en: str, cell: str | None = None, code: str = "workbook") -> Problem:
    return Problem(code, zh, en, file=file, cell=cell)


def workbook_format(data: bytes, hint: str = "") -> WorkbookFormat | None:
    """The workbook format of ``data`` by its content, or None when it is no workbook container (text, say).

    ``hint`` (a suffix such as ".ods") only decides for a zip that shows neither format's marks. Run
    safety.check_bytes first: for a zip this reads the archive's directory and its small ``mimetype`` member."""
    if data.startswith(OLE_MAGIC):
        return "xls"
    if not is_zip(data):
        return None
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        if _is_ods(zf):
            return "ods"
        names = set(zf.namelist())
    if "[Content_Types].xml" in names or any(n.startswith("xl/") for n in names):
        return "xlsx"
    return "ods" if hint.lower() == ".ods" else "xlsx"  # calamine will say what is wrong with it


def _is_ods(zf: zipfile.ZipFile) -> bool:
    """OpenDocument names its type in an uncompressed ``mimetype`` member (a few dozen bytes)."""
    try:
        info = zf.getinfo("mimetype")
    except KeyError:
        return False
    return info.file_size <= 256 and zf.read(info).strip().startswith(_ODS_MIMETYPE)


def not_a_workbook(file: str) -> Problem:
    """The problem for contents that are neither a zip (.xlsx, .ods) nor an OLE2 file (.xls)."""
    return _problem(
        file,
        "文件已损坏，或不是 Excel/WPS 工作簿（内容既不是 .xlsx/.ods 的 zip 格式，也不是 .xls 格式）",
        "corrupt file or not a workbook (neither a zip nor an OLE2 compound file)",
        code="workbook-corrupt",
    )


def _parser_fault(exc: BaseException) -> bool:
    """Whether ``exc`` is a parser failing on a bad file: any Exception, or a Rust panic inside calamine (PyO3's
    PanicException derives from BaseException, so ``except Exception`` lets it through)."""
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


def _open(data: bytes, file: str) -> Any:
    from python_calamine import CalamineWorkbook

    try:
        return CalamineWorkbook.from_filelike(io.BytesIO(data))
    except BaseException as exc:  # calamine raises its own error types for every kind of corrupt file
        if not _parser_fault(exc):
            raise
        detail = _short(str(exc))
        raise SubmissionError(
            [
                _problem(
                    file,
                    f"无法打开工作簿：文件已损坏或不是 Excel/WPS 表格（{type(exc).__name__}：{detail}）",
                    f"cannot open workbook: the file is corrupt or not an Excel/WPS workbook ({detail})",
                    code="workbook-corrupt",
                )
            ]
        ) from None


def _rows(wb: Any, name: str, file: str) -> list[list[Any]]:
    """A sheet's cells from A1 on. calamine parses a sheet when it is asked for: a fault in its XML or records
    is a refusal naming the sheet."""
    try:
        return list(wb.get_sheet_by_name(name).to_python(skip_empty_area=False))
    except BaseException as exc:  # calamine's XmlError, ZipError, CalamineError, a panic …
        if not _parser_fault(exc):
            raise
        raise SubmissionError([_unreadable_sheet(file, name, exc)]) from None


def _unreadable_sheet(file: str, name: str, exc: BaseException) -> Problem:
    detail = _short(str(exc))
    if "entity" in detail:
        zh = (
            f"工作表 “{name}” 的 XML 中有无法识别的实体引用（{detail}）：文件已损坏或是伪造的，"
            "请在 Excel 或 WPS 中另存后再提交"
        )
        en = f"sheet '{name}' holds an unknown XML entity reference ({detail}): the file is corrupt or forged"
    else:
        zh = (
            f"无法读取工作表 “{name}”：文件已损坏（{type(exc).__name__}：{detail}），"
            "请在 Excel 或 WPS 中另存后再提交"
        )
        en = f"cannot read sheet '{name}': the file is corrupt ({type(exc).__name__}: {detail})"
    return _problem(file, zh, en, name, code="workbook-corrupt")


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def _check_ods_content(data: bytes, file: str) -> None:
    """An .ods holds its sheets in content.xml, which must be whole XML before calamine reads it: on one that
    ends early (a truncated upload) calamine's reader waits for the end of a row forever."""
    from xml.etree.ElementTree import ParseError

    from defusedxml.ElementTree import iterparse

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            content = zf.read("content.xml")
        for _, elem in iterparse(io.BytesIO(content), events=("end",)):
            elem.clear()
    except KeyError:
        place, zh, en = None, "缺少 content.xml", "content.xml is missing"
    except ParseError as exc:
        line, column = exc.position
        place = f"content.xml:{line}:{column + 1}"
        zh, en = (
            f"content.xml 第 {line} 行第 {column + 1} 列的 XML 格式错误",
            f"content.xml is not well-formed XML ({exc})",
        )
    except Exception as exc:  # defusedxml's refusals, a broken archive
        place, zh, en = (
            "content.xml",
            f"无法读取 content.xml（{type(exc).__name__}）",
            f"cannot read content.xml ({exc})",
        )
    else:
        return
    raise SubmissionError(
        [
            _problem(
                file,
                f"文件已损坏：{zh}，请在 LibreOffice、WPS 或 Excel 中打开后另存再提交",
                f"corrupt file: {en}; open and save it again",
                place,
                code="workbook-corrupt",
            )
        ]
    )


def _meta(wb: Any, file: str) -> dict[str, str]:
    if META not in wb.sheet_names:
        raise SubmissionError(
            [
                _problem(
                    file,
                    "这不是由本系统生成的自评表（缺少隐藏的 _meta 工作表）。请用 scoring template 生成模板后填写",
                    "not a template made by scoring template (no _meta sheet)",
                    code="workbook-not-template",
                )
            ]
        )
    rows = _rows(wb, META, file)
    return {str(r[0]).strip(): str(r[1]).strip() for r in rows if len(r) >= 2 and r[0] not in (None, "")}


def _check_framework(meta: dict[str, str], plan: Plan, file: str) -> None:
    fw = plan.framework
    fid, ver, h = (
        None if v is None else _short(v, 60)
        for v in (meta.get("framework_id"), meta.get("framework_version"), meta.get("framework_hash"))
    )
    if fid != fw.id:
        raise SubmissionError(
            [
                _problem(
                    file,
                    f"这份表格是框架 “{fid}”（版本 {ver}）的模板，不是 “{fw.id}” 的，不能用来评分",
                    f"workbook was made for framework '{fid}' version {ver}, not '{fw.id}'",
                    code="workbook-other-framework",
                )
            ]
        )
    if ver != fw.version or h != plan.hash:
        raise SubmissionError(
            [
                _problem(
                    file,
                    f"这份表格是框架 {fid} 版本 {ver}（{h}）的模板，当前框架是版本 {fw.version}（{plan.hash}）。请用新模板重新填写",
                    f"workbook was made for {fid} version {ver} ({h}); the framework is version {fw.version} ({plan.hash})",
                    code="workbook-other-version",
                )
            ]
        )


def _column_name(c: int, evaluator: bool) -> str:
    return HEADERS[COL_EVAL] if evaluator and c == COL_EVAL else HEADERS[COL_SELF]


def read_workbook(path: str | Path, plan: Plan, limits: FileLimits = DEFAULT_FILE_LIMITS) -> Submission:
    """Read one filled template from a file; raise SubmissionError listing every problem found.

    ``scoring.read_submission`` reads one from bytes or a file object as well (and JSON/YAML)."""
    p = Path(path)
    file = str(p)
    data = read_checked(p, file, limits)
    kind = workbook_format(data, p.suffix)
    if kind is None:
        raise SubmissionError([not_a_workbook(file)])
    return read_workbook_bytes(data, kind, plan, file)


def _sheets(
    data: bytes, plan: Plan, file: str, kind: WorkbookFormat = "xlsx"
) -> tuple[dict[str, str], list[list[Any]]]:
    """The template's _meta entries and the 自评表 cells, once the workbook is known to be for ``plan``."""
    if kind == "ods":
        _check_ods_content(data, file)
    wb = _open(data, file)
    try:
        meta = _meta(wb, file)
        _check_framework(meta, plan, file)
        if SHEET not in wb.sheet_names:
            raise SubmissionError([_problem(file, f"缺少工作表 “{SHEET}”", f"sheet '{SHEET}' is missing")])
        rows = _rows(wb, SHEET, file)
    finally:
        wb.close()
    return meta, rows


def read_workbook_bytes(data: bytes, kind: WorkbookFormat, plan: Plan, file: str) -> Submission:
    """Read one filled template from its contents, already passed by safety.check_bytes; ``kind`` is what
    :func:`workbook_format` found and ``file`` the name every problem carries."""
    meta, rows = _sheets(data, plan, file, kind)
    evaluator = meta.get("evaluator_columns") == "yes"
    sheet = _SheetReader(plan, file, evaluator)
    sheet.read(rows)
    problems = sheet.problems
    notes: list[DataNote] = []
    if not sheet.header_seen:
        problems.append(
            _problem(
                file, f"工作表 “{SHEET}” 中找不到表头（A 列的 id 标记被删除了？）", "header row not found"
            )
        )
    if sheet.ambiguous:
        problems += _resolve_percents(data, kind, file, sheet, notes)
    info = _unit(sheet.unit, file, problems)
    if sheet.empty and kind != "xls":  # a legacy .xls always stores a formula's last value
        _formulas_without_value(data, kind, sheet, info, problems, notes)
    if problems:
        raise SubmissionError(problems)
    return Submission(
        framework=plan.framework.id,
        framework_version=plan.framework.version,
        unit=info,
        values=sheet.values,
        evaluator_values=sheet.evaluator_values,
        manual=sheet.manual,
        source=file,
        notes=notes,
    )


class _Cell(NamedTuple):
    """An input's cell in the 自评表: the input, its 1-based row and column, whether it is the evaluator's, and
    (for a percent kept aside) the value read."""

    key: str
    spec: InputSpec
    row: int
    col: int
    is_eval: bool
    value: Decimal = Decimal(0)

    @property
    def ref(self) -> str:
        return f"{SHEET}!{get_column_letter(self.col)}{self.row}"

    @property
    def where(self) -> str:
        return f"{self.ref} ({_column_name(self.col, self.is_eval)} · {self.spec.label})"


class _SheetReader:
    """The 自评表's rows read one by one, each by the id in its hidden column A. Every problem is kept, not
    only the first, so one reading tells the filler all that must be fixed."""

    def __init__(self, plan: Plan, file: str, evaluator: bool):
        self.plan = plan
        self.file = file
        self.evaluator = evaluator
        self.values: dict[str, Any] = {}
        self.evaluator_values: dict[str, Any] = {}
        self.manual: dict[str, Any] = {}
        self.unit: dict[str, Any] = {}
        self.problems: list[Problem] = []
        # Percent values that may be Excel percentages, and input cells left empty (a formula without its value?).
        self.ambiguous: list[_Cell] = []
        self.empty: list[_Cell] = []
        self.header_seen = False
        # The columns an input's values are read from: (column, where its values go, is the evaluator's).
        self.columns: list[tuple[int, dict[str, Any], bool]] = [(COL_SELF, self.values, False)]
        if evaluator:
            self.columns.append((COL_EVAL, self.evaluator_values, True))

    def read(self, rows: list[list[Any]]) -> None:
        for r, row in enumerate(rows):
            key = row[COL_ID - 1] if len(row) >= COL_ID else None
            if key in (None, ""):
                continue
            self.row(str(key).strip(), r, row)

    def row(self, key: str, r: int, row: list[Any]) -> None:
        """``r`` is 0-based. A unit field is in the self-assessment column and a manual rating in the
        evaluator's; the header row only marks that the template's layout is still there."""
        if key == ID_HEADER:
            self.header_seen = True
        elif key.startswith("unit."):
            self.unit[key[5:]] = row[COL_SELF - 1] if len(row) >= COL_SELF else None
        elif key.startswith("manual:"):
            raw = row[COL_EVAL - 1] if self.evaluator and len(row) >= COL_EVAL else None
            if raw not in (None, ""):
                self.manual[key[7:]] = normalize_text(str(raw)) if isinstance(raw, str) else raw
        else:
            self.input(key, r, row)

    def input(self, key: str, r: int, row: list[Any]) -> None:
        """An id the framework lacks means the template was edited: report it rather than guess the input."""
        spec = self.plan.inputs.get(key)
        if spec is None:
            self.problems.append(
                _problem(
                    self.file,
                    f"表格中有框架里不存在的填报项 “{key}”（是否改动了模板？）",
                    f"unknown input id '{key}'",
                    f"{SHEET}!A{r + 1}",
                )
            )
            return
        for c, target, is_eval in self.columns:
            self.cell(key, spec, r, row, c, target, is_eval)

    def cell(
        self,
        key: str,
        spec: InputSpec,
        r: int,
        row: list[Any],
        c: int,
        target: dict[str, Any],
        is_eval: bool,
    ) -> None:
        """Type one cell as JSON/YAML values are typed. Excel stores every number as a float, so a whole one is
        made an int first; a percent of 0 < v ≤ 1 is kept aside, as only the cell's format tells what it means."""
        raw = row[c - 1] if len(row) >= c else None
        at = _Cell(key, spec, r + 1, c, is_eval)
        if raw in (None, ""):
            self.empty.append(at)
            return
        numeric = spec.kind in ("number", "integer", "percent")
        if numeric and isinstance(raw, float):
            # calamine reads a number too long for a float (a 5000-digit <v>) as inf
            if not math.isfinite(raw):
                self.refuse(at, number_bounds(None))
                return
            if raw.is_integer() and abs(raw) <= 2**53:  # exact as an int
                raw = int(raw)
        value, why = coerce(spec.kind, raw, choices=spec.choices, minimum=spec.min, maximum=spec.max)
        if why is None and numeric and value is not None and number_out_of_bounds(value):
            why = number_bounds(str(raw))
        if why:
            self.refuse(at, why)
            return
        if spec.kind == "percent" and isinstance(raw, float) and Decimal(0) < value <= Decimal(1):
            self.ambiguous.append(at._replace(value=value))
        target[key] = value

    def refuse(self, at: _Cell, why: str) -> None:
        self.problems.append(_problem(self.file, why, english(why), at.where, code="bad-value"))


def _unit(unit: dict[str, Any], file: str, problems: list[Problem]) -> UnitInfo:
    name = unit.get("name")
    if name in (None, ""):
        problems.append(_problem(file, "没有填写单位名称", "unit name is empty", f"{SHEET}!F5 (单位名称)"))
        name = "（未填写）"
    date = unit.get("date")
    if date not in (None, "") and not isinstance(date, dt.date):
        date, why = parse_date(date)
        if why:
            problems.append(_problem(file, why, english(why), f"{SHEET}!F9 (评估日期)"))
    elif isinstance(date, dt.datetime):
        date = date.date()

    def text(v: Any) -> str | None:
        if v in (None, ""):
            return None
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        return normalize_text(str(v))

    return UnitInfo(
        name=text(name) or "（未填写）",
        code=text(unit.get("code")),
        type=text(unit.get("type")),
        region=text(unit.get("region")),
        date=date or None,
    )


def _resolve_percents(
    data: bytes, kind: WorkbookFormat, file: str, sheet: _SheetReader, notes: list[DataNote]
) -> list[Problem]:
    """A percent input holding 0 < v ≤ 1 is either "0.95%" or "95%" typed in Excel, Calc or WPS (stored 0.95 as
    a percentage). Only the cell's format can tell and calamine does not expose it: openpyxl reads it from .xlsx,
    xlrd from legacy .xls, the .ods content from its value type. A percent-formatted cell means 95 %; any other
    is kept as typed (0.95 %), with a note asking whether 95 % was meant. When the format cannot be read at all,
    the value is refused: it means one or the other, and guessing would be wrong half the time."""
    cells = sheet.ambiguous
    wanted = {(c.row, c.col) for c in cells}
    try:
        if kind == "ods":
            found = _ods_cells(data, wanted)
            percent = {rc for rc, cell in found.items() if cell.value_type == "percentage"}
        elif kind == "xls":
            percent = _xls_percentages(data, wanted)
        else:
            percent = _xlsx_percentages(data, wanted)
    except Exception:  # a parser failing on a file only calamine could read: the format is unknown
        return [_unknown_format(file, c) for c in cells]
    for c in cells:
        if (c.row, c.col) in percent:
            target = sheet.evaluator_values if c.is_eval else sheet.values
            target[c.key] = c.value.scaleb(2)  # exact: 0.955 → 95.5
        else:
            notes.append(_percent_note(c))
    return []


def _unknown_format(file: str, c: _Cell) -> Problem:
    value, hundred = fmt(c.value), fmt(c.value.scaleb(2))
    return _problem(
        file,
        f"{value} 在百分比栏中含义不明（读不出单元格格式，分不清是 {value}% 还是 {hundred}%）："
        f"请直接填写百分数的数值，如 {hundred}",
        f"{value} in a percent field is ambiguous (the cell format cannot be read, so it may be {value}% or "
        f"{hundred}%): write the percentage's number, such as {hundred}",
        c.where,
        code="bad-value",
    )


def _percent_note(c: _Cell) -> DataNote:
    value, hundred = fmt(c.value), fmt(c.value.scaleb(2))
    return DataNote(
        code="percent-unformatted",
        message=f"{c.ref} {c.spec.label}填 {value}（单元格不是百分比格式）：如为 {hundred}%，请填 {hundred}",
        place=c.ref,
        input=c.key,
    )


class _Blank(NamedTuple):
    """Why an input cell read as empty: a formula whose value was never saved, or an error value (#DIV/0!)."""

    kind: Literal["formula", "error"]
    text: str  # the formula (=SUM(F20:F21), or 共享公式 for a shared one) or the error value


def _formulas_without_value(
    data: bytes,
    kind: WorkbookFormat,
    sheet: _SheetReader,
    unit: UnitInfo,
    problems: list[Problem],
    notes: list[DataNote],
) -> None:
    """Empty input cells that hold a formula whose value was never saved, or an error value: a refusal when the
    input is required for the unit and has no value otherwise (it would be 缺报 without saying why), else a
    note."""
    cells = {(c.row, c.col): c for c in sheet.empty}
    try:
        found = _xlsx_blanks(data, set(cells)) if kind == "xlsx" else _ods_blanks(data, set(cells))
    except Exception:  # calamine read the sheet; a stricter parser that cannot is no reason to refuse it
        return
    _, required = sheet.plan.required_for(unit.type, False)
    for rc in sorted(found):
        c, blank = cells[rc], found[rc]
        if c.key in required and c.key not in sheet.values and c.key not in sheet.evaluator_values:
            zh, en = _BLANK_REFUSALS[blank.kind]
            text = _short(blank.text, 60)
            problems.append(
                _problem(sheet.file, zh.format(text), en.format(text), c.where, code=_BLANK_CODES[blank.kind])
            )
        else:
            message = _BLANK_NOTES[blank.kind].format(
                ref=c.ref, label=c.spec.label, text=_short(blank.text, 60)
            )
            notes.append(DataNote(code=_BLANK_CODES[blank.kind], message=message, place=c.ref, input=c.key))


_BLANK_CODES = {"formula": "formula-without-value", "error": "formula-error"}
_BLANK_REFUSALS = {
    "formula": (
        "这里是公式（{}），但文件中没有保存它的计算结果，读到的是空值：请在 Excel 或 WPS 中打开并保存工作簿"
        "（公式的值才会存入文件）后重新提交，或直接填写数值",
        "a formula ({}) whose computed value is not in the file, so the cell reads empty: open and save the "
        "workbook in Excel or WPS (which stores the value), or type the value",
    ),
    "error": (
        "这里是错误值 {}（公式算不出结果），读到的是空值：请改正公式或直接填写数值",
        "the cell holds the error value {} (its formula cannot be computed), so it reads empty: correct the "
        "formula or type the value",
    ),
}
_BLANK_NOTES = {
    "formula": "{ref} {label}是公式（{text}），文件中没有保存计算结果，按未填处理：请在 Excel 或 WPS 中打开并保存"
    "工作簿，公式的值才会存入文件",
    "error": "{ref} {label}是错误值 {text}（公式算不出结果），按未填处理：请改正公式或直接填写数值",
}
_OOXML_BLANKS = re.compile(rb"<(?:\w+:)?f[\s>/]|\bt\s*=\s*[\"']e[\"']")
_CELL_REF = re.compile(r"([A-Z]{1,3})([0-9]{1,7})$")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xlsx_blanks(data: bytes, wanted: set[tuple[int, int]]) -> dict[tuple[int, int], _Blank]:
    """Which of the ``wanted`` (row, column) cells of the 自评表 sheet of an .xlsx hold a formula without a saved
    value, or an error value. The sheet's XML is found through the workbook's relationships and read with
    defusedxml, only when it holds a formula or an error at all."""
    from defusedxml.ElementTree import iterparse
    from openpyxl.utils import column_index_from_string

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        member = next((m for m, name in sheet_members(zf).items() if name == SHEET), None)
        xml = zf.read(member) if member is not None else b""
    if not _OOXML_BLANKS.search(xml):
        return {}
    found: dict[tuple[int, int], _Blank] = {}
    row = col = 0
    for event, elem in iterparse(io.BytesIO(xml), events=("start", "end")):
        tag = _local(elem.tag)
        if event == "start":
            if tag == "row":
                row, col = int(elem.get("r") or row + 1), 0
            elif tag == "c":
                ref = _CELL_REF.match(elem.get("r") or "")
                row, col = (int(ref[2]), column_index_from_string(ref[1])) if ref else (row, col + 1)
            continue
        if tag == "c" and (row, col) in wanted:
            blank = _xlsx_blank(elem)
            if blank is not None:
                found[(row, col)] = blank
        if tag in ("c", "row"):
            elem.clear()
    return found


def _xlsx_blank(cell: Any) -> _Blank | None:
    kids = {_local(k.tag): k for k in cell}
    value = (kids["v"].text or "").strip() if "v" in kids else ""
    if cell.get("t") == "e":
        return _Blank("error", value or "#VALUE!")
    if "f" in kids and "is" not in kids and not value:
        text = (kids["f"].text or "").strip()
        return _Blank("formula", f"={text}" if text else "共享公式")
    return None


def _xlsx_percentages(data: bytes, wanted: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """Which of the ``wanted`` (row, column) cells of the 自评表 sheet of an .xlsx have a percent number format."""
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        ws = wb[SHEET]
        return {
            (row, col) for row, col in wanted if "%" in (ws.cell(row=row, column=col).number_format or "")
        }
    finally:
        wb.close()


def _xls_percentages(data: bytes, wanted: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """Which of the ``wanted`` (row, column) cells of the 自评表 sheet of a legacy .xls are formatted as a
    percentage (1-based). calamine has already read the file (within safety.check_bytes's size limit)."""
    import xlrd

    book = xlrd.open_workbook(file_contents=data, formatting_info=True, on_demand=True)
    try:
        sheet = book.sheet_by_name(SHEET)
        found = set()
        for row, col in wanted:
            if row > sheet.nrows or col > sheet.ncols:
                continue
            xf = book.xf_list[sheet.cell_xf_index(row - 1, col - 1)]
            fmt = book.format_map.get(xf.format_key)
            if fmt is not None and "%" in fmt.format_str:
                found.add((row, col))
        return found
    finally:
        book.release_resources()


_ODS_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_ODS_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_CALCEXT = "{urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0}"
_ODS_MAX_REPEAT = 1 << 20  # more than a sheet's rows or columns: a larger count is clamped, not looped over


def _repeat(element: Any, attr: str) -> int:
    """A row's or cell's repeat count; a missing, broken or absurd one counts as what it can mean."""
    try:
        return min(max(int(element.get(attr, "1")), 1), _ODS_MAX_REPEAT)
    except ValueError:
        return 1


class _OdsCell(NamedTuple):
    value_type: str | None  # "float", "percentage", "string" …; "error"; None for a formula never computed
    formula: str | None
    text: str


def _ods_cells(data: bytes, wanted: set[tuple[int, int]]) -> dict[tuple[int, int], _OdsCell]:
    """The value type and formula of each of the ``wanted`` (row, column) cells of the 自评表 sheet of an .ods
    (1-based): its value type ("percentage" …; None for a formula with no saved value), formula and text.

    The archive was checked by safety.check_bytes before calamine opened it; the XML is parsed with defusedxml."""
    from defusedxml.ElementTree import fromstring

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        root = fromstring(zf.read("content.xml"))
    by_row: dict[int, set[int]] = {}
    for r, c in wanted:
        by_row.setdefault(r, set()).add(c)
    last = max(by_row)
    found: dict[tuple[int, int], _OdsCell] = {}
    table = next((t for t in root.iter(f"{_ODS_TABLE}table") if t.get(f"{_ODS_TABLE}name") == SHEET), None)
    row = 0
    for tr in table.iter(f"{_ODS_TABLE}table-row") if table is not None else ():
        rows = _repeat(tr, f"{_ODS_TABLE}number-rows-repeated")
        hit = [r for r in range(row + 1, min(row + rows, last) + 1) if r in by_row]
        col = 0
        for cell in tr if hit else ():
            cols = _repeat(cell, f"{_ODS_TABLE}number-columns-repeated")
            kind = _OdsCell(_ods_value_type(cell), cell.get(f"{_ODS_TABLE}formula"), "".join(cell.itertext()))
            for r in hit:
                found.update({(r, c): kind for c in by_row[r] if col < c <= col + cols})
            col += cols
        row += rows
        if row >= last:
            break
    return found


def _ods_value_type(cell: Any) -> str | None:
    """A cell's value type; "error" for a formula LibreOffice could not compute (it keeps a float type too)."""
    return "error" if cell.get(f"{_CALCEXT}value-type") == "error" else cell.get(f"{_ODS_OFFICE}value-type")


def _ods_blanks(data: bytes, wanted: set[tuple[int, int]]) -> dict[tuple[int, int], _Blank]:
    """Which of the ``wanted`` cells of an .ods hold a formula without a saved value (no value type), or an
    error (LibreOffice's value type "error")."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        if b"formula" not in zf.read("content.xml"):
            return {}
    found: dict[tuple[int, int], _Blank] = {}
    for rc, cell in _ods_cells(data, wanted).items():
        formula = re.sub(r"^[a-z]+:(?==)", "", cell.formula or "")
        if formula and cell.value_type == "error":
            found[rc] = _Blank("error", cell.text.strip() or formula)
        elif formula and cell.value_type is None:
            found[rc] = _Blank("formula", formula)
    return found
