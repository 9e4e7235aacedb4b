"""Accounts (账号管理) by the system administrator (系统管理员), under 三员分立.

The system administrator creates accounts with a first password, edits their name, unit and
e-mail, and deactivates or reactivates them; roles stay the security administrator's work
(users.grant_role). A first password is someone else's: its owner changes it at the first
sign-in (web/auth.py), and its setter may not also grant the account roles (users.grant_role).

A deactivated account keeps its row, hence its name in history, documents and the audit log; it
cannot sign in, its tokens and sessions end at once, and the open tasks it had claimed are listed
so that someone hands them back to their role's pool (or to another person).
"""
from __future__ import annotations

import re

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from ..access import Actor, is_candidate
from ..domain.roles import AUDITADMIN, ROLES, SECADMIN, SYSTEM_ADMINS
from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..models import ApiToken, HumanTask, Item, Unit, User, UserRole
from ..security import hash_password
from ..texts import text
from . import audit
from .auth import actor_of
from .users import _check_strength, _require, _separated_from, _user, _view

USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,63}")
# Deactivating these would let the system administrator silence the people who check it.
OVERSEERS = (SECADMIN, AUDITADMIN)
PROFILE = {"name": "display_name", "unit_id": "unit_id", "email": "email"}


def create_user(duban, actor: Actor, fields: dict, ip: str | None = None) -> dict:
    """A new account with a first password its owner must change (system administrator)."""
    _require(actor, SYSTEM_ADMINS, "创建用户")
    return _create(duban, fields, set_by=actor.username, by=actor.username, ip=ip)


def create_user_on_server(duban, fields: dict, roles: list[str], operator: str) -> dict:
    """`duban user add`: the server's operator creates an account, roles included (as
    `duban user reset-password`, the command line stands above 三员分立's web roles)."""
    for role in roles:
        if role not in ROLES:
            raise InvalidInput(text("users.unknown_role", role=role),
                               [{"field": "role", "message": text("users.role_choices", roles=", ".join(ROLES))}])
        clash = _separated_from([r for r in roles if r != role], role)
        if clash:
            raise Conflict(text("users.separated", username=fields.get("username"), held=clash, role=role))
    return _create(duban, fields, set_by=None, by=operator, roles=roles)


def _create(duban, fields: dict, set_by: str | None, by: str, ip: str | None = None, roles=()) -> dict:
    username, name = (fields.get("username") or "").strip(), (fields.get("name") or "").strip()
    unit_id, email = (fields.get("unit_id") or "").strip() or None, (fields.get("email") or "").strip() or None
    password = fields.get("password") or ""
    _check_username(username)
    if not name:
        raise InvalidInput(text("admin.name_required"), [{"field": "name", "message": text("admin.name_required")}])
    if not unit_id:
        raise InvalidInput(text("admin.unit_required"), [{"field": "unit_id", "message": text("admin.unit_required")}])
    if not password:
        raise InvalidInput(text("admin.password_required"),
                           [{"field": "password", "message": text("admin.password_required")}])
    with duban.db.reading() as session:  # before argon2: refusals cost no hashing
        _free(session, username)
        _unit_open(session, unit_id)
    _check_strength(password, username, "password", name)
    password_hash = hash_password(password)
    now = duban.clock.now()
    try:
        with duban.db.transaction() as session:
            _free(session, username)
            _unit_open(session, unit_id)
            user = User(username=username, display_name=name, password_hash=password_hash, unit_id=unit_id,
                        email=email, active=True, created_at=now, password_change_required=True,
                        password_set_by=set_by, failed_logins=0)
            user.role_rows = [UserRole(role=role) for role in dict.fromkeys(roles)]
            session.add(user)
            session.flush()
            audit.append(session, by, "user.create", f"user:{username}",
                         {"name": name, "unit": unit_id, "email": email, "roles": sorted(set(roles))}, ip, at=now)
            return _view(user, now) | {"email": email}
    except IntegrityError:  # created meanwhile by someone else
        raise Conflict(text("admin.username_taken", username=username)) from None


def update_user(duban, actor: Actor, username: str, changes: dict, ip: str | None = None) -> dict:
    """Change an account's name, unit or e-mail, or deactivate (`active: false`) or reactivate it."""
    _require(actor, SYSTEM_ADMINS, "修改用户")
    now = duban.clock.now()
    with duban.db.transaction() as session:
        user = _user(session, username)
        changed = {}
        for key, column in PROFILE.items():
            if key not in changes:
                continue
            value = (changes[key] or "").strip() or None
            if key == "name" and not value:
                raise InvalidInput(text("admin.name_required"),
                                   [{"field": "name", "message": text("admin.name_required")}])
            if key == "unit_id" and value != user.unit_id:
                _unit_open(session, value)
            if getattr(user, column) != value:
                changed[key] = [getattr(user, column), value]
                setattr(user, column, value)
        if changed:
            audit.append(session, actor.username, "user.update", f"user:{username}", changed, ip, at=now)
        if "active" in changes and changes["active"] is not None and bool(changes["active"]) != user.active:
            _set_active(session, actor, user, bool(changes["active"]), ip, now)
        if "unit_id" in changed or not user.active:
            # A 督查联络员 is one of the unit's active people: leaving it, or being deactivated, ends that.
            session.execute(update(Unit).where(Unit.liaison_id == user.id).values(liaison_id=None))
        session.flush()
        return _view(user, now) | {"email": user.email}


