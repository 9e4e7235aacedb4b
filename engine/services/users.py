"""Users and their roles (用户与角色管理), under 三员分立 (separation of the three administrators).

The security administrator (安全管理员) grants and revokes roles, unlocks accounts and sets
passwords; the system administrator (系统管理员) and the security administrator list users; the
audit administrator (安全审计员) only reads the audit log. Each change here is an audit record.

No one both gives an account powers and sets its password: the security administrator sets no
password of an account holding one of the three administrator roles (those are reset on the
server's command line, `duban user reset-password`), nor of an account it granted a role to, and
grants no role to an account whose password it set and its owner has not changed since. A password
set by someone else must be changed at the next sign-in before anything else (web/auth.py).
"""
from __future__ import annotations

from sqlalchemy import delete, func, select

from ..access import Actor
from ..domain.roles import ROLES, SECADMIN, SEPARATED_DUTIES, SYSTEM_ADMINS
from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..models import ApiToken, User, UserRole
from ..security import hash_password, password_problems, token_digest, verify_password
from ..texts import text
from . import audit
from .auth import LOCKED, count_failure, is_locked, stored_hash

USER_READERS = (*SYSTEM_ADMINS, SECADMIN)
# The three administrators' roles (系统管理员, 安全管理员, 安全审计员): their passwords are reset on the command
# line only.
THREE_ADMINS = tuple(role for group in SEPARATED_DUTIES for role in group)


def list_users(duban, actor: Actor, page: int = 1, per_page: int = 50) -> tuple[list[dict], int]:
    """Every account with its roles and lock state (system and security administrators)."""
    _require(actor, USER_READERS, "查看用户")
    now = duban.clock.now()
    with duban.db.reading() as session:
        total = session.scalar(select(func.count()).select_from(User))
        rows = session.scalars(select(User).order_by(User.username).offset((page - 1) * per_page).limit(per_page))
        return [_view(user, now) for user in rows], total


def grant_role(duban, actor: Actor, username: str, role: str, ip: str | None = None) -> dict:
    """Give a user a role; granting one they hold changes nothing."""
    _require(actor, (SECADMIN,), "授予角色")
    if role not in ROLES:
        raise InvalidInput(text("users.unknown_role", role=role),
                           [{"field": "role", "message": text("users.role_choices", roles=", ".join(ROLES))}])
    now = duban.clock.now()
    with duban.db.transaction() as session:
        user = _other_user(session, actor, username)
        if role not in user.roles:
            clash = _separated_from(user.roles, role)
            if clash:
                raise Conflict(text("users.separated", username=username, held=clash, role=role))
            if user.password_set_by == actor.username:
                raise Forbidden(text("users.password_set_by_you", username=username))
            user.role_rows.append(UserRole(role=role, granted_by=actor.username))
            audit.append(session, actor.username, "user.role_grant", f"user:{username}", {"role": role}, ip, at=now)
        return _view(user, now)


def revoke_role(duban, actor: Actor, username: str, role: str, ip: str | None = None) -> dict:
    """Take a role from a user; revoking one they do not hold changes nothing."""
    _require(actor, (SECADMIN,), "撤销角色")
    now = duban.clock.now()
    with duban.db.transaction() as session:
        user = _other_user(session, actor, username)
        row = next((r for r in user.role_rows if r.role == role), None)
        if row is not None:
            user.role_rows.remove(row)
            audit.append(session, actor.username, "user.role_revoke", f"user:{username}", {"role": role}, ip, at=now)
        return _view(user, now)


def unlock_user(duban, actor: Actor, username: str, ip: str | None = None) -> dict:
    """Lift a lockout after repeated failed sign-ins before it lapses by itself."""
    _require(actor, (SECADMIN,), "解锁账号")
    now = duban.clock.now()
    with duban.db.transaction() as session:
        user = _user(session, username)
        was_locked = bool(user.locked_until and user.locked_until > now)
        user.failed_logins, user.locked_until = 0, None
        audit.append(session, actor.username, "user.unlock", f"user:{username}", {"was_locked": was_locked}, ip,
                     at=now)
        return _view(user, now)


def set_password(duban, actor: Actor, username: str, new_password: str, ip: str | None = None) -> None:
    """The security administrator sets (resets) another user's password, which that user must change
    at the next sign-in; their tokens are revoked, since a reset usually means the old password is no
    longer trusted."""
    _require(actor, (SECADMIN,), "设置口令")
    if username == actor.username:
        raise Forbidden(text("users.own_password"))
    with duban.db.reading() as session:
        _may_set_password(actor, _user(session, username))  # before hashing: refusals cost no argon2
    _check_strength(new_password, username, "password")
    password_hash = hash_password(new_password)  # before the transaction: argon2 is slow on purpose
    now = duban.clock.now()
    with duban.db.transaction() as session:
        user = _user(session, username)
        _may_set_password(actor, user)
        revoked = _reset(session, user, password_hash, set_by=actor.username)
        audit.append(session, actor.username, "user.password_set", f"user:{username}", {"tokens_revoked": revoked},
                     ip, at=now)


