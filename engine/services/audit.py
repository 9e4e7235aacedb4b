"""The security audit log (安全审计日志): append-only, hash-chained, read by the audit administrator.

等保 2.0 level 3 asks for audit records that cannot be altered unnoticed and are kept at least six
months. Each record carries sha256(previous hash + its own canonical JSON), so changing, inserting
or removing a row breaks the chain from that row on; `verify` finds the first broken row.

Writers call `append()` inside their own transaction. The record is chained when that transaction
commits (a `before_commit` hook): the hook takes the chain's lock, reads the last hash once and
inserts what the transaction queued. So a transaction that rolls back leaves no record, and the
lock is held only for the last moment of a transaction, not through a workflow step. On PostgreSQL
the lock is a transaction-level advisory lock; on SQLite, BEGIN IMMEDIATE already made the
transaction the only writer. Should both ever be missing, ids given as "last id + 1" make a second
writer fail on the primary key rather than fork the chain.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, event, func, select, text
from sqlalchemy.orm import Session

from ..access import Actor
from ..domain.roles import AUDITADMIN
from ..errors import Forbidden, InvalidInput
from ..models import AuditRecord

GENESIS = "0" * 64
# 等保: audit records are kept at least six months; pruning refuses anything younger.
RETENTION = timedelta(days=183)
# pg_advisory_xact_lock key of the chain: "dubanAUD" as a big-endian 64-bit integer.
_LOCK_KEY = int.from_bytes(b"dubanAUD", "big")
_PENDING = "duban_audit"
PRUNED = "audit.pruned"


def append(session: Session, actor: str | None, action: str, target: str | None, detail: dict | None = None,
           ip: str | None = None, *, at: datetime) -> None:
    """Queue one record in the caller's transaction; it is chained and inserted when that commits."""
    session.info.setdefault(_PENDING, []).append({
        "at": at, "actor": _cut(actor, 64), "action": _cut(action, 60), "target": _cut(target, 200),
        # Stored as it will be read back, so the hash verify recomputes is the one written.
        "detail": None if detail is None else json.loads(canonical(detail)), "ip": _cut(ip, 45),
    })


def digest(data) -> str:
    """sha256 of a value's canonical JSON: stands in the log for data it must not copy (form contents)."""
    return hashlib.sha256(canonical(data).encode()).hexdigest()


def canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def record_hash(prev_hash: str, record: AuditRecord) -> str:
    body = {"id": record.id, "at": record.at.astimezone(timezone.utc).isoformat(), "actor": record.actor,
            "action": record.action, "target": record.target, "detail": record.detail, "ip": record.ip}
    return hashlib.sha256((prev_hash + canonical(body)).encode()).hexdigest()


def _cut(value: str | None, length: int) -> str | None:
    return None if value is None else str(value)[:length]


@event.listens_for(Session, "before_commit")
def _chain_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    session.flush()  # the transaction's own writes first: the lock below then covers only our inserts
    last_id, last_hash = _lock_head(session)
    for fields in pending:
        last_id += 1
        record = AuditRecord(id=last_id, prev_hash=last_hash, **fields)
        record.hash = last_hash = record_hash(last_hash, record)
        session.add(record)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


