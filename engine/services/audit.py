"""The security audit log (安全审计日志): append-only, keyed hash chain, read by the audit administrator.

等保 2.0 level 3 asks for audit records that cannot be altered unnoticed and are kept at least six
months. Each record carries HMAC-SHA256(key, previous hash + its own canonical JSON). The key is not
in the database (DUBAN_AUDIT_KEY, or derived from DUBAN_SECRET_KEY), so whoever can write the
database can change a row but not re-seal it and the rows after it: `verify` finds the first
broken row. Deleting the newest rows leaves an intact but shorter chain; so the chain's head is
also written outside the database after each commit, as a line of `$DUBAN_VAR_DIR/audit-anchor.log`
(appended with O_APPEND, so several processes share it; make it append-only with `chattr +a`) and
of the `engine.services.audit` log, and `verify` compares the database with that file's last head.

Writers call `append()` inside their own transaction. The record is chained when that transaction
commits (a `before_commit` hook): the hook takes the chain's lock, reads the last hash once and
inserts what the transaction queued; the head goes to the anchor file after the commit, outside the
lock, one line per transaction. So a transaction that rolls back leaves no record, and the lock is
held only for the last moment of a transaction, not through a workflow step. On PostgreSQL the lock
is a transaction-level advisory lock; on SQLite, BEGIN IMMEDIATE already made the transaction the
only writer. Should both ever be missing, ids given as "last id + 1" make a second writer fail on the
primary key rather than fork the chain.

Each process remembers the head its last commit left. A transaction seals its records upon that head
and inserts them in one statement that inserts nothing unless the head is still the one the records
were sealed upon — read under the lock on PostgreSQL (`duban_audit_head()`, migration 0020, takes the
lock and reads in a fresh snapshot), in the writing transaction on SQLite. When another process wrote
since, nothing was inserted: the head is read (under the lock, which is held by then) and the records
sealed again. One statement per transaction while one process writes, three at most otherwise. On PostgreSQL that
statement also carries the transaction's history rows and notifications (`along()`), as data-modifying
WITH clauses, which run whether or not the records went in with them.

Records written before the chain was keyed (plain SHA-256) stay verifiable: the anchor file's first
line names the head the keyed chain started from, and only records up to it may carry such a hash.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import NamedTuple

from sqlalchemy import Insert, bindparam, delete, event, func, insert, select, text
from sqlalchemy.orm import Session

from ..access import Actor
from ..db import insert_rows, on_postgres, rows_params, rows_select
from ..domain.roles import AUDITADMIN
from ..errors import Forbidden, InvalidInput
from ..lru import Lru
from ..models import AuditRecord, User
from ..texts import TEXTS, text as message

log = logging.getLogger(__name__)

GENESIS = "0" * 64
# 等保: audit records are kept at least six months; pruning refuses anything younger.
RETENTION = timedelta(days=183)
# pg_advisory_xact_lock key of the chain: "dubanAUD" as a big-endian 64-bit integer.
_LOCK_KEY = int.from_bytes(b"dubanAUD", "big")
_PENDING = "duban_audit"
_ALONG = "duban_audit_along"
_WRITTEN = "duban_audit_head"
PRUNED = "audit.pruned"
ANCHOR_FILE = "audit-anchor.log"
# verify reads this much of the anchor file's end: heads are appended in commit order, give or take
# the few transactions that commit at the same moment, so the newest head is always among them.
_ANCHOR_TAIL = 64 * 1024


@dataclass(frozen=True)
class Keeper:
    """What seals and anchors one database's chain: the HMAC key and the anchor file."""

    key: bytes
    anchor: Path


# The keeper of each database engine, set by bootstrap (`bind`); the commit hook finds it there.
_KEEPERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# The chain's head (id, hash) this process's last commit to each database engine left: what the next
# transaction seals its records upon (and inserts them only if it is still the head).
_HEADS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def bind(db, settings) -> Keeper:
    """Seal and anchor the audit records written through `db` with this installation's key and file."""
    keeper = Keeper(key=chain_key(settings), anchor=Path(settings.var_dir) / ANCHOR_FILE)
    _KEEPERS[db.engine] = keeper
    return keeper


