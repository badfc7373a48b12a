"""What the API takes and gives, as pydantic models (the OpenAPI document is generated from them)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["管理员", "督学", "学校"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LoginIn(_In):
    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class TokenOut(BaseModel):
    token: str = Field(description="Bearer 令牌，只显示这一次 / shown once")
    id: int
    kind: str
    expires_at: dt.datetime | None


class TokenIn(_In):
    name: str = Field(default="", max_length=200, description="用途，如 “区教育信息平台”")
    user: str | None = Field(default=None, description="为哪个用户（仅管理员；默认自己）")
    days: int | None = Field(default=None, ge=1, le=3650, description="有效天数（默认不过期，直到撤销）")
    reason: str | None = Field(default=None, max_length=2000)


class UserIn(_In):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[^\s]+$")
    display_name: str = Field(default="", max_length=200)
    role: Role
    unit_code: str | None = Field(default=None, max_length=64, description="学校用户所属单位的代码")
    password: str | None = Field(default=None, min_length=8, max_length=200)
    reason: str | None = Field(default=None, max_length=2000)


class UserChange(_In):
    """Only the fields given change; ``password`` resets it (and signs the user out everywhere)."""

    display_name: str | None = Field(default=None, max_length=200)
    role: Role | None = None
    unit_code: str | None = Field(default=None, max_length=64)
    active: bool | None = None
    password: str | None = Field(default=None, min_length=8, max_length=200)
    reason: str | None = Field(default=None, max_length=2000)


class UserOut(BaseModel):
    id: int
    name: str
    display_name: str
    role: str
    unit_code: str | None
    active: bool


class ProjectIn(_In):
    name: str = Field(min_length=1, max_length=200)
    framework: str = Field(min_length=1, max_length=100, description="内置框架 id，如 demo-school")
    year: int = Field(ge=2000, le=2100)
    round: int = Field(default=1, ge=1, le=100)
    reason: str | None = Field(default=None, max_length=2000)


class ProjectOut(BaseModel):
    id: int
    name: str
    framework_id: str
    framework_version: str
    framework_hash: str
    year: int
    round: int


class UnitOut(BaseModel):
    code: str
    name: str
    type: str | None
    phase: str | None
    region: str | None


class ImportOut(BaseModel):
    created: int
    updated: int
    unchanged: int


class ResultSummary(BaseModel):
    part: int
    unit: str
    total: str | None
    grade: str | None
    engine: str


class SubmissionOut(BaseModel):
    version: int
    filename: str
    size: int
    sha256: str
    status: str = Field(description="已评分 or 未通过")
    uploaded_by: str
    uploaded_at: dt.datetime
    current: bool = Field(description="是否为该单位最新的一版（最新的一版计入）")
    results: list[ResultSummary] = Field(default_factory=list)
    problems: list[dict[str, object]] = Field(default_factory=list)


class RectificationOut(BaseModel):
    id: int
    indicator: str
    problem: str
    requirement: str
    deadline: dt.date | None
    status: str
    evidence: str


class TransitionIn(_In):
    status: Literal["整改中", "申请销号", "已销号", "退回"]
    evidence: str | None = Field(default=None, max_length=10_000, description="整改措施与佐证")
    reason: str | None = Field(default=None, max_length=2000)


class AuditOut(BaseModel):
    id: int
    at: dt.datetime
    user: str | None
    action: str
    entity: str
    entity_id: int | None
    old: dict[str, object] | None
    new: dict[str, object] | None
    reason: str


class FrameworkOut(BaseModel):
    id: str
    name: str
    version: str
    source: str
    extends: str | None
