"""The 整改 workflow: the items of a unit's newest scored result, and the steps an item may take.

    待整改 → 整改中 → 申请销号 → 已销号
                         ↘ 退回 → 整改中

The unit (学校) works on an item and asks for it to be closed; a 督学 or 管理员 closes it (销号) or sends it back
(退回). A new scored submission adds the items it finds, updates the open ones, and re-opens a closed item whose
shortfall is found again; it never closes one (closing is a person's decision).

While an item is in work the unit reports its progress (整改进展) as often as it likes: ``save_measures`` keeps
the newest 措施 text, each save audited old → new, and the item stays 整改中 until the unit asks to close it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..engine.result import Result
from .audit import record
from .errors import ApiError
from .models import Rectification, ResultRow, Unit, now

OPEN, WORKING, ASKED, CLOSED, RETURNED = "待整改", "整改中", "申请销号", "已销号", "退回"
CHINA = dt.timezone(dt.timedelta(hours=8))  # deadlines are dates in China; pages show times there


def office_today() -> dt.date:
    """Today's date where the office is (UTC+8), which a 整改 deadline is a date of."""
    return dt.datetime.now(CHINA).date()


def overdue_days(item: Rectification, today: dt.date) -> int:
    """How many days an item is past its deadline and still not 已销号 (0: not overdue, or no deadline)."""
    if item.deadline is None or item.status == CLOSED or item.deadline >= today:
        return 0
    return (today - item.deadline).days


# (from, to) → the action (access.MAY) a role needs to take the step
STEPS: dict[tuple[str, str], str] = {
    (OPEN, WORKING): "rectify-work",
    (RETURNED, WORKING): "rectify-work",
    (WORKING, ASKED): "rectify-work",
    (ASKED, CLOSED): "rectify-decide",
    (ASKED, RETURNED): "rectify-decide",
}
WORKABLE = (OPEN, WORKING, RETURNED)  # the statuses in which the unit may save its 措施 (progress)


def _possible(current: str) -> str:
    return "、".join(to for (frm, to) in STEPS if frm == current) or "无（已销号）"


def step_action(current: str, target: str) -> str:
    """The action the step needs; 409 with the steps that are possible when it is not one."""
    action = STEPS.get((current, target))
    if action is None:
        raise ApiError(
            409,
            "step-invalid",
            f"整改事项当前为 “{current}”，不能改为 “{target}”；可以改为：{_possible(current)}",
            f"an item in status {current} cannot go to {target}",
        )
    return action


def save_measures(
    session: Session, user_id: int, item: Rectification, text: str, reason: str | None = None
) -> None:
    """Save the unit's 措施 (its progress) without asking to close the item. From 待整改 or 退回 this is the step
    to 整改中 (audited as ``step``, as ``api.rectifications.step`` does); while 整改中 the text replaces the one
    before (audited as ``measures``, old → new text; the same text again changes nothing). 409 once the item is
    申请销号 or 已销号, 422 for an empty text. Who may (``rectify-work``) and which items they reach is the
    caller's check."""
    if item.status not in WORKABLE:
        raise ApiError(
            409,
            "step-invalid",
            f"整改事项当前为 “{item.status}”，不能再保存整改措施；可以改为：{_possible(item.status)}",
            f"an item in status {item.status} takes no more measures",
        )
    text = text.strip()
    if not text:
        raise ApiError(422, "evidence-required", "请填写整改措施", "describe the measures taken")
    if item.status == WORKING:
        if text == item.evidence:
            return
        action, old, new = "measures", {"evidence": item.evidence}, {"evidence": text}
    else:
        action = "step"
        old = {"status": item.status, "evidence": item.evidence}
        new = {"status": WORKING, "evidence": text}
    item.status, item.evidence, item.updated_at = WORKING, text, now()
    record(session, user_id, action, "rectification", item.id, old=old, new=new, reason=reason)


def sync(session: Session, user_id: int, unit: Unit, results: list[tuple[ResultRow, Result]]) -> None:
    """Bring the unit's items up to date with its newest scored results."""
    have = {
        r.indicator: r for r in session.scalars(select(Rectification).where(Rectification.unit_id == unit.id))
    }
    for row, result in results:
        for item in result.rectification:
            key = item.code if len(results) == 1 else f"{result.unit.type or row.part}·{item.code}"
            fields = {
                "problem": item.problem,
                "requirement": item.requirement or "",
                "deadline": item.deadline,
            }
            known = have.get(key)
            if known is None:
                created = Rectification(
                    unit_id=unit.id, indicator=key, status=OPEN, result_id=row.id, **fields
                )
                session.add(created)
                session.flush()
                record(
                    session,
                    user_id,
                    "create",
                    "rectification",
                    created.id,
                    new={"indicator": key, "status": OPEN},
                )
                continue
            known.problem, known.requirement, known.deadline = (
                item.problem,
                item.requirement or "",
                item.deadline,
            )
            known.result_id, known.updated_at = row.id, now()
            if known.status == CLOSED:
                known.status = OPEN
                record(
                    session,
                    user_id,
                    "reopen",
                    "rectification",
                    known.id,
                    old={"status": CLOSED},
                    new={"status": OPEN},
                    reason="新提交的填报数据评分后仍有此问题",
                )
