"""Supervision items (督办事项): 立项 and the ledger (台账)."""
from __future__ import annotations

from sqlalchemy import func, or_, select

from ..access import Actor, can_see_item, items_visible
from ..domain.items import CATEGORIES, CLASSIFICATIONS, SOURCES, deadline_for
from ..domain.main_process import KEY as MAIN_KEY
from ..domain.roles import ADMIN, OFFICE
from ..errors import Forbidden, InvalidInput, NotFound
from ..models import Item, Unit
from . import process, views
from .instances import latest_definition

MAX_TITLE = 500
MAX_CONTENT = 20_000


def register_item(duban, actor: Actor, fields: dict) -> dict:
    """立项: create the item and start the main process for it, in one transaction."""
    if not actor.has(OFFICE, ADMIN):
        raise Forbidden("only the supervision office registers items")
    values = _checked(fields)
    with duban.db.transaction() as session:
        ctx = process.context(duban, session, actor)
        try:
            deadline = deadline_for(duban.calendar, values["category"], ctx.now, values.get("deadline"))
        except ValueError:
            raise InvalidInput("deadline must be an ISO 8601 date or datetime",
                               [{"field": "deadline", "message": "must be an ISO 8601 date or datetime"}]) from None
        if deadline.at <= ctx.now:
            raise InvalidInput("the deadline has already passed", [{"field": "deadline", "message": "in the past"}])
        item = Item(
            title=values["title"], content=values["content"], source=values["source"],
            category=values["category"], classification=values["classification"], deadline=deadline.at,
            deadline_explicit=bool(values.get("deadline")), deadline_provisional=deadline.provisional, status="drafting", created_by=actor.username,
            created_at=ctx.now,
        )
        session.add(item)
        session.flush()
        ctx.item = item
        data = {
            "item_id": item.id, "title": item.title, "content": item.content, "source": item.source,
            "category": item.category, "classification": item.classification,
            "deadline": item.deadline.isoformat(),
        }
        process.start(ctx, latest_definition(session, MAIN_KEY), data)
        item_id = item.id
    return get_item(duban, actor, item_id)


def _checked(fields: dict) -> dict:
    errors = []
    title = (fields.get("title") or "").strip()
    if not title:
        errors.append({"field": "title", "message": "required"})
    elif len(title) > MAX_TITLE:
        errors.append({"field": "title", "message": f"at most {MAX_TITLE} characters"})
    content = fields.get("content") or ""
    if len(content) > MAX_CONTENT:
        errors.append({"field": "content", "message": f"at most {MAX_CONTENT} characters"})
    values = {"title": title, "content": content, "deadline": fields.get("deadline")}
    for name, allowed, default in (("source", SOURCES, "other"), ("category", CATEGORIES, "normal"),
                                   ("classification", CLASSIFICATIONS, "internal")):
        value = fields.get(name) or default
        if value not in allowed:
            errors.append({"field": name, "message": f"one of {', '.join(allowed)}"})
        values[name] = value
    if errors:
        raise InvalidInput(f"{errors[0]['field']}: {errors[0]['message']}", errors)
    return values


def get_item(duban, actor: Actor, item_id: int) -> dict:
    with duban.db.reading() as session:
        item = session.get(Item, item_id)
        if item is None or not can_see_item(actor, item):
            raise NotFound(f"item {item_id} not found")
        return views.item(item, duban, duban.clock.now(), _unit_names(session))


def list_items(duban, actor: Actor, status=None, unit=None, source=None, category=None, text=None,
               page: int = 1, per_page: int = 50) -> tuple[list[dict], int]:
    with duban.db.reading() as session:
        query = select(Item).where(items_visible(actor))
        if status:
            query = query.where(Item.status == status)
        if source:
            query = query.where(Item.source == source)
        if category:
            query = query.where(Item.category == category)
        if unit:
            query = query.where(Item.units.any(unit_id=unit))
        if text:
            pattern = f"%{text}%"
            query = query.where(or_(Item.title.like(pattern), Item.content.like(pattern)))
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = session.scalars(query.order_by(Item.id.desc()).offset((page - 1) * per_page).limit(per_page))
        now, names = duban.clock.now(), _unit_names(session)
        return [views.item(row, duban, now, names) for row in rows], total


def _unit_names(session) -> dict:
    return dict(session.execute(select(Unit.id, Unit.name)).all())
