"""The organisation: units (单位), users and their roles, and the demo organisation."""
from __future__ import annotations

import re

from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..access import Actor
from ..domain.roles import ADMIN, AUDITADMIN, DESIGNER, DISCIPLINE, LEADER, OFFICE, ROLES, SECADMIN, SYSTEM_ADMINS, UNIT
from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..models import HumanTask, Unit, User, UserRole
from ..security import hash_password
from ..texts import text
from . import audit

# What a unit is to the processes (who works which lane); `unit` are the handling units (承办单位).
KINDS = {"office": "督查室", "leader": "领导", "unit": "承办单位", "discipline": "纪委", "other": "其他"}
UNIT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
# What sort of unit it is in the county's organisation (单位分类), beside its part in the processes.
CATEGORIES = {"dept": "县直部门", "township": "乡镇（街道）", "party": "党群部门", "vertical": "垂直管理部门",
              "other": "其他"}
# How many names a refusal to deactivate lists before "等 N 个".
LISTED = 10

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
    """Every unit, deactivated ones included (marked), with its parent, category and 督查联络员."""
    with duban.db.reading() as session:
        rows = list(session.scalars(select(Unit).order_by(Unit.sort, Unit.id)))
        liaisons = _liaisons(session, rows)
        return [_unit_view(u, liaisons) for u in rows]


def unit_tree(units: list[dict]) -> list[dict]:
    """The units in tree order (each after its parent, children in list order), each with its `depth`."""
    children: dict = {}
    known = {u["id"] for u in units}
    for unit in units:
        children.setdefault(unit["parent_id"] if unit["parent_id"] in known else None, []).append(unit)
    ordered = []

    def walk(parent, depth):
        for unit in children.get(parent, []):
            ordered.append({**unit, "depth": depth, "children": len(children.get(unit["id"], []))})
            walk(unit["id"], depth + 1)

    walk(None, 0)
    return ordered


def create_unit(duban, actor: Actor, fields: dict, ip: str | None = None, by: str | None = None) -> dict:
    """A new unit (system administrator; `by` names the command line's operator instead)."""
    if by is None:
        _require_sysadmin(actor, "创建单位")
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
            unit = Unit(id=unit_id, name=name, kind=kind, sort=sort, active=fields.get("active") is not False,
                        category=_category(fields.get("category")),
                        parent_id=_parent(session, unit_id, fields.get("parent_id")),
                        liaison_id=_liaison(session, unit_id, fields.get("liaison")))
            session.add(unit)
            session.flush()
            audit.append(session, by or actor.username, "unit.create", f"unit:{unit_id}",
                         {"name": name, "kind": kind, "parent_id": unit.parent_id, "category": unit.category,
                          "active": unit.active}, ip, at=now)
            return _unit_view(unit, _liaisons(session, [unit]))
    except IntegrityError:
        raise Conflict(text("admin.unit_taken", unit=unit_id)) from None


def update_unit(duban, actor: Actor, unit_id: str, changes: dict, ip: str | None = None) -> dict:
    """Rename a unit, change its kind, its place in lists or in the hierarchy, its category, its 督查联络员;
    `active: false` deactivates it, refused while it has active accounts, open tasks or active sub-units
    (system administrator). A key given as None or "" clears parent, category or liaison."""
    _require_sysadmin(actor, "修改单位")
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
        for key, column, check in (("parent_id", "parent_id", lambda v: _parent(session, unit_id, v)),
                                   ("category", "category", _category),
                                   ("liaison", "liaison_id", lambda v: _liaison(session, unit_id, v))):
            if key in changes and getattr(unit, column) != (value := check(changes[key])):
                changed[column] = [getattr(unit, column), value]
                setattr(unit, column, value)
        if changes.get("active") is not None and bool(changes["active"]) != unit.active:
            if not changes["active"]:
                _may_deactivate(session, unit)
            changed["active"] = [unit.active, bool(changes["active"])]
            unit.active = bool(changes["active"])
        if changed:
            audit.append(session, actor.username, "unit.update", f"unit:{unit_id}", changed, ip, at=now)
        return _unit_view(unit, _liaisons(session, [unit]))


def _unit_view(unit: Unit, liaisons: dict) -> dict:
    liaison = liaisons.get(unit.liaison_id)
    return {"id": unit.id, "name": unit.name, "kind": unit.kind, "kind_name": KINDS.get(unit.kind, unit.kind),
            "sort": unit.sort, "parent_id": unit.parent_id, "category": unit.category,
            "category_name": CATEGORIES.get(unit.category) if unit.category else None, "active": unit.active,
            "liaison": liaison[0] if liaison else None, "liaison_name": liaison[1] if liaison else None}


def _liaisons(session, units) -> dict:
    """{user id: (username, display name)} of these units' 督查联络员, in one query."""
    ids = {u.liaison_id for u in units if u.liaison_id is not None}
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.username, User.display_name).where(User.id.in_(ids)))
    return {row.id: (row.username, row.display_name or row.username) for row in rows}


