"""The 督学's 督评 on a unit's page: beside the newest scored submission's 自评 values, the 督评 values of the
inputs and the 督学 ratings (manual levels), each change with its reason. Saving makes the unit's next version
through the store path of every upload (``submitting.score_upload`` and ``save_upload``): a submission (JSON)
whose ``evaluator_values`` and ``manual`` are the 督评 entries, the 自评 values kept, uploaded by the 督学, the
reasons in the audit row. It is scored like any upload, so the page shows the new total, the 自评得分 and the
自评虚高 flags. Its 调整与豁免 part sets a leaf indicator's points or status (an ``Override``) or excuses it (a
``Waiver``, optionally until a date), by the 督学 today, with a reason; the current version's waivers and overrides
are carried into the new one unless 撤销 (with a reason). The engine applies them and lists each in the result's
``changes``. The form and what it changes are here; the route that saves it is ``review_page``."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...engine.plan import Plan
from ...engine.submission import Override, Submission, Waiver
from ...framework.rules.base import STATUS_ZH
from ...io.read import read_submission
from ...problems import ScoringError
from ..access import Actor
from ..models import ADMIN, INSPECTOR, ResultRow, Unit
from ..models import Submission as Upload
from ..state import Service
from ..submitting import SCORED

MAX_REASON = 500  # a change's reason, characters
ADJUST_ROWS = 3  # empty 调整与豁免 rows on the form
POINTS, STATUS, WAIVE = "调整得分", "调整状态", "豁免"
KINDS = (POINTS, STATUS, WAIVE)
STATUSES = tuple(STATUS_ZH.values())  # what an override's status may be (score.override: STATUS_BY_ZH)


@dataclass
class Entry:
    """One input or rating on the form: its 自评 value (inputs only) and its current 督评 value, as text."""

    key: str  # the form field: ``ev:<input>`` or ``rt:<indicator code>``
    name: str
    label: str
    unit: str
    own: str  # 自评
    value: str  # 督评 (in the newest scored version)
    choices: list[str] = field(default_factory=list)  # a select's options ([] for free text)


@dataclass
class Leaf:
    """A leaf indicator the 督学 may adjust or waive: its full points and its result in the current version."""

    code: str
    name: str
    full: Decimal | None  # None: judged 达标 / 未达标 only, no points
    now: str  # e.g. 部分达标 5.00 分 ("" when the current result does not list it)

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}"


@dataclass
class Held:
    """A waiver or override of the current version, carried into the next one unless 撤销."""

    key: str  # ``w<i>`` (the i-th waiver) or ``o<i>`` (the i-th override)
    indicator: str
    label: str  # code and name
    what: str  # e.g. 调整得分 9 / 豁免（至 2026-12-31）
    by: str
    at: str
    reason: str


@dataclass
class Review:
    version: int  # the scored version the form starts from
    inputs: list[Entry]
    ratings: list[Entry]
    leaves: list[Leaf] = field(default_factory=list)
    held: list[Held] = field(default_factory=list)
    rows: range = range(ADJUST_ROWS)
    kinds: tuple[str, ...] = KINDS
    statuses: tuple[str, ...] = STATUSES


def text(value: Any) -> str:
    """A submission's value as the form shows it (是/否 for a yes-no, a number as written)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
    return str(value)


def may_review(actor: Actor) -> bool:
    return actor.role in (ADMIN, INSPECTOR)


def newest(session: Session, unit: Unit) -> Upload | None:
    return session.scalars(
        select(Upload)
        .where(Upload.unit_id == unit.id, Upload.status == SCORED)
        .order_by(Upload.version.desc())
        .limit(1)
    ).first()


def read(svc: Service, plan: Plan, row: Upload) -> Submission | None:
    try:
        return read_submission(row.content, filename=row.filename, plan=plan, limits=svc.file_limits)
    except ScoringError:
        return None


def _applies(plan: Plan, name: str, unit: Unit) -> bool:
    spec = plan.inputs[name]
    return spec.applies_to is None or not unit.type or unit.type in spec.applies_to