def _lock_head(session: Session) -> tuple[int, str]:
    """Take the chain's lock (held until commit), then read the last record's id and hash."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    head = session.execute(
        select(AuditRecord.id, AuditRecord.hash).order_by(AuditRecord.id.desc()).limit(1)).one_or_none()
    return (head.id, head.hash) if head else (0, GENESIS)


def verify(duban) -> int | None:
    """The id of the first record whose chain is broken (changed, inserted or removed), else None."""
    return _walk(duban)[0]


def _walk(duban) -> tuple[int | None, int, str]:
    """(first broken id or None, records read, last hash), reading the chain in id order."""
    with duban.db.reading() as session:
        anchor = _prune_anchor(session)
        rows = session.scalars(select(AuditRecord).order_by(AuditRecord.id).execution_options(yield_per=1000))
        count, prev_hash = 0, None
        for row in rows:
            count += 1
            expected = prev_hash if prev_hash is not None else (GENESIS if row.id == 1 else anchor.get(row.id))
            if row.prev_hash != expected or row.hash != record_hash(row.prev_hash, row):
                return row.id, count, row.hash
            prev_hash = row.hash
        return None, count, prev_hash or GENESIS


def _prune_anchor(session) -> dict:
    """{first kept id: its prev_hash} as the latest pruning recorded it (the chain before it is gone)."""
    latest = session.scalars(select(AuditRecord).where(AuditRecord.action == PRUNED)
                             .order_by(AuditRecord.id.desc()).limit(1)).one_or_none()
    if latest is None or not isinstance(latest.detail, dict):
        return {}
    return {latest.detail.get("first_kept"): latest.detail.get("anchor")}


def report(duban, actor: Actor) -> dict:
    """What the audit administrator sees of `verify`: intact or not, where it breaks, how many records."""
    _require_auditor(actor)
    broken_at, count, last_hash = _walk(duban)
    return {"intact": broken_at is None, "broken_at": broken_at, "records": count, "last_hash": last_hash}


def list_records(duban, actor: Actor, page: int = 1, size: int = 50, filters: dict | None = None
                 ) -> tuple[list[dict], int]:
    """Audit records, newest first; filters: actor, action (`instance.*` for a prefix), target, since."""
    _require_auditor(actor)
    query = select(AuditRecord)
    for name, value in (filters or {}).items():
        if value in (None, ""):
            continue
        if name == "since":
            query = query.where(AuditRecord.at >= value)
        elif name == "action" and value.endswith("*"):
            query = query.where(AuditRecord.action.startswith(value[:-1], autoescape=True))
        elif name in ("actor", "action", "target"):
            query = query.where(getattr(AuditRecord, name) == value)
    with duban.db.reading() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = session.scalars(query.order_by(AuditRecord.id.desc()).offset((page - 1) * size).limit(size))
        return [_view(row) for row in rows], total


def _view(row: AuditRecord) -> dict:
    return {"id": row.id, "at": row.at, "actor": row.actor, "action": row.action, "target": row.target,
            "detail": row.detail, "ip": row.ip, "prev_hash": row.prev_hash, "hash": row.hash}


def _require_auditor(actor: Actor) -> None:
    # 三员分立: only the audit administrator reads the log; the system and security administrators
    # are among those it watches.
    if not actor.has(AUDITADMIN):
        raise Forbidden("only the audit administrator (安全审计员) reads the audit log")


def prune(duban, before: datetime) -> int:
    """Delete the records older than `before` (retention); refuses anything younger than six months.

    The newest record is always kept, and the pruning is itself recorded with the hash the first
    kept record points to, so `verify` can still tell a pruned chain from a cut one.
    """
    now = duban.clock.now()
    if before > now - RETENTION:
        raise InvalidInput("audit records are kept at least six months (183 days)",
                           [{"field": "before", "message": f"must be on or before {(now - RETENTION).date()}"}])
    with duban.db.transaction() as session:
        last_id = session.scalar(select(func.max(AuditRecord.id)))
        young = session.scalar(select(func.min(AuditRecord.id)).where(AuditRecord.at >= before))
        first_kept = min(x for x in (young, last_id) if x is not None) if last_id else None
        if first_kept is None:
            return 0
        deleted = session.execute(delete(AuditRecord).where(AuditRecord.id < first_kept)).rowcount
        if deleted:
            anchor = session.get(AuditRecord, first_kept).prev_hash
            append(session, None, PRUNED, "audit_log", {"before": before.isoformat(), "deleted": deleted,
                                                         "first_kept": first_kept, "anchor": anchor}, at=now)
        return deleted
