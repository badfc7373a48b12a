"""The audit log: every change to the store writes one row here, in the same transaction as the change."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from .models import AuditEntry


def record(
    session: Session,
    user_id: int | None,
    action: str,
    entity: str,
    entity_id: int | None,
    *,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    reason: str | None = None,
) -> None:
    """Who (``user_id``; None for the service itself), what (``action`` on ``entity`` #``entity_id``), the fields
    before and after (only those that changed, for an update), and why."""
    session.add(
        AuditEntry(
            user_id=user_id,
            action=action,
            entity=entity,
            entity_id=entity_id,
            old=old,
            new=new,
            reason=reason or "",
        )
    )


def changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields that differ, as (old, new)."""
    keys = [k for k in after if before.get(k) != after[k]]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}
