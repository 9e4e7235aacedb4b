"""Process instances (流程实例): start any deployed process, look at one, list them."""
from __future__ import annotations

from sqlalchemy import exists, func, select

from .. import forms as formjs
from ..access import Actor, instances_monitored, served_item_id, visible_instance
from ..db import retrying
from ..errors import InvalidInput, NotFound
from ..models import Definition, ExternalTask, HistoryEntry, HumanTask, Instance, Timer
from ..texts import text
from . import definitions, dossier, org, process, views


def latest_definition(session, key: str) -> Definition:
    definition = session.scalars(
        select(Definition).where(Definition.key == key).order_by(Definition.version.desc()).limit(1)
    ).one_or_none()
    if definition is None:
        raise NotFound(text("deploy.no_definition", process=key))
    return definition


def start_instance(duban, actor: Actor, key: str, data: dict | None) -> dict:
    """Start the latest version of any deployed process with the given variables. One that declares a
    督办 item (duban:item) registers it from its start form's data (engine/services/starting.py)."""
    from . import items, starting  # they use latest_definition from here

    listing = starting.start_form_of(duban, actor, key)  # who may start it is declared on it
    if listing["item"]:
        if not listing["form"]:
            raise InvalidInput(text("start.item_process", process=key))
        variables = formjs.validate(listing["form"], data or {})
        item = items.register_started(duban, actor, key, variables, variables)
        return get_instance(duban, actor, item["instance_id"])
    variables = formjs.validate(None, data or {})
    return get_instance(duban, actor, _start(duban, actor, key, variables))


@retrying
def _start(duban, actor: Actor, key: str, variables: dict) -> int:
    with duban.db.step() as session:
        ctx = process.context(duban, session, actor)
        return process.start(ctx, latest_definition(session, key), variables).id


def get_instance(duban, actor: Actor, instance_id: int) -> dict:
    with duban.db.reading() as session:
        instance = visible_instance(session, actor, instance_id)
        names = org.unit_names(session)
        definition = definitions.record(duban, session, instance.definition_id)
        result = views.instance(instance, definition, session.scalar(select(served_item_id(instance_id))))
        result["data"] = instance.data
        result["trail"] = instance.trail
        who = dossier.names(session)
        result["started_by_name"] = who.person(instance.started_by) if instance.started_by else None
        result["tasks"] = [views.task(t, names, who.users) for t in session.scalars(
            select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.state == "open")
            .order_by(HumanTask.created_at))]
        result["timers"] = [views.timer(t) for t in session.scalars(
            select(Timer).where(Timer.instance_id == instance_id, Timer.state == "waiting")
            .order_by(Timer.due_at))]
        result["external_tasks"] = [_external_view(t) for t in session.scalars(
            select(ExternalTask).where(ExternalTask.instance_id == instance_id, ExternalTask.state == "open")
            .order_by(ExternalTask.created_at))]
        result["history"] = [dossier.history_view(actor, views.history(h), who) for h in session.scalars(
            select(HistoryEntry).where(HistoryEntry.instance_id == instance_id).order_by(HistoryEntry.id))]
        return result


def _external_view(task: ExternalTask) -> dict:
    """An open external task as the monitor shows it: its topic, who holds it until when, what failed."""
    return {"id": task.id, "element_id": task.element_id, "name": task.name, "topic": task.topic,
            "worker_id": task.worker_id, "lock_expires_at": task.lock_expires_at, "retries": task.retries,
            "error_message": task.error_message}


def list_instances(duban, actor: Actor, status=None, definition_key=None, overdue=False,
                   page: int = 1, per_page: int = 50) -> tuple[list[dict], int]:
    with duban.db.reading() as session:
        # Incidents (status=error) and their messages too: an instance serving a secret item is in no
        # list or total of someone not cleared for it.
        query = select(Instance, served_item_id(Instance.id).label("item_id")).where(instances_monitored(actor))
        if status:
            query = query.where(Instance.status == status)
        if definition_key:
            query = query.where(Instance.definition_key == definition_key)
        if overdue:
            query = query.where(Instance.status == "running", exists(select(HumanTask.id).where(
                HumanTask.instance_id == Instance.id, HumanTask.state == "open",
                HumanTask.due_at < duban.clock.now())))
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = session.execute(query.order_by(Instance.id.desc()).offset((page - 1) * per_page).limit(per_page))
        return [views.instance(instance, definitions.record(duban, session, instance.definition_id), item_id)
                for instance, item_id in rows], total
