"""The web tests' common fixtures: the demo organisation behind a Flask app, its test client, and
bearer-authenticated callers by username."""
import pytest

from engine import security
from engine.models import User, UserRole
from tests.integration.scoring import october
from tests.support.org import seed
from web import create_app


@pytest.fixture
def app(duban_sqlite):
    seed(duban_sqlite)
    app = create_app(duban=duban_sqlite)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def as_(client):
    """as_("office") -> a Caller holding that demo user's bearer token (one per user)."""
    from tests.support.web import Caller

    cache = {}

    def caller(username):
        if username not in cache:
            cache[username] = Caller(client, username)
        return cache[username]

    return caller


@pytest.fixture
def sysadmin(app, duban_sqlite):
    """A `sysadmin` account (系统管理员 of 县委办, demo password) besides the demo users."""
    with duban_sqlite.db.transaction() as session:
        user = User(username="sysadmin", display_name="系统管理员", password_hash=security.hash_password("duban-demo"),
                    unit_id="xwb", created_at=duban_sqlite.clock.now())
        user.role_rows = [UserRole(role="sysadmin")]
        session.add(user)


@pytest.fixture
def scored_world(duban_sqlite):
    """October's scored items (tests.integration.scoring) behind an app: (app, items)."""
    org = seed(duban_sqlite)
    items = october(duban_sqlite, org)
    app = create_app(duban=duban_sqlite)
    app.config["TESTING"] = True
    return app, items
