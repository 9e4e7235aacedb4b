"""Administering running instances (流程实例运维), as Camunda's Cockpit does: suspend and resume,
terminate, retry a failed step (an incident), migrate to a newer version of the process.

Each is one transaction under the instance lock, recorded in the instance's history (and so in
the audit log) with who did it and why.
"""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm.exc import StaleDataError

from ..access import Actor, cleared_instance
from ..db import retrying
from ..domain.roles import SYSTEM_ADMINS
from ..errors import Conflict, Forbidden, InvalidInput, NotFound, ProcessError, StaleInstance
from ..models import Definition, HumanTask, Item, Timer
from ..texts import TEXTS, text
from . import definitions, external_tasks, process
from .instances import get_instance

# Where each action may start from.
ALLOWED_FROM = {
    "suspend": ("running", "error"),
    "resume": ("suspended",),
    "terminate": ("running", "suspended", "error"),
    "retry": ("error",),
    "migrate": ("running", "suspended", "error"),
}


def _check(actor: Actor) -> None:
    if not actor.has(*SYSTEM_ADMINS):
        raise Forbidden(text("operations.forbidden"))


def status_name(status: str) -> str:
    """An instance's status as people read it: 正在运行, 已挂起, 出错待处理, 已结束, 已终止."""
    key = f"operations.status.{status}" if status == "running" else f"task.instance_status.{status}"
    return text(key) if key in TEXTS else status


def _locked(ctx, instance_id: int, action: str):
    instance = _cleared_and_locked(ctx, instance_id)
    if instance.status not in ALLOWED_FROM[action]:
        raise Conflict(text("operations.cannot", status=status_name(instance.status),
                            action=text(f"operations.action.{action}")))
    return instance


def _cleared_and_locked(ctx, instance_id: int):
    # 保密: an instance serving a secret item does not exist for an operator not cleared for it (404).
    cleared_instance(ctx.session, ctx.actor, instance_id)
    return process.lock_instance(ctx, instance_id)


def _reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if len(reason) > 1000:
        raise InvalidInput(text("operations.reason_too_long"),
                           [{"field": "reason", "message": text("field.max_length", limit=1000)}])
    return reason


def suspend(duban, actor: Actor, instance_id: int, reason: str | None = None) -> dict:
    """挂起: no task can be completed and no timer fires until resumed (due timers fire then)."""
    _check(actor)
    with duban.db.transaction() as session:
        ctx = process.context(duban, session, actor)
        instance = _locked(ctx, instance_id, "suspend")
        instance.status, instance.updated_at = "suspended", ctx.now
        process.record(ctx, "suspended", data={"reason": _reason(reason)})
    return get_instance(duban, actor, instance_id)


def resume(duban, actor: Actor, instance_id: int, reason: str | None = None) -> dict:
    """恢复: back to running, or to its incident if it had one."""
    _check(actor)
    with duban.db.transaction() as session:
        ctx = process.context(duban, session, actor)
        instance = _locked(ctx, instance_id, "resume")
        instance.status, instance.updated_at = ("error" if instance.error else "running"), ctx.now
        process.record(ctx, "resumed", data={"reason": _reason(reason)})
    return get_instance(duban, actor, instance_id)


def terminate(duban, actor: Actor, instance_id: int, reason: str | None = None) -> dict:
    """终止: the instance ends where it stands; open tasks and timers are cancelled, its item too."""
    _check(actor)
    reason = _reason(reason)
    if not reason:
        raise InvalidInput(text("operations.reason_required"), [{"field": "reason", "message": text("field.required")}])
    with duban.db.transaction() as session:
        ctx = process.context(duban, session, actor)
        instance = _locked(ctx, instance_id, "terminate")
        instance.status, instance.ended_at, instance.updated_at = "terminated", ctx.now, ctx.now
        session.execute(update(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.state == "open")
                        .values(state="cancelled", completed_at=ctx.now))
        session.execute(update(Timer).where(Timer.instance_id == instance_id, Timer.state == "waiting")
                        .values(state="cancelled"))
        external_tasks.cancel_open(session, instance_id, ctx.now)
        item = session.scalars(select(Item).where(Item.instance_id == instance_id)).one_or_none()
        if item is not None:
            item.status = "terminated"
        process.record(ctx, "terminated", data={"reason": reason})
    return get_instance(duban, actor, instance_id)


def retry(duban, actor: Actor, instance_id: int) -> dict:
    """重试: run the failed step again (after its cause was fixed, e.g. a calendar or data change)."""
    _check(actor)
    try:
        _retry(duban, actor, instance_id)
    except ProcessError as error:
        raise ProcessError(text("operations.failed_again", reason=error.message)) from None
    except StaleDataError:
        raise StaleInstance(text("step.conflict")) from None
    return get_instance(duban, actor, instance_id)


@retrying
def _retry(duban, actor: Actor, instance_id: int) -> None:
    with duban.db.step() as session:
        ctx = process.context(duban, session, actor)
        _locked(ctx, instance_id, "retry")
        run = process.load(ctx)
        run.advance()
        external_tasks.reset_retries(session, instance_id)  # a worker's task out of retries gets one more
        process.record(ctx, "retried")
        process.save(ctx, run)  # clears the incident


def migration_check(duban, actor: Actor, instance_id: int, version: int | None = None) -> dict:
    """Whether the instance can move to `version` (default: the latest), and why not."""
    _check(actor)
    with duban.db.transaction() as session:
        ctx = process.context(duban, session, actor)
        instance = _cleared_and_locked(ctx, instance_id)
        target = _target(session, instance, version)
        problems = duban.runtime.migration_problems(process.load(ctx), target)
        return {"from_version": ctx.definition.version, "to_version": target.version, "problems": problems,
                "compatible": not problems}


def migrate(duban, actor: Actor, instance_id: int, version: int | None = None) -> dict:
    """迁移: the instance continues on another version; its reached elements keep their ids."""
    _check(actor)
    with duban.db.transaction() as session:
        ctx = process.context(duban, session, actor)
        instance = _locked(ctx, instance_id, "migrate")
        target = _target(session, instance, version)
        if target.id == instance.definition_id:
            raise Conflict(text("operations.same_version", version=target.version))
        run = process.load(ctx)
        problems = duban.runtime.migration_problems(run, target)
        if problems:
            raise Conflict(text("operations.incompatible", problems="；".join(problems)),
                           [{"field": None, "message": p} for p in problems])
        old_version = ctx.definition.version
        duban.runtime.migrate(run, target)
        instance.definition_id = target.id
        ctx.definition = definitions.record(duban, session, target.id)
        process.record(ctx, "migrated", data={"from_version": old_version, "to_version": target.version})
        status, error = instance.status, instance.error
        process.save(ctx, run)
        instance.status, instance.error = status, error  # nothing reran: an incident waits for its retry
    return get_instance(duban, actor, instance_id)


def _target(session, instance, version: int | None) -> Definition:
    query = select(Definition).where(Definition.key == instance.definition_key)
    query = query.where(Definition.version == version) if version else query.order_by(Definition.version.desc())
    target = session.scalars(query.limit(1)).one_or_none()
    if target is None:
        raise NotFound(text("deploy.no_definition_version", process=instance.definition_key, version=version))
    return target
