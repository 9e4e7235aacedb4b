"""The inbox (/tasks) and one task with its form (/tasks/<id>)."""
from __future__ import annotations

from flask import render_template, request

from engine import services
from engine.errors import NotFound
from engine.services import documents as documents_service

from .common import current_actor, duban

SCOPES = {"all": "全部待办", "mine": "我领取的", "unit": "本单位"}


def routes(bp) -> None:
    bp.add_url_rule("/tasks", "inbox", inbox)
    bp.add_url_rule("/tasks/<task_id>", "task", task)


def inbox():
    actor = current_actor()
    scope = request.args.get("scope") if request.args.get("scope") in SCOPES else "all"
    tasks, total = services.list_tasks(duban(), actor, scope=None if scope == "all" else scope, per_page=200)
    template = "_task_rows.html" if request.args.get("fragment") else "tasks.html"
    return render_template(template, tasks=tasks, total=total, scope=scope, scopes=SCOPES)


def task(task_id):
    actor = current_actor()
    detail = services.get_task(duban(), actor, task_id)
    item, history = None, []
    if detail["item_id"]:
        item = services.get_item(duban(), actor, detail["item_id"])
    try:
        history = services.get_instance(duban(), actor, detail["instance_id"])["history"]
    except NotFound:
        history = []  # a unit sees its task without being cleared for the whole instance
    if item:  # 文书 of the item, each with its .docx
        documents = documents_service.list_documents(duban(), actor, item["id"])
    else:  # a process without an item: its notices as text
        documents = [{"kind_name": h["name"], "created_at": h["at"], "text": h["data"]["notice"]}
                     for h in history if (h.get("data") or {}).get("notice")]
    return render_template("task.html", task=detail, item=item, history=history, documents=documents)
