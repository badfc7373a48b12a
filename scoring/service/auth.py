"""Who is asking: passwords (argon2id, memory-hard) for people, bearer tokens for systems and for a login.

A token is a random secret shown once; the store keeps its SHA-256 only (a 256-bit random secret needs no slow
hash: it cannot be guessed, and its hash is useless to whoever reads the database). A password login returns a
``session`` token that expires after ``Settings.session_hours``; a system gets an ``api`` token that lasts
until it is revoked (or its expiry, if given). Both are sent as ``Authorization: Bearer <secret>``, which a
browser never adds by itself, so no request can be forged from another site (CSRF): cookie sessions, which
would need CSRF tokens, are left for the browser workspace.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from .audit import record
from .models import Token, User, now

TOKEN_PREFIX = "dps_"


class Passwords:
    """argon2id with ``memory_kib`` of memory per hash (64 MiB by default, the RFC 9106 second choice)."""

    def __init__(self, memory_kib: int = 65536, time_cost: int = 3, parallelism: int = 4):
        self.hasher = PasswordHasher(memory_cost=memory_kib, time_cost=time_cost, parallelism=parallelism)
        self._dummy = self.hasher.hash(secrets.token_hex(16))

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        """Whether ``password`` matches; an unknown user is checked against a dummy hash, so the time taken
        does not tell which names exist."""
        try:
            return self.hasher.verify(stored or self._dummy, password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False


# The passwords most often tried first by anyone guessing (the long ones of the common lists, Chinese ones
# included): at least 8 characters, so the length rule alone lets them through.
COMMON_PASSWORDS = frozenset(
    [
        "12345678",
        "123456789",
        "1234567890",
        "0123456789",
        "87654321",
        "11111111",
        "22222222",
        "66666666",
        "88888888",
        "00000000",
        "12341234",
        "11223344",
        "12344321",
        "123123123",
        "147258369",
        "123qweasd",
        "5201314520",
        "woaini1314",
        "1314520520",
        "iloveyou",
        "password",
        "password1",
        "password123",
        "passw0rd",
        "p@ssw0rd",
        "qwertyui",
        "qwerty123",
        "qwertyuiop",
        "1qaz2wsx",
        "1q2w3e4r",
        "1q2w3e4r5t",
        "qazwsxedc",
        "zxcvbnm123",
        "abc12345",
        "abcd1234",
        "a1234567",
        "aa123456",
        "a12345678",
        "admin123",
        "admin888",
        "admin1234",
        "administrator",
        "root1234",
        "test1234",
        "welcome1",
        "11111111a",
    ]
)


def weak_password(password: str, name: str) -> str | None:
    """Why a new password is too easy to guess (in Chinese), or None. Beyond the length (at least 8, checked
    where the password is given): not the user's own name, not one character repeated, not a common password —
    the rules that stop the first guesses without making people write passwords down."""
    lowered = password.lower()
    if lowered == name.lower():
        return "密码不能与用户名相同"
    if len(set(password)) == 1:
        return "密码不能是同一个字符的重复"
    if lowered in COMMON_PASSWORDS:
        return "这个密码太常见，很容易被猜到，请换一个"
    return None


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def issue(
    session: Session, user: User, kind: str, name: str = "", expires_at: dt.datetime | None = None
) -> tuple[Token, str]:
    """A new token for ``user`` and its secret (returned once, never stored)."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = Token(user_id=user.id, kind=kind, name=name, secret_hash=digest(secret), expires_at=expires_at)
    session.add(token)
    session.flush()
    return token, secret


def user_for(session: Session, secret: str) -> tuple[User, Token] | None:
    """The active user a secret belongs to, with its token, unless the token is revoked or expired."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    row = session.execute(
        select(User, Token).join(Token, Token.user_id == User.id).where(Token.secret_hash == digest(secret))
    ).first()
    if row is None:
        return None
    user, token = row
    moment = now()
    if not user.active or token.revoked_at is not None or (token.expires_at and token.expires_at <= moment):
        return None
    return user, token


SESSION = "session"  # a password login's token (the API's and the browser's alike)


def live_sessions(user_id: int) -> Select[Token]:
    """The user's sign-ins that still work (``session`` tokens neither revoked nor expired), newest first; API
    tokens are not sessions."""
    return (
        select(Token)
        .where(
            Token.user_id == user_id,
            Token.kind == SESSION,
            Token.revoked_at.is_(None),
            or_(Token.expires_at.is_(None), Token.expires_at > now()),
        )
        .order_by(Token.id.desc())
    )


def end_sessions(session: Session, by: int, user_id: int, keep: int | None, reason: str) -> int:
    """Revoke the user's live sessions but ``keep`` (the caller's own sign-in, if any): each audited as a token
    revocation by ``by`` with ``reason``. How many were ended."""
    moment, ended = now(), 0
    for token in session.scalars(live_sessions(user_id)):
        if token.id == keep:
            continue
        token.revoked_at = moment
        ended += 1
        record(
            session,
            by,
            "revoke",
            "token",
            token.id,
            old={"revoked": False},
            new={"revoked": True, "kind": SESSION},
            reason=reason,
        )
    return ended
