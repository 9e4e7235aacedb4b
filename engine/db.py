"""The database: one SQLAlchemy engine per process, one transaction per state change."""
from __future__ import annotations

import functools
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from select import POLLERR, POLLHUP, POLLIN, POLLPRI, poll

from sqlalchemy import bindparam, create_engine, event, func, insert, select, text, union_all
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from . import checkpoints, texts
from .errors import WriteConflict

# How often an engine operation is run again after another writer got in first (SQLite).
WRITE_ATTEMPTS = 5
# Set while `retrying` reruns an operation: its steps then take the write lock up front.
_RERUN = ContextVar("duban_rerun", default=False)


def make_engine(url: str, pool_size: int | None = None, max_overflow: int | None = None, **kwargs) -> Engine:
    """The engine for `url`; `pool_size`/`max_overflow` size a server database's pool (DUBAN_DB_POOL_SIZE,
    DUBAN_DB_MAX_OVERFLOW), SQLite keeps SQLAlchemy's own (a file, no connection limit)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, **kwargs)
    # The most recently returned connection is handed out first (LIFO): under light traffic one or two
    # connections stay busy and warm and the others idle, rather than each waiting its turn.
    kwargs.setdefault("pool_use_lifo", True)
    kwargs.setdefault("pool_recycle", RECYCLE_S)
    if pool_size is not None:
        kwargs["pool_size"] = pool_size
    if max_overflow is not None:
        kwargs["max_overflow"] = max_overflow
    _convert_long_statements_once()
    engine = create_engine(parsed, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_when_in_doubt(engine)
    event.listen(engine, "connect", _plan_for_short_queries)
    return engine


# The longest statements psycopg keeps converted (see _convert_long_statements_once).
CONVERTED_MAX_CHARS, CONVERTED_MAX_PARAMS = 16_384, 512


def _convert_long_statements_once() -> None:
    """psycopg turns a statement's %(name)s into $n by a regex, remembering the result (an LRU of 128
    statements) only for statements within 4 KB and 50 parameters: ORMs' INSERT … VALUES lists of every
    length would churn it. A step's audit statement (services/folding) runs 6–10 KB with 100–200
    parameters, but in a few dozen shapes, each built once (audit._BUILT): converted anew at every step,
    it cost 0.3 ms of CPU a step, 6 % of a main path's on PostgreSQL. The bounds are psycopg's module
    settings, read at each statement; 16 KB and 512 parameters keep its 128 entries within a few MB."""
    from psycopg import _queries

    if hasattr(_queries, "MAX_CACHED_STATEMENT_LENGTH") and hasattr(_queries, "MAX_CACHED_STATEMENT_PARAMS"):
        _queries.MAX_CACHED_STATEMENT_LENGTH = max(_queries.MAX_CACHED_STATEMENT_LENGTH, CONVERTED_MAX_CHARS)
        _queries.MAX_CACHED_STATEMENT_PARAMS = max(_queries.MAX_CACHED_STATEMENT_PARAMS, CONVERTED_MAX_PARAMS)


def _plan_for_short_queries(dbapi_connection, _record) -> None:
    """Planner settings for a service's short queries (PostgreSQL), set on each new connection.

    No JIT compilation: the planner's cost of a count or a statistic over 100,000 items passes
    jit_above_cost, and compiling then takes 0.15–0.7 s for a query that runs in 0.05 s (bench/ledger.py:
    the light filter, the dashboard's aggregates). Parallel workers only where they save more than they
    cost: the server starts a process per worker for the query, which the default parallel_setup_cost
    (1000) prices too low on a small machine (two vCPUs: a ledger's count took 11 ms alone and 18 ms with
    two workers). 3000 is about what starting two workers costs there, in the planner's units: such counts
    then run alone (ledger p95 at 100,000 items ~35 to ~27 ms), the dashboard's aggregates (~0.4 s) still
    in parallel and as fast as before (5000 made them ~5 % slower).
    SETs, not startup options, which a connection pooler in front of the server may refuse."""
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SELECT set_config('jit', 'off', false), set_config('parallel_setup_cost', '3000', false)")
    dbapi_connection.commit()


# A pooled connection is checked with a round trip (SELECT 1) only when in doubt: idle this long (a
# firewall or NAT may have dropped it without a word), or the server has written to it while it sat in
# the pool (a backend that was terminated or restarted says so, then closes its end). SQLAlchemy's
# pool_pre_ping would cost that round trip at every checkout, two per request. A connection that
# fails in use anyway (lost after the check) fails that one request, and SQLAlchemy then discards the
# pool's older connections too.
PING_AFTER_IDLE_S = 30.0
# Connections older than this are replaced at their next checkout (server-side memory, idle timeouts).
RECYCLE_S = 3600


def _ping_when_in_doubt(engine: Engine) -> None:
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record):
        if record is not None:
            record.info["duban_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, _proxy):
        idle_since = record.info.pop("duban_idle_since", None)
        if idle_since is None:
            return  # fresh from connect()
        if time.monotonic() - idle_since < PING_AFTER_IDLE_S and not _server_spoke(dbapi_connection):
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            # Gone (or unusable): the pool opens a fresh one instead, and fails the checkout only if
            # that cannot connect either (the database is down).
            raise DisconnectionError(f"a pooled connection failed its ping: {error}") from error


def _server_spoke(dbapi_connection) -> bool:
    """Whether anything waits to be read on an idle connection (no round trip: a poll of its socket).
    Between transactions the server sends nothing unasked but notices and its goodbye (FATAL, EOF)."""
    try:
        fileno = dbapi_connection.fileno()
    except Exception:  # noqa: BLE001 - a closed or broken connection: let the ping decide
        return True
    poller = poll()
    poller.register(fileno, POLLIN | POLLPRI | POLLERR | POLLHUP)
    return bool(poller.poll(0))


def _sqlite_engine(url, **kwargs) -> Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # A deferred transaction that later writes fails at once with "database is locked"
        # when another writer got there first; taking the write lock up front makes it wait.
        # Read-only sessions stay deferred so that, under WAL, they never wait for writers, and so
        # do engine steps: they run a designer's code before they write and must not hold the
        # write lock meanwhile (a conflict then surfaces as WriteConflict and the step reruns).
        options = connection.get_execution_options()
        deferred = options.get("duban_readonly") or options.get("duban_deferred")
        connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")

    return engine


class Database:
    """Engine and session factory for one database URL."""

    def __init__(self, url: str, **engine_kwargs):
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        # How many connections the pool may hold at once (server databases; 0: none for `alongside`).
        overflow, pool = engine_kwargs.get("max_overflow"), self.engine.pool
        self._connections = (pool.size() + (10 if overflow is None else max(overflow, 0))
                             if isinstance(pool, QueuePool) and self.engine.dialect.name != "sqlite" else 0)
        path = self.engine.url.database if self.engine.dialect.name == "sqlite" else None
        self.checkpoints = checkpoints.attach(self.engine, path) if path and path != ":memory:" else None
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # On PostgreSQL reads run in READ ONLY transactions, which `reading()` ends with COMMIT.
        self._commit_reads = self.engine.dialect.name == "postgresql"
        self._read_sessions = sessionmaker(
            self.engine.execution_options(duban_readonly=True,
                                          **({"postgresql_readonly": True} if self._commit_reads else {})),
            expire_on_commit=False,
        )
        self._step_sessions = sessionmaker(
            self.engine.execution_options(duban_deferred=True), expire_on_commit=False
        )
        self._lookups = self.engine.execution_options(
            **({"duban_readonly": True} if self.engine.dialect.name == "sqlite" else {"isolation_level": "AUTOCOMMIT"})
        )

    @property
    def writers(self) -> tuple:
        """The session factories whose sessions commit: ordinary transactions and engine steps."""
        return self.sessions, self._step_sessions

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commits when the block ends, rolls back if it raises."""
        session = self.sessions()
        try:
            with session.begin():
                yield session
        finally:
            session.close()

    @contextmanager
    def step(self) -> Iterator[Session]:
        """A unit of work that runs process code before it writes (an engine step).

        On SQLite it takes the write lock at its first write, not at BEGIN, so other requests
        write while the step computes; if another writer committed meanwhile, the write fails and
        WriteConflict tells the caller (see `retrying`) to run the operation again. PostgreSQL
        needs none of this: steps lock only their instance's row.

        A rerun's step takes the write lock at BEGIN, as an ordinary transaction does: a deferred
        transaction that meets another's write lock fails at once rather than wait (SQLite cannot let
        a reader become a writer over a lock), so reruns during one long writer's step would all fail
        against it; waiting for the lock, the rerun reads what that writer committed and cannot lose.
        """
        session = (self.sessions if _RERUN.get() else self._step_sessions)()
        try:
            with session.begin():
                yield session
        except OperationalError as error:
            if _is_locked(error):
                raise WriteConflict(texts.text("step.conflict")) from None
            raise
        finally:
            session.close()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for queries; nothing it does is committed.

        On PostgreSQL its transaction is READ ONLY (a write in it fails) and ends with COMMIT, sent to
        the connection itself, past the session (which flushes nothing then): psycopg forgets every
        prepared statement after a ROLLBACK (it sends DEALLOCATE ALL, one more round trip, and plans
        each statement afresh), which ending every read with one made of every read and step."""
        session = self._read_sessions()
        try:
            yield session
            if self._commit_reads and session.in_transaction():
                session.connection().connection.dbapi_connection.commit()
        finally:
            session.rollback()  # nothing left to roll back after that COMMIT: psycopg sends nothing
            session.close()

    @contextmanager
    def lookup(self) -> Iterator[Connection]:
        """A connection for reads that need no snapshot of their own: one statement (who holds a token,
        on every request), or statements that may each read the latest data (the inbox's and the
        ledger's page, then its count). On PostgreSQL it runs outside a transaction (autocommit), saving
        the BEGIN and COMMIT round trips a `reading()` session costs; on SQLite it is a deferred read like
        `reading()`."""
        with self._lookups.connect() as connection:
            yield connection

    def alongside(self, statement) -> Callable[[], object] | None:
        """PostgreSQL: read one value (a ledger's count) on a connection of its own, in a thread, while the
        caller reads and shows the rest; returns how to take the value (waiting for it if need be).

        A count over 100,000 items takes the server 10–30 ms whatever the page; run alongside, the page,
        its units and its rows are ready about when it is. None (read it in line, as before) on SQLite,
        whose reads share this process's CPU, and when the pool has no connection free now: a request
        holding one connection must not queue for a second (requests doing so could wait on each other
        until the pool's timeout). Like `lookup`, it reads outside a transaction."""
        if not self._connections or self.engine.pool.checkedout() >= self._connections:
            return None
        answer: Future = Future()

        def read() -> None:
            try:
                with self.lookup() as connection:
                    answer.set_result(connection.scalar(statement))
            except BaseException as error:  # noqa: BLE001 - raised where the value is taken
                answer.set_exception(error)

        threading.Thread(target=read, name="duban-alongside", daemon=True).start()
        return answer.result

    def dispose(self) -> None:
        if self.checkpoints is not None:
            self.checkpoints.stop()
        self.engine.dispose()


def _is_locked(error: OperationalError) -> bool:
    return isinstance(error.orig, sqlite3.OperationalError) and "locked" in str(error.orig)


def retrying(operation):
    """Run an operation that uses `Database.step()` again when it lost a write race (SQLite)."""

    @functools.wraps(operation)
    def run(*args, **kwargs):
        for attempt in range(WRITE_ATTEMPTS):
            token = _RERUN.set(True) if attempt else None
            try:
                return operation(*args, **kwargs)
            except WriteConflict:
                if attempt == WRITE_ATTEMPTS - 1:
                    raise
            finally:
                if token is not None:
                    _RERUN.reset(token)
        raise AssertionError("unreachable")

    return run


def on_postgres(session: Session) -> bool:
    """Whether the session talks to PostgreSQL (else SQLite): where the two need different SQL or locks."""
    return session.get_bind().dialect.name == "postgresql"


def next_id(session: Session, model) -> int:
    """The id for a new row of `model`, taken without writing (so an engine step can name its
    item before it writes anything). PostgreSQL hands it out from the sequence; on SQLite a
    competing insert makes this transaction's write fail and the operation rerun (see `step`)."""
    table = model.__table__
    if on_postgres(session):
        return session.scalar(text("SELECT nextval(pg_get_serial_sequence(:table, 'id'))"), {"table": table.name})
    return (session.scalar(select(func.max(table.c.id))) or 0) + 1


def dialect_insert(session: Session):
    """The session's database's INSERT, which knows ON CONFLICT (PostgreSQL and SQLite alike): a row
    several processes may create at the same moment is then written once, never a duplicate key."""
    if on_postgres(session):
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def rows_select(table, columns, count: int, prefix: str = ""):
    """A SELECT of `count` rows of parameters, `{prefix}{column}_{index}`, one UNION ALL branch a row,
    in their order; rows_params(...) gives their values.

    For an INSERT … SELECT that goes in one statement with others (audit.along), built once per shape
    and kept: SQLAlchemy caches no statement holding VALUES or a multi-row INSERT … VALUES (such a
    statement was compiled anew at every step), and building a statement and its cache key anew costs
    more than running it."""
    selects = [select(*(bindparam(f"{prefix}{name}_{index}", type_=table.c[name].type).label(name)
                        for name in columns))
               for index in range(count)]
    return selects[0] if count == 1 else union_all(*selects)


def rows_params(rows: list[dict], columns, prefix: str = "") -> dict:
    """The parameters of rows_select(table, columns, len(rows), prefix) for `rows`."""
    return {f"{prefix}{name}_{index}": row[name] for index, row in enumerate(rows) for name in columns}


def insert_rows(table, columns, count: int, prefix: str = ""):
    """INSERT `count` rows into `table` as one statement to keep (see rows_select)."""
    return insert(table).from_select(list(columns), rows_select(table, columns, count, prefix))
