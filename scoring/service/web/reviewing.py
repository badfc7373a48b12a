"""The 督学's 督评 on a unit's page: beside the newest scored submission's 自评 values, the 督评 values of the
inputs and the 督学 ratings (manual levels), each change with its reason. Saving makes the unit's next version
through the store path of every upload (``submitting.score_upload`` and ``save_upload``): a submission (JSON)
whose ``evaluator_values`` and ``manual`` are the 督评 entries, the 自评 values kept, uploaded by the 督学, the
reasons in the audit row. It is scored like any upload, so the page shows the new total, the 自评得分 and the
自评虚高 flags. The form and what it changes are here; the route that saves it is ``review_page``."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...engine.plan import Plan
from ...engine.submission import Submission
from ...io.read import read_submission
from ...problems import ScoringError
from ..access import Actor
from ..models import ADMIN, INSPECTOR, Unit
from ..models import Submission as Upload
from ..state import Service
from ..submitting import SCORED

MAX_REASON = 500  # a change's reason, characters


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
class Review:
    version: int  # the scored version the form starts from
    inputs: list[Entry]
    ratings: list[Entry]


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
    return Review(row.version, inputs, ratings)


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
    if not found and not wrong:
        wrong.append("没有修改任何督评值")
    return found, wrong


def audit_reason(found: list[Change]) -> str:
    """The audit row's reason: every change, old → new, and why."""
    parts = []
    for c in found:
        own = f"自评 {c.entry.own or '—'}，" if c.entry.key.startswith("ev:") else ""
        parts.append(
            f"{c.entry.label}（{c.entry.name}）：{own}督评 {c.entry.value or '—'} → {c.new or '—'}：{c.reason}"
        )
    return "督评：" + "；".join(parts)


def reviewed(sub: Submission, found: list[Change]) -> bytes:
    """The next version's submission (JSON): the 自评 values as they are, the 督评 entries changed."""
    values = dict(sub.evaluator_values)
    manual = dict(sub.manual)
    for c in found:
        target = values if c.entry.key.startswith("ev:") else manual
        if c.new:
            target[c.entry.name] = c.new
        else:
            target.pop(c.entry.name, None)
    new = sub.model_copy(update={"evaluator_values": values, "manual": manual, "source": None, "notes": []})
    return new.model_dump_json(exclude_none=True, indent=2).encode()
