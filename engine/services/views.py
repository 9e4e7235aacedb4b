"""Rows rendered as plain dicts for callers (the API dumps them through its schemas)."""
from __future__ import annotations

from ..domain import deadlines
from ..domain.items import CATEGORIES, CLASSIFICATIONS, ENDED_STATUSES, SOURCES, STATUSES, light
from ..domain.roles import ROLES
from ..models import HistoryEntry, HumanTask, Instance, Item, Timer


def task(row: HumanTask, unit_names: dict | None = None, people: dict | None = None) -> dict:
    """A task; `people` names its assignee (username: display name)."""
    unit_names, people = unit_names or {}, people or {}
    return {
        "id": row.id, "name": row.name, "element_id": row.element_id, "instance_id": row.instance_id,
        "item_id": row.item_id, "lane": row.role or row.lane, "role": row.role,
        "role_name": ROLES.get(row.role, row.role), "unit": row.unit_id,
        "unit_name": unit_names.get(row.unit_id), "assignee": row.assignee,
        "assignee_name": (people.get(row.assignee) or row.assignee) if row.assignee else None, "state": row.state,
        "due_at": row.due_at, "created_at": row.created_at, "completed_at": row.completed_at,
        "completed_by": row.completed_by, "form_key": row.form_key,
    }


def timer(row: Timer) -> dict:
    return {"id": row.id, "element_id": row.element_id, "name": row.name, "unit": row.unit_id,
            "due_at": row.due_at, "state": row.state, "fired_at": row.fired_at}


def history(row: HistoryEntry) -> dict:
    return {"at": row.at, "actor": row.actor, "action": row.action, "element_id": row.element_id,
            "task_id": row.task_id, "name": row.name, "unit": row.unit_id, "data": row.data}


def instance(row: Instance, definition, item_id: int | None = None) -> dict:
    return {
        "id": row.id, "status": row.status, "definition_key": row.definition_key,
        "version": definition.version, "definition_name": definition.name,
        "started_by": row.started_by, "started_at": row.started_at, "ended_at": row.ended_at,
        "updated_at": row.updated_at, "error": row.error, "item_id": item_id,
    }


def item(row: Item, duban, now, unit_names: dict) -> dict:
    settings, calendar = duban.settings, duban.calendar
    finished = row.status in ENDED_STATUSES
    parts = []
    # 不予立项: the units were only proposed; the item has no units, deadlines or persons to show.
    for part in row.units if row.status != "rejected" else ():
        deadline = deadlines.due_at(part)
        done = finished or deadlines.is_done(part)
        parts.append({
            "unit": part.unit_id, "unit_name": unit_names.get(part.unit_id, part.unit_id), "role": part.role,
            "deadline": part.deadline, "urge_limit": part.urge_limit, "due_at": deadline,
            "committed_date": part.committed_date,
            "first_responsible": part.first_responsible, "responsible": part.responsible,
            "handler": part.handler, "received_at": part.received_at, "reported_at": part.reported_at,
            "accepted_at": part.accepted_at, "urged_at": part.urged_at, "escalated_at": part.escalated_at,
            "light": light(calendar, deadline, now, settings.yellow_workdays, done),
        })
    lights = [p["light"] for p in parts] or (
        [light(calendar, row.deadline, now, settings.yellow_workdays, finished)] if not parts else ["green"])
    worst = "red" if "red" in lights else "yellow" if "yellow" in lights else "green"
    return {
        "id": row.id, "instance_id": row.instance_id, "title": row.title, "content": row.content,
        "source": row.source, "source_name": SOURCES.get(row.source), "category": row.category,
        "category_name": CATEGORIES.get(row.category), "classification": row.classification,
        "classification_name": CLASSIFICATIONS.get(row.classification), "deadline": row.deadline,
        "deadline_provisional": row.deadline_provisional, "status": row.status,
        "status_name": STATUSES.get(row.status), "light": "green" if finished else worst,
        "lead_unit": row.lead_unit_id if parts else None, "units": parts, "created_by": row.created_by,
        "created_at": row.created_at, "closed_at": row.closed_at,
        "withdrawn_reason": row.withdrawn_reason, "withdrawn_by": row.withdrawn_by,
        "withdrawn_by_name": row.withdrawn_by, "withdrawn_at": row.withdrawn_at,
        "designees": [d.user.username for d in row.designees] if row.classification == "secret" else [],
        "persons": [{"unit": p["unit"], "first_responsible": p["first_responsible"],
                     "responsible": p["responsible"], "handler": p["handler"]} for p in parts],
    }
