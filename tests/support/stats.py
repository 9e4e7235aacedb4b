"""The dashboard's situations: several items open at once, each step taken on the item named."""
from __future__ import annotations

from datetime import datetime

from engine import services
from engine.clock import CHINA
from engine.services import timers
from tests.integration.flow import RECEIVE, REPORT, register


def act(duban, actor, item, element, data, unit=None):
    """Complete the open `element` task of this item's instance (several items are open at once)."""
    tasks, _ = services.list_tasks(duban, actor, instance_id=item["instance_id"])
    matching = [t for t in tasks if t["element_id"] == element and (unit is None or t["unit"] == unit)]
    assert matching, f"{actor.username} has no {element} in item {item['id']}: {[t['element_id'] for t in tasks]}"
    services.complete_task(duban, actor, matching[0]["id"], data)


def assigned(duban, org, title, lead, co=()):
    item = register(duban, org, title=title)
    act(duban, org["office"], item, "draft_opinion", {"lead_unit": lead, "co_units": list(co), "opinion": "请办理"})
    act(duban, org["leader"], item, "leader_approval", {"decision": "approve"})
    act(duban, org["office"], item, "assign", {"notice": "交办通知单"})
    return item


def done(duban, org, item, user, unit):
    act(duban, org[user], item, "unit_receive", RECEIVE, unit)
    act(duban, org[user], item, "unit_report", REPORT, unit)
    act(duban, org["office"], item, "office_review", {"decision": "accept"}, unit)


def move(duban, *when):
    duban.clock.set(datetime(*when, tzinfo=CHINA))
    return timers.fire_all_due(duban)
