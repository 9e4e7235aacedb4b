"""Serving for real, in one process: liveness and readiness, a trusted reverse proxy, pool sizes from
the settings, and the logs (one line per request, SpiffWorkflow quiet, JSON on request)."""
import io
import json
import logging

import pytest
from sqlalchemy import select

from engine import logs
from engine.config import Settings
from engine.models import AuditRecord
from tests.support.org import make_duban, seed
from tests.support.web import csrf_of
from tests.workflow.harness import MainProcess
from web import create_app

# Nothing listens on port 1: connections are refused at once, as when Redis or PostgreSQL is down.
REDIS_DOWN = "redis://127.0.0.1:1/0"
POSTGRES_DOWN = "postgresql+psycopg://duban@127.0.0.1:1/duban"


@pytest.fixture
def make_app(sqlite_url, clock, tmp_path):
    made = []

    def make(url=None, **settings):
        context = make_duban(url or sqlite_url, clock, tmp_path, **settings)
        made.append(context)
        if url is None:
            seed(context)
        app = create_app(duban=context)
        app.config["TESTING"] = True
        return app

    yield make
    for context in made:
        context.db.dispose()


def test_liveness_asks_nothing_and_readiness_the_database(client):
    assert (client.get("/healthz/live").status_code, client.get("/healthz/live").json) == (200, {"status": "ok"})
    ready = client.get("/healthz/ready")
    assert (ready.status_code, ready.json) == (200, {"status": "ok", "database": "ok", "redis": "embedded"})
    assert client.get("/healthz").json == {"status": "ok", "database": "ok", "broker": "embedded"}  # as before


def test_a_redis_outage_keeps_the_node_ready(make_app):
    client = make_app(redis_url=REDIS_DOWN).test_client()
    ready = client.get("/healthz/ready")
    assert (ready.status_code, ready.json) == (200, {"status": "ok", "database": "ok", "redis": "down"})
    assert client.get("/healthz/live").status_code == 200
    # /healthz stays the whole installation's state, for monitoring: Redis down is an error there.
    whole = client.get("/healthz")
    assert (whole.status_code, whole.json["broker"]) == (503, "error")


def test_a_database_outage_makes_the_node_unready_but_alive(make_app):
    client = make_app(url=POSTGRES_DOWN).test_client()
    ready = client.get("/healthz/ready")
    assert (ready.status_code, ready.json["status"], ready.json["database"]) == (503, "error", "error")
    assert client.get("/healthz/live").status_code == 200
    assert client.get("/healthz").status_code == 503


def _token_ip(app, headers, peer="10.0.0.5") -> str | None:
    client = app.test_client()
    response = client.post("/api/v1/auth/token", json={"username": "office", "password": "duban-demo"},
                           headers=headers, environ_base={"REMOTE_ADDR": peer})
    assert response.status_code == 200, response.json
    with app.extensions["duban"].db.reading() as session:
        return session.scalars(select(AuditRecord.ip).where(AuditRecord.action == "auth.login")
                               .order_by(AuditRecord.id.desc())).first()


def test_the_audit_log_names_the_client_behind_a_trusted_proxy(make_app):
    forwarded = {"X-Forwarded-For": "203.0.113.7"}
    assert _token_ip(make_app(trusted_proxies=1), forwarded) == "203.0.113.7"
    # Not configured: anyone could write the header, so the peer's address is recorded.
    assert _token_ip(make_app(), forwarded) == "10.0.0.5"
    # Two proxies: a client's own X-Forwarded-For entry (before theirs) is not believed.
    two = {"X-Forwarded-For": "6.6.6.6, 203.0.113.7, 10.0.0.9"}
    assert _token_ip(make_app(trusted_proxies=2), two) == "203.0.113.7"


def _session_cookie(app, headers) -> list[str]:
    client = app.test_client()
    form = client.get("/login", headers=headers).text
    response = client.post("/login", headers=headers,
                           data={"username": "office", "password": "duban-demo", "csrf_token": csrf_of(form)})
    assert response.status_code == 302
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    return [part.strip() for part in header.split(";")]


def test_cookies_are_secure_when_a_trusted_proxy_says_https(make_app):
    https = {"X-Forwarded-Proto": "https"}
    assert "Secure" in _session_cookie(make_app(trusted_proxies=1), https)
    assert "Secure" not in _session_cookie(make_app(trusted_proxies=1), {"X-Forwarded-Proto": "http"})
    assert "Secure" not in _session_cookie(make_app(), https)  # a header anyone may send


