"""发起: which processes a person may start, with the form of their start event, and starting one.

Who may start a process is declared on it (`duban:starterRoles`); a process without the
declaration may be started by the office, designers and administrators, as before. A process that
declares a 督办 item (`duban:item="true"`) registers the item as it starts, so the item shows in the
ledger, lights, dashboard, public board, 考核 and 通报 like any other.
"""
from __future__ import annotations

from sqlalchemy import func, select

from .. import forms as formjs
from ..access import Actor
from ..domain import steps
from ..domain.roles import ADMIN, DESIGNER, OFFICE
from ..errors import Forbidden, NotFound
from ..models import Definition
from ..texts import text
from . import files

DEFAULT_STARTERS = (OFFICE, DESIGNER, ADMIN)


def may_start(actor: Actor, elements: dict) -> bool:
    declared = (elements or {}).get("starter_roles")
    return actor.has(*(DEFAULT_STARTERS if declared is None else declared))


def startable(duban, actor: Actor) -> list[dict]:
    """The latest version of every process the caller may start, with its start form (or None)."""
    with duban.db.reading() as session:
        latest = (select(Definition.key, func.max(Definition.version).label("version"))
                  .group_by(Definition.key).subquery())
        rows = session.scalars(select(Definition).join(latest, (Definition.key == latest.c.key) & (
            Definition.version == latest.c.version)).order_by(Definition.name, Definition.key))
        return [_listing(row) for row in rows if _startable_by(actor, row)]


def may_start_any(duban, actor: Actor) -> bool:
    """Whether the caller may start at least one deployed process (the navigation offers 发起)."""
    with duban.db.reading() as session:
        latest = (select(Definition.key, func.max(Definition.version).label("version"))
                  .group_by(Definition.key).subquery())
        declared = session.scalars(select(Definition.elements).join(latest, (Definition.key == latest.c.key) & (
            Definition.version == latest.c.version)))
        return any(may_start(actor, elements or {}) for elements in declared)


def start_form_of(duban, actor: Actor, key: str) -> dict:
    with duban.db.reading() as session:
        row = _latest(session, key)
        if not _startable_by(actor, row):
            raise Forbidden(text("start.not_startable", process=key))
        return _listing(row)


def _startable_by(actor: Actor, row: Definition) -> bool:
    elements = row.elements or {}
    # A message start waits for its message; nothing else starts it by hand.
    return may_start(actor, elements)


def _listing(row: Definition) -> dict:
    elements = row.elements or {}
    form_key = elements.get("start_form")
    return {"key": row.key, "name": row.name, "version": row.version, "item": steps.registers_item(elements),
            "form_key": form_key, "form": (row.forms or {}).get(form_key) if form_key else None}


def _latest(session, key: str) -> Definition:
    row = session.scalars(select(Definition).where(Definition.key == key)
                          .order_by(Definition.version.desc()).limit(1)).one_or_none()
    if row is None:
        raise NotFound(text("start.no_process", process=key))
    return row


def start(duban, actor: Actor, key: str, data: dict | None) -> dict:
    """Start the latest `key` from the 发起 page, its start form checked: {"instance_id", "item_id"}."""
    from . import instances

    listing = start_form_of(duban, actor, key)
    variables = formjs.validate(listing["form"], data or {})
    evidence = formjs.submitted_files(listing["form"], variables)
    with duban.db.reading() as session:  # 佐证材料: the starter's own uploads, not yet an item's
        for field, ids in evidence.items():
            files.claim(duban, session, actor, field, ids, None)
    instance = instances.start_instance(duban, actor, key, variables)
    if evidence:
        # Held now (kept from the clean-up of abandoned uploads), and joining the item the start registered.
        with duban.db.transaction() as session:
            for field, ids in evidence.items():
                files.claim(duban, session, actor, field, ids, instance.get("item_id"))
    return {"instance_id": instance["id"], "item_id": instance.get("item_id")}
