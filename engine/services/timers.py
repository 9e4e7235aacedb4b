"""Timers (定时器): handing due timers to workers, and firing them, at most once each.

Timers live in the database (the `timers` projection). The scheduler marks due rows as
dispatched and sends their instance ids to the workers; a worker fires whatever is due in that
instance under the instance lock, so a second delivery finds nothing left to fire. A dispatched
row that is still waiting after the lease (its worker died, Redis lost the message) is
dispatched again: a crash delays a timer, it never loses or doubles it.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm.exc import StaleDataError

from .. import untrusted
from ..db import retrying
from ..errors import NotFound, ProcessError
from ..models import Instance, Timer
from . import process

log = logging.getLogger(__name__)


def dispatch_due(duban, limit: int = 1000) -> list[int]:
    """Mark due timers as dispatched and return their instances (each once)."""
    now = duban.clock.now()
    stale = now - timedelta(seconds=duban.settings.timer_lease_s)
    with duban.db.transaction() as session:
        query = (
            select(Timer.id, Timer.instance_id)
            .join(Instance, Instance.id == Timer.instance_id)
            .where(Timer.state == "waiting", Timer.due_at <= now, Instance.status == "running",
                   (Timer.dispatched_at.is_(None)) | (Timer.dispatched_at < stale))
            .order_by(Timer.due_at)
            .limit(limit)
        )
        if session.bind.dialect.name == "postgresql":
            query = query.with_for_update(of=Timer, skip_locked=True)
        rows = session.execute(query).all()
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
    return sum(fire(duban, instance_id) for instance_id in dispatch_due(duban))
