"""Signing in (登录): passwords with lockout, bearer tokens, and who the caller is."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from ..access import Actor
from ..errors import AuthenticationFailed
from ..models import ApiToken, User
from ..security import new_token, token_digest, verify_password
from . import audit

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
WRONG = "wrong username or password"
LOCKED = "the account is locked after repeated failures; try again later"


def actor_of(user: User) -> Actor:
    return Actor(id=user.id, username=user.username, roles=frozenset(user.roles), unit_id=user.unit_id,
                 display_name=user.display_name)


def login(duban, username: str, password: str, ip: str | None = None) -> Actor:
    """The actor for these credentials; counts failures and locks the account after five.

    Every attempt, granted or refused, is a record of the audit log."""
    actor, refusal = _check_credentials(duban, username, password, ip)
    if actor is None:
        raise AuthenticationFailed(refusal)
    return actor


def _check_credentials(duban, username: str, password: str, ip: str | None) -> tuple[Actor | None, str]:
    # Returns rather than raises a refusal, so that the failure count and audit record it writes are committed.
    now = duban.clock.now()
    with duban.db.transaction() as session:
        user = session.scalars(select(User).where(User.username == username)).one_or_none()
        actor, action, why = _judge(user, password, now)
        audit.append(session, username, action, f"user:{username}", {"reason": why} if why else None, ip, at=now)
        return actor, (LOCKED if action == "auth.login_refused" else WRONG)


def _judge(user: User | None, password: str, now) -> tuple[Actor | None, str, str | None]:
    """(actor or None, audit action, why refused): the callers see only WRONG or LOCKED, the auditor more."""
    if user is None:
        return None, "auth.login_failed", "unknown user"
    if not user.active:
        return None, "auth.login_failed", "account disabled"
    if user.locked_until and user.locked_until > now:
        return None, "auth.login_refused", "account locked"
    if not verify_password(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until, user.failed_logins = now + LOCKOUT, 0
            return None, "auth.lockout", f"wrong password {MAX_FAILURES} times: locked until {user.locked_until}"
        return None, "auth.login_failed", "wrong password"
    user.failed_logins, user.locked_until = 0, None
    return actor_of(user), "auth.login", None


def issue_token(duban, actor: Actor, ip: str | None = None) -> tuple[str, object]:
    token = new_token()
    now = duban.clock.now()
    expires = now + timedelta(hours=duban.settings.token_ttl_hours)
    with duban.db.transaction() as session:
        session.execute(delete(ApiToken).where(ApiToken.expires_at < now))
        session.add(ApiToken(user_id=actor.id, token_hash=token_digest(token), created_at=now, expires_at=expires))
        audit.append(session, actor.username, "token.issue", f"user:{actor.username}",
                     {"expires_at": expires.isoformat()}, ip, at=now)
    return token, expires


def actor_for_token(duban, token: str) -> Actor:
    with duban.db.reading() as session:
        row = session.scalars(select(ApiToken).where(ApiToken.token_hash == token_digest(token))).one_or_none()
        if row is None or row.expires_at <= duban.clock.now():
            raise AuthenticationFailed("the token is invalid or has expired")
        user = session.get(User, row.user_id)
        if user is None or not user.active:
            raise AuthenticationFailed("the account is disabled")
        return actor_of(user)


def revoke_token(duban, token: str, ip: str | None = None) -> None:
    with duban.db.transaction() as session:
        row = session.scalars(select(ApiToken).where(ApiToken.token_hash == token_digest(token))).one_or_none()
        if row is None:
            return
        user = session.get(User, row.user_id)
        session.delete(row)
        username = user.username if user else None
        audit.append(session, username, "token.revoke", f"user:{username}", None, ip, at=duban.clock.now())
