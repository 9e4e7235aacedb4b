"""Signing in (登录): passwords with lockout, bearer tokens, and who the caller is."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from ..access import Actor
from ..errors import AuthenticationFailed
from ..models import ApiToken, User
from ..security import new_token, token_digest, verify_password

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)


def actor_of(user: User) -> Actor:
    return Actor(id=user.id, username=user.username, roles=frozenset(user.roles), unit_id=user.unit_id,
                 display_name=user.display_name)


def login(duban, username: str, password: str) -> Actor:
    """The actor for these credentials; counts failures and locks the account after five."""
    actor, refusal = _check_credentials(duban, username, password)
    if actor is None:
        raise AuthenticationFailed(refusal)
    return actor


def _check_credentials(duban, username: str, password: str) -> tuple[Actor | None, str]:
    # Returns rather than raises a refusal, so that the failure count it records is committed.
    now = duban.clock.now()
    with duban.db.transaction() as session:
        user = session.scalars(select(User).where(User.username == username)).one_or_none()
        if user is None or not user.active:
            return None, "wrong username or password"
        if user.locked_until and user.locked_until > now:
            return None, "the account is locked after repeated failures; try again later"
        if not verify_password(user.password_hash, password):
            user.failed_logins += 1
            if user.failed_logins >= MAX_FAILURES:
                user.locked_until, user.failed_logins = now + LOCKOUT, 0
            return None, "wrong username or password"
        user.failed_logins, user.locked_until = 0, None
        return actor_of(user), ""


def issue_token(duban, actor: Actor) -> tuple[str, object]:
    token = new_token()
    now = duban.clock.now()
    expires = now + timedelta(hours=duban.settings.token_ttl_hours)
    with duban.db.transaction() as session:
        session.execute(delete(ApiToken).where(ApiToken.expires_at < now))
        session.add(ApiToken(user_id=actor.id, token_hash=token_digest(token), created_at=now, expires_at=expires))
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


def actor_for_user_id(duban, user_id: int) -> Actor | None:
    with duban.db.reading() as session:
        user = session.get(User, user_id)
        return actor_of(user) if user is not None and user.active else None


def revoke_token(duban, token: str) -> None:
    with duban.db.transaction() as session:
        session.execute(delete(ApiToken).where(ApiToken.token_hash == token_digest(token)))
