"""Notifications (站内通知 and e-mail) for the people a step concerns.

Rows are written in the same transaction as the step that caused them. E-mail goes out later:
the scheduler hands pending rows to a worker, which sends them over SMTP; a row a worker took
but did not send within the lease is handed out again.
"""
from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from functools import cache, partial
from typing import NamedTuple

from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    case,
    event,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from ..access import SECRET, Actor, items_visible, notifications_cleared, user_cleared
from ..db import on_postgres
from ..domain.roles import SYSTEM_ADMINS, UNIT
from ..errors import NotFound
from ..models import Item, Notification, User, UserRole
from ..texts import TEXTS, text
from . import audit

log = logging.getLogger(__name__)
MAX_MAIL_ATTEMPTS = 5


@dataclass(frozen=True)
class Recipient:
    """Whom a notification goes to: what sending it needs, not a whole account."""

    id: int
    email: str | None
    roles: frozenset


def people(session, role: str, unit_id: str | None = None) -> list[Recipient]:
    """Active users with a role (and, for handling units, of one unit). Read once per transaction: a
    batch of timer firings asks for the office and each late unit's people at every instance."""
    key = (role, unit_id if role == UNIT else None)
    known = session.info.setdefault(_PEOPLE, {})
    if key not in known:
        known[key] = _people(session, role, unit_id)
    return list(known[key])


def _people(session, role: str, unit_id: str | None) -> list[Recipient]:
    holders = select(UserRole.user_id).where(UserRole.role == role)
    query = select(User.id, User.email, UserRole.role).join(UserRole).where(User.id.in_(holders), User.active.is_(True))
    if role == UNIT:
        query = query.where(User.unit_id == unit_id)
    return _recipients(session.execute(query.order_by(User.id)))


def _recipients(rows) -> list[Recipient]:
    """(id, email, role) rows, one per role held, folded into one recipient per user."""
    found: dict[int, tuple] = {}
    for user_id, email, role in rows:
        roles = found.setdefault(user_id, (email, set()))[1]
        if role is not None:  # an assignee without roles (outer join)
            roles.add(role)
    return [Recipient(user_id, email, frozenset(roles)) for user_id, (email, roles) in found.items()]


# Who holds a role (and unit), as read in the session's current transaction.
_PEOPLE = "duban_people"
# Notifications a transaction sends are queued in its session and inserted when it commits: rows in one
# executemany, and those for a task's candidates as INSERT ... SELECT (who holds the role is not read first).
_PENDING = "duban_notifications"
_PENDING_SELECTS = "duban_notification_selects"
_TABLE = Notification.__table__
_COLUMNS = ("user_id", "at", "kind", "title", "body", "item_id", "instance_id", "task_id", "mail_state",
            "mail_attempts")
_INSERT = insert(_TABLE)  # built once, as history's


def notify(ctx, users, kind: str, title: str, body: str = "", task_id: str | None = None) -> None:
    """One notification per distinct user, tied to the item and instance of the operation."""
    mail = bool(ctx.duban.settings.smtp_host)
    seen = set()
    rows = ctx.session.info.setdefault(_PENDING, [])
    for user in users:
        if user.id in seen or not user_cleared(user.id, user.roles, ctx.item):
            continue  # 保密: nobody hears of a secret item they are not designated for
        seen.add(user.id)
        rows.append({
            "user_id": user.id, "at": ctx.now, "kind": kind, "title": title[:500], "body": body,
            "item_id": ctx.item.id if ctx.item else None, "instance_id": ctx.instance.id if ctx.instance else None,
            "task_id": task_id, "mail_state": "pending" if mail and user.email else "none", "mail_attempts": 0,
        })


def notify_candidates(ctx, task, kind: str, title: str, body: str = "", task_id: str | None = None) -> None:
    """notify(ctx, candidates(session, task), ...), written at commit as one INSERT ... SELECT over the
    users: the same people (the task's role and unit, or its assignee; 保密 as user_cleared), without
    reading them first."""
    item = ctx.item
    secret = item is not None and item.classification == SECRET
    shape = _Shape(task.role is None, task.role == UNIT, secret, bool(ctx.duban.settings.smtp_host))
    values = {"n_at": ctx.now, "n_kind": kind, "n_title": title[:500], "n_body": body,
              "n_item": item.id if item else None, "n_instance": ctx.instance.id if ctx.instance else None,
              "n_task": task_id, "n_assignee": task.assignee, "n_role": task.role, "n_unit": task.unit_id}
    if secret:
        values["n_designees"] = [d.user_id for d in item.designees]
    ctx.session.info.setdefault(_PENDING_SELECTS, []).append((shape, values))


class _Shape(NamedTuple):
    """What a task's candidates' SELECT is built of (16 shapes at most)."""

    by_assignee: bool
    by_unit: bool
    secret: bool
    mail: bool


