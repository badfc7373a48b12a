"""Submissions: one unit's 自评 (and optionally 督评) data, read from JSON or YAML, checked against a framework."""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

from .problems import Problem, SubmissionError


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UnitInfo(_Model):
    """The unit evaluated."""

    name: str
    code: str | None = None
    type: str | None = Field(None, description="unit type, e.g. 小学 / 初中 / 九年一贯制学校")
    region: str | None = None
    date: dt.date | None = Field(None, description="evaluation date; 整改 deadlines count from it")
    school_type: str | None = Field(
        None, description="for a unit split from a school row: the school's own type"
    )


class Waiver(_Model):
    """An indicator excused from scoring (已豁免): who, when, why, until when."""

    indicator: str
    by: str
    at: dt.date | None = None
    reason: str
    expires: dt.date | None = None


class Override(_Model):
    """An evaluator's override of an indicator's points or status, recorded with old → new in the result."""

    indicator: str
    points: Decimal | None = None
    status: str | None = None
    by: str
    at: dt.date | None = None
    reason: str


class Submission(_Model):
    """What a unit submitted: values by input id, plus the evaluator's values, ratings, waivers and overrides."""

    framework: str | None = Field(None, description="framework id this submission was made for")
    framework_version: str | None = None
    unit: UnitInfo
    values: dict[str, Any] = Field(default_factory=dict, description="自评 values by input id")
    evaluator_values: dict[str, Any] = Field(default_factory=dict, description="督评 values by input id")
    manual: dict[str, Any] = Field(default_factory=dict, description="evaluator ratings by indicator code")
    waivers: list[Waiver] = Field(default_factory=list)
    overrides: list[Override] = Field(default_factory=list)
    evidence: dict[str, list[str]] = Field(default_factory=dict, description="evidence references by code")
    source: str | None = Field(None, description="where the submission was read from")


# ----------------------------------------------------------------------------------- typed values

_TRUE = {"是", "√", "✓", "✔", "有", "true", "yes", "y", "1", "对", "已", "达到", "符合"}
_FALSE = {"否", "×", "✗", "✘", "x", "无", "没有", "false", "no", "n", "0", "未", "不符合"}
_NUMERIC = frozenset(("number", "integer", "percent"))
_ONE = Decimal(1)
_NUM_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def normalize_text(text: str) -> str:
    """NFKC (全角 → 半角), strip spaces including the ideographic space, drop thousands separators."""
    return unicodedata.normalize("NFKC", text).strip().replace("\u3000", "")


def coerce(
    kind: str,
    raw: Any,
    *,
    choices: tuple[str, ...] | None = None,
    minimum: Decimal | None = None,
    maximum: Decimal | None = None,
) -> tuple[Any, str | None]:
    """Turn what a person or system gave into the input's type; (value, None) or (None, Chinese reason)."""
    t = type(raw)
    if (
        t is float or t is Decimal or t is int
    ):  # the common case from workbooks and JSON, without text handling
        if kind in _NUMERIC:
            value = Decimal(repr(raw)) if t is float else raw if t is Decimal else Decimal(raw)
            if not value.is_finite():
                return None, f"应填有限的数值，这里是 “{raw}”"
            if kind == "integer":
                if value != value.to_integral_value():
                    return None, f"应填整数，这里是 {raw}"
                value = _whole(value)
            if minimum is not None and value < minimum:
                return None, f"不能小于 {minimum}，这里是 {value}"
            if maximum is not None and value > maximum:
                return None, f"不能大于 {maximum}，这里是 {value}"
            return value, None
    elif t is bool:
        if kind == "boolean":
            return raw, None
    elif t is str and choices is not None and raw in choices and kind in ("choice", "level"):
        return raw, None
    if raw is None or (isinstance(raw, str) and not normalize_text(raw)):
        return None, None
    if kind in ("number", "integer", "percent"):
        value, why = _number(kind, raw)
        if why is None and minimum is not None and value < minimum:
            return None, f"不能小于 {minimum}，这里是 {value}"
        if why is None and maximum is not None and value > maximum:
            return None, f"不能大于 {maximum}，这里是 {value}"
        return value, why
    if kind == "boolean":
        if isinstance(raw, bool):
            return raw, None
        if isinstance(raw, int | Decimal | float) and raw in (0, 1):
            return bool(raw), None
        text = normalize_text(str(raw)).lower()
        if text in _TRUE:
            return True, None
        if text in _FALSE:
            return False, None
        return None, f"应填 是/否（√/×、有/无），这里是 “{raw}”"
    if kind in ("choice", "level"):
        text = normalize_text(str(raw))
        if not choices:
            return text, None
        canonical = {normalize_text(c): c for c in choices}  # Ⅲ and III, 全角 and 半角 are the same choice
        if text not in canonical:
            return None, f"“{raw}” 不是可选值（{'、'.join(choices)}）"
        return canonical[text], None
    if kind == "date":
        return _date(raw)
    return str(raw).strip(), None