def _set_active(session, actor: Actor, user: User, active: bool, ip, now) -> None:
    if not active:
        if user.username == actor.username:
            raise Forbidden(text("admin.own_account"))
        overseer = next((role for role in user.roles if role in OVERSEERS), None)
        if overseer:
            raise Forbidden(text("admin.keep_oversight", username=user.username, role=ROLES[overseer]))
    user.active = active
    # Its sessions and tokens end now, not when they lapse (they would be refused anyway: see auth).
    ended = 0 if active else session.execute(delete(ApiToken).where(ApiToken.user_id == user.id)).rowcount
    claimed = session.scalars(select(HumanTask.id).where(HumanTask.assignee == user.username,
                                                         HumanTask.state == "open")).all()
    audit.append(session, actor.username, "user.activate" if active else "user.deactivate", f"user:{user.username}",
                 {} if active else {"tokens_revoked": ended, "open_tasks": len(claimed)}, ip, at=now)


def open_tasks(duban, actor: Actor, username: str) -> list[dict]:
    """The open tasks an account holds (claimed, or given to it by name), to hand on when it leaves."""
    _require(actor, SYSTEM_ADMINS, "查看用户的未办任务")
    with duban.db.reading() as session:
        _user(session, username)
        rows = session.execute(
            select(HumanTask, Item.title, Unit.name)
            .outerjoin(Item, Item.id == HumanTask.item_id).outerjoin(Unit, Unit.id == HumanTask.unit_id)
            .where(HumanTask.assignee == username, HumanTask.state == "open")
            .order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at)).all()
        return [_task_view(task, title, unit_name) for task, title, unit_name in rows]


def _task_view(task: HumanTask, title: str | None, unit_name: str | None) -> dict:
    return {"id": task.id, "name": task.name, "instance_id": task.instance_id, "item_id": task.item_id,
            "item_title": title, "role": task.role, "role_name": ROLES.get(task.role) if task.role else None,
            "unit_id": task.unit_id, "unit_name": unit_name, "claimed_at": task.claimed_at, "due_at": task.due_at,
            "pooled": task.role is not None}


def reassign_task(duban, actor: Actor, username: str, task_id: str, to: str | None = None,
                  ip: str | None = None) -> dict:
    """Hand on an open task `username` holds: back to its role's (and unit's) pool, where anyone
    fitting claims it again, or to the person `to` (who must fit its role and unit; the only way for
    a task given to `username` by name)."""
    _require(actor, SYSTEM_ADMINS, "转交任务")
    now = duban.clock.now()
    with duban.db.transaction() as session:
        task = session.scalars(select(HumanTask).where(HumanTask.id == task_id, HumanTask.assignee == username,
                                                       HumanTask.state == "open")).one_or_none()
        if task is None:
            raise NotFound(text("admin.task_not_theirs", task=task_id, username=username))
        if to:
            heir = session.scalars(select(User).where(User.username == to)).one_or_none()
            if heir is None or not heir.active or not _fits(heir, task):
                raise Conflict(text("admin.assignee_unfit", username=to, task=task.name))
        elif task.role is None:
            raise InvalidInput(text("admin.task_needs_assignee", task=task.name, username=username),
                               [{"field": "to", "message": text("admin.task_needs_assignee", task=task.name,
                                                                username=username)}])
        task.assignee, task.claimed_at = (to, now) if to else (None, None)
        audit.append(session, actor.username, "task.reassign", f"task:{task.id}",
                     {"from": username, "to": to, "instance_id": task.instance_id}, ip, at=now)
        return _task_view(task, None, None)


def _fits(user: User, task: HumanTask) -> bool:
    if task.role is None:
        return True  # given by name: the administrator names the successor
    return is_candidate(actor_of(user), task)


def _check_username(username: str) -> None:
    if not USERNAME.fullmatch(username):
        raise InvalidInput(text("admin.username_invalid"),
                           [{"field": "username", "message": text("admin.username_invalid")}])


def _free(session, username: str) -> None:
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(text("admin.username_taken", username=username))


def _unit_open(session, unit_id: str | None) -> None:
    """An account joins an existing unit that is not deactivated (停用)."""
    unit = session.get(Unit, unit_id) if unit_id is not None else None
    if unit_id is not None and unit is None:
        raise InvalidInput(text("admin.unit_missing", unit=unit_id),
                           [{"field": "unit_id", "message": text("admin.unit_missing", unit=unit_id)}])
    if unit is not None and not unit.active:
        raise InvalidInput(text("unit.closed_to_people", unit=unit.name),
                           [{"field": "unit_id", "message": text("unit.closed_to_people", unit=unit.name)}])


def open_task_counts(duban, actor: Actor) -> dict[str, int]:
    """{username: open tasks held} for the accounts list (system administrator)."""
    _require(actor, SYSTEM_ADMINS, "查看用户的未办任务")
    with duban.db.reading() as session:
        rows = session.execute(select(HumanTask.assignee, func.count()).where(
            HumanTask.state == "open", HumanTask.assignee.is_not(None)).group_by(HumanTask.assignee))
        return dict(rows.all())
