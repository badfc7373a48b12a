"""Throttling password guessing: one policy for both sign-in paths (``POST /api/v1/login`` and the 登录 page).

A user name with ``Limits.login_failures`` failed sign-ins within ``Limits.login_window_minutes``, or a client
address with ``Limits.login_address_failures`` of them (one address spraying many names), is refused without its
password being checked until enough of those failures are older than the window: 429 with
“登录失败次数过多，请 X 分钟后再试” (and ``Retry-After`` on the API). A refused attempt is not counted, so a
lock-out ends at most one window after it began. Unknown names count exactly as known ones, and the refusal is
the same for both, so it tells nothing about which names exist.

The count is rows of ``login_failures`` in the database, not process memory: every worker of ``scoring serve
--workers N`` (and every server on one PostgreSQL database) sees the same count. Each attempt is written as a
failure *before* its password is checked (argon2id takes a while) and committed at once, so attempts sent in
parallel count each other; a successful sign-in then deletes its name's rows. Rows older than the window are
deleted whenever one is written, so the table stays small. No password is ever stored.
"""

from __future__ import annotations

import datetime as dt
import math

from fastapi import Request
from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import Session

from .models import LoginFailure, now
from .state import Service

UNKNOWN_ADDRESS = "unknown"


class Locked(Exception):
    """Too many failed sign-ins for this name or from this address: try again in ``seconds``."""

    def __init__(self, seconds: int):
        self.seconds = max(1, seconds)
        super().__init__(self.en)

    @property
    def minutes(self) -> int:
        return math.ceil(self.seconds / 60)

    @property
    def zh(self) -> str:
        return f"登录失败次数过多，请 {self.minutes} 分钟后再试"

    @property
    def en(self) -> str:
        return f"too many failed sign-ins: try again in {self.minutes} minute(s)"


def address_of(request: Request) -> str:
    """The client's address as the server sees it (the proxy's, behind a reverse proxy)."""
    host = request.client.host if request.client is not None else ""
    return host[:64] or UNKNOWN_ADDRESS


def attempt(svc: Service, name: str, address: str, at: dt.datetime | None = None) -> None:
    """Before a password is checked: :class:`Locked` if the name or the address has too many recent failures;
    else the attempt is recorded (committed) as a failure, which :func:`succeeded` removes on a right password.
    ``at``: the time now (naive UTC, as rows are stamped), for tests."""
    limits = svc.settings.limits
    at = at or now()
    window = dt.timedelta(minutes=limits.login_window_minutes)
    since = at - window
    with svc.transaction() as session:
        session.execute(delete(LoginFailure).where(LoginFailure.at <= since))
        until = max(
            _until(session, LoginFailure.name == name[:64], limits.login_failures, since, window),
            _until(session, LoginFailure.address == address, limits.login_address_failures, since, window),
        )
        if until <= at:
            session.add(LoginFailure(name=name[:64], address=address, at=at))
            return
    raise Locked(math.ceil((until - at).total_seconds()))


def succeeded(session: Session, name: str) -> None:
    """A right password for ``name`` (in the sign-in's transaction): its failures are forgotten."""
    session.execute(delete(LoginFailure).where(LoginFailure.name == name[:64]))


def _until(
    session: Session, which: ColumnElement[bool], limit: int, since: dt.datetime, window: dt.timedelta
) -> dt.datetime:
    """When the refusal for these failures ends: once the ``limit``-th newest one leaves the window (the past
    when there are fewer than ``limit``; a limit of 0 turns the check off)."""
    if limit <= 0:
        return dt.datetime.min
    newest = session.scalars(
        select(LoginFailure.at)
        .where(which, LoginFailure.at > since)
        .order_by(LoginFailure.at.desc())
        .limit(limit)
    ).all()
    return newest[limit - 1] + window if len(newest) >= limit else dt.datetime.min
