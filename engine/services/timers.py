"""Timers (定时器): handing due timers to workers, and firing them, at most once each.

Timers live in the database (the `timers` projection). The scheduler marks due rows as
dispatched and sends their instance ids to the workers, several in a message; a worker fires
whatever is due in those instances under their instance locks, so a second delivery finds nothing
left to fire. A dispatched row that is still waiting after the lease (its worker died, Redis lost
the message) is dispatched again: a crash delays a timer, it never loses or doubles it.

On PostgreSQL a worker fires a message's instances in one transaction (`fire_many`): one commit,
one turn of the audit chain's lock and one flush for all of them. Should one of them fail (an
incident, a conflict), nothing of that transaction stays and each is fired again in one of its own.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import undefer
from sqlalchemy.orm.exc import StaleDataError

from .. import untrusted
from ..access import served_item_id
from ..db import on_postgres, retrying
from ..errors import NotFound, ProcessError
from ..models import HumanTask, Instance, Item, Timer
from . import definitions, process

log = logging.getLogger(__name__)


# Instances fired in one transaction, at most (a message of the scheduler's carries this many).
BATCH = 20


def dispatch_due(duban, limit: int = 1000) -> list[int]:
    """Mark due timers as dispatched and return their instances (each once)."""
    now = duban.clock.now()
    stale = now - timedelta(seconds=duban.settings.timer_lease_s)
    with duban.db.transaction() as session:
        due = (
            select(Timer.id, Timer.instance_id)
            .join(Instance, Instance.id == Timer.instance_id)
            .where(Timer.state == "waiting", Timer.due_at <= now, Instance.status == "running",
                   (Timer.dispatched_at.is_(None)) | (Timer.dispatched_at < stale))
            .order_by(Timer.due_at)
            .limit(limit)
        )
        if on_postgres(session):
            # One statement claims them; rows another scheduler is claiming are skipped, not waited for.
            claiming = due.with_only_columns(Timer.id).with_for_update(of=Timer, skip_locked=True)
            rows = session.execute(update(Timer).where(Timer.id.in_(claiming.scalar_subquery()))
                                   .values(dispatched_at=now).returning(Timer.instance_id, Timer.due_at)).all()
            rows.sort(key=lambda row: row.due_at)
        else:
            rows = session.execute(due).all()
            if rows:
                session.execute(update(Timer).where(Timer.id.in_([r.id for r in rows])).values(dispatched_at=now))
    return list(dict.fromkeys(r.instance_id for r in rows))


def fire(duban, instance_id: int) -> int:
    """Fire every due timer of one instance; returns how many fired (0 on a repeated delivery)."""
    try:
        return _fire(duban, instance_id)
    except ProcessError as error:
        record_incident(duban, instance_id, str(error))
        return 0
    except StaleDataError:
        # Another worker changed the instance first; whatever is still due is dispatched again.
        return 0


@retrying
def _fire(duban, instance_id: int) -> int:
    with duban.db.step() as session:
        ctx = process.context(duban, session)
        try:
            instance = process.lock_instance(ctx, instance_id)
        except NotFound:
            return 0
        if instance.status != "running":
            return 0
        run = process.load(ctx)
        run.advance()
        if not run.log.fired_timers and not run.log.passed:
            return 0
        process.save(ctx, run)
        return len(run.log.fired_timers)


def fire_many(duban, instance_ids) -> int:
    """Fire every due timer of several instances; returns how many fired (0 for repeated deliveries).

    On PostgreSQL in one transaction, each instance under its row lock as `fire` takes it. An instance
    another transaction holds (a person completing its task, another worker) is fired afterwards in a
    transaction of its own, waiting for its lock as `fire` does. Any failure undoes the whole batch,
    and then each instance is fired alone: an incident is recorded for one that cannot run, and one
    that fails otherwise holds up none of the others (its error is raised once they are done)."""
    ids = list(dict.fromkeys(instance_ids))
    if len(ids) == 1 or duban.db.dialect != "postgresql":
        return _fire_each(duban, ids)
    try:
        fired, busy = _fire_batch(duban, ids)
    except Exception as error:  # noqa: BLE001 - nothing of the batch stayed: each one again, alone
        log.info("timers of %s instances fired one by one: %s", len(ids), type(error).__name__)
        return _fire_each(duban, ids)
    return fired + _fire_each(duban, busy)


def _fire_each(duban, ids: list[int]) -> int:
    fired, failure = 0, None
    for instance_id in ids:
        try:
            fired += fire(duban, instance_id)
        except Exception as error:  # raised below, after the others
            log.exception("instance %s: timers not fired", instance_id)
            failure = failure or error
    if failure is not None:
        raise failure  # the message is delivered again; what fired meanwhile fires nothing then
    return fired


def _fire_batch(duban, ids: list[int]) -> tuple[int, list[int]]:
    """Fire in one transaction the instances of `ids` no one else holds; (timers fired, the held ones)."""
    with duban.db.step() as session:
        now = duban.clock.now()
        due = (select(Timer.id).where(Timer.instance_id == Instance.id, Timer.state == "waiting",
                                      Timer.due_at <= now).exists())
        # As process.lock_instance, for the lot in one statement: each instance, the item it serves
        # (access.instance_item's rule, which Hooks.item_of applies) and whether anything is due (a
        # repeated delivery then costs no step). SKIP LOCKED: no waiting while holding the others'
        # locks, so two workers never deadlock.
        rows = session.execute(
            select(Instance, Item, due.label("due"), Instance.status)
            .outerjoin(Item, Item.id == served_item_id(Instance.id))
            .where(Instance.id.in_(ids))
            .order_by(Instance.id)
            .options(undefer(Instance.state))
            .with_for_update(of=Instance, skip_locked=True)
            .execution_options(populate_existing=True)
        ).all()
        locked = {instance.id for instance, *_ in rows}
        rows = [(instance, item) for instance, item, is_due, status in rows if status == "running" and is_due]
        # Their open tasks and waiting timers in two more queries (read under the locks), as
        # process.lock_task gives a step its tasks: not one query per instance when projecting.
        open_tasks = {instance.id: {} for instance, _ in rows}
        waiting = {instance.id: {} for instance, _ in rows}
        if rows:
            for found, model, state in ((open_tasks, HumanTask, "open"), (waiting, Timer, "waiting")):
                for row in session.scalars(select(model).where(model.instance_id.in_(list(found)), model.state == state)
                                           .execution_options(populate_existing=True)):
                    found[row.instance_id][row.id] = row
        fired = 0
        for instance, item in rows:
            ctx = process.context(duban, session)
            ctx.instance, ctx.definition = instance, definitions.record(duban, session, instance.definition_id)
            ctx.item, ctx.open_tasks, ctx.waiting_timers = item, open_tasks[instance.id], waiting[instance.id]
            run = process.load(ctx)
            run.advance()
            if not run.log.fired_timers and not run.log.passed:
                continue
            process.save(ctx, run)
            fired += len(run.log.fired_timers)
    return fired, [instance_id for instance_id in ids if instance_id not in locked]


def record_incident(duban, instance_id: int, message: str) -> None:
    """A step that cannot run puts the instance in error (an incident) until someone retries it."""
    message = untrusted.cap(message)  # a script's exception text may be megabytes; every list shows it
    log.warning("instance %s: %s", instance_id, message)
    with duban.db.transaction() as session:
        ctx = process.context(duban, session)
        instance = process.lock_instance(ctx, instance_id)
        instance.status, instance.error, instance.updated_at = "error", message, ctx.now
        process.record(ctx, "incident", data={"error": message})


def fire_all_due(duban) -> int:
    """Dispatch and fire in this process (tests, the CLI); returns timers fired."""
    due = dispatch_due(duban)
    return sum(fire_many(duban, due[start:start + BATCH]) for start in range(0, len(due), BATCH))
