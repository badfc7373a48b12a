"""Reading a statistics table (CSV or a workbook's first sheet): one row per unit → submissions.

Columns are matched by input id or by the input's Chinese label, so a statistics export can be used as it is;
``unit_name`` / 学校名称 / 单位名称, ``unit_type`` / 学校类型 / 单位类型, ``unit_code`` / 学校代码 / 单位代码 and
``region`` / 所在区域 fill the unit. Every bad cell is reported as ``file — Sheet!D5 (列名 · label): message``.

The whole table is refused (nothing of it is read: its rows cannot be read right) when its header has no name
column; no type column while the framework declares unit types; a column that matches nothing; the same column
twice; or no column for an input the caller needs (``needed``: a county evaluation's inputs — a cell may be blank,
the column may not be missing, or every school would silently be 缺报). It is refused too when it has no data row,
or more than ``max_rows``. A row with bad cells becomes a failure naming its row and every bad cell, in ``lang``.

CSV is read as UTF-8 (with or without BOM), UTF-16 (with BOM) or GBK/GB18030 (how Excel and WPS save CSV on
Chinese systems).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl.utils import get_column_letter

from ..engine.cohort import MAX_MAGNITUDE, MAX_MAGNITUDE_TEXT, declared_types, row_label, unit_type_problem
from ..engine.plan import InputSpec, Plan
from ..engine.rows import FailureRow
from ..engine.submission import Submission, UnitInfo
from ..framework.values import coerce, normalize_text
from ..problems import Lang, Problem, SubmissionError, printable
from .safety import DEFAULT_FILE_LIMITS, FileLimits, UnsafeFile, check_file, is_zip

UNIT_COLUMNS = {
    "name": ("unit_name", "学校名称", "单位名称", "名称"),
    "type": ("unit_type", "学校类型", "单位类型", "类型"),
    "code": ("unit_code", "学校代码", "单位代码", "学校标识码"),
    "region": ("region", "所在区域", "区域"),
}
TABLE_SUFFIXES = (".csv", ".xlsx", ".xlsm", ".xls", ".ods")
# Data rows a table may have. A county has hundreds of schools, a province some tens of thousands; 100,000 rows
# are read and aggregated in well under a minute (benchmarks/cohort.py), and anything longer is refused up front.
MAX_ROWS = 100_000
_WHOLE = frozenset({"integer", "number"})  # kinds whose plain-digit text is the whole number it shows
_KINDS_EN = {
    "integer": "a whole number",
    "number": "a number",
    "percent": "a percentage",
    "boolean": "yes or no",
}


def _header_map(header: list[Any], plan: Plan) -> tuple[dict[int, str], list[tuple[int, str]]]:
    by_label = {normalize_text(spec.label): name for name, spec in plan.inputs.items()}
    unit_keys = {alias: f"unit.{field}" for field, aliases in UNIT_COLUMNS.items() for alias in aliases}
    mapping: dict[int, str] = {}
    unknown: list[tuple[int, str]] = []
    for i, cell in enumerate(header):
        if cell in (None, ""):
            continue
        text = normalize_text(str(cell))
        key = unit_keys.get(text) or (text if text in plan.inputs else by_label.get(text))
        if key is None:
            if text:
                unknown.append((i, text))
        else:
            mapping[i] = key
    return mapping, unknown


def _decode(raw: bytes, file: str) -> str:
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):  # "Unicode text" as Excel saves it
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    else:
        for encoding in ("utf-8-sig", "gb18030"):  # Excel and WPS save CSV as GBK on Chinese systems
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError:
                continue
    raise SubmissionError(
        [
            Problem(
                "encoding",
                "CSV 文件既不是 UTF-8、UTF-16 也不是 GBK 编码：请在 Excel 或 WPS 中另存为 “CSV UTF-8”",
                "the CSV is neither UTF-8, UTF-16 nor GBK: save it as 'CSV UTF-8' in Excel or WPS",
                file=file,
            )
        ]
    )


def _csv_rows(path: Path, file: str) -> list[list[Any]]:
    raw = path.read_bytes()
    if is_zip(raw) or raw[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise SubmissionError(
            [
                Problem(
                    "table-format",
                    "这是一个 Excel 工作簿，不是 CSV：请把扩展名改为 .xlsx（或 .xls），或另存为 CSV",
                    "this is an Excel workbook, not a CSV: rename it to .xlsx (or .xls), or save it as CSV",
                    file=file,
                )
            ]
        )
    reader = csv.reader(io.StringIO(_decode(raw, file)))
    try:
        return [list(r) for r in reader]
    except csv.Error as exc:  # a NUL byte, a field beyond the csv module's limit, …
        raise SubmissionError(
            [
                Problem(
                    "table-csv",
                    f"CSV 第 {reader.line_num} 行无法解析：{exc}",
                    f"CSV line {reader.line_num} cannot be parsed: {exc}",
                    file=file,
                )
            ]
        ) from None


def _rows(path: Path) -> tuple[str, list[list[Any]]]:
    if path.suffix.lower() == ".csv":
        return "CSV", _csv_rows(path, str(path))
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
        name = wb.sheet_names[0]
        rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
        wb.close()
    except Exception as exc:  # calamine's errors for corrupt files
        raise SubmissionError(
            [
                Problem(
                    "workbook-corrupt",
                    f"无法打开表格：{type(exc).__name__}",
                    f"cannot open table: {exc}",
                    file=str(path),
                )
            ]
        ) from None
    return name, rows


def read_table(
    path: str | Path,
    plan: Plan,
    limits: FileLimits = DEFAULT_FILE_LIMITS,
    *,
    needed: Iterable[str] | None = None,
    lang: Lang = "zh",
    max_rows: int = MAX_ROWS,
) -> tuple[list[Submission], list[FailureRow]]:
    """Submissions from the rows; a row with bad cells becomes a failure (with every cell's reason), not an error.

    ``needed``: inputs that must have a column (see :func:`scoring.engine.cohort.needed_inputs`). A submission's
    ``source`` is ``file#row`` (the row as the sheet numbers it), which messages about the row show."""
    p = Path(path)
    file = str(p)
    _check_safe(p, limits, file)
    sheet, rows = _rows(p)
    header_at = _header_at(rows, file)
    mapping = _columns(rows[header_at], plan, file, sheet, header_at + 1, list(needed or ()))
    body = [
        (r, row)
        for r, row in enumerate(rows[header_at + 1 :], start=header_at + 2)
        if any(c not in (None, "") for c in row)
    ]
    _check_length(len(body), max_rows, file)
    types = declared_types(plan.framework)  # a row of another type is refused at its type cell
    width = len(rows[header_at])
    headless = [i for i in range(width) if i not in mapping]  # columns whose header is blank
    subs: list[Submission] = []
    failures: list[FailureRow] = []
    for r, row in body:
        unit, values, problems = _read_row(row, r, mapping, plan, sheet, file, types)
        if len(row) > width or headless:
            problems += _stray(row, r, headless, width, sheet, file)
        if problems:
            where = row_label(f"{file}#{r}", unit.get("name"), lang)
            failures.append(FailureRow(where, [p.format(lang) for p in problems]))
            continue
        subs.append(Submission(unit=UnitInfo(**unit), values=values, source=f"{file}#{r}"))
    return subs, failures


def _stray(row: list[Any], r: int, headless: list[int], width: int, sheet: str, file: str) -> list[Problem]:
    """Cells with something in them under no header (a blank header cell, or beyond the header's last column):
    data that would otherwise be dropped without a word."""
    out = []
    for c in [*(c for c in headless if c < len(row)), *range(width, len(row))]:
        value = row[c]
        if value is None or not str(value).strip():
            continue
        shown = printable(str(value))[:40]
        out.append(
            Problem(
                "table-stray-cell",
                f"单元格有内容 “{shown}”，但这一列没有表头：请补上表头，或删去这一列的内容",
                f"the cell holds '{shown}' but its column has no header: add the header or clear the column",
                file=file,
                cell=f"{sheet}!{get_column_letter(c + 1)}{r}",
            )
        )
    return out


def _check_length(count: int, max_rows: int, file: str) -> None:
    if count == 0:
        raise SubmissionError(
            [
                Problem(
                    "table-no-rows",
                    "表中只有表头，没有任何学校（数据行）",
                    "the table has a header but no data rows",
                    file=file,
                )
            ]
        )
    if count > max_rows:
        raise SubmissionError(
            [
                Problem(
                    "table-too-long",
                    f"表中有 {count:,} 行数据，超过上限 {max_rows:,} 行：请按县（区）分表评估",
                    f"the table has {count:,} data rows, more than the limit of {max_rows:,}: "
                    "evaluate one county (district) per table",
                    file=file,
                )
            ]
        )


def _check_safe(p: Path, limits: FileLimits, file: str) -> None:
    """Refuse a file no parser should open (too large, a zip bomb …) before any parser sees it."""
    try:
        check_file(p, limits)
    except UnsafeFile as exc:
        raise SubmissionError([Problem("workbook-unsafe", exc.zh, exc.en, file=file)]) from None
    except OSError as exc:
        raise SubmissionError(
            [Problem("io", f"无法读取文件：{exc.strerror or exc}", f"cannot read: {exc}", file=file)]
        ) from None


def _header_at(rows: list[list[Any]], file: str) -> int:
    """The index of the header: the first row with anything in it, since exports often start with blank rows."""
    header_at = next((i for i, r in enumerate(rows) if any(c not in (None, "") for c in r)), None)
    if header_at is None:
        raise SubmissionError([Problem("table-empty", "表格是空的", "the table is empty", file=file)])
    return header_at


def _columns(
    header: list[Any], plan: Plan, file: str, sheet: str, row: int, needed: list[str]
) -> dict[int, str]:
    """What each column holds, by the header, or every fault of the header at once: no name column; no type
    column while the framework declares unit types; a column that matches nothing; the same column twice; a
    needed input without a column. ``row`` is the header's row number."""
    mapping, unknown = _header_map(header, plan)
    problems: list[Problem] = []

    def at(i: int | None = None) -> str:
        return f"{sheet}!{get_column_letter(i + 1)}{row}" if i is not None else f"{sheet}!{row}"

    for i, u in unknown:
        problems.append(
            Problem(
                "table-header",
                f"表头 “{printable(u)}” 既不是填报项的 id，也不是其中文名称：请删去这一列或改正表头",
                f"column '{printable(u)}' is neither an input id nor an input label: delete it or correct it",
                file=file,
                cell=at(i),
            )
        )
    seen: dict[str, int] = {}
    for i, key in mapping.items():
        if key in seen:
            first = get_column_letter(seen[key] + 1)
            problems.append(
                Problem(
                    "table-header",
                    f"第 {first} 列和第 {get_column_letter(i + 1)} 列是同一项（{_what(key, plan)}）：只能保留一列",
                    f"columns {first} and {get_column_letter(i + 1)} are the same field ({key}): keep one",
                    file=file,
                    cell=at(i),
                )
            )
        else:
            seen[key] = i
    keys = set(mapping.values())
    if "unit.name" not in keys:
        problems.append(
            Problem(
                "table-header",
                "找不到学校名称列（表头应有 学校名称 / 单位名称 / unit_name）",
                "no unit name column (学校名称 / 单位名称 / unit_name)",
                file=file,
                cell=at(),
            )
        )
    fw = plan.framework
    if "unit.type" not in keys and (fw.units is not None or fw.applies_to):
        problems.append(
            Problem(
                "table-header",
                "找不到学校类型列（表头应有 学校类型 / 单位类型 / unit_type）：框架按类型评估每所学校",
                "no unit type column (学校类型 / 单位类型 / unit_type): the framework evaluates each unit by type",
                file=file,
                cell=at(),
            )
        )
    for name in needed:
        if name not in keys and name in plan.inputs:
            label = plan.inputs[name].label
            problems.append(
                Problem(
                    "table-missing-column",
                    f"缺少列 “{label}”（{name}）：评估要用到它；单元格可以留空，但这一列不能没有",
                    f"missing column '{label}' ({name}): the evaluation needs it; its cells may be blank, "
                    "the column may not be missing",
                    file=file,
                    cell=at(),
                )
            )
    if problems:
        raise SubmissionError(problems)
    return mapping


def _what(key: str, plan: Plan) -> str:
    if key.startswith("unit."):
        return key
    return f"{plan.inputs[key].label} · {key}"


def _read_row(
    row: list[Any], r: int, mapping: dict[int, str], plan: Plan, sheet: str, file: str, types: list[str]
) -> tuple[dict[str, Any], dict[str, Any], list[Problem]]:
    """The unit's fields, the typed values and the problems of row ``r`` (1-based, as the sheet shows it).
    Every cell is read even after a bad one, so the failure lists all of the row's problems at once."""
    unit: dict[str, Any] = {}
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for c, key in mapping.items():
        raw = row[c] if c < len(row) else None
        if key.startswith("unit."):
            if raw not in (None, ""):
                text = normalize_text(str(int(raw) if isinstance(raw, float) and raw.is_integer() else raw))
                if text:
                    unit[key[5:]] = text
            continue
        if raw is None or raw == "":
            continue  # blank: 缺报, decided by the engine
        spec = plan.inputs[key]
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        elif type(raw) is str and len(raw) <= 15 and raw.isdigit() and raw.isascii() and spec.kind in _WHOLE:
            raw = int(raw)  # most cells of a statistics export: plain digits, read without parsing text
        too_large = _too_large(_as_number(raw))  # said as such before coerce words it as a bad value
        value, why = (
            (None, None)
            if too_large
            else coerce(spec.kind, raw, choices=spec.choices, minimum=spec.min, maximum=spec.max)
        )
        if why:
            where = f"{sheet}!{get_column_letter(c + 1)}{r} ({key} · {spec.label})"
            problems.append(Problem("bad-value", why, _reason_en(spec, raw), file=file, cell=where))
        elif too_large:
            where = f"{sheet}!{get_column_letter(c + 1)}{r} ({key} · {spec.label})"
            problems.append(
                Problem(
                    "value-too-large",
                    f"数值太大：{printable(str(raw))}；应为小于 {MAX_MAGNITUDE_TEXT} 的数",
                    f"number too large: {printable(str(raw))}; expected less than {MAX_MAGNITUDE_TEXT}",
                    file=file,
                    cell=where,
                )
            )
        elif value is not None:
            values[key] = value
    if "name" not in unit:
        problems.append(
            Problem("bad-value", "没有填写学校名称", "unit name is empty", file=file, cell=f"{sheet}!{r}")
        )
    if types and unit.get("type") not in types:
        col = next((c for c, key in mapping.items() if key == "unit.type"), None)
        where = (
            f"{sheet}!{get_column_letter(col + 1)}{r} (unit_type · 学校类型)"
            if col is not None
            else f"{sheet}!{r}"
        )
        zh, en = unit_type_problem(plan.framework, unit.get("type"))
        problems.insert(0, Problem("unit-type", zh, en, file=file, cell=where))  # column B before the values
    return unit, values, problems


def _as_number(raw: Any) -> Any:
    """A cell as a number when it is written as one (text included), else as it is."""
    if isinstance(raw, str):
        try:
            return Decimal(raw.strip().replace(",", ""))
        except (ArithmeticError, ValueError):
            return raw
    return raw


def _too_large(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float):
        return False
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    return (
        number.is_finite() and number.copy_abs() >= MAX_MAGNITUDE
    )  # no rounding: 1E+999999999 cannot overflow


def _reason_en(spec: InputSpec, raw: Any) -> str:
    """What a cell should have held, in English (coerce explains in Chinese)."""
    shown = printable(str(raw))[:60]
    kind = _KINDS_EN.get(spec.kind) or (
        "one of " + ", ".join(spec.choices) if spec.choices else f"a value of type {spec.kind}"
    )
    bounds = []
    if spec.min is not None:
        bounds.append(f"at least {spec.min}")
    if spec.max is not None:
        bounds.append(f"at most {spec.max}")
    return f"expected {kind}{' ' + ' and '.join(bounds) if bounds else ''}, got '{shown}'"
