"""Users and their roles (用户与角色管理), under 三员分立 (separation of the three administrators).

The security administrator (安全管理员) grants and revokes roles, unlocks accounts and sets
passwords; the system administrator (系统管理员) and the security administrator list users; the
audit administrator (安全审计员) only reads the audit log. Each change here is an audit record.
"""
from __future__ import annotations

from sqlalchemy import delete, func, select

from ..access import Actor
from ..domain.roles import ROLES, SECADMIN, SEPARATED_DUTIES, SYSTEM_ADMINS
from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..models import ApiToken, User, UserRole
from ..security import hash_password, password_problems, verify_password
from . import audit

USER_READERS = (*SYSTEM_ADMINS, SECADMIN)


def list_users(duban, actor: Actor, page: int = 1, per_page: int = 50) -> tuple[list[dict], int]:
    """Every account with its roles and lock state (system and security administrators)."""
    _require(actor, USER_READERS, "list users")
    now = duban.clock.now()
    with duban.db.reading() as session:
        total = session.scalar(select(func.count()).select_from(User))
        rows = session.scalars(select(User).order_by(User.username).offset((page - 1) * per_page).limit(per_page))
        return [_view(user, now) for user in rows], total


def grant_role(duban, actor: Actor, username: str, role: str, ip: str | None = None) -> dict:
    """Give a user a role; granting one they hold changes nothing."""
    _require(actor, (SECADMIN,), "grant roles")
    if role not in ROLES:
        raise InvalidInput(f"unknown role '{role}'", [{"field": "role", "message": f"one of {', '.join(ROLES)}"}])
    now = duban.clock.now()
    with duban.db.transaction() as session:
        user = _other_user(session, actor, username)
        if role not in user.roles:
            clash = _separated_from(user.roles, role)
            if clash:
                raise Conflict(f"{username} holds '{clash}': 三员分立 keeps it apart from '{role}'")
            user.role_rows.append(UserRole(role=role))
            audit.append(session, actor.username, "user.role_grant", f"user:{username}", {"role": role}, ip, at=now)
        return _view(user, now)


def revoke_role(duban, actor: Actor, username: str, role: str, ip: str | None = None) -> dict:
    """Take a role from a user; revoking one they do not hold changes nothing."""
    _require(actor, (SECADMIN,), "revoke roles")
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
    _require(actor, (SECADMIN,), "unlock accounts")
    now = duban.clock.now()
    with duban.db.transaction() as session:
        user = _user(session, username)
        was_locked = bool(user.locked_until and user.locked_until > now)
        user.failed_logins, user.locked_until = 0, None
        audit.append(session, actor.username, "user.unlock", f"user:{username}", {"was_locked": was_locked}, ip,
                     at=now)
        return _view(user, now)


def set_password(duban, actor: Actor, username: str, new_password: str, ip: str | None = None) -> None:
    """The security administrator sets (resets) another user's password; their tokens are revoked,
    since a reset usually means the old password is no longer trusted."""
    _require(actor, (SECADMIN,), "set passwords")
    if username == actor.username:
        raise Forbidden("change your own password with your current one (POST /api/v1/me/password)")
    _check_strength(new_password, username, "password")
    password_hash = hash_password(new_password)  # before the transaction: argon2 is slow on purpose
    now = duban.clock.now()
    with duban.db.transaction() as session:
        user = _user(session, username)
        user.password_hash = password_hash
        revoked = session.execute(delete(ApiToken).where(ApiToken.user_id == user.id)).rowcount
        audit.append(session, actor.username, "user.password_set", f"user:{username}", {"tokens_revoked": revoked},
                     ip, at=now)


def change_own_password(duban, actor: Actor, old_password: str, new_password: str, ip: str | None = None) -> None:
    """Anyone changes their own password, proving the current one."""
    if new_password == old_password:
        raise InvalidInput("the new password must differ from the current one",
                           [{"field": "new_password", "message": "same as the current password"}])
    _check_strength(new_password, actor.username, "new_password")
    password_hash = hash_password(new_password)
    if not _replace_own(duban, actor, old_password, password_hash, ip):
        raise InvalidInput("the current password is wrong", [{"field": "old_password", "message": "wrong password"}])


def _replace_own(duban, actor: Actor, old_password: str, password_hash: str, ip: str | None) -> bool:
    # Returns rather than raises on a wrong current password, so that its audit record is committed.
    now = duban.clock.now()
    with duban.db.transaction() as session:
        user = _user(session, actor.username)
        if not verify_password(user.password_hash, old_password):
            audit.append(session, actor.username, "user.password_change_failed", f"user:{actor.username}",
                         {"reason": "wrong current password"}, ip, at=now)
            return False
        user.password_hash = password_hash
        audit.append(session, actor.username, "user.password_change", f"user:{actor.username}", None, ip, at=now)
        return True


def _check_strength(password: str, username: str, field: str) -> None:
    problems = password_problems(password, username)
    if problems:
        raise InvalidInput(f"{field}: the password is too weak: " + "; ".join(problems),
                           [{"field": field, "message": problem} for problem in problems])


def _require(actor: Actor, roles: tuple, what: str) -> None:
    if not actor.has(*roles):
        names = "、".join(dict.fromkeys(ROLES[role] for role in roles))
        raise Forbidden(f"only {names} may {what} (三员分立)")


def _user(session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username)).one_or_none()
    if user is None:
        raise NotFound(f"user '{username}' not found")
    return user


def _other_user(session, actor: Actor, username: str) -> User:
    # No one changes their own roles: a security administrator cannot make themselves an auditor.
    if username == actor.username:
        raise Forbidden("no one grants or revokes their own roles")
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
            "locked_until": user.locked_until if locked else None}
