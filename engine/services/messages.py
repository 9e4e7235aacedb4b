"""Messages (消息): start processes that wait for one, or deliver one to a waiting instance."""
from __future__ import annotations

from sqlalchemy import select

from .. import forms as formjs
from ..access import Actor, cleared_instance
from ..db import retrying
from ..domain.roles import ADMIN, DESIGNER, OFFICE
from ..errors import Conflict, Forbidden, NotFound, ProcessError
from ..models import Definition
from ..texts import TEXTS, text
from . import process

SENDERS = (DESIGNER, ADMIN, OFFICE)


def send_message(duban, actor: Actor, name: str, data: dict | None = None,
                 instance_id: int | None = None) -> list[int]:
    """Deliver `name` to one instance, or start every process whose start event waits for it."""
    if not actor.has(*SENDERS):
        raise Forbidden(text("messages.forbidden"))
    payload = formjs.validate(None, data or {})
    if instance_id is not None:
        _deliver(duban, actor, instance_id, name, payload)
        return [instance_id]
    started = _start_on(duban, actor, name, payload)
    if not started:
        raise NotFound(text("messages.no_process", name=name))
    return started


@retrying
def _start_on(duban, actor, name, payload) -> list[int]:
    with duban.db.step() as session:
        started = []
        for definition in _starting_on(session, name):
            ctx = process.context(duban, session, actor)
            started.append(process.start(ctx, definition, {}, message=(name, payload)).id)
        return started


def _starting_on(session, name: str) -> list[Definition]:
    latest = {}
    for definition in session.scalars(select(Definition).order_by(Definition.key, Definition.version)):
        latest[definition.key] = definition
    return [d for d in latest.values() if name in d.elements.get("message_starts", [])]


@retrying
def _deliver(duban, actor, instance_id, name, payload) -> None:
    with duban.db.step() as session:
        # 保密 before anything else: an instance serving a secret item answers as a missing one (404),
        # never with its state (409).
        cleared_instance(session, actor, instance_id)
        ctx = process.context(duban, session, actor)
        instance = process.lock_instance(ctx, instance_id)
        if instance.status != "running":
            raise Conflict(text("messages.instance_state", id=instance_id, status=_status(instance.status)))
        run = process.load(ctx)
        _send(run, name, payload)
        process.record(ctx, "message", name=name, data=payload)
        process.save(ctx, run)


def _send(run, name, payload) -> None:
    try:
        run.send_message(name, payload)
    except ProcessError as error:
        if name not in run.waiting_messages():
            raise Conflict(str(error)) from None
        raise


def _status(status: str) -> str:
    """An instance's status as people read it (已挂起, 已结束...)."""
    return text(f"task.instance_status.{status}") if f"task.instance_status.{status}" in TEXTS else status
