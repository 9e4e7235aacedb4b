"""Signing in (登录): passwords with lockout, bearer tokens and sessions, and who the caller is."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, delete, select, update

from ..access import Actor
from ..errors import AuthenticationFailed
from ..models import ApiToken, User, UserRole
from ..security import new_token, token_digest, verify_nothing, verify_password
from ..texts import text
from . import audit

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
# The same answer for an unknown username and a wrong password: it must not tell which it was.
WRONG = text("auth.wrong")
LOCKED = text("auth.locked", minutes=int(LOCKOUT.total_seconds() // 60))
BEARER, SESSION = "bearer", "session"
# A session's last use is written at most this often (a write per request would be a write per page
# view): the idle timeout is exact to within this.
SEEN_EVERY = timedelta(minutes=1)


class SessionIdle(AuthenticationFailed):
    """Raised when a session's token was not used for longer than DUBAN_SESSION_IDLE_MINUTES."""


@dataclass(frozen=True)
class Caller:
    """Who presented a token, and whether they must change their password before anything else."""

    actor: Actor
    password_change_required: bool


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
    # The password is checked before the write transaction (argon2 is slow on purpose: SQLite's
    # write lock is not held meanwhile), and for an unknown username against a hash of nothing, so
    # that the time taken tells an unknown username from a wrong password no more than the answer.
    # Returns rather than raises a refusal, so that the failure count and audit record it writes are committed.
    stored = stored_hash(duban, username)
    matches = verify_password(stored, password) if stored else verify_nothing(password)
    now = duban.clock.now()
    with duban.db.transaction() as session:
        user = session.scalars(select(User).where(User.username == username).with_for_update(of=User)).one_or_none()
        if user is not None and user.password_hash != stored:  # changed in between: check the new one
            matches = verify_password(user.password_hash, password)
        actor, action, why = _judge(user, matches, now)
        audit.append(session, username, action, f"user:{username}", {"reason": why} if why else None, ip, at=now)
        return actor, (LOCKED if action == "auth.login_refused" else WRONG)


def stored_hash(duban, username: str) -> str | None:
    with duban.db.reading() as session:
        return session.scalar(select(User.password_hash).where(User.username == username))


def _judge(user: User | None, matches: bool, now) -> tuple[Actor | None, str, str | None]:
    """(actor or None, audit action, why refused): the callers see only WRONG or LOCKED, the auditor more."""
    if user is None:
        return None, "auth.login_failed", "unknown user"
    if not user.active:
        return None, "auth.login_failed", "account disabled"
    if is_locked(user, now):
        return None, "auth.login_refused", "account locked"
    if not matches:
        lockout = count_failure(user, now)
        return None, ("auth.lockout" if lockout else "auth.login_failed"), lockout or "wrong password"
    user.failed_logins, user.locked_until = 0, None
    return actor_of(user), "auth.login", None


def is_locked(user: User, now) -> bool:
    return bool(user.locked_until and user.locked_until > now)


def count_failure(user: User, now) -> str | None:
    """One more wrong password (at sign-in or when changing one's own); the fifth locks the account.
    Returns what the audit record says of the lockout, or None when it did not lock."""
    user.failed_logins += 1
    if user.failed_logins < MAX_FAILURES:
        return None
    user.locked_until, user.failed_logins = now + LOCKOUT, 0
    return f"wrong password {MAX_FAILURES} times: locked until {user.locked_until}"


def issue_token(duban, actor: Actor, ip: str | None = None, kind: str = BEARER) -> tuple[str, object]:
    """A new bearer token, or (kind SESSION) the token behind a browser session."""
    token = new_token()
    now = duban.clock.now()
    expires = now + timedelta(hours=duban.settings.token_ttl_hours)
    with duban.db.transaction() as session:
        session.execute(delete(ApiToken).where(ApiToken.expires_at < now))
        session.add(ApiToken(user_id=actor.id, token_hash=token_digest(token), created_at=now, expires_at=expires,
                             kind=kind, last_seen_at=now if kind == SESSION else None))
        detail = {"expires_at": expires.isoformat()} | ({"kind": kind} if kind != BEARER else {})
        audit.append(session, actor.username, "token.issue", f"user:{actor.username}", detail, ip, at=now)
    return token, expires


