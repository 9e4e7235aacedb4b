"""Driving the main process through the services, as the API does, for integration tests."""
from __future__ import annotations

from engine import services

RECEIVE = {"first_responsible": "局长", "responsible": "科长", "handler": "科员", "committed_date": "2026-10-15"}
REPORT = {"summary": "已按要求办结", "approved_by_deputy": True}


def open_task(duban, actor, element: str, unit: str | None = None, instance_id: int | None = None) -> dict:
    tasks, _ = services.list_tasks(duban, actor, instance_id=instance_id)
    matching = [t for t in tasks if t["element_id"] == element and (unit is None or t["unit"] == unit)]
    assert matching, f"{actor.username} has no open {element}; has {[t['element_id'] for t in tasks]}"
    return matching[0]


def complete(duban, actor, element: str, data: dict, unit: str | None = None, instance_id: int | None = None) -> dict:
    task = open_task(duban, actor, element, unit, instance_id)
    services.complete_task(duban, actor, task["id"], data)
    return task


def register(duban, org, **fields) -> dict:
    return services.register_item(duban, org["office"], {"title": "推进重点项目建设", "content": "按季度推进",
                                                         "source": "decision", **fields})


def through_assignment(duban, org, co_units=("czj",), **fields) -> dict:
    item = register(duban, org, **fields)
    complete(duban, org["office"], "draft_opinion", {"lead_unit": "fgj", "co_units": list(co_units),
                                                     "opinion": "请发改局牵头办理"})
    complete(duban, org["leader"], "leader_approval", {"decision": "approve"})
    complete(duban, org["office"], "assign", {"notice": "交办通知单"})
    return item


def unit_done(duban, org, user: str, unit: str) -> None:
    complete(duban, org[user], "unit_receive", RECEIVE, unit)
    complete(duban, org[user], "unit_report", REPORT, unit)
    complete(duban, org["office"], "office_review", {"decision": "accept"}, unit)
