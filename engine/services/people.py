"""Finding people by name and unit (人员选择), for choosing a secret item's 知悉范围 by name."""
from __future__ import annotations

from sqlalchemy import or_, select

from ..access import Actor, may_find_people
from ..errors import Forbidden
from ..models import Unit, User
from ..texts import text


def find_people(duban, actor: Actor, query: str = "", limit: int = 20) -> list[dict]:
    """Active accounts whose name, username or unit name holds `query`, by unit then name."""
    if not may_find_people(actor):
        raise Forbidden(text("users.search_forbidden"))
    query = (query or "").strip()
    statement = (select(User.username, User.display_name, User.unit_id, Unit.name.label("unit_name"))
                 .outerjoin(Unit, Unit.id == User.unit_id).where(User.active.is_(True)))
    for word in query.split()[:3]:  # "财政局 刘": every word somewhere
        statement = statement.where(or_(User.display_name.contains(word, autoescape=True),
                                        User.username.contains(word, autoescape=True),
                                        Unit.name.contains(word, autoescape=True)))
    statement = statement.order_by(Unit.sort, User.display_name, User.username).limit(limit)
    with duban.db.reading() as session:
        return [{"username": row.username, "name": row.display_name or row.username, "unit": row.unit_id,
                 "unit_name": row.unit_name} for row in session.execute(statement)]