def actor_for_token(duban, token: str) -> Actor:
    return caller_for_token(duban, token).actor


_CALLER = (select(ApiToken.id, ApiToken.kind, ApiToken.expires_at, ApiToken.created_at, ApiToken.last_seen_at,
                  ApiToken.user_id, User.username, User.display_name, User.unit_id, User.active,
                  User.password_change_required, UserRole.role)
           .select_from(ApiToken)
           .outerjoin(User, User.id == ApiToken.user_id)
           .outerjoin(UserRole, UserRole.user_id == User.id)
           .where(ApiToken.token_hash == bindparam("digest")))  # built once: not a new statement per request


def caller_for_token(duban, token: str) -> Caller:
    """Who holds this token; AuthenticationFailed when it is unknown, expired, or a session's token
    unused for longer than DUBAN_SESSION_IDLE_MINUTES (however it is presented: cookie or header)."""
    now = duban.clock.now()
    # Asked on every request: one statement (token, person and roles, a row per role) outside a
    # transaction, not three ORM queries in one.
    with duban.db.lookup() as connection:
        rows = connection.execute(_CALLER, {"digest": token_digest(token)}).all()
    if not rows or rows[0].expires_at <= now:
        raise AuthenticationFailed(text("auth.token_invalid"))
    row = rows[0]
    if row.username is None or not row.active:
        raise AuthenticationFailed(text("auth.disabled"))
    actor = Actor(id=row.user_id, username=row.username, roles=frozenset(r.role for r in rows if r.role is not None),
                  unit_id=row.unit_id, display_name=row.display_name)
    caller = Caller(actor, bool(row.password_change_required))
    token_id, kind, last_seen = row.id, row.kind, row.last_seen_at or row.created_at
    if kind == SESSION:
        _keep_session(duban, token_id, last_seen, now, caller.actor.username)
    return caller


def _keep_session(duban, token_id: int, last_seen, now, username: str) -> None:
    """End a session idle too long (on the server: a copied cookie or token lapses as well), else
    note that it was used."""
    if now - last_seen > timedelta(minutes=duban.settings.session_idle_minutes):
        with duban.db.transaction() as session:
            if session.execute(delete(ApiToken).where(ApiToken.id == token_id)).rowcount:
                audit.append(session, username, "token.idle_expired", f"user:{username}",
                             {"last_seen_at": last_seen.isoformat()}, at=now)
        raise SessionIdle(text("auth.session_idle"))
    if now - last_seen >= SEEN_EVERY:
        with duban.db.transaction() as session:
            session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_seen_at=now))


def revoke_token(duban, token: str, ip: str | None = None) -> None:
    with duban.db.transaction() as session:
        row = session.scalars(select(ApiToken).where(ApiToken.token_hash == token_digest(token))).one_or_none()
        if row is None:
            return
        user = session.get(User, row.user_id)
        session.delete(row)
        username = user.username if user else None
        audit.append(session, username, "token.revoke", f"user:{username}", None, ip, at=duban.clock.now())


# HTTP Basic (external task workers, web/auth.py): a verified (username, password, stored hash) is
# remembered, so a worker polling every few seconds costs one indexed read, not an argon2 hash and an
# audit record each time. A changed password, deactivation or lockout is seen at the next request.
_BASIC_SEEN: dict = {}
_BASIC_KEPT = 256


def basic_caller(duban, username: str, password: str, ip: str | None = None) -> Caller:
    """Who these HTTP Basic credentials are (checked as a sign-in is, lockout and audit included)."""
    now = duban.clock.now()
    with duban.db.reading() as session:
        user = session.scalars(select(User).where(User.username == username)).one_or_none()
        key = (username, token_digest(password))
        if (user is not None and user.active and not is_locked(user, now)
                and _BASIC_SEEN.get(key) == user.password_hash):
            return Caller(actor_of(user), user.password_change_required)
    actor = login(duban, username, password, ip)
    with duban.db.reading() as session:
        user = session.get(User, actor.id)
        if len(_BASIC_SEEN) >= _BASIC_KEPT:
            _BASIC_SEEN.clear()
        _BASIC_SEEN[key] = user.password_hash
        return Caller(actor, user.password_change_required)
