"""Fixtures: a fresh database per test (SQLite file or PostgreSQL), a clock tests move, the demo org.

PostgreSQL and Redis are real services here (DUBAN_TEST_POSTGRES_URL, DUBAN_TEST_REDIS_URL,
set by the Makefile). When one is unreachable the tests that need it fail; they never skip.
What a test module imports lives in tests/support (databases, org); this file holds fixtures only.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from engine import security
from engine.clock import FixedClock
from tests.support.databases import migrate, redis_check, require_service, scratch_postgres, truncate
from tests.support.org import START, make_duban, seed

# Tests hash many passwords; production keeps argon2's defaults.
security.configure(time_cost=1, memory_cost=1024, parallelism=1)


# The fixtures through which a test reaches each service; `pytest -m "not postgres"` and the like select by them.
SERVICE_FIXTURES = {"postgres": {"postgres_database"}, "redis": {"redis_url"}, "browser": {"chromium"}}


def pytest_collection_modifyitems(config, items):
    """Mark every test with the services it needs (the markers declared in setup.cfg): by the fixtures
    it uses, the PostgreSQL run of a `database_url` test, and tests/browser/ for the browser. A test
    that reaches a service otherwise (scratch_postgres) carries its marker itself."""
    browser_dir = Path(__file__).parent / "browser"
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        callspec = getattr(item, "callspec", None)
        needs = {marker for marker, fixtures in SERVICE_FIXTURES.items() if names & fixtures}
        if callspec is not None and callspec.params.get("database_url") == "postgres":
            needs.add("postgres")
        if browser_dir in item.path.parents:
            needs.add("browser")
        for marker in sorted(needs - {m.name for m in item.iter_markers()}):
            item.add_marker(marker)


@pytest.fixture(scope="session")
def redis_url():
    return require_service("redis", os.environ.get("DUBAN_TEST_REDIS_URL"), redis_check)


@pytest.fixture(scope="session")
def postgres_database():
    """A database of our own on the PostgreSQL server, migrated once, dropped at the end."""
    with scratch_postgres() as url:
        migrate(url)
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A migrated SQLite file that each test copies (migrating per test would be slow)."""
    path = tmp_path_factory.mktemp("template") / "duban.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path, sqlite_template):
    """Each engine test runs on SQLite and again on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "duban.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_database")
    truncate(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path, sqlite_template):
    path = tmp_path / "duban.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def clock():
    return FixedClock(START)


@pytest.fixture
def duban(database_url, clock, tmp_path):
    context = make_duban(database_url, clock, tmp_path)
    yield context
    context.db.dispose()


@pytest.fixture
def duban_sqlite(sqlite_url, clock, tmp_path):
    context = make_duban(sqlite_url, clock, tmp_path)
    yield context
    context.db.dispose()


@pytest.fixture
def org(duban):
    return seed(duban)


@pytest.fixture
def org_sqlite(duban_sqlite):
    return seed(duban_sqlite)


@pytest.fixture
def duban_pg(postgres_database, clock, tmp_path):
    """PostgreSQL only: for what SQLite's single writer makes impossible (stale concurrent writes)."""
    truncate(postgres_database)
    context = make_duban(postgres_database, clock, tmp_path)
    yield context
    context.db.dispose()


@pytest.fixture
def org_pg(duban_pg):
    return seed(duban_pg)
