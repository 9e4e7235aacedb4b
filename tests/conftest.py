"""Fixtures: a fresh database per test (SQLite file or PostgreSQL), a clock tests move, the demo org.

PostgreSQL and Redis are real services here (DUBAN_TEST_POSTGRES_URL, DUBAN_TEST_REDIS_URL,
set by the Makefile). When one is unreachable the tests that need it fail; they never skip.
"""
from __future__ import annotations

import os
import shutil
import uuid
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from engine import security, services
from engine.bootstrap import bootstrap
from engine.clock import FixedClock
from engine.config import Settings
from engine.db import Database
from engine.migrate import upgrade
from engine.models import Base, User
from engine.services import calendar

ROOT = Path(__file__).resolve().parents[1]
BPMN = ROOT / "bpmn"


def _corpus() -> Path:
    """shared/corpus beside the checkout (or DUBAN_CORPUS_DIR; CI clones elsewhere)."""
    if os.environ.get("DUBAN_CORPUS_DIR"):
        return Path(os.environ["DUBAN_CORPUS_DIR"])
    for parent in [*ROOT.parents, Path("/work")]:
        if (parent / "shared" / "corpus").is_dir():
            return parent / "shared" / "corpus"
    return ROOT.parent / "shared" / "corpus"


CORPUS = _corpus()
# Monday 2026-09-28, 09:00 in Beijing: the week before the National Day holiday.
START = datetime(2026, 9, 28, 9, 0)

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


def require_service(name: str, url: str | None, check) -> str:
    if not url:
        pytest.fail(f"{name} is required: set DUBAN_TEST_{name.upper()}_URL (make test sets it)")
    try:
        check(url)
    except Exception as error:  # noqa: BLE001
        pytest.fail(f"{name} at {url} is unreachable ({error}); the tests need the real service")
    return url


def _pg_check(url):
    engine = create_engine(url)
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    engine.dispose()


def _redis_check(url):
    import redis

    redis.Redis.from_url(url, socket_connect_timeout=2).ping()


@pytest.fixture(scope="session")
def redis_url():
    return require_service("redis", os.environ.get("DUBAN_TEST_REDIS_URL"), _redis_check)


@contextmanager
def scratch_postgres(prefix: str = "duban_test"):
    """An empty database of our own on the PostgreSQL server (its URL), dropped afterwards."""
    base = require_service("postgres", os.environ.get("DUBAN_TEST_POSTGRES_URL"), _pg_check)
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


@pytest.fixture(scope="session")
def postgres_database():
    """A database of our own on the PostgreSQL server, migrated once, dropped at the end."""
    with scratch_postgres() as url:
        _migrate(url)
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A migrated SQLite file that each test copies (migrating per test would be slow)."""
    path = tmp_path_factory.mktemp("template") / "duban.db"
    _migrate(f"sqlite:///{path}")
    return path


def _migrate(url: str) -> None:
    """What `duban db upgrade` does: the schema, then the official holiday schedule."""
    db = Database(url)
    upgrade(db)
    calendar.sync_official(bootstrap(Settings.from_env({}, database_url=url, secret_key="x"), db=db))
    db.dispose()


_OFFICIAL = {}


def _truncate(url: str) -> None:
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


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path, sqlite_template):
    """Each engine test runs on SQLite and again on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "duban.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_database")
    _truncate(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path, sqlite_template):
    path = tmp_path / "duban.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def clock():
    return FixedClock(START)


def make_duban(url: str, clock, tmp_path, **settings):
    config = Settings.from_env({}, var_dir=tmp_path / "var", database_url=url, secret_key="test-secret",
                               **settings)
    return bootstrap(config, clock=clock)


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


def bpmn_bundle(*names: str) -> tuple[dict, dict]:
    files = {name: (BPMN / name).read_bytes() for name in names}
    forms = {p.name: p.read_bytes() for p in sorted((BPMN / "forms").glob("*.form"))}
    return files, forms


def seed(context) -> Org:
    services.seed_demo(context)
    services.deploy(context, *bpmn_bundle("duban_main.bpmn", "duban_extension.bpmn"))
    return Org(context)


class Org:
    """The demo organisation's people as actors (no password round trip)."""

    def __init__(self, context):
        self.context = context
        self._actors = {}

    def __getitem__(self, username: str):
        if username not in self._actors:
            with self.context.db.reading() as session:
                user = session.query(User).filter_by(username=username).one()
                self._actors[username] = services.auth.actor_of(user)
        return self._actors[username]

    def add_user(self, username: str, role: str, unit: str):
        from engine.models import UserRole

        with self.context.db.transaction() as session:
            user = User(username=username, display_name=username, password_hash=security.hash_password("x"),
                        unit_id=unit, created_at=self.context.clock.now())
            user.role_rows = [UserRole(role=role)]
            session.add(user)
        return self[username]


@pytest.fixture
def org(duban):
    return seed(duban)


@pytest.fixture
def org_sqlite(duban_sqlite):
    return seed(duban_sqlite)


@pytest.fixture
def duban_pg(postgres_database, clock, tmp_path):
    """PostgreSQL only: for what SQLite's single writer makes impossible (stale concurrent writes)."""
    _truncate(postgres_database)
    context = make_duban(postgres_database, clock, tmp_path)
    yield context
    context.db.dispose()


@pytest.fixture
def org_pg(duban_pg):
    return seed(duban_pg)
