"""The issuing office's settings for the two official documents (督导意见书, 整改通知书): who issues them, the 文号,
the 签发人, the date, the 主送 line, the contact, and the wording an office may change — from a small YAML file
(``issuer.yaml``) or from arguments.

A settings file, with Chinese keys (the English name of each key is accepted too)::

    发文机关: 示范区人民政府教育督导室     # office: 版头, 落款
    发文字号: 示教督                      # prefix: → 示教督〔2026〕12号
    编号: 12                              # number: this document's number (a batch counts up from it)
    年份: 2026                            # year (default: the year of 成文日期)
    签发人: 张明                           # signatory
    成文日期: 2026-07-01                   # date (default: today)
    主送: "{单位}"                         # addressee: {单位} {地区} {类型} {代码}
    抄送: 示范区教育局                      # copy_to
    印发机关: 示范区人民政府教育督导室       # printer (default: 发文机关)
    联系人: 李华                           # contact
    联系电话: 0571-00000000                # phone
    报送期限: 2026-09-30                   # report_by (default: the last 完成时限 of the 整改清单)
    措辞:                                  # wording: see :class:`Wording`
      意见书标题: 关于{单位}督导评估的意见书

A framework carries no wording of its own yet: :class:`Wording` is the shape a framework's ``documents:`` section
would take (proposed in docs/reports.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from ..framework.source import SourceMap, load_yaml_text, read_text
from ..problems import Problem, ScoringError


class IssuerError(ScoringError):
    """An issuer settings file cannot be used: unreadable, an unknown key, a value of the wrong kind."""


@dataclass(frozen=True, slots=True)
class Wording:
    """The sentences an office may word its own way. Placeholders: {单位} the unit's name, {发文机关}, {框架} the
    framework's name, {评估日期}, {报送期限}, {依据} the framework's sources."""

    opinion_title: str = "关于{单位}督导评估的意见书"
    notice_title: str = "关于{单位}限期整改的通知书"
    opinion_intro: str = (
        "{依据}{发文机关}于{评估日期}对你单位开展了{框架}督导评估。现将督导评估意见反馈如下："
    )
    notice_intro: str = "{依据}{发文机关}于{评估日期}对你单位开展了{框架}督导评估，发现你单位存在以下问题，现通知你单位限期整改。"
    closing: str = (
        "请你单位高度重视，对照上述问题制定整改方案，明确责任部门和完成时限，逐项落实整改，"
        "并于{报送期限}前将整改情况书面报送{发文机关}。"
    )
    accountability: str = "逾期未报送或整改不力的，{发文机关}将依据《教育督导问责办法》采取{问责}等措施。"


_WORDING_KEYS = {
    "意见书标题": "opinion_title",
    "通知书标题": "notice_title",
    "意见书开头": "opinion_intro",
    "通知书开头": "notice_intro",
    "结尾": "closing",
    "问责": "accountability",
}


@dataclass(frozen=True, slots=True)
class Issuer:
    """Who issues the documents, and how they are numbered and addressed."""

    office: str  # 发文机关
    prefix: str = ""  # 发文字号 prefix (机关代字): 示教督 → 示教督〔2026〕12号
    number: int | str | None = None  # this document's number; None: left blank to be filled in by hand
    year: int | None = None  # the 文号's year; None: the year of the date
    signatory: str | None = None  # 签发人
    date: dt.date | None = None  # 成文日期; None: the day the document is made
    addressee: str = "{单位}"  # 主送 pattern
    copy_to: str | None = None  # 抄送
    printer: str | None = None  # 印发机关 (default: the office)
    contact: str | None = None  # 联系人
    phone: str | None = None  # 联系电话
    report_by: dt.date | None = None  # 报送期限; None: the last 完成时限 of the 整改清单
    wording: Wording = field(default_factory=Wording)

    def numbered(self, number: int | str | None) -> Issuer:
        """The same settings with another document number (a batch gives each unit its own)."""
        return replace(self, number=number)

    def document_number(self, date: dt.date) -> str:
        """The 文号: ``示教督〔2026〕12号`` (a blank for the number when none is set)."""
        year = self.year or date.year
        number = "　　" if self.number is None else str(self.number)
        return f"{self.prefix}〔{year}〕{number}号"


_KEYS = {
    "发文机关": "office",
    "发文字号": "prefix",
    "文号": "prefix",
    "编号": "number",
    "年份": "year",
    "签发人": "signatory",
    "成文日期": "date",
    "主送": "addressee",
    "抄送": "copy_to",
    "印发机关": "printer",
    "联系人": "contact",
    "联系电话": "phone",
    "报送期限": "report_by",
    "措辞": "wording",
}
_FIELDS = {f.name for f in fields(Issuer)}
_DATES = {"date", "report_by"}
_INTS = {"year"}


def load_issuer(path: str | Path) -> Issuer:
    """The issuer settings in the YAML file ``path``; :class:`IssuerError` naming the line of any fault."""
    path = Path(path)
    try:
        text = read_text(path)
    except ScoringError as err:
        raise IssuerError(err.problems) from None
    return issuer_from_yaml(text, str(path))


def issuer_from_yaml(text: str, file: str = "<issuer>") -> Issuer:
    try:
        data, smap = load_yaml_text(text, file)
    except ScoringError as err:
        raise IssuerError(err.problems) from None
    if not isinstance(data, dict):
        raise IssuerError(
            [
                Problem(
                    "issuer-not-mapping",
                    "发文设置应是“键: 值”的列表",
                    "issuer settings must be a mapping",
                    file=file,
                )
            ]
        )
    return issuer_from_data(data, smap)


def issuer_from_data(data: dict[str, Any], smap: SourceMap | None = None) -> Issuer:
    """Issuer settings from plain data (Chinese or English keys); every fault reported at once."""
    smap = smap or SourceMap("<issuer>")
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    for key, value in data.items():
        name = _KEYS.get(str(key), str(key))
        if name not in _FIELDS:
            known = "、".join(_KEYS)
            problems.append(
                smap.problem(
                    (key,),
                    "issuer-unknown-key",
                    f"未知的设置 “{key}”（可用：{known}）",
                    f"unknown key {key!r}",
                    key=True,
                )
            )
            continue
        try:
            values[name] = _value(name, value)
        except ValueError as err:
            problems.append(smap.problem((key,), "issuer-bad-value", f"“{key}”：{err}", f"{key}: {err}"))
    if "office" not in values or not values["office"]:
        problems.append(
            smap.problem(
                (),
                "issuer-no-office",
                "缺少“发文机关”（发文的督导部门名称）",
                "the key 发文机关 (office) is missing",
            )
        )
    if problems:
        raise IssuerError(problems)
    return Issuer(**values)


def _value(name: str, value: Any) -> Any:
    if name in _DATES:
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value).strip())
        except ValueError:
            raise ValueError(f"应是日期（如 2026-07-01），这里是 “{value}”") from None
    if name in _INTS:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ValueError(f"应是整数，这里是 “{value}”")
    if name == "number":
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        return str(value)
    if name == "wording":
        return _wording(value)
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise ValueError("应是一段文字")
    return str(value)


def _wording(value: Any) -> Wording:
    if not isinstance(value, dict):
        raise ValueError("应是“键: 值”的列表")
    names = {f.name for f in fields(Wording)}
    out = {}
    for key, text in value.items():
        name = _WORDING_KEYS.get(str(key), str(key))
        if name not in names:
            raise ValueError(f"未知的措辞 “{key}”（可用：{'、'.join(_WORDING_KEYS)}）")
        out[name] = str(text)
    return Wording(**out)
