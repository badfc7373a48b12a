"""What the API takes and gives, as pydantic models (the OpenAPI document is generated from them)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..engine.diff import Accountability
from ..engine.result import RectificationItem

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


class TokenInfo(BaseModel):
    """A token as listed: never its secret (only its digest is stored)."""

    id: int
    kind: str = Field(description="session（登录）或 api（系统令牌）")
    name: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None


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
    state: str = Field(default="填报中", description="填报中（可上传）或 已关闭（不再接受上传）")
    previous_id: int | None = Field(default=None, description="上一轮的评估项目")


class StateIn(_In):
    state: str = Field(description="填报中 或 已关闭")
    reason: str | None = Field(default=None, max_length=2000)


class NextRoundIn(_In):
    name: str | None = Field(default=None, min_length=1, max_length=200, description="默认沿用本轮名称")
    reason: str | None = Field(default=None, max_length=2000)


class AssignIn(_In):
    units: list[str] = Field(min_length=1, max_length=5000, description="单位代码")
    inspector: str | None = Field(default=None, max_length=64, description="督学用户名；空为取消分配")
    reason: str | None = Field(default=None, max_length=2000)


class AssignOut(BaseModel):
    changed: int


class UnitOut(BaseModel):
    code: str
    name: str
    type: str | None
    phase: str | None
    region: str | None
    inspector: str | None = Field(default=None, description="负责的督学（用户名）")


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
    review_state: str = Field(
        default="待审核", description="督学审核：待审核、已通过 或 已退回（未通过的版本无须审核，为 —）"
    )
    review_reason: str = Field(default="", description="退回的原因（学校据此修改后重新上传）")
    reviewed_by: str | None = None
    reviewed_at: dt.datetime | None = None


class CountySubmissionOut(BaseModel):
    """One version of a county project's own data (县级填报)."""

    version: int
    filename: str
    size: int
    sha256: str
    status: str = Field(description="已读取 or 未通过")
    uploaded_by: str
    uploaded_at: dt.datetime
    current: bool = Field(description="是否为计入县域评估的一版（最新的已读取的一版）")
    problems: list[dict[str, object]] = Field(default_factory=list)


class ReviewIn(_In):
    decision: Literal["通过", "退回"]
    reason: str | None = Field(default=None, max_length=2000, description="退回时必填：学校需要修改什么")


class RectificationOut(BaseModel):
    id: int
    indicator: str
    problem: str
    requirement: str
    deadline: dt.date | None
    status: str
    evidence: str
    overdue_days: int = Field(default=0, description="逾期天数：已过整改期限（北京时间）且未销号；0 为未逾期")


class EvidenceOut(BaseModel):
    id: int
    filename: str
    media_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: dt.datetime
    withdrawn_at: dt.datetime | None = Field(description="撤回的时间（撤回的文件仍保留）；未撤回为 null")


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
    source: str = Field(description="内置框架的文件，或 uploaded（管理员上传）")
    extends: str | None
    hash: str | None = Field(default=None, description="上传框架的内容哈希（项目按此固定框架）")


class SessionInfo(BaseModel):
    """A live sign-in (a ``session`` token neither revoked nor expired): never its secret."""

    id: int
    name: str
    created_at: dt.datetime = Field(description="登录时间（UTC）")
    expires_at: dt.datetime | None = Field(description="有效至（UTC）")
    current: bool = Field(description="是否为本次请求所用的会话")


class SessionsEnd(_In):
    reason: str | None = Field(default=None, max_length=2000, description="原因，记入审计日志")


class SessionsEnded(BaseModel):
    ended: int = Field(description="结束的登录会话数")


class MeasuresIn(_In):
    """整改进展: the unit's 措施 so far, saved without asking to close the item."""

    evidence: str = Field(max_length=10_000, description="整改措施（整改进展），替换此前保存的文字")
    reason: str | None = Field(default=None, max_length=2000, description="说明，记入审计日志")


class ScoreChangeOut(BaseModel):
    """A first-level indicator's points in the previous round and now (None where not scored by points)."""

    code: str
    name: str
    old: Decimal | None
    new: Decimal | None
    old_status: str
    new_status: str
    delta: Decimal | None = Field(description="new − old; null where either is null")


class RoundDiffOut(BaseModel):
    """``engine.diff.RoundDiff`` of one part of a unit: decimals as strings, as results write them."""

    type: str | None = Field(
        description="单位类型 of the part (a 九年一贯制 unit may be scored as two parts)"
    )
    closed: list[RectificationItem] = Field(description="已销号：上一轮的整改事项，本轮不再出现")
    still_open: list[RectificationItem] = Field(description="仍未整改（本轮的事项）")
    new: list[RectificationItem] = Field(description="新增问题")
    overdue: list[RectificationItem] = Field(description="逾期：仍未整改且已过上一轮限期（上一轮的事项）")
    accountability: list[Accountability] = Field(description="问责情形，依据《教育督导问责办法》")
    scores: list[ScoreChangeOut] = Field(description="一级指标得分变化")
    total_old: Decimal | None
    total_new: Decimal | None
    grade_old: str | None
    grade_new: str | None


class UnitChangeOut(RoundDiffOut):
    """A unit against the previous round: the first part's RoundDiff at the top level, every part in ``parts``."""

    project: int
    code: str
    previous_project: int
    previous_round: int
    parts: list[RoundDiffOut]


class _Edit(_In):
    """A correction: only the fields given change (a null name or year means “not given”). Anything else sent is
    kept (``extra="allow"``) so the service can refuse it by name (422) rather than ignore it."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)

    def changes(self) -> dict[str, object]:
        """The fields the caller asks to change, without the reason."""
        given = self.model_dump(exclude_unset=True)
        given.pop("reason", None)
        return {k: v for k, v in given.items() if not (k in ("name", "year") and v is None)}


class ProjectEdit(_Edit):
    """A project's name and year (管理员); its framework, version, hash, round and state are not edited here."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    year: int | None = Field(default=None, ge=2000, le=2100)
    reason: str | None = Field(default=None, max_length=2000)


class UnitEdit(_Edit):
    """A unit's name, type, 学段 and 区域 (管理员); an empty or null type, 学段 or 区域 clears it. The code is the
    unit's identity and is not edited."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    type: str | None = Field(default=None, max_length=50, description="单位类型：框架声明了类型时须为其一")
    phase: str | None = Field(default=None, max_length=50, description="学段")
    region: str | None = Field(default=None, max_length=100, description="区域")
    reason: str | None = Field(default=None, max_length=2000)
