"""Who may see and do what: role × unit × item classification, in one place.

Pages, the API, exports and notifications all ask here; nothing else decides.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import and_, exists, false, func, or_, select, true
from sqlalchemy.orm import aliased

from .domain.items import ASSIGNED_STATUSES
from .domain.roles import ADMIN, DESIGNER, DISCIPLINE, OFFICE, SUPERVISORS, SYSTEM_ADMINS, UNIT
from .errors import Forbidden, NotFound
from .models import Extension, HumanTask, Instance, Item, ItemDesignee, ItemUnit, Notification
from .texts import text

# 保密: a `secret` item exists only for the people designated on it and for administrators.
SECRET = "secret"
# The item of a task, aliased once (the inbox query may join Item itself; one alias keeps the
# statement cache warm instead of building a new alias per query).
_TASK_ITEM = aliased(Item, name="task_item")
# 公示 (seed 001 7、): the public board shows `public` items only (`internal` ones circulate inside
# government), and only once assigned: from 交办 on, the units and their persons are settled.
PUBLIC = "public"
PUBLISHED_STATUSES = ASSIGNED_STATUSES  # 公示: once the units have received the item
# The item an instance serves, through the table that ties the two: the item's own instance (督办,
# items.instance_id) and its 延期申请 instances (extensions.instance_id). Every rule on instances,
# their tasks, incidents and counts resolves an instance to its item through these links (here and
# in the engine's ctx.item, hooks.Hooks.item_of); a new process that serves an item adds its link
# here and is covered everywhere. Aliases keep these subqueries apart from an outer query's Item.
_ITEM_LINKS = (
    (aliased(Item, name="linked_item"), "id"),
    (aliased(Extension, name="linked_extension"), "item_id"),
)
_SERVED_ITEM = aliased(Item, name="served_item")
_TASK_INSTANCE = aliased(Instance, name="task_instance")
_NOTIFIED_ITEM = aliased(Item, name="notified_item")


def _per_actor(build):
    """A clause builder whose clauses are kept per actor (and alias): SQL expressions are immutable,
    and building one anew for every request (dozens of nested EXISTS) cost more than running it."""
    return lru_cache(maxsize=1024)(build)


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


@_per_actor
def cleared(actor: Actor, item=Item):
    """A WHERE clause on Item (or an alias of it): not secret, or this person is designated on it
    (or administers)."""
    if actor.has(*SYSTEM_ADMINS):
        return true()
    # Uncorrelated, so the database reads this person's designations once into a hashed set and
    # probes it per secret item; a correlated EXISTS made PostgreSQL choose nested loops over 100,000
    # items for the dashboard's aggregates (bench/ledger.py).
    return or_(item.classification != SECRET, item.id.in_(select(ItemDesignee.item_id).where(
        ItemDesignee.user_id == actor.id)))


def user_cleared(user_id: int, roles, item: Item | None) -> bool:
    """For notifications: whether a user (by id and roles) may hear of this item at all."""
    return (item is None or item.classification != SECRET or any(r in SYSTEM_ADMINS for r in roles)
            or any(d.user_id == user_id for d in item.designees))


def items_published():
    """A WHERE clause on Item: what the public board (公示) shows to anyone, signed in or not."""
    return and_(Item.classification == PUBLIC, Item.status.in_(PUBLISHED_STATUSES))


@_per_actor
def items_visible(actor: Actor, item=Item):
    """A WHERE clause on Item (or an alias of it): the ledger rows this person may know about."""
    return and_(cleared(actor, item), _taking_part(actor, item))


def _taking_part(actor: Actor, item=Item):
    if actor.has(*SUPERVISORS):
        return true()
    # Whoever started a process that registered the item (发起, duban:starterRoles) follows it.
    clauses = [item.created_by == actor.username]
    # Uncorrelated, as in `cleared`: PostgreSQL prices a correlated EXISTS here per item and so reads the
    # whole table to count a unit's ledger; a hashed set of the unit's items lets it count from the
    # items' visibility index (ix_items_seen: 40 ms to 20 ms at 100,000 items, bench/ledger.py).
    if actor.has(UNIT) and actor.unit_id:
        clauses.append(item.id.in_(select(ItemUnit.item_id).where(ItemUnit.unit_id == actor.unit_id)))
    if actor.has(DISCIPLINE):
        clauses.append(item.id.in_(select(ItemUnit.item_id).where(ItemUnit.escalated_at.is_not(None))))
    return or_(*clauses) if clauses else false()


def visible_item(session, actor: Actor, item_id: int) -> Item:
    """The item if this person may know of it; otherwise NotFound (404), as if it did not exist.

    One query decides, the same for a missing and a hidden item: neither the answer nor its timing
    tells a secret item from no item (the item's units and designees load only once it is visible)."""
    item = session.scalars(select(Item).where(Item.id == item_id, items_visible(actor))).one_or_none()
    if item is None:
        raise NotFound(text("item.not_found", id=item_id))
    return item


def own_part(actor: Actor, item: Item, unit_id: str | None, doing: str) -> ItemUnit:
    """The part the caller's own unit has in an item: a unit speaks only for itself (Forbidden otherwise)."""
    unit_id = unit_id or actor.unit_id
    if not (actor.has(UNIT) and actor.unit_id and unit_id == actor.unit_id):
        raise Forbidden(text("access.own_unit_only", doing=doing))
    part = next((p for p in item.units if p.unit_id == unit_id), None)
    if part is None:
        raise Forbidden(text("access.not_your_item"))
    return part


def served_item_id(instance_id):
    """SQL: the id of the item that the instance `instance_id` (a column or a value) serves; NULL if none."""
    # correlate_except: the instance column belongs to the enclosing query at whatever depth (auto-
    # correlation only looks one level up, and these sit inside EXISTS clauses).
    return func.coalesce(*(select(getattr(link, item_id)).where(link.instance_id == instance_id)
                           .correlate_except(link).scalar_subquery() for link, item_id in _ITEM_LINKS))


def instance_item(session, instance_id: int) -> Item | None:
    """The item an instance serves (its own, or the one its 延期申请 is about); None if it serves none."""
    return session.scalars(select(Item).where(Item.id == served_item_id(instance_id))).one_or_none()


@_per_actor
def _serves_uncleared(actor: Actor, instance_id):
    """SQL: the instance `instance_id` serves an item this person is not cleared for."""
    return exists(select(_SERVED_ITEM.id).where(
        _SERVED_ITEM.id == served_item_id(instance_id), ~cleared(actor, _SERVED_ITEM)))


@_per_actor
def instances_cleared(actor: Actor, instance=Instance):
    """A WHERE clause on Instance: 保密 alone. An instance serving a secret item exists only for the
    item's designated people and administrators, as the item does."""
    if actor.has(*SYSTEM_ADMINS):
        return true()
    return ~_serves_uncleared(actor, instance.id)


@_per_actor
def instances_visible(actor: Actor, instance=Instance):
    """A WHERE clause on Instance (or an alias): the instances this person may open. One that serves
    an item is seen as its item is (items_visible); any other by the office, designers and
    administrators, and by whoever started it."""
    item_id = served_item_id(instance.id)
    serving_visible = exists(select(_SERVED_ITEM.id).where(
        _SERVED_ITEM.id == item_id, items_visible(actor, _SERVED_ITEM)))
    without_item = true() if actor.has(ADMIN, DESIGNER, OFFICE) else instance.started_by == actor.username
    return or_(serving_visible, and_(item_id.is_(None), without_item))


@_per_actor
def instances_monitored(actor: Actor):
    """A WHERE clause on Instance: the monitor's list (/instances). Supervisors and designers watch
    every instance they are cleared for; everyone else the instances they may open."""
    if actor.has(*SUPERVISORS, DESIGNER):
        return instances_cleared(actor)
    return instances_visible(actor)


def visible_instance(session, actor: Actor, instance_id: int) -> Instance:
    """The instance if this person may open it; otherwise NotFound (404), in one query whether it is
    missing or hidden (the same answer in the same time)."""
    return _one_instance(session, instance_id, instances_visible(actor))


def cleared_instance(session, actor: Actor, instance_id: int) -> Instance:
    """The instance unless it serves an item this person is not cleared for (then, as when it is
    missing, NotFound): for actions whose rights are checked by role, such as messages."""
    return _one_instance(session, instance_id, instances_cleared(actor))


def _one_instance(session, instance_id: int, clause) -> Instance:
    instance = session.scalars(select(Instance).where(Instance.id == instance_id, clause)).one_or_none()
    if instance is None:
        raise NotFound(text("instance.not_found", id=instance_id))
    return instance


@_per_actor
def notifications_cleared(actor: Actor):
    """A WHERE clause on Notification: what a person still may read. Checked on every read, not only
    when sent, so news of a secret item disappears for someone whose designation is removed."""
    if actor.has(*SYSTEM_ADMINS):
        return true()
    return ~exists(select(_NOTIFIED_ITEM.id).where(
        _NOTIFIED_ITEM.id == Notification.item_id, ~cleared(actor, _NOTIFIED_ITEM)))


@_per_actor
def tasks_workable(actor: Actor):
    """A WHERE clause on HumanTask: open tasks this person may claim or complete."""
    by_role = [HumanTask.role == role for role in actor.roles if role != UNIT]
    if actor.has(UNIT) and actor.unit_id:
        by_role.append(and_(HumanTask.role == UNIT, HumanTask.unit_id == actor.unit_id))
    candidate = and_(HumanTask.assignee.is_(None), or_(*by_role)) if by_role else false()
    if actor.has(*SYSTEM_ADMINS):
        return and_(HumanTask.state == "open", or_(HumanTask.assignee == actor.username, candidate))
    # The items this person is not cleared for, read once (through ix_items_classification) into a
    # hashed set that each task is looked up in, rather than each task's item probed in turn.
    hidden = select(_TASK_ITEM.id).where(_TASK_ITEM.classification == SECRET, ~cleared(actor, _TASK_ITEM))
    return and_(HumanTask.state == "open", or_(HumanTask.assignee == actor.username, candidate),
                or_(HumanTask.item_id.is_(None), HumanTask.item_id.not_in(hidden)))


@_per_actor
def tasks_visible(actor: Actor):
    """A WHERE clause on HumanTask: the tasks this person may open, open or done. None of an instance
    serving an item they are not cleared for; their own (their role's, their unit's, assigned to
    them); and the others of an instance they may open, except that a unit sees only its own unit's
    tasks."""
    through_instance = false() if _only_a_unit(actor) else exists(select(_TASK_INSTANCE.id).where(
        _TASK_INSTANCE.id == HumanTask.instance_id, instances_visible(actor, _TASK_INSTANCE)))
    cleared_for = true() if actor.has(*SYSTEM_ADMINS) else ~_serves_uncleared(actor, HumanTask.instance_id)
    return and_(cleared_for, or_(_fits(actor), through_instance))


def _only_a_unit(actor: Actor) -> bool:
    return actor.has(UNIT) and not actor.has(*SUPERVISORS, DISCIPLINE)


def sees_unit_record(actor: Actor, unit_id: str | None) -> bool:
    """Whether this person, who sees the item, may read a step recorded for `unit_id` (a unit's report,
    its review, the urge it got): a unit reads only its own unit's; steps of no unit are the item's."""
    return unit_id is None or not _only_a_unit(actor) or unit_id == actor.unit_id


def _fits(actor: Actor):
    """SQL: is_candidate."""
    clauses = [and_(HumanTask.role.is_(None), HumanTask.assignee == actor.username)]
    clauses += [HumanTask.role == role for role in actor.roles if role != UNIT]
    if actor.has(UNIT) and actor.unit_id:
        clauses.append(and_(HumanTask.role == UNIT, HumanTask.unit_id == actor.unit_id))
    return or_(*clauses)


def is_candidate(actor: Actor, task: HumanTask) -> bool:
    """Whether the task's role and unit fit this person (ignoring who claimed it)."""
    if task.role is None:
        return task.assignee == actor.username
    if task.role == UNIT:
        return actor.has(UNIT) and task.unit_id is not None and task.unit_id == actor.unit_id
    return actor.has(task.role)


def can_work(actor: Actor, task: HumanTask) -> bool:
    return is_candidate(actor, task) and task.assignee in (None, actor.username)


def may_withdraw(actor: Actor, registrant_roles) -> bool:
    """撤销: the office withdraws an item the office itself registered (its registrant held the 督查室
    role), not one another kind of starter registered through a process of their own."""
    return actor.has(OFFICE) and OFFICE in registrant_roles


def may_find_people(actor: Actor) -> bool:
    """The people directory (name, unit) is for those who designate 知悉范围: the office and administrators."""
    return actor.has(OFFICE, ADMIN, *SYSTEM_ADMINS)


def may_design(actor: Actor) -> bool:
    """Designing processes and decision tables (the modeler, the DMN editor, deploying): process
    designers and system administrators."""
    return actor.has(DESIGNER, *SYSTEM_ADMINS)


def may_configure_connectors(actor: Actor) -> bool:
    """The installation's connectors (channels, HTTP endpoints, their sealed secrets): system administrators."""
    return actor.has(*SYSTEM_ADMINS)
