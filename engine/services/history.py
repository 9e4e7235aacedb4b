"""The history (履历) of an instance: append-only rows of who did what, when, with which data.

Every history row is also a record of the security audit log, in the same transaction: a state
change of an instance is never committed without its audit record, nor recorded without happening.
"""
from __future__ import annotations

from ..models import HistoryEntry
from . import audit


def record(ctx, action: str, **fields) -> None:
    actor = ctx.actor.username if ctx.actor else None
    ctx.session.add(HistoryEntry(instance_id=ctx.instance.id, at=ctx.now, actor=actor, action=action, **fields))
    audit.append(ctx.session, actor, f"instance.{action}", f"instance:{ctx.instance.id}", _audit_detail(fields),
                 at=ctx.now)


def _audit_detail(fields: dict) -> dict:
    # Form data stays out of the audit log (the auditor must not read restricted items through it);
    # its digest still ties the history row to what was submitted.
    detail = {key: value for key, value in fields.items() if key != "data" and value is not None}
    if fields.get("data") is not None:
        detail["data_sha256"] = audit.digest(fields["data"])
    return detail