def chain_key(settings) -> bytes:
    """DUBAN_AUDIT_KEY, else a key derived from the secret key (never the secret key itself)."""
    if settings.audit_key:
        return settings.audit_key.encode()
    return hmac.new(settings.secret_key.encode(), b"duban audit chain", hashlib.sha256).digest()


def _engine_of(bind):
    # A session bound to a connection names its engine; read and engine-step sessions are bound
    # to an OptionEngine, which wraps the Engine.
    engine = getattr(bind, "engine", bind)
    return getattr(engine, "_proxied", engine)


def _keeper_of(bind) -> Keeper:
    keeper = _KEEPERS.get(_engine_of(bind))
    if keeper is None:
        raise RuntimeError("audit records need the chain's key: build the context with engine.bootstrap()")
    return keeper


def append(session: Session, actor: str | None, action: str, target: str | None, detail: dict | None = None,
           ip: str | None = None, *, at: datetime) -> None:
    """Queue one record in the caller's transaction; it is chained and inserted when that commits."""
    session.info.setdefault(_PENDING, []).append({
        "at": at, "actor": _cut(actor, 64), "action": _cut(action, 60), "target": _cut(target, 200),
        # Stored as it will be read back, so the hash verify recomputes is the one written.
        "detail": None if detail is None else json.loads(canonical(detail)), "ip": _cut(ip, 45),
    })


def along(session: Session, shape: tuple, build, values, late: bool = False) -> bool:
    """Send an INSERT with this transaction's audit records, in their statement, when they go in one
    (PostgreSQL, records queued): one round trip fewer. `build(prefix)` builds the INSERT, its
    parameters' names prefixed, `values()` gives them unprefixed (each called only then, or, `late`,
    only as the statement is sent: for a value still being made meanwhile); `shape` names what it is
    built of (inserts of one shape differ in their values only), so each combined statement is built
    once. False: the caller writes its rows itself."""
    if not on_postgres(session) or not session.info.get(_PENDING):
        return False
    session.info.setdefault(_ALONG, []).append(_Along(shape, build, values if late else values()))
    return True


def along_rows(session: Session, table, columns, rows: list[dict]) -> bool:
    """along() for `rows` of `table` (dicts of `columns`)."""
    return along(session, (table.name, len(rows)), partial(insert_rows, table, columns, len(rows)),
                 lambda: rows_params(rows, columns))


class _Along(NamedTuple):
    shape: tuple
    build: Callable[[str], Insert]
    values: dict | Callable[[], dict]

    def params(self) -> dict:
        return self.values() if callable(self.values) else self.values


def digest(data) -> str:
    """sha256 of a value's canonical JSON: stands in the log for data it must not copy (form contents)."""
    return hashlib.sha256(canonical(data).encode()).hexdigest()


def canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def record_hash(key: bytes, prev_hash: str, record: AuditRecord) -> str:
    """The record's seal: HMAC-SHA256 over the previous hash and the record's canonical JSON."""
    return hmac.new(key, _sealed_text(prev_hash, record), hashlib.sha256).hexdigest()


def unkeyed_hash(prev_hash: str, record: AuditRecord) -> str:
    """How records were hashed before the chain was keyed (anyone can compute it)."""
    return hashlib.sha256(_sealed_text(prev_hash, record)).hexdigest()


def _sealed_text(prev_hash: str, record: AuditRecord) -> bytes:
    body = {"id": record.id, "at": record.at.astimezone(UTC).isoformat(), "actor": record.actor,
            "action": record.action, "target": record.target, "detail": record.detail, "ip": record.ip}
    return (prev_hash + canonical(body)).encode()


def _cut(value: str | None, length: int) -> str | None:
    return None if value is None else str(value)[:length]


# Functions that move writes the last flush would make into this statement (along), called before it.
_FOLDS: list[Callable[[Session], None]] = []