def _candidates(shape: _Shape, prefix: str = ""):
    """A SELECT of a notification's values for each candidate of a task of this shape, the values as
    parameters (`prefix` before their names): built once per shape (see _candidates_insert)."""
    by_assignee, by_unit, secret, mail = shape

    def value(name, type_=None, **kw):
        return bindparam(prefix + name, type_=type_, **kw)

    users = User.__table__
    if by_assignee:
        where = [users.c.username == value("n_assignee")]
    else:
        where = [users.c.id.in_(select(UserRole.user_id).where(UserRole.role == value("n_role"))),
                 users.c.active.is_(True)]
        if by_unit:
            where.append(users.c.unit_id == value("n_unit"))
    if secret:
        where.append(or_(users.c.id.in_(select(UserRole.user_id).where(UserRole.role.in_(SYSTEM_ADMINS))),
                         users.c.id.in_(value("n_designees", expanding=True))))
    if mail:
        mail_state = case((and_(users.c.email.is_not(None), users.c.email != ""), "pending"), else_="none")
    else:
        mail_state = literal("none", String())
    columns = [value(name, _TABLE.c[column].type) for name, column in _CANDIDATE_VALUES]
    return select(users.c.id, *columns, mail_state, literal(0, Integer())).where(*where)


_CANDIDATE_VALUES = (("n_at", "at"), ("n_kind", "kind"), ("n_title", "title"), ("n_body", "body"),
                     ("n_item", "item_id"), ("n_instance", "instance_id"), ("n_task", "task_id"))


@cache
def _candidates_insert(shape: _Shape):
    """The INSERT of _candidates(shape), built once: executed with each task's values."""
    return insert(_TABLE).from_select(_COLUMNS, _candidates(shape))


def _candidates_along(shapes: tuple[_Shape, ...], prefix: str):
    """The candidates' notifications of several tasks as one INSERT (to go with the audit records): the
    i-th task's values named `{prefix}{i}_…`, as _along_values gives them."""
    queries = [_candidates(shape, f"{prefix}{index}_") for index, shape in enumerate(shapes)]
    return insert(_TABLE).from_select(_COLUMNS, queries[0] if len(queries) == 1 else union_all(*queries))


def _along_values(selects: list) -> dict:
    """The parameters of _candidates_along(...) for the queued (shape, values) of several tasks."""
    return {f"{index}_{name}": value for index, (_, values) in enumerate(selects) for name, value in values.items()}


def write_pending(session: Session) -> None:
    """Insert the notifications this transaction sent: one statement per shape of them, whatever
    their number."""
    rows = session.info.pop(_PENDING, None)
    selects = session.info.pop(_PENDING_SELECTS, None)
    # On PostgreSQL they go with the audit records when the transaction has any (audit.along); else
    # without flushing first, as history.write_pending.
    with session.no_autoflush:
        if rows and not audit.along_rows(session, _TABLE, _COLUMNS, rows):
            session.execute(_INSERT, rows)
        if selects:
            _write_candidates(session, selects)


def _write_candidates(session: Session, selects: list) -> None:
    """The queued tasks' candidates' notifications: along with the audit records, else one statement per
    shape of task (an executemany)."""
    shapes = tuple(shape for shape, _ in selects)
    if audit.along(session, ("candidates", *shapes), partial(_candidates_along, shapes),
                   partial(_along_values, selects)):
        return
    by_shape: dict = {}
    for shape, values in selects:
        by_shape.setdefault(shape, []).append(values)
    for shape, many in by_shape.items():
        statement = _candidates_insert(shape)
        for values in many if shape.secret else [many]:  # designees: an expanding parameter, one at a time
            session.execute(statement, values)


event.listen(Session, "before_commit", write_pending, insert=True)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_PENDING_SELECTS, None)
    session.info.pop(_PEOPLE, None)


@event.listens_for(Session, "after_commit")
def _forget_people(session: Session) -> None:
    session.info.pop(_PEOPLE, None)


def candidates(session, task) -> list[Recipient]:
    """Who may work a new task: its role (and unit), or the person it is assigned to.

    Read without flushing: the step's pending rows do not change who holds a role, and they go
    out together at commit instead of one flush per new task."""
    with session.no_autoflush:
        if task.role is None:
            return _recipients(session.execute(select(User.id, User.email, UserRole.role).outerjoin(UserRole)
                                               .where(User.username == task.assignee)))
        return people(session, task.role, task.unit_id)


def list_for(duban, actor: Actor, unread: bool = False, page: int = 1, per_page: int = 50,
             kind: str | None = None, item_id: int | None = None):
    """The caller's notifications, newest first: only their own, and none of a secret item they are not
    (or no longer) cleared for; optionally only the unread, of one kind, or about one item."""
    query = select(Notification).where(Notification.user_id == actor.id, notifications_cleared(actor))
    if unread:
        query = query.where(Notification.read_at.is_(None))
    if kind:
        query = query.where(Notification.kind == kind)
    if item_id is not None:
        query = query.where(Notification.item_id == item_id)
    with duban.db.reading() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = session.scalars(query.order_by(Notification.id.desc()).offset((page - 1) * per_page).limit(per_page))
        return [_view(row) for row in rows], total