def _entries(plan: Plan, sub: Submission, unit: Unit) -> tuple[list[Entry], list[Entry]]:
    inputs = []
    for name, spec in plan.inputs.items():
        if not _applies(plan, name, unit):
            continue
        choices = list(spec.choices or ()) or (["是", "否"] if spec.kind == "boolean" else [])
        inputs.append(
            Entry(
                f"ev:{name}",
                name,
                spec.label,
                spec.unit or "",
                text(sub.values.get(name)),
                text(sub.evaluator_values.get(name)),
                choices,
            )
        )
    ratings = []
    for node in plan.nodes:
        rule = node.indicator.rule
        manual = rule.manual if rule is not None else None
        if node.rule is None or manual is None:
            continue
        levels = list(manual.levels or {})
        ratings.append(
            Entry(f"rt:{node.code}", node.code, node.name, "", "", text(sub.manual.get(node.code)), levels)
        )
    return inputs, ratings


def review_form(svc: Service, session: Session, actor: Actor, unit: Unit) -> Review | None:
    """The 督评 form for the unit page: None for a 学校 user or a unit with no scored version."""
    if not may_review(actor):
        return None
    row = newest(session, unit)
    if row is None:
        return None
    plan = svc.pinned_plan(unit.project)
    if plan is None:  # the framework has changed since the project was made: a 督评 could not be saved
        return None
    sub = read(svc, plan, row)
    if sub is None:
        return None
    inputs, ratings = _entries(plan, sub, unit)
    leaves = _leaves(plan, unit, _now(session, row))
    return Review(row.version, inputs, ratings, leaves, _held(plan, sub))


def _now(session: Session, row: Upload) -> dict[str, str]:
    """Each indicator's result in the version's first scored part, e.g. 部分达标 5.00 分."""
    first = session.scalars(
        select(ResultRow).where(ResultRow.submission_id == row.id).order_by(ResultRow.part).limit(1)
    ).first()
    if first is None:
        return {}
    try:
        indicators = json.loads(first.document).get("indicators") or []
    except ValueError:
        return {}
    now = {}
    for i in indicators:
        status = STATUS_ZH.get(i.get("status"), i.get("status") or "")
        now[i["code"]] = f"{status} {i['points']} 分" if i.get("points") is not None else status
    return now


def _leaves(plan: Plan, unit: Unit, now: dict[str, str]) -> list[Leaf]:
    return [
        Leaf(node.code, node.name, node.leaf_possible, now.get(node.code, ""))
        for node in plan.nodes
        if node.rule is not None
        and (node.applies_to is None or not unit.type or unit.type in node.applies_to)
    ]


def _name(plan: Plan, code: str) -> str:
    node = plan.index.get(code)
    return f"{code} {node.name}" if node is not None else code


def _override_text(o: Override) -> str:
    parts = []
    if o.points is not None:
        parts.append(f"{POINTS} {text(o.points)} 分")
    if o.status is not None:
        parts.append(f"{STATUS} {STATUS_ZH.get(o.status, o.status)}")
    return "，".join(parts) or "调整"


def _waiver_text(w: Waiver) -> str:
    return WAIVE + (f"（至 {w.expires.isoformat()}）" if w.expires is not None else "")


def _held(plan: Plan, sub: Submission) -> list[Held]:
    held = []
    for i, w in enumerate(sub.waivers):
        at = w.at.isoformat() if w.at else ""
        held.append(Held(f"w{i}", w.indicator, _name(plan, w.indicator), _waiver_text(w), w.by, at, w.reason))
    for i, o in enumerate(sub.overrides):
        at = o.at.isoformat() if o.at else ""
        held.append(
            Held(f"o{i}", o.indicator, _name(plan, o.indicator), _override_text(o), o.by, at, o.reason)
        )
    return held


@dataclass
class Change:
    entry: Entry
    new: str
    reason: str


