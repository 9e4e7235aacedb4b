"""The real database services of the tests: a PostgreSQL database of a test's own, migrated or emptied.

PostgreSQL and Redis are real services (DUBAN_TEST_POSTGRES_URL, DUBAN_TEST_REDIS_URL, set by the
Makefile). When one is unreachable the tests that need it fail; they never skip.
"""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from engine.bootstrap import bootstrap
from engine.config import Settings
from engine.db import Database
from engine.migrate import upgrade
from engine.models import Base
from engine.services import calendar


def require_service(name: str, url: str | None, check) -> str:
    if not url:
        pytest.fail(f"{name} is required: set DUBAN_TEST_{name.upper()}_URL (make test sets it)")
    try:
        check(url)
    except Exception as error:  # noqa: BLE001
        pytest.fail(f"{name} at {url} is unreachable ({error}); the tests need the real service")
    return url


def redis_check(url):
    import redis

    redis.Redis.from_url(url, socket_connect_timeout=2).ping()


def pg_check(url):
    engine = create_engine(url)
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    engine.dispose()


@contextmanager
def scratch_postgres(prefix: str = "duban_test"):
    """An empty database of our own on the PostgreSQL server (its URL), dropped afterwards."""
    base = require_service("postgres", os.environ.get("DUBAN_TEST_POSTGRES_URL"), pg_check)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def migrate(url: str) -> None:
    """What `duban db upgrade` does: the schema, then the official holiday schedule."""
    db = Database(url)
    upgrade(db)
    calendar.sync_official(bootstrap(Settings.from_env({}, database_url=url, secret_key="x"), db=db))
    db.dispose()


_OFFICIAL = {}


def truncate(url: str) -> None:
    """Empty every table, then put back the official calendar (tests may have corrected days)."""
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        if url not in _OFFICIAL:
            _OFFICIAL[url] = (
                [dict(r._mapping)
                 for r in connection.execute(text("SELECT * FROM calendar_days WHERE source = 'official'"))],
                [dict(r._mapping)
                 for r in connection.execute(text("SELECT * FROM calendar_years WHERE source = 'official'"))],
            )
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        days, years = _OFFICIAL[url]
        connection.execute(Base.metadata.tables["calendar_days"].insert(), days)
        connection.execute(Base.metadata.tables["calendar_years"].insert(), years)
    engine.dispose()