def _parent(session, unit_id: str, parent_id) -> str | None:
    """The parent to store: an existing unit, and not the unit itself nor one below it (no cycles)."""
    parent_id = (parent_id or "").strip() if isinstance(parent_id, str) or parent_id is None else parent_id
    if not parent_id:
        return None
    seen, current = set(), parent_id
    while current is not None and current not in seen:
        if current == unit_id:
            raise InvalidInput(text("unit.parent_cycle", parent=parent_id),
                               [{"field": "parent_id", "message": text("unit.parent_cycle", parent=parent_id)}])
        seen.add(current)
        row = session.get(Unit, current)
        if row is None:
            raise InvalidInput(text("admin.unit_missing", unit=current),
                               [{"field": "parent_id", "message": text("admin.unit_missing", unit=current)}])
        current = row.parent_id
    return parent_id


def _category(category) -> str | None:
    """A category by its code (`township`) or its Chinese name (乡镇（街道）); empty: none."""
    category = (category or "").strip()
    if not category:
        return None
    by_name = {name: key for key, name in CATEGORIES.items()}
    if category in CATEGORIES or category in by_name:
        return by_name.get(category, category)
    choices = "、".join(f"{name}（{key}）" for key, name in CATEGORIES.items())
    message = text("unit.category", category=category, categories=choices)
    raise InvalidInput(message, [{"field": "category", "message": message}])


def _liaison(session, unit_id: str, username) -> int | None:
    """督查联络员: an active account of this very unit, by username; empty: none."""
    username = (username or "").strip()
    if not username:
        return None
    user = session.scalars(select(User).where(User.username == username)).one_or_none()
    if user is None or not user.active or user.unit_id != unit_id:
        message = text("unit.liaison_unfit", username=username)
        raise InvalidInput(message, [{"field": "liaison", "message": message}])
    return user.id


def _may_deactivate(session, unit: Unit) -> None:
    """Refuse (Conflict, each one listed) while the unit has active accounts, open tasks or active sub-units."""
    people = list(session.scalars(select(User.display_name).where(User.unit_id == unit.id, User.active.is_(True))
                                  .order_by(User.username).limit(LISTED + 1)))
    tasks = list(session.scalars(select(HumanTask.name).where(HumanTask.unit_id == unit.id,
                                                              HumanTask.state == "open")
                                 .order_by(HumanTask.created_at).limit(LISTED + 1)))
    below = list(session.scalars(select(Unit.name).where(Unit.parent_id == unit.id, Unit.active.is_(True))
                                 .order_by(Unit.sort).limit(LISTED + 1)))
    reasons = [text(key, names=_listed(names)) for key, names in (
        ("unit.still_people", people), ("unit.still_tasks", tasks), ("unit.still_units", below)) if names]
    if reasons:
        message = text("unit.cannot_deactivate", unit=unit.name, reasons="；".join(reasons))
        raise Conflict(message, [{"field": "active", "message": reason} for reason in reasons])


def _listed(names: list[str]) -> str:
    shown = "、".join(names[:LISTED])
    return shown if len(names) <= LISTED else text("unit.and_more", names=shown)


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


def _require_sysadmin(actor: Actor, what: str) -> None:
    if not actor.has(*SYSTEM_ADMINS):
        raise Forbidden(text("users.only", roles=ROLES[SYSTEM_ADMINS[0]], what=what))


def units_of(session) -> list:
    """Every unit as (id, name, kind, active), in their order: read once per transaction (a step asks for
    names, form options and active units, each of them more than once), again after the transaction
    changed a unit."""
    rows = session.info.get(_UNITS)
    if rows is None:
        rows = session.info[_UNITS] = session.execute(
            select(Unit.id, Unit.name, Unit.kind, Unit.active).order_by(Unit.sort, Unit.id)).all()
    return rows


_UNITS = "duban_units"


@event.listens_for(Session, "after_flush")
def _units_changed(session: Session, _context) -> None:
    if any(isinstance(row, Unit) for row in (*session.new, *session.dirty, *session.deleted)):
        session.info.pop(_UNITS, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_units(session: Session, _transaction) -> None:
    session.info.pop(_UNITS, None)


def unit_names(session) -> dict:
    """{unit id: name} of every unit (deactivated ones too: they still name past work)."""
    return {row.id: row.name for row in units_of(session)}


def names(duban) -> dict:
    """unit_names in a transaction of its own, for a page or an answer that shows units by name."""
    with duban.db.reading() as session:
        return unit_names(session)


def unit_options(session) -> list[dict]:
    """Active handling units as form options (the `unit_options` values key): a deactivated unit is
    no longer chosen as 承办单位."""
    return [{"label": u.name, "value": u.id} for u in units_of(session) if u.kind == "unit" and u.active]


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
