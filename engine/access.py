"""Who may see and do what: role × unit × item classification, in one place.

Pages, the API, exports and notifications all ask here; nothing else decides.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, exists, false, or_, select, true
from sqlalchemy.orm import aliased

from .domain.roles import ADMIN, DESIGNER, DISCIPLINE, OFFICE, SUPERVISORS, SYSTEM_ADMINS, UNIT
from .errors import Forbidden, NotFound
from .models import HumanTask, Item, ItemDesignee, ItemUnit

# 保密: a `secret` item exists only for the people designated on it and for administrators.
SECRET = "secret"
# The item of a task, aliased once (the inbox query may join Item itself; one alias keeps the
# statement cache warm instead of building a new alias per query).
_TASK_ITEM = aliased(Item, name="task_item")
# 公示 (seed 001 7、): the public board shows `public` items only (`internal` ones circulate inside
# government), and only once assigned: from 交办 on, the units and their persons are settled.
PUBLIC = "public"
PUBLISHED_STATUSES = ("in_progress", "signoff", "feedback", "closed")


@dataclass(frozen=True)
class Actor:
    """The person acting: who they are, their roles and their unit."""

    id: int
    username: str
    roles: frozenset
    unit_id: str | None
    display_name: str = ""

    def has(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)


def cleared(actor: Actor, item=Item):
    """A WHERE clause on Item (or an alias of it): not secret, or this person is designated on it
    (or administers)."""
    if actor.has(*SYSTEM_ADMINS):
        return true()
    return or_(item.classification != SECRET, exists(select(ItemDesignee.id).where(
        ItemDesignee.item_id == item.id, ItemDesignee.user_id == actor.id)))


def is_cleared(actor: Actor, item: Item) -> bool:
    return (item.classification != SECRET or actor.has(*SYSTEM_ADMINS)
            or any(d.user_id == actor.id for d in item.designees))


def user_cleared(user_id: int, roles, item: Item | None) -> bool:
    """For notifications: whether a user (by id and roles) may hear of this item at all."""
    return (item is None or item.classification != SECRET or any(r in SYSTEM_ADMINS for r in roles)
            or any(d.user_id == user_id for d in item.designees))


def items_published():
    """A WHERE clause on Item: what the public board (公示) shows to anyone, signed in or not."""
    return and_(Item.classification == PUBLIC, Item.status.in_(PUBLISHED_STATUSES))


def items_visible(actor: Actor):
    """A WHERE clause on Item: the ledger rows this person may know about."""
    return and_(cleared(actor), _taking_part(actor))


def _taking_part(actor: Actor):
    if actor.has(*SUPERVISORS):
        return true()
    clauses = []
    if actor.has(UNIT) and actor.unit_id:
        clauses.append(exists(select(ItemUnit.id).where(
            ItemUnit.item_id == Item.id, ItemUnit.unit_id == actor.unit_id)))
    if actor.has(DISCIPLINE):
        clauses.append(exists(select(ItemUnit.id).where(
            ItemUnit.item_id == Item.id, ItemUnit.escalated_at.is_not(None))))
    return or_(*clauses) if clauses else false()


def visible_item(session, actor: Actor, item_id: int) -> Item:
    """The item if this person may know of it; otherwise NotFound (404), as if it did not exist."""
    item = session.get(Item, item_id)
    if item is None or not can_see_item(actor, item):
        raise NotFound(f"item {item_id} not found")
    return item


def own_part(actor: Actor, item: Item, unit_id: str | None, doing: str) -> ItemUnit:
    """The part the caller's own unit has in an item: a unit speaks only for itself (Forbidden otherwise)."""
    unit_id = unit_id or actor.unit_id
    if not (actor.has(UNIT) and actor.unit_id and unit_id == actor.unit_id):
        raise Forbidden(f"only the unit itself {doing}")
    part = next((p for p in item.units if p.unit_id == unit_id), None)
    if part is None:
        raise Forbidden("your unit takes no part in this item")
    return part


def can_see_item(actor: Actor, item: Item) -> bool:
    if not is_cleared(actor, item):
        return False
    if actor.has(*SUPERVISORS):
        return True
    if actor.has(UNIT) and any(part.unit_id == actor.unit_id for part in item.units):
        return True
    return actor.has(DISCIPLINE) and any(part.escalated_at for part in item.units)


def can_see_instance(actor: Actor, instance, item: Item | None) -> bool:
    if item is not None:
        return can_see_item(actor, item)
    return actor.has(ADMIN, DESIGNER, OFFICE) or instance.started_by == actor.username


def tasks_workable(actor: Actor):
    """A WHERE clause on HumanTask: open tasks this person may claim or complete."""
    by_role = [HumanTask.role == role for role in actor.roles if role != UNIT]
    if actor.has(UNIT) and actor.unit_id:
        by_role.append(and_(HumanTask.role == UNIT, HumanTask.unit_id == actor.unit_id))
    candidate = and_(HumanTask.assignee.is_(None), or_(*by_role)) if by_role else false()
    hidden = exists(select(_TASK_ITEM.id).where(_TASK_ITEM.id == HumanTask.item_id, ~cleared(actor, _TASK_ITEM)))
    return and_(HumanTask.state == "open", or_(HumanTask.assignee == actor.username, candidate), ~hidden)


def is_candidate(actor: Actor, task: HumanTask) -> bool:
    """Whether the task's role and unit fit this person (ignoring who claimed it)."""
    if task.role is None:
        return task.assignee == actor.username
    if task.role == UNIT:
        return actor.has(UNIT) and task.unit_id is not None and task.unit_id == actor.unit_id
    return actor.has(task.role)


def can_work(actor: Actor, task: HumanTask) -> bool:
    return is_candidate(actor, task) and task.assignee in (None, actor.username)
