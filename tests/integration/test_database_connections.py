"""The pool's connections to PostgreSQL: a warm one is used without a round trip to check it, and
connections the server ended (terminated backends, as a restart ends them) are replaced before use,
so no request fails for them."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from engine import db as database, services
from tests.support.waiting import wait_for


@pytest.fixture
def pings(duban_pg, monkeypatch):
    """The round trips made to check pooled connections (SQLAlchemy's ping), counted."""
    dialect, counted = duban_pg.db.engine.dialect, []
    original = dialect.do_ping

    def counting(dbapi_connection):
        counted.append(dbapi_connection)
        return original(dbapi_connection)

    monkeypatch.setattr(dialect, "do_ping", counting)
    return counted


def _use(duban) -> None:
    """What a request does with the database: who holds a token (lookup), then a transaction."""
    with duban.db.lookup() as connection:
        assert connection.execute(text("SELECT 1")).scalar() == 1
    with duban.db.transaction() as session:
        assert session.execute(text("SELECT 1")).scalar() == 1


def _hold_connections(duban, count: int) -> None:
    """`count` connections open at once, so that the pool keeps that many."""
    barrier = threading.Barrier(count)

    def hold():
        with duban.db.transaction() as session:
            session.execute(text("SELECT 1"))
            barrier.wait(timeout=30)

    threads = [threading.Thread(target=hold) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_a_warm_connection_is_used_without_a_ping(duban_pg, pings):
    _use(duban_pg)
    for _ in range(5):
        _use(duban_pg)
    assert pings == []


def test_a_connection_idle_for_long_is_pinged_before_use(duban_pg, pings, monkeypatch):
    _use(duban_pg)
    monkeypatch.setattr(database, "PING_AFTER_IDLE_S", 0.0)
    _use(duban_pg)
    assert len(pings) == 2  # the lookup's connection and the transaction's


def test_connections_the_server_ended_are_replaced_without_a_failed_request(duban_pg, org_pg, pings):
    _hold_connections(duban_pg, 3)
    admin = create_engine(duban_pg.db.url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            ended = connection.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalars().all()
            assert len(ended) >= 3 and all(ended)

            def gone():
                return connection.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                                               "current_database() AND pid <> pg_backend_pid()")).scalar() == 0

            wait_for(gone, timeout=10, what="the terminated backends to end")
        # Each pooled connection is found dead before use (its socket has the server's goodbye).
        for _ in range(3):
            _use(duban_pg)
        _hold_connections(duban_pg, 3)
        tasks, _ = services.list_tasks(duban_pg, org_pg["office"])
        assert tasks == []
        assert pings  # the dead ones were checked, and replaced
    finally:
        admin.dispose()


def test_connections_plan_for_short_queries(duban_pg):
    """PostgreSQL's JIT would compile a 100,000-item count or statistic for longer than it runs, and its
    default price of parallel workers sends a ledger's 10 ms count to two processes started for it: every
    connection (reads, steps, lookups) has JIT off and parallel workers priced at what they cost."""
    settings = text("SELECT current_setting('jit'), current_setting('parallel_setup_cost')")
    with duban_pg.db.reading() as session:
        assert tuple(session.execute(settings).one()) == ("off", "3000")
    with duban_pg.db.transaction() as session:
        assert tuple(session.execute(settings).one()) == ("off", "3000")
    with duban_pg.db.lookup() as connection:
        assert tuple(connection.execute(settings).one()) == ("off", "3000")


_WAITS_FOR_LOCK_7 = text("SELECT pg_backend_pid() FROM (SELECT pg_advisory_xact_lock_shared(7)) AS granted")


def test_a_count_is_read_alongside_on_a_connection_of_its_own(duban_pg):
    """The ledger's count runs in a thread on a second connection while the page is read (db.alongside):
    it is under way before its value is taken, and the value comes from another backend."""
    admin = create_engine(duban_pg.db.url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as holder, duban_pg.db.lookup() as connection:
            holder.execute(text("SELECT pg_advisory_lock(7)"))
            taken = []  # asked from a thread: a read made in line would wait here for the lock
            asking = threading.Thread(target=lambda: taken.append(duban_pg.db.alongside(_WAITS_FOR_LOCK_7)))
            asking.start()
            asking.join(timeout=10)
            assert taken and taken[0] is not None, "alongside did not hand back the read under way"
            take = taken[0]

            def waiting() -> bool:
                return holder.execute(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                           "AND objid = 7 AND NOT granted")).scalar() == 1

            wait_for(waiting, timeout=10, what="the read alongside to wait for the lock")
            holder.execute(text("SELECT pg_advisory_unlock(7)"))
            own = connection.execute(text("SELECT pg_backend_pid()")).scalar()
            assert take() not in (own, None)
    finally:
        admin.dispose()


def test_a_failed_read_alongside_raises_where_its_value_is_taken(duban_pg):
    take = duban_pg.db.alongside(text("SELECT 1 / 0"))
    with pytest.raises(DBAPIError, match="division by zero"):
        take()


def test_nothing_is_read_alongside_without_a_free_connection_or_on_sqlite(duban_pg, duban_sqlite):
    """A request holding the pool's last connection counts in line rather than queue for a second."""
    small = database.Database(duban_pg.db.url, pool_size=1, max_overflow=0)
    try:
        with small.lookup():
            assert small.alongside(text("SELECT 1")) is None
        assert small.alongside(text("SELECT 1"))() == 1
    finally:
        small.dispose()
    assert duban_sqlite.db.alongside(text("SELECT 1")) is None
