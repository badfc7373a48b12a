"""The two official documents a 督导室 sends a unit after an evaluation — the 督导意见书 and the 整改通知书 — as
content, decided once: every sentence, number and date as the unit reads it. ``report.docx_writer`` lays them out
as a Chinese official document (GB/T 9704); nothing there words or computes anything.

Both take the result's numbers from the unit report's view (``unit_view``), so the documents and the report say
the same thing in the same format. The problems are those of the 整改清单 in order of priority (高, 中, 低; within
a priority the 清单's own order: vetoes first, then most points recoverable), each with its requirement, basis,
owner and deadline. The report-back date is the issuer's ``report_by``, else the last deadline of the items.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from ..engine.result import RectificationItem, Result
from .blocks import cell_text
from .issuer import Issuer
from .unit_view import PROVISIONAL, unit_view

Kind = Literal["opinion", "notice"]
PRIORITY_ORDER = {"高": 0, "中": 1, "低": 2}
NUMERALS = "一二三四五六七八九十"


def chinese_date(d: dt.date) -> str:
    """A date as official documents write it: 2026年7月1日 (Arabic numerals, GB/T 9704-2012 7.3.5.3)."""
    return f"{d.year}年{d.month}月{d.day}日"


def numeral(n: int) -> str:
    """一 … 十, 十一 … 九十九 (heading numbers 一、 and （一）)."""
    if n <= 10:
        return NUMERALS[n - 1]
    tens, ones = divmod(n, 10)
    return (NUMERALS[tens - 1] if tens > 1 else "") + "十" + (NUMERALS[ones - 1] if ones else "")


@dataclass(frozen=True, slots=True)
class Paragraph:
    """A paragraph of the body: ``level`` 0 body text, 1 a heading 一、, 2 a heading （一）, 3 a heading 1.
    (GB/T 9704: 黑体, 楷体, 仿宋 bold); ``lead`` a heading run at the start of a body paragraph."""

    text: str
    level: int = 0
    lead: str = ""


@dataclass(frozen=True, slots=True)
class Item:
    """One problem of the 整改清单, as the documents state it."""

    no: int  # its number in the documents (priority order)
    code: str
    name: str
    priority: str
    problem: str
    requirement: str | None
    basis: str | None
    owner: str | None
    deadline: dt.date | None


@dataclass(frozen=True, slots=True)
class OfficialDocument:
    kind: Kind
    office: str  # 发文机关 (版头 and 署名)
    number: str  # 文号
    signatory: str | None  # 签发人
    title: str
    addressee: str  # 主送 (without the colon)
    body: tuple[Paragraph, ...]
    problems: tuple[Item, ...]  # in priority order (also said in the body)
    report_by: dt.date | None  # the date to report back by
    contact: str | None  # （联系人：…，联系电话：…）
    signature: str  # 发文机关署名
    date: dt.date  # 成文日期
    copy_to: str | None  # 抄送
    printer: str  # 印发机关
    unit: str  # the unit's name (the file's metadata)

    @property
    def date_text(self) -> str:
        return chinese_date(self.date)


def by_priority(items: list[RectificationItem]) -> list[RectificationItem]:
    """The 整改清单's items by priority (高, 中, 低), keeping the 清单's order within a priority."""
    return sorted(items, key=lambda it: PRIORITY_ORDER.get(it.priority, 3))


def _fields(r: Result, issuer: Issuer, report_by: dt.date | None) -> dict[str, str]:
    sources = "、".join(r.framework.sources)
    return {
        "单位": r.unit.name,
        "地区": r.unit.region or "",
        "类型": r.unit.type or "",
        "代码": r.unit.code or "",
        "发文机关": issuer.office,
        "框架": r.framework.name,
        "评估日期": chinese_date(r.unit.date) if r.unit.date else "近期",
        "报送期限": chinese_date(report_by) if report_by else "整改完成后一个月内",
        "依据": f"根据{sources}，" if sources else "",
    }


def _say(template: str, values: dict[str, str]) -> str:
    """A wording template with its placeholders filled in one pass (a value holding ``{…}`` stays as it is); an
    unknown placeholder stays as written."""
    return re.sub(r"\{([^{}]+)\}", lambda m: values.get(m.group(1), m.group(0)), template)


def _problems(r: Result) -> tuple[Item, ...]:
    return tuple(
        Item(
            no,
            it.code,
            it.name,
            it.priority,
            it.problem,
            it.requirement,
            it.basis,
            it.owner,
            it.deadline,
        )
        for no, it in enumerate(by_priority(list(r.rectification)), start=1)
    )


def _result_paragraphs(r: Result) -> list[Paragraph]:
    """总体评价 and one line per first-level indicator, in the unit report's words and numbers."""
    view = unit_view(r)
    facts = {f.label: f for f in view.facts}
    said = []
    if "总分" in facts:
        total = cell_text(facts["总分"].value)
        full = cell_text(facts["满分"].value) if "满分" in facts else None
        said.append(f"总分{total}分" + (f"（满分{full}分）" if full else ""))
    if "等级" in facts:
        said.append(f"等级为“{cell_text(facts['等级'].value)}”")
    if "认定结论" in facts:
        said.append(f"认定结论为“{cell_text(facts['认定结论'].value)}”")
    overall = "你单位本次督导评估" + ("，".join(said) if said else "已完成") + "。"
    if r.provisional:
        overall += f"（{PROVISIONAL}。）"
    out = [Paragraph("一、总体评价", 1), Paragraph(overall)]
    table = view.overview
    if table.rows:
        out.append(Paragraph("二、各项指标情况", 1))
        by_points = table.columns[table.column("earned")].title == "得分"
        name, status = table.column("name"), table.column("status")
        columns = [table.column(k) for k in ("earned", "full", "rate")]
        for i, row in enumerate(table.rows, start=1):
            e, f, p = (cell_text(row.cells[k]) for k in columns)
            figures = (
                f"得{e}分（满分{f}分，得分率{p}）" if by_points else f"达标{e}项（计入{f}项，达标率{p}）"
            )
            out.append(
                Paragraph(
                    f"{figures}，{cell_text(row.cells[status])}。",
                    lead=f"（{numeral(i)}）{cell_text(row.cells[name])}。",
                )
            )
    return out