def folding(function: Callable[[Session], None]) -> Callable[[Session], None]:
    """Call `function(session)` at each commit that goes along the records (PostgreSQL), before the
    transaction's last flush: what it queues with along() is then written in the records' statement."""
    _FOLDS.append(function)
    return function


@event.listens_for(Session, "before_commit")
def _chain_pending(session: Session) -> None:
    if not session.info.get(_PENDING):
        return
    bind = session.get_bind()
    keeper, engine = _keeper_of(bind), _engine_of(bind)
    if on_postgres(session):
        for fold in _FOLDS:
            fold(session)
        session.flush()  # the transaction's own writes first: the lock below then covers only our inserts
    pending = session.info.pop(_PENDING)
    # SQLite needs no lock: the head is read in the transaction's own snapshot, and a write upon a
    # snapshot another writer has since changed fails (WriteConflict). So every pending row, the
    # records included, goes out in the one flush of the commit.
    along = session.info.pop(_ALONG, [])
    with session.no_autoflush:
        start = _HEADS.get(engine)
        rows = None if start is None else _sealed_rows(keeper, start, pending)
        if rows is None:
            for other in along:
                session.execute(_built(("alone", other.shape), other.build, ""), other.params())
        if rows is None or not _insert_upon(session, start, rows, along):
            start = _lock_head(session)
            rows = _sealed_rows(keeper, start, pending)
            # One executemany of the table, not an ORM object per record (a step writes several).
            session.execute(insert(AuditRecord.__table__), rows)
    session.info[_WRITTEN] = (keeper, engine, start, (rows[-1]["id"], rows[-1]["hash"]))


def _sealed_rows(keeper: Keeper, head: tuple[int, str], pending: list[dict]) -> list[dict]:
    """The queued records with their ids and seals, chained on from `head`."""
    last_id, last_hash = head
    rows = []
    for fields in pending:
        last_id += 1
        # What the seal reads, as a plain object: an ORM object each cost more than its seal.
        seal = record_hash(keeper.key, last_hash, SimpleNamespace(id=last_id, **fields))
        rows.append({"id": last_id, "prev_hash": last_hash, "hash": seal, **fields})
        last_hash = seal
    return rows


_COLUMNS = ("id", "at", "actor", "action", "target", "detail", "ip", "prev_hash", "hash")
_AUDIT = AuditRecord.__table__
_ROWCOUNT = {"preserve_rowcount": True}  # SQLAlchemy keeps an INSERT's rowcount only when asked
# SQLite: each record is inserted only if the chain's last record is the one it follows, read in the
# writing transaction (one executemany: all of them when the first was sealed upon the head, or none).
_FOLLOWING = insert(_AUDIT).from_select(_COLUMNS, select(
    *(bindparam(name, type_=_AUDIT.c[name].type) for name in _COLUMNS),
).where(text("(SELECT a.id = :id - 1 AND a.hash = :prev_hash FROM audit_log AS a ORDER BY a.id DESC LIMIT 1)")))


def _insert_upon(session: Session, head: tuple[int, str], rows: list[dict], along: list[_Along] = ()) -> bool:
    """Insert `rows`, sealed upon `head`, in one statement if `head` is still the chain's last record;
    False, nothing inserted, when another writer moved it. The `along` inserts (PostgreSQL) go in the
    same statement in either case."""
    if not on_postgres(session):
        inserted = session.execute(_FOLLOWING, rows, execution_options=_ROWCOUNT).rowcount
    else:
        shape = (len(rows), *(other.shape for other in along))
        statement = _built(shape, _upon_head, len(rows), along)
        values = {"head_id": head[0], "head_hash": head[1], **rows_params(rows, _COLUMNS, "a_")}
        for index, other in enumerate(along):
            values.update((f"w{index}_{name}", value) for name, value in other.params().items())
        inserted = session.execute(statement, values, execution_options=_ROWCOUNT).rowcount
    if inserted not in (0, len(rows)):
        raise RuntimeError(f"audit records inserted in part ({inserted} of {len(rows)})")
    return inserted == len(rows)


