"""Monitoring (流程监控): /instances, and one instance with its diagram, timers, history and data."""
from __future__ import annotations

from flask import render_template, request

from engine import services
from engine.services import SYSTEM_ADMINS, latest_version

from .common import current_actor, duban, page_number

STATUSES = {"running": "运行中", "suspended": "已挂起", "error": "故障", "completed": "已完成", "terminated": "已终止"}


def routes(bp) -> None:
    bp.add_url_rule("/instances", "instances", instances)
    bp.add_url_rule("/instances/<int:instance_id>", "instance", instance)


def instances():
    actor = current_actor()
    status = request.args.get("status") if request.args.get("status") in STATUSES else None
    key = request.args.get("definition_key") or None
    overdue = request.args.get("overdue") == "1"
    page = page_number()
    rows, total = services.list_instances(duban(), actor, status, key, overdue, page, 50)
    return render_template("instances.html", instances=rows, total=total, page=page, statuses=STATUSES,
                           filters={"status": status, "definition_key": key, "overdue": overdue})


def instance(instance_id):
    actor = current_actor()
    detail = services.get_instance(duban(), actor, instance_id)
    xml = services.definition_xml(duban(), detail["definition_key"], detail["version"])
    latest = latest_version(duban(), detail["definition_key"])
    return render_template("instance.html", instance=detail, xml=xml, statuses=STATUSES, latest=latest,
                           can_operate=actor.has(*SYSTEM_ADMINS),
                           highlight={"passed": detail["trail"], "current": [t["element_id"] for t in detail["tasks"]],
                                      "waiting": [t["element_id"] for t in detail["timers"]]})
