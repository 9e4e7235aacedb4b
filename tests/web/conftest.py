"""The web tests' common fixtures: the demo organisation behind a Flask app, its test client, and
bearer-authenticated callers by username."""
import pytest

from tests.conftest import seed
from tests.integration.scoring import october
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
    from tests.web.test_api import Caller

    cache = {}

    def caller(username):
        if username not in cache:
            cache[username] = Caller(client, username)
        return cache[username]

    return caller


@pytest.fixture
def scored_world(duban_sqlite):
    """October's scored items (tests.integration.scoring) behind an app: (app, items)."""
    org = seed(duban_sqlite)
    items = october(duban_sqlite, org)
    app = create_app(duban=duban_sqlite)
    app.config["TESTING"] = True
    return app, items


def client_as(app, username):
    """A test client holding `username`'s bearer token (demo password)."""
    client = app.test_client()
    token = client.post("/api/v1/auth/token", json={"username": username, "password": "duban-demo"}).json["token"]
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client