def _upon_head(count: int, along: list[_Along]):
    """PostgreSQL: `count` records in one INSERT ... SELECT of their values, guarded by the head read
    under the chain's lock, which duban_audit_head() takes; the `along` inserts as WITH clauses."""
    sealed = rows_select(_AUDIT, _COLUMNS, count, "a_").subquery("sealed")
    guard = text("(SELECT h.id = :head_id AND h.hash = :head_hash FROM duban_audit_head() AS h)")
    statement = insert(_AUDIT).from_select(_COLUMNS, select(*sealed.c).where(guard))
    for index, other in enumerate(along):
        statement = statement.add_cte(other.build(f"w{index}_").cte(f"along_{index}"))
    return statement


# Statements of a shape, built once: a statement built anew at each commit cost more CPU (building,
# then its cache key) than its execution. A few dozen shapes occur; the bound is for the odd ones.
_BUILT = Lru(256)


def _built(shape: tuple, build, *args):
    statement = _BUILT.get(shape)
    if statement is None:
        statement = _BUILT[shape] = build(*args)
    return statement


@event.listens_for(Session, "after_commit")
def _anchor_committed(session: Session) -> None:
    written = session.info.pop(_WRITTEN, None)
    if written:
        keeper, engine, start, head = written
        _HEADS[engine] = head
        _anchor(keeper, start, head)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_ALONG, None)
    session.info.pop(_WRITTEN, None)


def _anchor(keeper: Keeper, start: tuple[int, str], head: tuple[int, str]) -> None:
    """Append the committed head to the anchor file and the log. One write() on an O_APPEND file:
    lines of several processes never interleave. The commit stands whatever happens here."""
    log.info("audit chain head %s %s", *head)
    try:
        _append_line(keeper.anchor, start, f"{head[0]} {head[1]}\n")
    except OSError as error:
        log.error("audit anchor %s not written: %s", keeper.anchor, error)


def _append_line(path: Path, start: tuple[int, str], line: str) -> None:
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
    try:
        fd = os.open(path, flags, 0o600)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, flags, 0o600)
    try:
        if os.fstat(fd).st_size == 0:
            # A new file starts with the head the keyed chain continues (records up to it may be unkeyed).
            line = f"start {start[0]} {start[1]}\n" + line
            if start[0]:  # not a new log: the file was lost, or the log predates keyed chains
                log.warning("audit anchor %s started anew after record %s", path, start[0])
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def _lock_head(session: Session) -> tuple[int, str]:
    """Take the chain's lock (held until commit), then read the last record's id and hash: on
    PostgreSQL in one statement, duban_audit_head() (which reads after the lock is granted)."""
    if on_postgres(session):
        head = session.execute(text("SELECT id, hash FROM duban_audit_head()")).one()
        return (head.id, head.hash) if head.id is not None else (0, GENESIS)
    head = session.execute(
        select(AuditRecord.id, AuditRecord.hash).order_by(AuditRecord.id.desc()).limit(1)).one_or_none()
    return (head.id, head.hash) if head else (0, GENESIS)


@dataclass(frozen=True)
class Anchor:
    """What the anchor file says: the head the keyed chain started from, and the newest head."""

    exists: bool
    start: tuple[int, str] | None = None
    head: tuple[int, str] | None = None

    def points(self) -> dict[int, str]:
        return dict(p for p in (self.start, self.head) if p is not None)


def read_anchor(path: Path) -> Anchor:
    try:
        with open(path, "rb") as handle:
            first = handle.readline().decode(errors="replace").split()
            offset = max(0, os.fstat(handle.fileno()).st_size - _ANCHOR_TAIL)
            handle.seek(offset)
            tail = handle.read().decode(errors="replace").splitlines()[1 if offset else 0:]  # not a cut line
    except FileNotFoundError:
        return Anchor(exists=False)
    start = _point(first[1:]) if first[:1] == ["start"] else None
    heads = [point for point in map(_point, (line.split() for line in tail)) if point]
    return Anchor(exists=True, start=start, head=max(heads, default=None))


def _point(words: list[str]) -> tuple[int, str] | None:
    # A line cut by a crash, or the start line, is not a head.
    if len(words) != 2 or not words[0].isdigit() or len(words[1]) != 64:
        return None
    return int(words[0]), words[1]


