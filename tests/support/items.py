"""Items for a test: a ledger row written straight to the database, or an item driven through its steps."""
from __future__ import annotations

from datetime import timedelta

from engine import services
from engine.models import Item, ItemUnit
from tests.integration.flow import RECEIVE, REPORT, complete

# What the office writes inside an item, never to be published (公示).
CONTENT = "内部研判意见不宜公开"


def add_item(duban, title="事项", status="in_progress", deadline=None, parts=(), created_at=None, **fields) -> int:
    """An item written straight to the database (the ledger reads rows, not workflows).

    parts: (unit_id, {ItemUnit fields}) pairs; the first is the lead unit.
    """
    now = duban.clock.now()
    values = {"content": "", "source": "decision", "category": "normal", "classification": "internal",
              "created_by": "office", **fields}
    with duban.db.transaction() as session:
        item = Item(title=title, status=status, deadline=deadline or now + timedelta(days=30),
                    created_at=created_at or now, lead_unit_id=parts[0][0] if parts else None, **values)
        for index, (unit_id, extra) in enumerate(parts):
            item.units.append(ItemUnit(unit_id=unit_id, role="lead" if index == 0 else "co",
                                       **{"deadline": item.deadline, **extra}))
        session.add(item)
        session.flush()
        return item.id


def assign(duban, org, title, classification="public", designees=()):
    item = services.register_item(duban, org["office"], {"title": title, "content": CONTENT,
                                                         "classification": classification,
                                                         "designees": list(designees)})
    run = item["instance_id"]
    complete(duban, org["office"], "draft_opinion", {"lead_unit": "fgj", "co_units": ["czj"], "opinion": "拟办意见甲"},
             instance_id=run)
    complete(duban, org["leader"], "leader_approval", {"decision": "approve"}, instance_id=run)
    complete(duban, org["office"], "assign", {"notice": f"{title}的交办通知单"}, instance_id=run)
    return item


def close(duban, org, item):
    run = item["instance_id"]
    for user, unit in (("unit_a", "fgj"), ("unit_b", "czj")):
        complete(duban, org[user], "unit_receive", RECEIVE, unit, instance_id=run)
        complete(duban, org[user], "unit_report", REPORT, unit, instance_id=run)
        complete(duban, org["office"], "office_review", {"decision": "accept"}, unit, instance_id=run)
    complete(duban, org["office"], "feedback", {"summary": "已反馈领导"}, instance_id=run)