def changes(review: Review, fields: dict[str, str]) -> tuple[list[Change], list[str]]:
    """What the form changed (a value differing from the current 督评) and what is wrong with it."""
    found, wrong = [], []
    for entry in review.inputs + review.ratings:
        sent = fields.get(entry.key)
        if sent is None:
            continue
        new = sent.strip()[:200]
        if new == entry.value:
            continue
        if entry.choices and new and new not in entry.choices:
            wrong.append(f"{entry.label}：应为 {'、'.join(entry.choices)} 之一")
            continue
        reason = fields.get("why:" + entry.key, "").strip()[:MAX_REASON]
        if not reason:
            wrong.append(f"{entry.label}：请写明修改督评的原因")
        found.append(Change(entry, new, reason))
    return found, wrong


@dataclass
class Adjust:
    """A 调整与豁免 change: a new override or waiver (replacing one of the same kind on the indicator), or a
    carried one 撤销 (``drop``)."""

    label: str  # the indicator's code and name
    what: str  # 调整得分 / 调整状态 / 豁免 / 撤销…
    old: str
    new: str
    reason: str
    override: Override | None = None
    waiver: Waiver | None = None
    drop: str | None = None  # a Held key


def _points(sent: str, leaf: Leaf) -> tuple[Decimal | None, str]:
    if leaf.full is None:
        return None, "按达标与否判定、不计分，只能调整状态或豁免"
    if not sent:
        return None, "请填写调整后的得分"
    try:
        points = Decimal(sent)
    except InvalidOperation:
        return None, f"得分 “{sent}” 不是数字"
    if not points.is_finite() or points < 0 or points > leaf.full:
        return None, f"得分 {sent} 超出 0–{text(leaf.full)} 分（本指标满分 {text(leaf.full)} 分）"
    return points, ""


def _adjust(
    leaf: Leaf, kind: str, sent: dict[str, str], reason: str, by: str, today: dt.date
) -> tuple[Adjust | None, list[str]]:
    """One row's override or waiver of ``leaf``, or what is wrong with it."""
    wrong = [] if reason else [f"请写明{kind}的原因"]
    was = leaf.now or "—"
    if kind == POINTS:
        value, bad = _points(sent["points"], leaf)
        if value is None:
            return None, [bad, *wrong]
        o = Override(indicator=leaf.code, points=value, by=by, at=today, reason=reason)
        return Adjust(leaf.label, kind, was, f"{text(value)} 分", reason, override=o), wrong
    if kind == STATUS:
        status = sent["status"]
        if status not in STATUSES:
            return None, [f"调整后的状态应为 {'、'.join(STATUSES)} 之一", *wrong]
        o = Override(indicator=leaf.code, status=status, by=by, at=today, reason=reason)
        return Adjust(leaf.label, kind, was, status, reason, override=o), wrong
    expires = sent["expires"]
    try:
        until = dt.date.fromisoformat(expires) if expires else None
    except ValueError:
        return None, [f"有效期至 “{expires}” 不是日期（如 {today.isoformat()}）", *wrong]
    w = Waiver(indicator=leaf.code, by=by, at=today, reason=reason, expires=until)
    return Adjust(leaf.label, kind, was, _waiver_text(w), reason, waiver=w), wrong


def _drops(review: Review, fields: dict[str, str]) -> tuple[list[Adjust], list[str]]:
    """The carried waivers and overrides ticked 撤销, each with its reason."""
    found, wrong = [], []
    for h in review.held:
        if not fields.get(f"drop:{h.key}"):
            continue
        reason = fields.get(f"why:drop:{h.key}", "").strip()[:MAX_REASON]
        if not reason:
            wrong.append(f"撤销 {h.label} 的{h.what}：请写明撤销的原因")
        found.append(Adjust(h.label, f"撤销{h.what}", h.what, "撤销", reason, drop=h.key))
    return found, wrong