@dataclass(frozen=True)
class Verdict:
    """What `verify` found: intact or not, the first record that fails, and why."""

    intact: bool
    broken_at: int | None
    records: int
    last_hash: str
    anchored: int | None
    problem: str | None = None


def verify(duban) -> Verdict:
    """Walk the chain in id order: each record must point to the one before and carry its seal, the
    records the anchor file names must carry the hashes it names, and none it names may be missing."""
    keeper = _keeper_of(duban.db.engine)
    anchor = read_anchor(keeper.anchor)
    anchored, last_id = anchor.points(), 0
    with duban.db.reading() as session:
        pruned = _prune_anchor(session)
        rows = session.scalars(select(AuditRecord).order_by(AuditRecord.id).execution_options(yield_per=1000))
        count, prev_hash = 0, None
        for row in rows:
            count += 1
            expected = prev_hash if prev_hash is not None else (GENESIS if row.id == 1 else pruned.get(row.id))
            if row.prev_hash != expected or not _sealed(keeper, anchor, row):
                return _broken(row, count, anchor, message("audit.changed", id=row.id))
            if anchored.get(row.id, row.hash) != row.hash:
                return _broken(row, count, anchor, message("audit.anchor_mismatch", id=row.id))
            prev_hash, last_id = row.hash, row.id
    head = anchor.head[0] if anchor.head else None
    if head is not None and head > last_id:
        return Verdict(False, last_id + 1, count, prev_hash or GENESIS, head,
                       message("audit.cut", anchored=head, last=last_id))
    if count and not anchor.exists:
        return Verdict(False, None, count, prev_hash, None, message("audit.anchor_missing", path=keeper.anchor))
    return Verdict(True, None, count, prev_hash or GENESIS, head)


def _sealed(keeper: Keeper, anchor: Anchor, row: AuditRecord) -> bool:
    if hmac.compare_digest(row.hash, record_hash(keeper.key, row.prev_hash, row)):
        return True
    # Written before the chain was keyed: only up to the head the anchor file started from.
    return bool(anchor.start and row.id <= anchor.start[0] and row.hash == unkeyed_hash(row.prev_hash, row))


def _broken(row: AuditRecord, count: int, anchor: Anchor, problem: str) -> Verdict:
    return Verdict(False, row.id, count, row.hash, anchor.head[0] if anchor.head else None, problem)


def _prune_anchor(session) -> dict:
    """{first kept id: its prev_hash} as the latest pruning recorded it (the chain before it is gone)."""
    latest = session.scalars(select(AuditRecord).where(AuditRecord.action == PRUNED)
                             .order_by(AuditRecord.id.desc()).limit(1)).one_or_none()
    if latest is None or not isinstance(latest.detail, dict):
        return {}
    return {latest.detail.get("first_kept"): latest.detail.get("anchor")}


def report(duban, actor: Actor, ip: str | None = None) -> dict:
    """What the audit administrator sees of `verify`; the verification is itself recorded."""
    require_auditor(actor)
    verdict = verify(duban)
    record(duban, actor, "audit.verify", "audit_log", {"intact": verdict.intact, "broken_at": verdict.broken_at,
                                                       "records": verdict.records}, ip)
    return {"intact": verdict.intact, "broken_at": verdict.broken_at, "records": verdict.records,
            "last_hash": verdict.last_hash, "anchored": verdict.anchored, "problem": verdict.problem}


def record(duban, actor: Actor | str | None, action: str, target: str | None, detail: dict | None = None,
           ip: str | None = None) -> None:
    """One record in a transaction of its own: for what changes nothing else (a read, an export)."""
    name = actor.username if isinstance(actor, Actor) else actor
    with duban.db.transaction() as session:
        append(session, name, action, target, detail, ip, at=duban.clock.now())


def record_file(duban, actor: Actor, action: str, target: str, data: bytes, ip: str | None = None, **detail) -> None:
    """A file handed out (an export, a download): who took what, with its size and SHA-256."""
    record(duban, actor, action, target, {**detail, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()},
           ip)


