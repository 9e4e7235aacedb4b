"""督查督办通知单 (督办单): one item on one printable page, laid out like the office's paper form.

Filled from the item and what its steps submitted (the history, which is append-only): the leader's
批示 from 领导审批, the office's 拟办意见, and the 交办通知单 as 办理要求 with its number when one was
sent. Which element is which step comes from the instance's own definition, never from element ids.
"""
from __future__ import annotations

from sqlalchemy import select

from ..access import Actor, visible_item
from ..clock import CHINA
from ..domain import steps
from ..domain.items import DROPPED_STATUSES, SOURCES, STATUSES
from ..errors import Conflict
from ..models import Definition, HistoryEntry, Instance
from ..texts import text
from . import documents, org


def supervision_sheet(duban, actor: Actor, item_id: int) -> dict:
    """What the 督办单 of an item says; NotFound for whoever may not see the item (保密 included), Conflict
    for an item refused, withdrawn or terminated (nothing is being supervised)."""
    with duban.db.reading() as session:
        item = visible_item(session, actor, item_id)
        if item.status in DROPPED_STATUSES:
            raise Conflict(text("print.item_dropped", status=STATUSES[item.status]))
        names = org.unit_names(session)
        latest = _latest_submissions(session, item.instance_id)
        assign = latest.get("assign")
        notice = documents.describe(session, item, assign) if _field(assign, "notice") else None
        issued = assign.at if assign is not None else duban.clock.now()
        return {
            "item_id": item.id, "office": documents.office_name(session),
            # the 交办通知单's number once one was sent; before that one of the item's own
            "number": notice["number"] if notice else text(
                "print.number", year=item.created_at.astimezone(CHINA).year, id=item.id),
            "title": item.title, "content": item.content or "", "source": SOURCES.get(item.source, item.source),
            "instruction": _field(latest.get("approve"), "comment"), "opinion": _field(latest.get("draft"), "opinion"),
            "lead_units": [names.get(p.unit_id, p.unit_id) for p in item.units if p.role == "lead"],
            "co_units": [names.get(p.unit_id, p.unit_id) for p in item.units if p.role != "lead"],
            "deadline": item.deadline, "date": documents.chinese_date(issued),
            "requirements": documents._body(notice["text"], notice["kind_name"]) if notice
            else text("print.requirements"),
        }


def _latest_submissions(session, instance_id: int | None) -> dict:
    """{step kind: the newest `completed` history row of that kind} for 拟办, 领导审批 and 交办."""
    if instance_id is None:
        return {}
    elements = session.scalar(select(Definition.elements).join(Instance, Instance.definition_id == Definition.id)
                              .where(Instance.id == instance_id))
    kinds = {element: kind for element, kind in steps.declared(elements or {}).items()
             if kind in ("draft", "approve", "assign")}
    if not kinds:
        return {}
    rows = session.scalars(select(HistoryEntry).where(
        HistoryEntry.instance_id == instance_id, HistoryEntry.action == "completed",
        HistoryEntry.element_id.in_(kinds)).order_by(HistoryEntry.id))
    return {kinds[row.element_id]: row for row in rows}  # later rows replace earlier (a 退回 and a redo)


def _field(entry: HistoryEntry | None, key: str) -> str:
    value = (entry.data or {}).get(key) if entry is not None else None
    return str(value).strip() if value else ""
