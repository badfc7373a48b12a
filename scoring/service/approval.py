"""The 督学's review (审核) of a unit's submission: 通过, or 退回 with the reason the school reads on its unit page
before it corrects the 自评表 and uploads again.

Only the version that counts is reviewed — the unit's newest scored one, whose results the pages and reports
show: a decision on an older version would be about numbers nobody uses any more (409). A new upload is a new
version and starts as 待审核 (``review_state`` None), so a 退回 is answered by uploading, never by editing the
old one. A decision may be changed (a 通过 after a 退回 the 督学 thinks better of); each one writes an audit row
(``review`` on the submission, old → new, with the reason).
"""

from __future__ import annotations

from sqlalchemy import func, select

from .access import Actor
from .audit import record
from .db import lock_rows
from .errors import ApiError
from .models import Submission as Upload
from .models import Unit, now
from .schemas import SubmissionOut
from .state import Service
from .submitting import SCORED, result_rows, submission_out

PENDING, PASSED, SENT_BACK = "待审核", "已通过", "已退回"
DECISIONS = {"通过": PASSED, "退回": SENT_BACK}


def state_of(row: Upload) -> str:
    """The review as people read it: 待审核, 已通过 or 已退回; — for a version that could not be scored."""
    if row.status != SCORED:
        return "—"
    return row.review_state or PENDING


def review(
    svc: Service, actor: Actor, project_id: int, code: str, version: int, decision: str, reason: str | None
) -> SubmissionOut:
    """Record the decision on ``version`` (it must be the unit's newest scored one); the submission as the API
    shows it. 403 for a role that may not review, 404 for a unit or version the caller cannot see."""
    reason = (reason or "").strip()
    with svc.transaction() as session:
        unit = actor.unit(session, project_id, code)
        row = actor.submission(session, unit, version)
        actor.require("review-submission")
        if decision not in DECISIONS:
            raise ApiError(422, "decision-unknown", "请选择 通过 或 退回", "decision must be 通过 or 退回")
        if decision == "退回" and not reason:
            raise ApiError(
                422,
                "reason-required",
                "退回时请写明原因：学校将据此修改自评表后重新上传",
                "a return needs a reason",
            )
        # decisions on one unit one at a time, against its newest upload
        lock_rows(session, select(Unit.id).where(Unit.id == unit.id))
        newest = session.scalar(
            select(func.max(Upload.version)).where(Upload.unit_id == unit.id, Upload.status == SCORED)
        )
        if row.status != SCORED or row.version != newest:
            which = f"第 {newest} 版" if newest else "（还没有已评分的版本）"
            raise ApiError(
                409,
                "review-not-current",
                f"只能审核该单位最新一版已评分的填报数据{which}；第 {row.version} 版"
                f"{'未通过评分' if row.status != SCORED else '已不是最新的一版'}，不能审核",
                f"only the newest scored version ({newest}) can be reviewed",
            )
        old = {"review_state": row.review_state, "review_reason": row.review_reason}
        row.review_state, row.review_reason = DECISIONS[decision], reason
        row.reviewed_by, row.reviewed_at = actor.id, now()
        new = {"review_state": row.review_state, "review_reason": row.review_reason}
        record(session, actor.id, "review", "submission", row.id, old=old, new=new, reason=reason or None)
        session.flush()
        newest_any = session.scalar(select(func.max(Upload.version)).where(Upload.unit_id == unit.id))
        return submission_out(
            session, row, unit, result_rows(session, row), current=row.version == newest_any
        )
