"""Reading a filled 自评表 (.xlsx, .xls, .ods) into a Submission.

Rows are matched by the input id the template recorded in hidden column A, never by position alone. Values are
typed with the same tolerant rules as JSON/YAML submissions (全角 digits, "95%", 是/否/√/×, numbers stored as
text, stray spaces). Every problem names the file, the sheet and cell, the column and the input:
``file — 自评表!F12 (填报值（自评） · 生均教学仪器设备值): 应填数值，这里是 “很多”``.

The readers work on the file's bytes (an upload needs no temporary file), and the format is taken from those
bytes, not from the name: a zip holding ``xl/`` is .xlsx, a zip whose ``mimetype`` says spreadsheet is .ods, an
OLE2 compound file is .xls.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from openpyxl.utils import get_column_letter

from ..engine.plan import InputSpec, Plan
from ..engine.submission import Submission, UnitInfo
from ..framework.text import fmt
from ..framework.values import coerce, normalize_text
from ..problems import Problem, SubmissionError
from .layout import COL_EVAL, COL_ID, COL_SELF, HEADERS, ID_HEADER, META, SHEET
from .safety import DEFAULT_FILE_LIMITS, FileLimits, is_zip, read_checked

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
WorkbookFormat = Literal["xlsx", "xls", "ods"]
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the compound file that holds a legacy .xls
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


def _open(data: bytes, file: str) -> Any:
    from python_calamine import CalamineWorkbook

    try:
        return CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises its own error types for every kind of corrupt file
        raise SubmissionError(
            [
                _problem(
                    file,
                    f"无法打开工作簿：文件已损坏或不是 Excel/WPS 表格（{type(exc).__name__}）",
                    f"cannot open workbook: {exc}",
                    code="workbook-corrupt",
                )
            ]
        ) from None


def _rows(wb: Any, name: str) -> tuple[list[list[Any]], int, int]:
    """A sheet's cells and the (row, column) offset of its first cell, both 0-based."""
    sheet = wb.get_sheet_by_name(name)
    rows = sheet.to_python(skip_empty_area=False)
    return rows, 0, 0


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
    rows, _, _ = _rows(wb, META)
    return {str(r[0]).strip(): str(r[1]).strip() for r in rows if len(r) >= 2 and r[0] not in (None, "")}


def _check_framework(meta: dict[str, str], plan: Plan, file: str) -> None:
    fw = plan.framework
    fid, ver, h = meta.get("framework_id"), meta.get("framework_version"), meta.get("framework_hash")
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


def _sheets(data: bytes, plan: Plan, file: str) -> tuple[dict[str, str], list[list[Any]]]:
    """The template's _meta entries and the 自评表 cells, once the workbook is known to be for ``plan``."""
    wb = _open(data, file)
    try:
        meta = _meta(wb, file)
        _check_framework(meta, plan, file)
        if SHEET not in wb.sheet_names:
            raise SubmissionError([_problem(file, f"缺少工作表 “{SHEET}”", f"sheet '{SHEET}' is missing")])
        rows, _, _ = _rows(wb, SHEET)
    finally:
        wb.close()
    return meta, rows


def read_workbook_bytes(data: bytes, kind: WorkbookFormat, plan: Plan, file: str) -> Submission:
    """Read one filled template from its contents, already passed by safety.check_bytes; ``kind`` is what
    :func:`workbook_format` found and ``file`` the name every problem carries."""
    meta, rows = _sheets(data, plan, file)
    evaluator = meta.get("evaluator_columns") == "yes"
    sheet = _SheetReader(plan, file, evaluator)
    sheet.read(rows)
    problems = sheet.problems
    if not sheet.header_seen:
        problems.append(
            _problem(
                file, f"工作表 “{SHEET}” 中找不到表头（A 列的 id 标记被删除了？）", "header row not found"
            )
        )
    if sheet.ambiguous:
        problems += _resolve_percents(
            data, kind, file, sheet.ambiguous, sheet.values, sheet.evaluator_values, evaluator
        )
    info = _unit(sheet.unit, file, problems)
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
    )


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
        # Percent values that may be Excel percentages: (input id, where, 1-based row, column, value).
        self.ambiguous: list[tuple[str, str, int, int, Decimal]] = []
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
        if raw in (None, ""):
            return
        where = f"{SHEET}!{get_column_letter(c)}{r + 1} ({_column_name(c, is_eval)} · {spec.label})"
        if isinstance(raw, float) and raw.is_integer() and spec.kind in ("number", "integer", "percent"):
            raw = int(raw)
        value, why = coerce(spec.kind, raw, choices=spec.choices, minimum=spec.min, maximum=spec.max)
        if why:
            self.problems.append(_problem(self.file, why, why, where, code="bad-value"))
            return
        if spec.kind == "percent" and isinstance(raw, float) and Decimal(0) < value <= Decimal(1):
            self.ambiguous.append((key, where, r + 1, c, value))
        target[key] = value


