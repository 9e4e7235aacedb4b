"""The web tests' common fixtures: the demo organisation behind a Flask app, its test client, and
bearer-authenticated callers by username."""
import pytest

from tests.conftest import seed
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