def _problem_paragraphs(problems: tuple[Item, ...], *, detailed: bool) -> list[Paragraph]:
    out = []
    for p in problems:
        lead = f"{p.no}. {p.name}（{p.code}，优先级：{p.priority}）。"
        text = p.problem.rstrip("。") + "。"
        if detailed:
            if p.requirement:
                text += f"整改要求：{p.requirement.rstrip('。')}。"
            if p.basis:
                text += f"依据：{p.basis.rstrip('。')}。"
            if p.owner:
                text += f"责任部门：{p.owner}。"
            if p.deadline:
                text += f"完成时限：{chinese_date(p.deadline)}前。"
        out.append(Paragraph(text, lead=lead))
    return out


def _report_by(r: Result, issuer: Issuer) -> dt.date | None:
    if issuer.report_by:
        return issuer.report_by
    deadlines = [it.deadline for it in r.rectification if it.deadline]
    return max(deadlines) if deadlines else None


def _contact(issuer: Issuer) -> str | None:
    said = [
        x
        for x in (
            f"联系人：{issuer.contact}" if issuer.contact else "",
            f"联系电话：{issuer.phone}" if issuer.phone else "",
        )
        if x
    ]
    return f"（{'，'.join(said)}）" if said else None


def _document(
    r: Result, issuer: Issuer, kind: Kind, body: list[Paragraph], today: dt.date | None
) -> OfficialDocument:
    date = issuer.date or today or dt.date.today()
    report_by = _report_by(r, issuer)
    values = _fields(r, issuer, report_by)
    title = issuer.wording.opinion_title if kind == "opinion" else issuer.wording.notice_title
    return OfficialDocument(
        kind=kind,
        office=issuer.office,
        number=issuer.document_number(date),
        signatory=issuer.signatory,
        title=_say(title, values),
        addressee=_say(issuer.addressee, values),
        body=tuple(body),
        problems=_problems(r),
        report_by=report_by,
        contact=_contact(issuer),
        signature=issuer.office,
        date=date,
        copy_to=issuer.copy_to,
        printer=issuer.printer or issuer.office,
        unit=r.unit.name,
    )


def _closing(r: Result, issuer: Issuer, values: dict[str, str]) -> list[Paragraph]:
    out = [Paragraph(_say(issuer.wording.closing, values))]
    measures = list(dict.fromkeys(m for it in r.rectification for m in it.accountability))
    if measures:
        out.append(Paragraph(_say(issuer.wording.accountability, {**values, "问责": "、".join(measures)})))
    return out


def opinion(r: Result, issuer: Issuer, *, today: dt.date | None = None) -> OfficialDocument:
    """The 督导意见书 of ``r``: the result (total, grade, each first-level indicator), the problems in order of
    priority with what to do, by whom and by when, and the request to report back by the deadline."""
    values = _fields(r, issuer, _report_by(r, issuer))
    body = [Paragraph(_say(issuer.wording.opinion_intro, values)), *_result_paragraphs(r)]
    problems = _problems(r)
    n = 3 if len(body) > 3 else 2
    if problems:
        body.append(Paragraph(f"{numeral(n)}、存在的主要问题和整改意见", 1))
        body += _problem_paragraphs(problems, detailed=True)
        body.append(Paragraph(f"{numeral(n + 1)}、整改要求", 1))
        body += _closing(r, issuer, values)
    else:
        body.append(Paragraph(f"{numeral(n)}、意见", 1))
        body.append(Paragraph("本次督导评估未发现需要整改的问题。请你单位保持成绩，持续提升办学水平。"))
    return _document(r, issuer, "opinion", body, today)


def notice(r: Result, issuer: Issuer, *, today: dt.date | None = None) -> OfficialDocument:
    """The 整改通知书 of ``r``: the problems in order of priority, each with its requirement, basis, owner and
    deadline, and the request to report back by the deadline (with the accountability measures)."""
    values = _fields(r, issuer, _report_by(r, issuer))
    body = [Paragraph(_say(issuer.wording.notice_intro, values))]
    problems = _problems(r)
    body.append(Paragraph("一、需要整改的问题", 1))
    if problems:
        body += _problem_paragraphs(problems, detailed=True)
    else:
        body.append(Paragraph("本次督导评估未发现需要整改的问题。"))
    body.append(Paragraph("二、整改要求", 1))
    body += _closing(r, issuer, values)
    return _document(r, issuer, "notice", body, today)