def _number(kind: str, raw: Any) -> tuple[Any, str | None]:
    if isinstance(raw, bool):
        return None, "应填数值，这里是是/否"
    if isinstance(raw, float):
        value = Decimal(repr(raw))
    elif isinstance(raw, int | Decimal):
        value = Decimal(raw)
    else:
        text = normalize_text(str(raw)).replace(",", "").replace(" ", "")
        percent = text.endswith("%")
        if percent:
            text = text[:-1]
        for unit in ("人", "元", "㎡", "m2", "m²", "间", "册", "分钟", "个", "件", "起", "平方米"):
            if text.endswith(unit):
                text = text[: -len(unit)]
        if not _NUM_RE.match(text):
            return None, f"应填数值，这里是 “{raw}”"
        try:
            value = Decimal(text)
        except InvalidOperation:
            return None, f"应填数值，这里是 “{raw}”"
        if percent and kind != "percent":
            value = value / 100
    if not value.is_finite():
        return None, f"应填有限的数值，这里是 “{raw}”"
    if kind == "integer" and value != value.to_integral_value():
        return None, f"应填整数，这里是 {raw}"
    if kind == "integer":
        value = _whole(value)
    return value, None


def _whole(value: Decimal) -> Decimal:
    """An integral value written without decimals (5.0 → 5). Values beyond the context's 28 digits keep their
    exponent: quantizing them would raise InvalidOperation (found by tests/test_properties.py)."""
    exponent = value.as_tuple().exponent
    if exponent == 0 or value.adjusted() >= 28:
        return value
    return value.quantize(_ONE)


def _date(raw: Any) -> tuple[Any, str | None]:
    if isinstance(raw, dt.datetime):
        return raw.date(), None
    if isinstance(raw, dt.date):
        return raw, None
    text = normalize_text(str(raw))
    m = re.match(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$", text)
    if m:
        try:
            return dt.date(int(m[1]), int(m[2]), int(m[3])), None
        except ValueError:
            pass
    return None, f"应填日期（如 2024-09-01 或 2024年9月1日），这里是 “{raw}”"


def read_submission(path: str | Path) -> Submission:
    """Read a submission from a .json or .yaml file; raise SubmissionError with the place of every problem."""
    from .yamlsource import load_yaml_text, read_text

    p = Path(path)
    name = str(p)
    try:
        text = read_text(p)
    except Exception as exc:  # FrameworkError from the shared reader: same problems, other class
        problems = getattr(
            exc, "problems", [Problem("io", f"无法读取：{exc}", f"cannot read: {exc}", file=name)]
        )
        raise SubmissionError(problems) from None
    smap = None
    try:
        if p.suffix.lower() == ".json":
            data = json.loads(text, parse_float=Decimal)
        else:
            data, smap = load_yaml_text(text, name)
    except json.JSONDecodeError as exc:
        raise SubmissionError(
            [
                Problem(
                    "json-syntax",
                    f"JSON 语法错误：{exc.msg}",
                    f"JSON syntax error: {exc.msg}",
                    file=name,
                    line=exc.lineno,
                    column=exc.colno,
                )
            ]
        ) from None
    except Exception as exc:
        problems = getattr(exc, "problems", None)
        if problems:
            raise SubmissionError(problems) from None
        raise
    return submission_from_data(data, name, smap)


def submission_from_data(data: Any, name: str = "<input>", smap: Any = None) -> Submission:
    try:
        sub = Submission.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            path = tuple(err["loc"])
            mark = smap.find(path) if smap is not None else None
            problems.append(
                Problem(
                    "submission-schema",
                    f"填报数据格式错误：{_zh(err)}",
                    f"submission format: {err['msg']}",
                    file=name,
                    line=mark.line if mark else None,
                    column=mark.column if mark else None,
                    path=path,
                )
            )
        raise SubmissionError(problems) from None
    sub.source = sub.source or name
    return sub


def _zh(err: ErrorDetails) -> str:
    field = err["loc"][-1] if err["loc"] else ""
    return {
        "missing": f"缺少 “{field}”",
        "extra_forbidden": f"未知的键 “{field}”",
        "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
        "date_parsing": "应为日期（YYYY-MM-DD）",
    }.get(err["type"], err["msg"])
