"""撤销: the office withdraws its own mistaken item, saying why.

Unlike 终止 (an administrator's operation on any instance), this is the office's own act on an item it
registered: in one transaction under the instance lock its instance ends, the open tasks and waiting
timers of the item (its 延期申请 included) are cancelled, pending 延期申请 are withdrawn, and the item
keeps its status 已撤销 with the reason, who and when, in its history and the audit log.
"""
from __future__ import annotations

from sqlalchemy import select, update

from ..access import Actor, may_withdraw, visible_item
from ..domain.items import ENDED_STATUSES, STATUSES
from ..domain.roles import OFFICE
from ..errors import Conflict, Forbidden, InvalidInput
from ..models import Extension, HumanTask, Instance, Timer, User
from ..texts import text
from . import notifications, process
from .items import get_item

MAX_REASON = 1000


def may_withdraw_item(duban, actor: Actor, item: dict) -> bool:
    """Whether the item page offers this person 撤销 (an item as get_item shows it)."""
    if not actor.has(OFFICE) or item["status"] in ENDED_STATUSES:
        return False
    with duban.db.reading() as session:
        registrant = session.scalars(select(User).where(User.username == item["created_by"])).one_or_none()
        return may_withdraw(actor, registrant.roles if registrant else ())


def withdraw_item(duban, actor: Actor, item_id: int, reason: str | None) -> dict:
    """The item as it is after its withdrawal (status `withdrawn`)."""
    reason = (reason or "").strip()
    with duban.db.transaction() as session:
        item = visible_item(session, actor, item_id)  # 保密 first: 404 for whoever may not know of it
        if not actor.has(OFFICE):
            raise Forbidden(text("withdraw.forbidden"))
        registrant = session.scalars(select(User).where(User.username == item.created_by)).one_or_none()
        if not may_withdraw(actor, registrant.roles if registrant else ()):
            raise Forbidden(text("withdraw.not_own", by=registrant.display_name if registrant else item.created_by))
        if item.status in ENDED_STATUSES:
            raise Conflict(text("withdraw.ended", status=STATUSES[item.status]))
        if not reason or len(reason) > MAX_REASON:
            message = text("withdraw.reason_required") if not reason else text("field.max_length", limit=MAX_REASON)
            raise InvalidInput(message, [{"field": "reason", "message": message}])
        ctx = process.context(duban, session, actor)
        ctx.item = item
        process.lock_instance(ctx, item.instance_id)
        served = [item.instance_id, *session.scalars(select(Extension.instance_id).where(
            Extension.item_id == item.id, Extension.status == "pending", Extension.instance_id.is_not(None)))]
        open_tasks = list(session.scalars(select(HumanTask).where(HumanTask.instance_id.in_(served),
                                                                  HumanTask.state == "open")))
        for task in open_tasks:
            task.state, task.completed_at = "cancelled", ctx.now
        session.execute(update(Timer).where(Timer.instance_id.in_(served), Timer.state == "waiting")
                        .values(state="cancelled"))
        for instance in session.scalars(select(Instance).where(Instance.id.in_(served))):
            if instance.status not in ("completed", "terminated"):
                instance.status, instance.ended_at, instance.updated_at = "terminated", ctx.now, ctx.now
        session.execute(update(Extension).where(Extension.item_id == item.id, Extension.status == "pending")
                        .values(status="withdrawn", decided_by=actor.username, decided_at=ctx.now,
                                comment=reason))
        item.status, item.withdrawn_reason, item.withdrawn_by, item.withdrawn_at = "withdrawn", reason, \
            actor.username, ctx.now
        process.record(ctx, "withdrawn", data={"reason": reason})
        # Whoever had work on it hears why it went away.
        notifications.notify(ctx, [person for task in open_tasks for person in notifications.candidates(session, task)],
                             "withdrawn", text("withdraw.notice", title=item.title),
                             text("withdraw.notice_body", reason=reason))
    return get_item(duban, actor, item_id)
