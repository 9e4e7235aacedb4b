"""公示销号 (seed 001 7、): the public board, for anyone, signed in or not.

Seed 001 asks that the units, the persons responsible and handling, and the time limit of every
supervision item be published on a network platform, and that an item be closed off (销号) there
once its completion is reviewed. What is published is decided in engine/access.py
(`items_published`: `public` items from 交办 on); what each row shows is decided here, field by
field: the title, the units with their three persons (from their 签收) and deadlines, the status,
the light, and when it was closed off. Never the content, opinions, reports, instance or task ids,
who registered it, or anything of `internal` and `secret` items (the text filter reads titles only,
so it cannot probe what is not shown either).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import exists, func, select

from ..access import PUBLISHED_STATUSES, items_published
from ..domain.items import LIGHTS, STATUSES
from ..errors import InvalidInput
from ..models import Item, ItemUnit
from ..texts import text
from . import org, views

PER_PAGE = 20
MAX_PER_PAGE = 100
MAX_TEXT = 100
STATUS_CHOICES = {status: STATUSES[status] for status in PUBLISHED_STATUSES}
ROLE_NAMES = {"lead": "牵头", "co": "配合"}


@dataclass(frozen=True)
class PublicFilter:
    """The board's filters: a published status, one of the item's units, words of its title."""

    status: str | None = None
    unit: str | None = None
    text: str | None = None

    @classmethod
    def from_args(cls, args) -> PublicFilter:
        return cls(**{name: (args.get(name) or "").strip() or None for name in ("status", "unit", "text")}).checked()

    def checked(self) -> PublicFilter:
        errors = []
        if self.status and self.status not in STATUS_CHOICES:
            errors.append({"field": "status", "message": text("field.one_of", choices="、".join(STATUS_CHOICES))})
        if self.unit and len(self.unit) > 64:
            errors.append({"field": "unit", "message": text("field.max_length", limit=64)})
        if self.text and len(self.text) > MAX_TEXT:
            errors.append({"field": "text", "message": text("field.max_length", limit=MAX_TEXT)})
        if errors:
            raise InvalidInput(text("filter.invalid", message=errors[0]["message"]), errors)
        return replace(self, text=self.text.replace("\x00", "")) if self.text else self

    def args(self) -> dict:
        return {name: value for name, value in (("status", self.status), ("unit", self.unit), ("text", self.text))
                if value}


def list_published(duban, filters: PublicFilter | None = None, page: int = 1,
                   per_page: int = PER_PAGE) -> tuple[list[dict], int]:
    """One page of the public board (newest first) and how many items match in all."""
    filters = (filters or PublicFilter()).checked()
    page, per_page = max(page, 1), max(1, min(per_page, MAX_PER_PAGE))
    clauses = [items_published()]
    if filters.status:
        clauses.append(Item.status == filters.status)
    if filters.unit:
        clauses.append(exists().where(ItemUnit.item_id == Item.id, ItemUnit.unit_id == filters.unit))
    if filters.text:
        clauses.append(Item.title.contains(filters.text, autoescape=True))
    with duban.db.reading() as session:
        now = duban.clock.now()
        query = select(Item).where(*clauses)
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = session.scalars(query.order_by(Item.id.desc()).offset((page - 1) * per_page).limit(per_page))
        names = org.unit_names(session)
        return [published(views.item(row, duban, now, names)) for row in rows], total


def published(record: dict) -> dict:
    """The publishable fields of a ledger row (views.item), and nothing else."""
    closed = record["status"] == "closed"
    return {
        "id": record["id"], "title": record["title"], "status": record["status"],
        "status_name": "已销号" if closed else record["status_name"], "closed": closed,
        "closed_at": record["closed_at"] if closed else None, "deadline": record["deadline"],
        "light": record["light"], "light_name": LIGHTS[record["light"]],
        "units": [{
            "unit": part["unit"], "unit_name": part["unit_name"], "role": part["role"],
            "role_name": ROLE_NAMES.get(part["role"], part["role"]), "deadline": part["deadline"],
            "first_responsible": part["first_responsible"], "responsible": part["responsible"],
            "handler": part["handler"], "light": part["light"],
        } for part in record["units"]],
    }
