"""Submissions: one unit's 自评 (and optionally 督评) data, read from JSON or YAML, checked against a framework."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

from ..problems import Problem, SubmissionError


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


class DataNote(_Model):
    """A doubt about a submitted value, found while reading it (not a refusal): where, and what to check.

    The engine reports each one with the result, beside the framework's 数据核查 warnings, so a 督学 sees it."""

    code: str = Field(description="e.g. percent-unformatted, formula-without-value, implausible")
    message: str = Field(description="in Chinese: what was read, and what may have been meant")
    place: str | None = Field(None, description="where: a file's sheet and cell, e.g. 自评表!F12")
    input: str | None = Field(None, description="the input id it concerns")


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
    notes: list[DataNote] = Field(
        default_factory=list,
        description="doubts about values found while reading them (reported, not refused)",
    )


# ----------------------------------------------------------------------------------- typed values


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


_ZH = {
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_inexact": "应为日期（YYYY-MM-DD）",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "date_type": "应为日期（YYYY-MM-DD）",
    "model_type": "应为对象（{ 键: 值 }）",
    "dict_type": "应为对象（{ 键: 值 }）",
    "list_type": "应为列表（[ … ]）",
    "string_type": "应为文本",
    "decimal_parsing": "应为数值",
    "decimal_type": "应为数值",
    "finite_number": "应为有限的数值",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
}


def _zh(err: ErrorDetails) -> str:
    """The Chinese for a validation error: what is missing or unknown, or what the value should be."""
    field = err["loc"][-1] if err["loc"] else ""
    if err["type"] == "missing":
        return f"缺少 “{field}”"
    if err["type"] == "extra_forbidden":
        return f"未知的键 “{field}”"
    return _ZH.get(err["type"], err["msg"])