def adjustments(
    review: Review, fields: dict[str, str], by: str, today: dt.date
) -> tuple[list[Adjust], list[str]]:
    """The form's 调整与豁免: the carried ones 撤销, the new rows; and what is wrong with them."""
    found, wrong = _drops(review, fields)
    leaves = {leaf.code: leaf for leaf in review.leaves}
    seen: set[tuple[str, bool]] = set()
    for i in review.rows:
        sent = {
            k: fields.get(f"adj:{i}:{k}", "").strip()[:100]
            for k in ("code", "kind", "points", "status", "expires")
        }
        reason = fields.get(f"why:adj:{i}", "").strip()[:MAX_REASON]
        where = f"调整与豁免第 {i + 1} 行"
        code, kind = sent["code"], sent["kind"]
        if not code:
            if sent["points"] or sent["status"] or sent["expires"] or reason:
                wrong.append(f"{where}：请选择指标")
            continue
        leaf = leaves.get(code)
        if leaf is None:
            wrong.append(f"{where}：没有编码为 “{code}” 的末级指标")
            continue
        where = f"{where}（{leaf.label}）"
        if kind not in KINDS:
            wrong.append(f"{where}：调整方式应为 {'、'.join(KINDS)} 之一")
            continue
        if (code, kind == WAIVE) in seen:
            wrong.append(f"{where}：同一指标只能{'豁免' if kind == WAIVE else '调整'}一次")
            continue
        seen.add((code, kind == WAIVE))
        change, bad = _adjust(leaf, kind, sent, reason, by, today)
        wrong += [f"{where}：{b}" for b in bad]
        if change is not None:
            found.append(change)
    return found, wrong


def edits(
    review: Review, fields: dict[str, str], by: str, today: dt.date
) -> tuple[list[Change], list[Adjust], list[str]]:
    """Everything the form changed, and what is wrong with it (nothing changed at all is wrong too)."""
    found, wrong = changes(review, fields)
    adjusted, bad = adjustments(review, fields, by, today)
    wrong += bad
    if not found and not adjusted and not wrong:
        wrong.append("没有修改任何督评值，也没有调整或豁免指标")
    return found, adjusted, wrong


def audit_reason(found: list[Change], adjusted: Sequence[Adjust] = ()) -> str:
    """The audit row's reason: every change, old → new, and why."""
    parts = []
    for c in found:
        own = f"自评 {c.entry.own or '—'}，" if c.entry.key.startswith("ev:") else ""
        parts.append(
            f"{c.entry.label}（{c.entry.name}）：{own}督评 {c.entry.value or '—'} → {c.new or '—'}：{c.reason}"
        )
    for a in adjusted:
        parts.append(f"{a.what} {a.label}：{a.old} → {a.new}：{a.reason}")
    return "督评：" + "；".join(parts)


def reviewed(sub: Submission, found: list[Change], adjusted: Sequence[Adjust] = ()) -> bytes:
    """The next version's submission (JSON): the 自评 values as they are, the 督评 entries changed, the
    waivers and overrides carried but for those 撤销, a new one replacing the indicator's of the same kind."""
    values = dict(sub.evaluator_values)
    manual = dict(sub.manual)
    for c in found:
        target = values if c.entry.key.startswith("ev:") else manual
        if c.new:
            target[c.entry.name] = c.new
        else:
            target.pop(c.entry.name, None)
    dropped = {a.drop for a in adjusted if a.drop}
    waivers = [w for i, w in enumerate(sub.waivers) if f"w{i}" not in dropped]
    overrides = [o for i, o in enumerate(sub.overrides) if f"o{i}" not in dropped]
    for a in adjusted:
        if a.waiver is not None:
            waivers = [w for w in waivers if w.indicator != a.waiver.indicator] + [a.waiver]
        if a.override is not None:
            overrides = [o for o in overrides if o.indicator != a.override.indicator] + [a.override]
    update = {
        "evaluator_values": values,
        "manual": manual,
        "waivers": waivers,
        "overrides": overrides,
        "source": None,
        "notes": [],
    }
    new = sub.model_copy(update=update)
    return new.model_dump_json(exclude_none=True, indent=2).encode()
