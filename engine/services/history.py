"""The history (履历) of an instance: append-only rows of who did what, when, with which data."""
from __future__ import annotations

from ..models import HistoryEntry


def record(ctx, action: str, **fields) -> None:
    ctx.session.add(HistoryEntry(
        instance_id=ctx.instance.id, at=ctx.now, actor=ctx.actor.username if ctx.actor else None,
        action=action, **fields,
    ))