def test_settings_read_the_serving_variables():
    settings = Settings.from_env({"DUBAN_TRUSTED_PROXIES": "2", "DUBAN_DB_POOL_SIZE": "3", "DUBAN_DB_MAX_OVERFLOW": "1",
                                  "DUBAN_LOG_LEVEL": "DEBUG", "DUBAN_LOG_FORMAT": "json"}, secret_key="x")
    assert (settings.trusted_proxies, settings.db_pool_size, settings.db_max_overflow) == (2, 3, 1)
    assert (settings.log_level, settings.log_format) == ("debug", "json")
    defaults = Settings.from_env({}, secret_key="x")
    assert (defaults.trusted_proxies, defaults.log_level, defaults.log_format) == (0, "info", "text")
    with pytest.raises(ValueError, match="DUBAN_LOG_FORMAT"):
        Settings.from_env({"DUBAN_LOG_FORMAT": "xml"}, secret_key="x")


def test_the_database_pool_is_sized_from_the_settings(postgres_database, clock, tmp_path):
    context = make_duban(postgres_database, clock, tmp_path, db_pool_size=3, db_max_overflow=2)
    try:
        pool = context.db.engine.pool
        assert (pool.size(), pool._max_overflow) == (3, 2)
    finally:
        context.db.dispose()


@pytest.fixture
def log_output():
    """The root logger as `logs.configure` leaves it, writing to a buffer; restored afterwards."""
    root, spiff = logging.getLogger(), [logging.getLogger("spiff"), logging.getLogger("spiff.workflow")]
    saved = (list(root.handlers), root.level, [logger.level for logger in spiff])
    buffer = io.StringIO()

    def configure(**env):
        logs.configure(Settings.from_env(env, secret_key="x"), stream=buffer)
        return buffer

    yield configure
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    for logger, level in zip(spiff, saved[2], strict=True):
        logger.setLevel(level)


def test_one_log_line_per_request_with_who_asked(as_, log_output):
    output = log_output()
    as_("office").get("/api/v1/tasks")
    lines = [line for line in output.getvalue().splitlines() if " duban.request " in line]
    assert len(lines) == 2  # the sign-in, then the inbox
    assert "POST /api/v1/auth/token 200" in lines[0] and lines[0].endswith(" - 127.0.0.1")
    inbox = lines[1].split(" duban.request ")[1]
    assert inbox.startswith("GET /api/v1/tasks 200 ") and inbox.endswith(" office 127.0.0.1")
    duration = inbox.split()[3]
    assert duration.endswith("ms") and float(duration[:-2]) > 0


def test_json_logs_carry_the_request_fields(as_, log_output):
    output = log_output(DUBAN_LOG_FORMAT="json")
    as_("office").get("/api/v1/tasks?limit=5")
    records = [json.loads(line) for line in output.getvalue().splitlines()]
    inbox = next(r for r in records if r["logger"] == "duban.request" and r["path"] == "/api/v1/tasks")
    assert (inbox["method"], inbox["status"], inbox["user"], inbox["level"]) == ("GET", 200, "office", "info")
    assert inbox["duration_ms"] > 0 and inbox["time"].endswith("+00:00")


def test_spiffworkflow_state_changes_are_heard_only_at_debug(log_output):
    output = log_output()
    logging.getLogger("spiff.task").info("State changed to READY")
    logging.getLogger("spiff.task").warning("a real warning")
    assert "State changed" not in output.getvalue() and "a real warning" in output.getvalue()
    output = log_output(DUBAN_LOG_LEVEL="debug")
    logging.getLogger("spiff.task").info("State changed to READY")
    assert "State changed" in output.getvalue()
    assert len(logging.getLogger().handlers) == 1  # configured twice, one handler: no doubled lines


def test_spiffworkflow_lists_a_workflows_tasks_in_its_log_lines_only_at_debug(log_output):
    # It does so by its own logger's level, whether the line is heard or not: a walk of every task
    # whenever a workflow or subprocess finishes.
    workflow = MainProcess(restore=False).start().run.workflow
    log_output()
    assert "tasks" not in workflow.collect_log_extras()
    log_output(DUBAN_LOG_LEVEL="debug")
    assert len(workflow.collect_log_extras()["tasks"]) == len(workflow.tasks)