def list_records(duban, actor: Actor, page: int = 1, size: int = 50, filters: dict | None = None,
                 ip: str | None = None) -> tuple[list[dict], int]:
    """Audit records, newest first; filters: actor, action (`instance.*` for a prefix), target, since,
    until (exclusive).

    The auditor's reading is itself recorded (after the page is read, so it is not on that page)."""
    require_auditor(actor)
    result = _records(duban, page, size, filters)
    asked = {key: value for key, value in (filters or {}).items() if value not in (None, "")}
    record(duban, actor, "audit.read", "audit_log", {"filters": asked, "page": page}, ip)
    return result


def _records(duban, page: int, size: int, filters: dict | None) -> tuple[list[dict], int]:
    query = matching(filters)
    with duban.db.reading() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        # Who acted, by name as well as by account (the record keeps the account: a name may change).
        rows = session.execute(query.add_columns(User.display_name)
                               .outerjoin(User, User.username == AuditRecord.actor)
                               .order_by(AuditRecord.id.desc()).offset((page - 1) * size).limit(size))
        return [_view(row) | {"actor_name": name} for row, name in rows], total


def matching(filters: dict | None):
    """SELECT of the records the filters ask for (what the page lists and the export writes)."""
    query = select(AuditRecord)
    for name, value in (filters or {}).items():
        if value in (None, ""):
            continue
        if name == "since":
            query = query.where(AuditRecord.at >= value)
        elif name == "until":
            query = query.where(AuditRecord.at < value)
        elif name == "action" and value.endswith("*"):
            query = query.where(AuditRecord.action.startswith(value[:-1], autoescape=True))
        elif name in ("actor", "action", "target"):
            query = query.where(getattr(AuditRecord, name) == value)
    return query


def _view(row: AuditRecord) -> dict:
    return {"id": row.id, "at": row.at, "actor": row.actor, "action": row.action,
            "action_name": action_name(row.action), "target": row.target,
            "detail": row.detail, "ip": row.ip, "prev_hash": row.prev_hash, "hash": row.hash}


def action_name(action: str) -> str:
    """An action as the auditor reads it (登录, 终止流程, ...); one without a name as its code."""
    return TEXTS.get(f"audit.action.{action}", action)


def action_names() -> dict[str, str]:
    """{action: its name} of every named action, for choosing one to filter by."""
    prefix = "audit.action."
    return {key[len(prefix):]: name for key, name in TEXTS.items() if key.startswith(prefix)}


def require_auditor(actor: Actor) -> None:
    # 三员分立: only the audit administrator reads the log; the system and security administrators
    # are among those it watches.
    if not actor.has(AUDITADMIN):
        raise Forbidden(message("audit.only_auditor"))


def prune(duban, before: datetime, operator: str | None = None) -> int:
    """Delete the records older than `before` (retention; `duban audit prune`); refuses anything younger
    than six months.

    The newest record is always kept, and the pruning is itself recorded (by `operator`) with the hash
    the first kept record points to, so `verify` can still tell a pruned chain from a cut one.
    """
    now = duban.clock.now()
    if before > now - RETENTION:
        raise InvalidInput(message("audit.retention"), [{"field": "before", "message": message(
            "audit.retention_before", date=(now - RETENTION).date())}])
    with duban.db.transaction() as session:
        last_id = session.scalar(select(func.max(AuditRecord.id)))
        young = session.scalar(select(func.min(AuditRecord.id)).where(AuditRecord.at >= before))
        first_kept = min(x for x in (young, last_id) if x is not None) if last_id else None
        if first_kept is None:
            return 0
        deleted = session.execute(delete(AuditRecord).where(AuditRecord.id < first_kept)).rowcount
        if deleted:
            anchor = session.get(AuditRecord, first_kept).prev_hash
            append(session, operator, PRUNED, "audit_log", {"before": before.isoformat(), "deleted": deleted,
                                                         "first_kept": first_kept, "anchor": anchor}, at=now)
        return deleted
