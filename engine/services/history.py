"""The history (履历) of an instance: append-only rows of who did what, when, with which data.

Every history row is also a record of the security audit log, in the same transaction: a state
change of an instance is never committed without its audit record, nor recorded without happening.
Rows are queued in the session and inserted together when it commits (one executemany, before the
audit chain is sealed), not as one ORM object each.
"""
from __future__ import annotations

from sqlalchemy import event, insert
from sqlalchemy.orm import Session

from ..models import HistoryEntry
from . import audit

_PENDING = "duban_history"
_TABLE = HistoryEntry.__table__
_COLUMNS = ("instance_id", "at", "actor", "action", "element_id", "task_id", "name", "unit_id", "data")
_INSERT = insert(_TABLE)  # built once: keeps its cache key (built anew, its key was computed at every commit)


def record(ctx, action: str, **fields) -> None:
    actor = ctx.actor.username if ctx.actor else None
    row = dict.fromkeys(_COLUMNS)
    row.update(fields, instance_id=ctx.instance.id, at=ctx.now, actor=actor, action=action)
    if len(row) != len(_COLUMNS):
        raise TypeError(f"unknown history fields: {sorted(set(row) - set(_COLUMNS))}")
    ctx.session.info.setdefault(_PENDING, []).append(row)
    audit.append(ctx.session, actor, f"instance.{action}", f"instance:{ctx.instance.id}", _audit_detail(fields),
                 at=ctx.now)


def _audit_detail(fields: dict) -> dict:
    # Form data stays out of the audit log (the auditor must not read restricted items through it);
    # its digest still ties the history row to what was submitted.
    detail = {key: value for key, value in fields.items() if key != "data" and value is not None}
    if fields.get("data") is not None:
        detail["data_sha256"] = audit.digest(fields["data"])
    return detail


def write_pending(session: Session) -> None:
    """Insert the rows this transaction recorded, in the order recorded (ids follow it)."""
    rows = session.info.pop(_PENDING, None)
    if rows and not audit.along_rows(session, _TABLE, _COLUMNS, rows):
        # Without flushing: the ORM's flush, which waits for a step's serialised state
        # (process._settle_states), comes last, at the commit, and these rows go in meanwhile.
        with session.no_autoflush:
            session.execute(_INSERT, rows)


# Before the audit chain's hook (insert=True puts it first): on PostgreSQL that one takes the chain's
# lock, which should cover only the audit records.
event.listen(Session, "before_commit", write_pending, insert=True)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)