def facets(duban, actor: Actor) -> dict:
    """What the caller's notifications may be filtered by: their kinds (with names) and the items they
    are about (titles only of items the caller may see)."""
    mine = (Notification.user_id == actor.id, notifications_cleared(actor))
    with duban.db.reading() as session:
        kinds = sorted(session.scalars(select(Notification.kind).where(*mine).distinct()))
        items = session.execute(select(Item.id, Item.title).where(
            Item.id.in_(select(Notification.item_id).where(*mine)), items_visible(actor)).order_by(Item.id.desc()))
        return {"kinds": [{"kind": kind, "name": kind_name(kind)} for kind in kinds],
                "items": [{"id": row.id, "title": row.title} for row in items]}


def kind_name(kind: str) -> str:
    """A notification kind as people read it (催办, 临期预警, ...); an unnamed kind as itself."""
    return TEXTS.get(f"notification.kind.{kind}", kind)


def unread_count(duban, actor: Actor) -> int:
    with duban.db.reading() as session:
        return session.scalar(select(func.count()).select_from(Notification).where(
            Notification.user_id == actor.id, Notification.read_at.is_(None), notifications_cleared(actor)))


def mark_read(duban, actor: Actor, notification_id: int | None = None) -> int:
    """Mark one (or, without an id, every) notification of the caller as read."""
    with duban.db.transaction() as session:
        query = update(Notification).where(Notification.user_id == actor.id, Notification.read_at.is_(None))
        if notification_id is not None:
            own = session.scalar(select(Notification.id).where(
                Notification.id == notification_id, Notification.user_id == actor.id, notifications_cleared(actor)))
            if own is None:
                raise NotFound(text("notification.not_found", id=notification_id))
            query = query.where(Notification.id == notification_id)
        return session.execute(query.values(read_at=duban.clock.now())).rowcount


def _view(row: Notification) -> dict:
    return {"id": row.id, "at": row.at, "kind": row.kind, "title": row.title, "body": row.body,
            "item_id": row.item_id, "instance_id": row.instance_id, "task_id": row.task_id,
            "kind_name": kind_name(row.kind), "read": row.read_at is not None}


def dispatch_mail(duban, limit: int = 200) -> list[int]:
    """Hand pending e-mails to the workers, and again those a worker took but never finished."""
    now = duban.clock.now()
    stale = now - timedelta(seconds=duban.settings.timer_lease_s)
    with duban.db.transaction() as session:
        query = select(Notification.id).where(
            ((Notification.mail_state == "pending") &
             (Notification.mail_dispatched_at.is_(None) | (Notification.mail_dispatched_at < stale))) |
            ((Notification.mail_state == "sending") & (Notification.mail_dispatched_at < stale)),
        ).order_by(Notification.id).limit(limit)
        if on_postgres(session):
            query = query.with_for_update(skip_locked=True)
        ids = list(session.scalars(query))
        if ids:
            session.execute(update(Notification).where(Notification.id.in_(ids))
                            .values(mail_state="pending", mail_dispatched_at=now))
    return ids


def send_mail(duban, notification_id: int) -> bool:
    """Send one notification by SMTP. The row is claimed first, so a repeated delivery sends nothing;
    the SMTP conversation happens outside any transaction."""
    settings = duban.settings
    with duban.db.transaction() as session:
        claimed = session.execute(update(Notification).where(
            Notification.id == notification_id, Notification.mail_state == "pending")
            .values(mail_state="sending", mail_dispatched_at=duban.clock.now(),
                    mail_attempts=Notification.mail_attempts + 1)).rowcount
        if not claimed:
            return False
        row = session.get(Notification, notification_id)
        user = session.get(User, row.user_id)
        if not user_cleared(user.id, user.roles, session.get(Item, row.item_id) if row.item_id else None):
            row.mail_state = "none"  # 保密: no longer designated since the step; nothing is sent
            return False
        message = EmailMessage()
        message["From"], message["To"] = settings.smtp_sender, user.email
        message["Subject"] = f"【督办】{row.title}"
        message.set_content(f"{user.display_name}：\n\n{row.title}\n\n{row.body}\n\n——督办系统")
        attempts = row.mail_attempts
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=20) as smtp:
            smtp.send_message(message)
        outcome = "sent"
    except (OSError, smtplib.SMTPException) as error:
        log.warning("mail for notification %s failed: %s", notification_id, error)
        outcome = "failed" if attempts >= MAX_MAIL_ATTEMPTS else "pending"
    with duban.db.transaction() as session:
        session.execute(update(Notification).where(Notification.id == notification_id)
                        .values(mail_state=outcome))
    return outcome == "sent"
