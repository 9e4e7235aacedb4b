"""The organisation: units (单位), users and their roles, and the demo organisation."""
from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..access import Actor
from ..domain.roles import ADMIN, AUDITADMIN, DESIGNER, DISCIPLINE, LEADER, OFFICE, ROLES, SECADMIN, SYSTEM_ADMINS, UNIT
from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..models import Unit, User, UserRole
from ..security import hash_password
from ..texts import text
from . import audit

# What a unit is to the processes (who works which lane); `unit` are the handling units (承办单位).
KINDS = {"office": "督查室", "leader": "领导", "unit": "承办单位", "discipline": "纪委", "other": "其他"}
UNIT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
# The units table has no column for these yet (a later migration): refused rather than dropped.
UNSTORED = {"parent_id": "上级单位", "active": "停用", "liaison": "督查联络员"}

DEMO_PASSWORD = "duban-demo"

DEMO_UNITS = [
    # id, name, kind
    ("dcs", "县委办督查室", "office"),
    ("xzf", "县政府", "leader"),
    ("fgj", "发改局", "unit"),
    ("czj", "财政局", "unit"),
    ("jyj", "教育局", "unit"),
    ("zjj", "住建局", "unit"),
    ("xjw", "县纪委", "discipline"),
    ("xwb", "县委办", "other"),
]

DEMO_USERS = [
    # username, display name, role, unit
    ("office", "督查室 王主任", OFFICE, "dcs"),
    ("leader", "县政府 李副县长", LEADER, "xzf"),
    ("unit_a", "发改局 张科长", UNIT, "fgj"),
    ("unit_b", "财政局 刘科长", UNIT, "czj"),
    ("discipline", "县纪委 赵主任", DISCIPLINE, "xjw"),
    ("designer", "县委办 流程设计员", DESIGNER, "xwb"),
    ("admin", "县委办 系统管理员", ADMIN, "xwb"),
    # 三员分立: the security and audit administrators beside the system administrator `admin`.
    ("secadmin", "县委办 安全管理员", SECADMIN, "xwb"),
    ("auditor", "县委办 安全审计员", AUDITADMIN, "xwb"),
]


def list_units(duban) -> list[dict]:
    with duban.db.reading() as session:
        rows = session.scalars(select(Unit).order_by(Unit.sort, Unit.id))
        return [{"id": u.id, "name": u.name, "kind": u.kind} for u in rows]


def create_unit(duban, actor: Actor, fields: dict, ip: str | None = None, by: str | None = None) -> dict:
    """A new unit (system administrator; `by` names the command line's operator instead)."""
    if by is None:
        _require_sysadmin(actor, "创建单位")
    _refuse_unstored(fields)
    unit_id, name = (fields.get("id") or "").strip(), (fields.get("name") or "").strip()
    kind = _kind(fields.get("kind") or "unit")
    if not UNIT_ID.fullmatch(unit_id):
        raise InvalidInput(text("admin.unit_id_invalid"), [{"field": "id", "message": text("admin.unit_id_invalid")}])
    _name(name)
    now = duban.clock.now()
    try:
        with duban.db.transaction() as session:
            if session.get(Unit, unit_id) is not None:
                raise Conflict(text("admin.unit_taken", unit=unit_id))
            sort = fields.get("sort")
            if sort is None:  # after the others, in the order they were created
                sort = (session.scalar(select(func.max(Unit.sort))) or 0) + 1
            unit = Unit(id=unit_id, name=name, kind=kind, sort=sort)
            session.add(unit)
            session.flush()
            audit.append(session, by or actor.username, "unit.create", f"unit:{unit_id}",
                         {"name": name, "kind": kind}, ip, at=now)
            return _unit_view(unit)
    except IntegrityError:
        raise Conflict(text("admin.unit_taken", unit=unit_id)) from None


