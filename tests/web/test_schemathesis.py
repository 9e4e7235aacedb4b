"""Property-based tests of the whole API from its own OpenAPI document (schemathesis).

Each operation gets generated requests, valid and invalid (schemathesis' positive and negative
modes), as a signed-in user and without a token. No response may be a 5xx, and every response must
match what the document promises: status code, content type, headers, body schema.

schemathesis' own pytest plugin (`from_fixture(...).parametrize()`) does not run under pytest 9.2
(it writes `Function._nodeid`), so each operation is a plain pytest test that runs Hypothesis over
`operation.as_strategy()` and calls the app in-process through WSGI.
"""
from __future__ import annotations

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings, strategies as st
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance

import web.api
from tests.support.org import seed
from web import create_app

METHODS = ("get", "put", "post", "patch", "delete")
EXAMPLES = 15  # per operation, user and mode: some 60 requests per operation signed in, 5 without


def _spec() -> dict:
    """The API's own OpenAPI document (no database needed)."""
    app = Flask("spec")
    web.api.register(app)
    return app.test_client().get("/api/openapi.json").json


SPEC = _spec()
OPERATIONS = [(method.upper(), path) for path, item in SPEC["paths"].items() for method in item if method in METHODS]
# Operations that answer without a token: security `[]`, or a list with the empty requirement `{}`.
ANONYMOUS = {(method.upper(), path) for path, item in SPEC["paths"].items() for method, operation in item.items()
             if method in METHODS and "security" in operation
             and (not operation["security"] or {} in operation["security"])}


def _id(operation):
    return f"{operation[0]} {operation[1]}"


def _negatable(method: str, path: str) -> bool:
    """Whether a request can be invalid at all: it has parameters, a body, or a required token."""
    item = SPEC["paths"][path]
    operation = item[method.lower()]
    return bool(item.get("parameters") or operation.get("parameters") or "requestBody" in operation
                or (method, path) not in ANONYMOUS)


# Unknown query parameters are ignored (as most HTTP APIs do), so schemathesis should not send them as
# "invalid" data. A schema-valid request may still be refused with a documented 422: the rules behind
# it (well-formed BPMN, variable names, ISO dates, form fields) are more than JSON Schema says.
CONFIG = SchemathesisConfig.from_dict({"generation": {"allow-extra-parameters": False}})
EXCLUDED_CHECKS = [positive_data_acceptance]


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app, config=CONFIG)


@pytest.fixture
def world(app):
    """Tokens of the demo users and real identifiers, so generated requests reach real objects too."""
    client = app.test_client()

    def token(username):
        response = client.post("/api/v1/auth/token", json={"username": username, "password": "duban-demo"})
        assert response.status_code == 200, response.json
        return response.json["token"]

    tokens = {name: token(name) for name in ("office", "admin")}
    office = {"Authorization": f"Bearer {tokens['office']}"}
    item = client.post("/api/v1/items", headers=office, json={"title": "推进重点项目建设", "category": "major"}).json
    task = client.get(f"/api/v1/tasks?instance_id={item['instance_id']}", headers=office).json[0]
    notifications = client.get("/api/v1/notifications", headers=office).json
    known = {"item_id": item["id"], "instance_id": item["instance_id"], "task_id": task["id"],
             "key": "duban_main", "year": 2026, "username": "unit_a", "role": "unit",
             "notification_id": notifications[0]["id"] if notifications else 1}
    return {"token": token, "tokens": tokens, "known": known}


def _fuzz(operation, mode: GenerationMode, check, max_examples: int = EXAMPLES, known: dict | None = None):
    strategy = operation.as_strategy(generation_mode=mode)
    if known:
        # Half the time, point the path at objects that exist (random ids only ever find 404s).
        params = {p.name: known[p.name] for p in operation.path_parameters if p.name in known}
        if params and len(params) == len(list(operation.path_parameters)):
            strategy = st.one_of(strategy, operation.as_strategy(generation_mode=mode, path_parameters=params))

    @settings(max_examples=max_examples, deadline=None, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck), derandomize=True, database=None)
    @given(case=strategy)
    def run(case):
        check(case)

    run()


def _as(username, world):
    def check(case):
        # Signing out revokes the token it is sent with: that operation gets tokens of its own.
        fresh = case.method == "DELETE" and case.path == "/api/v1/auth/token"
        token = world["token"](username) if fresh else world["tokens"][username]
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, excluded_checks=EXCLUDED_CHECKS)

    return check


@pytest.mark.parametrize("operation", OPERATIONS, ids=_id)
def test_signed_in(api_schema, world, subtests, operation):
    """As the office and as the administrator, valid requests then invalid ones, on one database."""
    method, path = operation
    modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if _negatable(method, path) else [])
    for username in ("office", "admin"):
        for mode in modes:
            with subtests.test(msg=f"{username} {mode}"):
                _fuzz(api_schema[path][method], mode, _as(username, world), known=world["known"])


@pytest.mark.parametrize("operation", OPERATIONS, ids=_id)
def test_without_a_token(api_schema, operation):
    method, path = operation

    def check(case):
        case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
        response = case.call_and_validate(excluded_checks=EXCLUDED_CHECKS)
        if (method, path) not in ANONYMOUS:
            # NUL characters are refused before anything else (web/api/input_guard.py), a token included.
            nul = response.status_code == 422 and "NUL" in response.json()["message"]
            assert response.status_code == 401 or nul, (case.method, case.formatted_path, response.status_code)

    _fuzz(api_schema[path][method], GenerationMode.POSITIVE, check, max_examples=5)


@pytest.fixture
def pg_client(duban_pg):
    seed(duban_pg)
    app = create_app(duban=duban_pg)
    app.config["TESTING"] = True
    return app.test_client()


@pytest.mark.postgres
def test_nul_characters_are_invalid_input_on_postgresql(pg_client):
    """What schemathesis found on PostgreSQL, whose text columns cannot hold NUL: 422, not 500."""
    token = pg_client.post("/api/v1/auth/token", json={"username": "admin", "password": "duban-demo"}).json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    requests = [
        ("post", "/api/v1/auth/token", {"json": {"username": "of\x00fice", "password": "x"}}, "json", "username"),
        ("post", "/api/v1/items", {"json": {"title": "推进\x00建设"}, "headers": headers}, "json", "title"),
        ("get", "/api/v1/items?unit=fgj%00", {"headers": headers}, "query", "unit"),
        ("post", "/api/v1/instances", {"json": {"definition_key": "duban_main", "data": {"a": ["\x00"]}},
                                       "headers": headers}, "json", "data.a"),
        ("put", "/api/v1/calendar/days", {"json": {"date": "2026-10-09", "workday": True, "note": "\x00"},
                                          "headers": headers}, "json", "note"),
        ("get", "/api/v1/tasks/x%00", {"headers": headers}, "path", "task_id"),
    ]
    for method, path, kwargs, location, field in requests:
        response = getattr(pg_client, method)(path, **kwargs)
        assert response.status_code == 422, (path, response.get_data(as_text=True))
        assert response.json["error"] == "invalid_input"
        assert response.json["details"][0] == {"field": field, "location": location,
                                               "message": "不能含有 NUL 字符（U+0000）"}, path