def _unit(unit: dict[str, Any], file: str, problems: list[Problem]) -> UnitInfo:
    name = unit.get("name")
    if name in (None, ""):
        problems.append(_problem(file, "没有填写单位名称", "unit name is empty", f"{SHEET}!F5 (单位名称)"))
        name = "（未填写）"
    date = unit.get("date")
    if date not in (None, "") and not isinstance(date, dt.date):
        from ..framework.values import parse_date

        date, why = parse_date(date)
        if why:
            problems.append(_problem(file, why, why, f"{SHEET}!F9 (评估日期)"))
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
    data: bytes,
    kind: WorkbookFormat,
    file: str,
    cells: list[Any],
    values: dict[str, Any],
    evaluator_values: dict[str, Any],
    evaluator: bool,
) -> list[Problem]:
    """A percent input holding 0 < v ≤ 1 is either "0.95%" or "95%" typed in Excel, Calc or WPS (stored 0.95 as
    a percentage). Only the cell's format can tell and calamine does not expose it: openpyxl reads it from .xlsx,
    xlrd from legacy .xls, the .ods content from its value type."""
    wanted = {(row, col) for _, _, row, col, _ in cells}
    if kind == "ods":
        percent = _ods_percentages(data, wanted)
    elif kind == "xls":
        try:
            percent = _xls_percentages(data, wanted)
        except Exception:  # xlrd on a file only calamine could read: the format, hence the value, is unknown
            return [
                _problem(
                    file,
                    f"{fmt(value)} 在百分比栏中含义不明（读不出单元格格式，分不清是 {fmt(value)}% 还是 "
                    f"{fmt(value.scaleb(2))}%）：请直接填写百分数的数值，如 {fmt(value.scaleb(2))}",
                    f"{fmt(value)} in a percent field is ambiguous (the cell format cannot be read)",
                    where,
                    code="bad-value",
                )
                for _, where, _, _, value in cells
            ]
    else:
        percent = _xlsx_percentages(data, wanted)
    for key, _, row, col, value in cells:
        if (row, col) in percent:
            target = evaluator_values if evaluator and col == COL_EVAL else values
            target[key] = value.scaleb(2)  # exact: 0.955 → 95.5
    return []


_ODS_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_ODS_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"


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


def _ods_percentages(data: bytes, wanted: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """Which of the ``wanted`` (row, column) cells of the 自评表 sheet of an .ods hold a percentage (1-based).

    The archive was checked by safety.check_bytes before calamine opened it; the XML is parsed with defusedxml."""
    from defusedxml.ElementTree import fromstring

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        root = fromstring(zf.read("content.xml"))
    last = max(r for r, _ in wanted)
    found: set[tuple[int, int]] = set()
    for table in root.iter(f"{_ODS_TABLE}table"):
        if table.get(f"{_ODS_TABLE}name") != SHEET:
            continue
        row = 0
        for tr in table.iter(f"{_ODS_TABLE}table-row"):
            rows = int(tr.get(f"{_ODS_TABLE}number-rows-repeated", "1"))
            col = 0
            for cell in tr:
                cols = int(cell.get(f"{_ODS_TABLE}number-columns-repeated", "1"))
                if cell.get(f"{_ODS_OFFICE}value-type") == "percentage":
                    found |= {
                        (r, c)
                        for r in range(row + 1, min(row + rows, last) + 1)
                        for c in range(col + 1, col + cols + 1)
                        if (r, c) in wanted
                    }
                col += cols
            row += rows
            if row >= last:
                break
    return found
