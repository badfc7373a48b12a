"""Reading a statistics table (CSV or a workbook's first sheet): one row per unit → submissions.

Columns are matched by input id or by the input's Chinese label, so a statistics export can be used as it is;
``unit_name`` / 学校名称 / 单位名称, ``unit_type`` / 学校类型 / 单位类型, ``unit_code`` / 学校代码 / 单位代码 and
``region`` / 所在区域 fill the unit. Every bad cell is reported as ``file — Sheet!D5 (列名 · label): message``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from openpyxl.utils import get_column_letter

from ..engine.plan import Plan
from ..engine.rows import FailureRow
from ..engine.submission import Submission, UnitInfo
from ..framework.values import coerce, normalize_text
from ..problems import Problem, SubmissionError
from .safety import DEFAULT_FILE_LIMITS, FileLimits, UnsafeFile, check_file

UNIT_COLUMNS = {
    "name": ("unit_name", "学校名称", "单位名称", "名称"),
    "type": ("unit_type", "学校类型", "单位类型", "类型"),
    "code": ("unit_code", "学校代码", "单位代码", "学校标识码"),
    "region": ("region", "所在区域", "区域"),
}
TABLE_SUFFIXES = (".csv", ".xlsx", ".xlsm", ".xls", ".ods")


def _header_map(header: list[Any], plan: Plan) -> tuple[dict[int, str], list[str]]:
    by_label = {normalize_text(spec.label): name for name, spec in plan.inputs.items()}
    unit_keys = {alias: f"unit.{field}" for field, aliases in UNIT_COLUMNS.items() for alias in aliases}
    mapping: dict[int, str] = {}
    unknown: list[str] = []
    for i, cell in enumerate(header):
        if cell in (None, ""):
            continue
        text = normalize_text(str(cell))
        key = unit_keys.get(text) or (text if text in plan.inputs else by_label.get(text))
        if key is None:
            unknown.append(text)
        else:
            mapping[i] = key
    return mapping, unknown


def _rows(path: Path) -> tuple[str, list[list[Any]]]:
    if path.suffix.lower() == ".csv":
        raw = path.read_bytes()
        for encoding in ("utf-8-sig", "gb18030"):  # Excel and WPS save CSV as GBK on Chinese systems
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise SubmissionError(
                [
                    Problem(
                        "encoding",
                        "CSV 文件既不是 UTF-8 也不是 GBK 编码",
                        "CSV is neither UTF-8 nor GBK",
                        file=str(path),
                    )
                ]
            )
        return "CSV", [list(r) for r in csv.reader(io.StringIO(text))]
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
    path: str | Path, plan: Plan, limits: FileLimits = DEFAULT_FILE_LIMITS
) -> tuple[list[Submission], list[FailureRow]]:
    """Submissions from the rows; a row with bad cells becomes a failure (with every cell's reason), not an error."""
    p = Path(path)
    file = str(p)
    _check_safe(p, limits, file)
    sheet, rows = _rows(p)
    header_at = _header_at(rows, file)
    mapping = _columns(rows[header_at], plan, file, f"{sheet}!{header_at + 1}")
    subs: list[Submission] = []
    failures: list[FailureRow] = []
    for r, row in enumerate(rows[header_at + 1 :], start=header_at + 2):
        if not any(c not in (None, "") for c in row):
            continue
        unit, values, problems = _read_row(row, r, mapping, plan, sheet, file)
        if problems:
            name = unit.get("name") or f"第 {r} 行"
            failures.append(FailureRow(f"{file} 第 {r} 行（{name}）", [p.format("zh") for p in problems]))
            continue
        subs.append(Submission(unit=UnitInfo(**unit), values=values, source=f"{file}#{r}"))
    return subs, failures


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


def _columns(header: list[Any], plan: Plan, file: str, cell: str) -> dict[int, str]:
    """What each column holds, by the header. A table without a name column, or with a column that matches
    nothing, is refused as a whole: its rows cannot be read right, so none is read. ``cell`` is the header row."""
    mapping, unknown = _header_map(header, plan)
    if "unit.name" not in mapping.values():
        raise SubmissionError(
            [
                Problem(
                    "table-header",
                    "找不到学校名称列（表头应有 学校名称 / 单位名称 / unit_name）",
                    "no unit name column",
                    file=file,
                    cell=cell,
                )
            ]
        )
    if unknown:
        raise SubmissionError(
            [
                Problem(
                    "table-header",
                    f"表头 “{u}” 既不是填报项的 id，也不是其中文名称",
                    f"column '{u}' is neither an input id nor an input label",
                    file=file,
                    cell=cell,
                )
                for u in unknown
            ]
        )
    return mapping


def _read_row(
    row: list[Any], r: int, mapping: dict[int, str], plan: Plan, sheet: str, file: str
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
                unit[key[5:]] = normalize_text(
                    str(int(raw) if isinstance(raw, float) and raw.is_integer() else raw)
                )
            continue
        spec = plan.inputs[key]
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        value, why = coerce(spec.kind, raw, choices=spec.choices, minimum=spec.min, maximum=spec.max)
        if why:
            where = f"{sheet}!{get_column_letter(c + 1)}{r} ({key} · {spec.label})"
            problems.append(Problem("bad-value", why, why, file=file, cell=where))
        elif value is not None:
            values[key] = value
    if "name" not in unit:
        problems.append(
            Problem("bad-value", "没有填写学校名称", "unit name is empty", file=file, cell=f"{sheet}!{r}")
        )
    return unit, values, problems