def reset_password_on_server(duban, username: str, new_password: str, operator: str) -> dict:
    """`duban user reset-password`: whoever runs the server's command line sets any account's
    password, the three administrators' included; it is changed at the next sign-in, the account
    is unlocked and its tokens revoked, and the audit log records it with the operator's name."""
    _check_strength(new_password, username, "password")
    password_hash = hash_password(new_password)
    now = duban.clock.now()
    with duban.db.transaction() as session:
        user = _user(session, username)
        revoked = _reset(session, user, password_hash, set_by=None)
        user.failed_logins, user.locked_until = 0, None
        audit.append(session, operator, "user.password_reset", f"user:{username}",
                     {"tokens_revoked": revoked, "via": "command line"}, at=now)
        return _view(user, now)


def _may_set_password(actor: Actor, user: User) -> None:
    """三员分立: not an administrator's password (the command line's work), nor the password of an
    account this security administrator gave a role to."""
    held = next((role for role in user.roles if role in THREE_ADMINS), None)
    if held:
        raise Forbidden(text("users.three_admins_cli", username=user.username, role=ROLES[held]))
    if any(row.granted_by == actor.username for row in user.role_rows):
        raise Forbidden(text("users.granted_by_you", username=user.username))


def _reset(session, user: User, password_hash: str, set_by: str | None) -> int:
    """Someone else's password for this user: changed at the next sign-in; every token revoked."""
    user.password_hash = password_hash
    user.password_change_required, user.password_set_by = True, set_by
    return session.execute(delete(ApiToken).where(ApiToken.user_id == user.id)).rowcount


def change_own_password(duban, actor: Actor, old_password: str, new_password: str, ip: str | None = None,
                        keep_token: str | None = None) -> int:
    """Anyone changes their own password, proving the current one. Every other token and session of
    theirs is revoked (`keep_token`, the one this request came with, goes on); a wrong current
    password counts toward the lockout like a wrong sign-in. Returns how many were revoked."""
    if new_password == old_password:
        raise InvalidInput(text("password.same"), [{"field": "new_password", "message": text("password.same")}])
    _check_strength(new_password, actor.username, "new_password", actor.display_name)
    password_hash = hash_password(new_password)
    revoked = _replace_own(duban, actor, old_password, password_hash, ip, keep_token)
    if isinstance(revoked, str):
        raise InvalidInput(revoked, [{"field": "old_password", "message": revoked}])
    return revoked


def _replace_own(duban, actor: Actor, old_password: str, password_hash: str, ip: str | None,
                 keep_token: str | None) -> int | str:
    # Returns rather than raises a refusal (its message), so that its count and audit record are committed.
    # As at sign-in, argon2 runs before the write transaction, and again only if the hash changed meanwhile.
    stored = stored_hash(duban, actor.username)
    matches = bool(stored) and verify_password(stored, old_password)
    now = duban.clock.now()
    with duban.db.transaction() as session:
        user = session.scalars(select(User).where(User.username == actor.username)
                               .with_for_update(of=User)).one_or_none()
        if user is None:
            raise NotFound(text("users.not_found", username=actor.username))
        if user.password_hash != stored:
            matches = verify_password(user.password_hash, old_password)
        if is_locked(user, now):
            audit.append(session, actor.username, "user.password_change_failed", f"user:{actor.username}",
                         {"reason": "account locked"}, ip, at=now)
            return LOCKED
        if not matches:
            lockout = count_failure(user, now)
            audit.append(session, actor.username, "user.password_change_failed", f"user:{actor.username}",
                         {"reason": "wrong current password", **({"lockout": lockout} if lockout else {})}, ip, at=now)
            return LOCKED if lockout else text("password.wrong_current")
        user.password_hash, user.failed_logins = password_hash, 0
        user.password_change_required, user.password_set_by = False, None
        others = delete(ApiToken).where(ApiToken.user_id == user.id)
        if keep_token:
            others = others.where(ApiToken.token_hash != token_digest(keep_token))
        revoked = session.execute(others).rowcount
        audit.append(session, actor.username, "user.password_change", f"user:{actor.username}",
                     {"tokens_revoked": revoked}, ip, at=now)
        return revoked


def _check_strength(password: str, username: str, field: str, *known: str) -> None:
    problems = password_problems(password, username, known)
    if problems:
        raise InvalidInput(text("password.too_weak", problems="；".join(problems)),
                           [{"field": field, "message": problem} for problem in problems])


def _require(actor: Actor, roles: tuple, what: str) -> None:
    if not actor.has(*roles):
        names = "、".join(dict.fromkeys(ROLES[role] for role in roles))
        raise Forbidden(text("users.only", roles=names, what=what))


def _user(session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username)).one_or_none()
    if user is None:
        raise NotFound(text("users.not_found", username=username))
    return user


def _other_user(session, actor: Actor, username: str) -> User:
    # No one changes their own roles: a security administrator cannot make themselves an auditor.
    if username == actor.username:
        raise Forbidden(text("users.own_roles"))
    return _user(session, username)


def _separated_from(held: list[str], role: str) -> str | None:
    """A role the user holds that 三员分立 keeps apart from `role`, else None."""
    own = next((group for group in SEPARATED_DUTIES if role in group), None)
    if own is None:
        return None  # business roles (office, unit, ...) combine freely
    return next((r for group in SEPARATED_DUTIES if group is not own for r in held if r in group), None)


def _view(user: User, now) -> dict:
    locked = bool(user.locked_until and user.locked_until > now)
    return {"id": user.id, "username": user.username, "display_name": user.display_name, "unit": user.unit_id,
            "roles": user.roles, "active": user.active, "locked": locked,
            "locked_until": user.locked_until if locked else None,
            "password_change_required": user.password_change_required}