def update_unit(duban, actor: Actor, unit_id: str, changes: dict, ip: str | None = None) -> dict:
    """Rename a unit, change its kind or its place in lists (system administrator)."""
    _require_sysadmin(actor, "修改单位")
    _refuse_unstored(changes)
    now = duban.clock.now()
    with duban.db.transaction() as session:
        unit = session.get(Unit, unit_id)
        if unit is None:
            raise NotFound(text("admin.unit_missing", unit=unit_id))
        changed = {}
        for key, check in (("name", _name), ("kind", _kind), ("sort", int)):
            if changes.get(key) is None:
                continue
            value = check(changes[key].strip() if isinstance(changes[key], str) else changes[key])
            if getattr(unit, key) != value:
                changed[key] = [getattr(unit, key), value]
                setattr(unit, key, value)
        if changed:
            audit.append(session, actor.username, "unit.update", f"unit:{unit_id}", changed, ip, at=now)
        return _unit_view(unit)


def _unit_view(unit: Unit) -> dict:
    return {"id": unit.id, "name": unit.name, "kind": unit.kind, "kind_name": KINDS.get(unit.kind, unit.kind),
            "sort": unit.sort}


def _kind(kind: str) -> str:
    """A kind by its key (`unit`) or its Chinese name (承办单位)."""
    kind = (kind or "").strip()
    by_name = {name: key for key, name in KINDS.items()}
    if kind in KINDS or kind in by_name:
        return by_name.get(kind, kind)
    choices = "、".join(f"{name}（{key}）" for key, name in KINDS.items())
    raise InvalidInput(text("admin.unit_kind", kind=kind, kinds=choices),
                       [{"field": "kind", "message": text("admin.unit_kind", kind=kind, kinds=choices)}])


def _name(name: str) -> str:
    if not name or len(name) > 200:
        raise InvalidInput(text("admin.unit_name_required"),
                           [{"field": "name", "message": text("admin.unit_name_required")}])
    return name


def _refuse_unstored(fields: dict) -> None:
    # Every unit is active today: `active: true` asks for nothing new.
    asked = [key for key in UNSTORED if fields.get(key) not in (None, "", True)]
    if asked:
        message = text("admin.unit_needs_column", what="、".join(UNSTORED[key] for key in asked))
        raise InvalidInput(message, [{"field": key, "message": message} for key in asked])


def _require_sysadmin(actor: Actor, what: str) -> None:
    if not actor.has(*SYSTEM_ADMINS):
        raise Forbidden(text("users.only", roles=ROLES[SYSTEM_ADMINS[0]], what=what))


def unit_options(session) -> list[dict]:
    """Handling units as form options (the `unit_options` values key)."""
    rows = session.scalars(select(Unit).where(Unit.kind == "unit").order_by(Unit.sort, Unit.id))
    return [{"label": u.name, "value": u.id} for u in rows]


def seed_demo(duban, password: str = DEMO_PASSWORD) -> dict:
    """The demo organisation of the contract; running it again changes nothing that exists."""
    now = duban.clock.now()
    created = {"units": 0, "users": 0}
    with duban.db.transaction() as session:
        for sort, (unit_id, name, kind) in enumerate(DEMO_UNITS):
            if session.get(Unit, unit_id) is None:
                session.add(Unit(id=unit_id, name=name, kind=kind, sort=sort))
                created["units"] += 1
        session.flush()
        # The demo users share one password: hash it once (argon2 is slow on purpose). It is set
        # here without the complexity rule (`duban-demo` has two kinds of character): a demo
        # convenience; real passwords go through users.set_password, which enforces it.
        password_hash = None
        for username, display, role, unit_id in DEMO_USERS:
            if session.scalars(select(User).where(User.username == username)).one_or_none() is not None:
                continue
            password_hash = password_hash or hash_password(password)
            user = User(username=username, display_name=display, password_hash=password_hash,
                        unit_id=unit_id, email=f"{username}@duban.local", created_at=now)
            user.role_rows = [UserRole(role=role)]
            session.add(user)
            created["users"] += 1
    return created
