"""六有 (003 三(四)): for each assigned item, each unit shows it has 落实方案, 具体措施, 目标台账,
责任领导, 明确任务 and 情况报告 — a tick and a note (or the name of the attached document) for each.

The unit fills in its own checklist while the item is assigned and not finished (办理中, 待签发,
待反馈); everyone who may see the item reads every unit's, so the office sees how complete each is.
"""
from __future__ import annotations

from sqlalchemy import select

from ..access import Actor, own_part, visible_item
from ..errors import Conflict, InvalidInput
from ..models import Checklist
from ..texts import text
from . import audit, org

# 六有, in the order of the source document (003), under one English identifier each.
CHECKS = {
    "plan": "有落实方案",
    "measures": "有具体措施",
    "ledger": "有目标台账",
    "leader": "有责任领导",
    "tasks": "有明确任务",
    "report": "有情况报告",
}
MAX_NOTE = 500
WRITABLE = ("in_progress", "signoff", "feedback")


def put_checklist(duban, actor: Actor, item_id: int, fields: dict) -> dict:
    """The caller's unit sets its 六有 for the item: every point ticked or not, with its note."""
    with duban.db.transaction() as session:
        item = visible_item(session, actor, item_id)
        unit_id = own_part(actor, item, fields.get("unit"), text("access.doing.checklist")).unit_id
        if item.status not in WRITABLE:
            raise Conflict(text("checklist.closed"))
        values = _checked(fields)
        now = duban.clock.now()
        query = select(Checklist).where(Checklist.item_id == item_id, Checklist.unit_id == unit_id)
        row = session.scalars(query.with_for_update()).one_or_none()
        if row is None:
            row = Checklist(item_id=item_id, unit_id=unit_id, updated_by=actor.username, updated_at=now)
            session.add(row)
        for name, value in values.items():
            setattr(row, name, value)
        row.updated_by, row.updated_at = actor.username, now
        audit.append(session, actor.username, "checklist.update", f"item:{item_id}",
                     {"unit": unit_id, "done": [key for key in CHECKS if values[key]]}, at=now)
    return next(c for c in list_checklists(duban, actor, item_id) if c["unit"] == unit_id)


def _checked(fields: dict) -> dict:
    errors, values = [], {}
    for key in CHECKS:
        value = fields.get(key, False)
        if not isinstance(value, bool):
            errors.append({"field": key, "message": text("field.boolean")})
        note = fields.get(f"{key}_note") or ""
        if not isinstance(note, str) or len(note.strip()) > MAX_NOTE:
            errors.append({"field": f"{key}_note", "message": text("field.max_length", limit=MAX_NOTE)})
            note = ""
        values[key], values[f"{key}_note"] = value is True, note.strip()
    if errors:
        raise InvalidInput(text("checklist.invalid", message=errors[0]["message"]), errors)
    return values


def list_checklists(duban, actor: Actor, item_id: int) -> list[dict]:
    """One checklist per unit of the item, in the item's order (lead first); blank where not filled."""
    with duban.db.reading() as session:
        item = visible_item(session, actor, item_id)
        rows = {c.unit_id: c for c in session.scalars(select(Checklist).where(Checklist.item_id == item_id))}
        names = org.unit_names(session)
        return [_view(item_id, part.unit_id, names.get(part.unit_id, part.unit_id), part.role, rows.get(part.unit_id))
                for part in item.units]


def _view(item_id: int, unit_id: str, unit_name: str, role: str, row: Checklist | None) -> dict:
    view = {"item_id": item_id, "unit": unit_id, "unit_name": unit_name, "role": role,
            "updated_by": row.updated_by if row else None, "updated_at": row.updated_at if row else None}
    for key in CHECKS:
        view[key] = bool(row and getattr(row, key))
        view[f"{key}_note"] = getattr(row, f"{key}_note") if row else ""
    view["done"] = sum(view[key] for key in CHECKS)
    view["total"] = len(CHECKS)
    view["complete"] = view["done"] == len(CHECKS)
    return view
