"""The organisation: units (单位), users and their roles, and the demo organisation."""
from __future__ import annotations

from sqlalchemy import select

from ..domain.roles import ADMIN, AUDITADMIN, DESIGNER, DISCIPLINE, LEADER, OFFICE, SECADMIN, UNIT
from ..models import Unit, User, UserRole
from ..security import hash_password

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
