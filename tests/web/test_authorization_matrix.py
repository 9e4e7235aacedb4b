"""Every demo user × every endpoint and page: who gets through, who is refused, and how.

The situation: one item registered by the office and assigned to 发改局 (lead) and 财政局 (co-unit),
both units' 签收 tasks open. 403 means "you may not do this"; 404 means "for you it does not exist"
(a task or item outside your part of the work). The whole table is checked for every user, and a
mismatch anywhere is reported with all others.
"""
import io

import pytest

from engine import services
from tests.integration.flow import complete
from tests.support.org import seed
from web import create_app

USERS = ("office", "leader", "unit_a", "unit_b", "discipline", "designer", "admin", "secadmin", "auditor")
SUPERVISORS = {"office", "leader", "admin"}
ON_THE_ITEM = SUPERVISORS | {"unit_a", "unit_b"}


def only(allowed, ok=200, refused=403):
    return {user: ok if user in allowed else refused for user in USERS}


# (method, path template, body, {user: status}); {item}, {instance}, {task} are filled in.
MATRIX = [
    ("GET", "/api/v1/me", None, only(USERS)),
    ("GET", "/api/v1/units", None, only(USERS)),
    ("GET", "/api/v1/definitions", None, only(USERS)),
    ("GET", "/api/v1/definitions/duban_main/xml", None, only(USERS)),
    ("GET", "/api/v1/instances", None, only(USERS)),
    ("GET", "/api/v1/instances/{instance}", None, only(ON_THE_ITEM, refused=404)),
    ("GET", "/api/v1/items", None, only(USERS)),
    ("GET", "/api/v1/items/{item}", None, only(ON_THE_ITEM, refused=404)),
    ("GET", "/api/v1/items/{item}/record", None, only(ON_THE_ITEM, refused=404)),
    ("GET", "/api/v1/tasks", None, only(USERS)),
    # units see only their own unit's tasks (unit_b takes part in the item, but this is unit_a's task)
    ("GET", "/api/v1/tasks/{task}", None, only(SUPERVISORS | {"unit_a"}, refused=404)),
    ("POST", "/api/v1/tasks/{task}/claim", None,
     {**only({"unit_a"}, refused=404), **dict.fromkeys(SUPERVISORS, 403)}),
    ("POST", "/api/v1/items", {"title": "矩阵立项"}, only({"office", "admin"}, ok=201)),
    ("POST", "/api/v1/instances", {"definition_key": "duban_main", "data": {}},
     only({"office", "designer", "admin"}, ok=422)),
    ("POST", "/api/v1/definitions", "file", only({"designer", "admin"}, ok=422)),
    # 决策表 (DMN): designers and system administrators, as the modeler
    ("GET", "/api/v1/modeler/decisions", None, only({"designer", "admin"})),
    ("GET", "/api/v1/modeler/decisions/no_such_decision/xml", None, only({"designer", "admin"}, ok=404)),
    ("PUT", "/api/v1/calendar/days", {"date": "2026-12-21", "workday": True}, only({"admin"})),
    ("POST", "/api/v1/admin/recalculate", None, only({"admin"})),
    ("GET", "/api/v1/instances/{instance}/migration", None, only({"admin"})),
    ("GET", "/api/v1/notifications", None, only(USERS)),
    ("GET", "/api/v1/audit", None, only({"auditor"})),
    ("GET", "/api/v1/audit/export", None, only({"auditor"})),
    ("GET", "/api/v1/notifications?kind=task&item_id={item}&unread=1", None, only(USERS)),
    ("GET", "/api/v1/admin/users", None, only({"admin", "secadmin"})),
    # 内置连接器: system administrators only, refused before the body is read
    ("GET", "/api/v1/admin/connectors", None, only({"admin"})),
    ("POST", "/api/v1/admin/connectors", {"name": "m", "kind": "email"}, only({"admin"}, ok=422)),
    ("POST", "/api/v1/admin/connectors/nope/test", {}, only({"admin"}, ok=404)),
    ("GET", "/api/v1/bulletins/preview?period=2026-09", None, only({"office"})),
    ("POST", "/api/v1/bulletins/9999/void", {"reason": "矩阵作废"}, only({"office"}, ok=404)),
    # 人员选择, 重复提醒 and 撤销 (an empty reason: the office is told why, nothing is withdrawn)
    ("GET", "/api/v1/users?q=张", None, only({"office", "admin"})),
    ("GET", "/api/v1/items/similar?title=矩阵事项", None, only(USERS)),
    ("POST", "/api/v1/items/{item}/withdraw", {"reason": ""},
     {**only(ON_THE_ITEM, refused=404), **dict.fromkeys(ON_THE_ITEM - {"office"}, 403), "office": 422}),
    ("GET", "/tasks", None, only(USERS)),
    ("GET", "/tasks/{task}", None, only(SUPERVISORS | {"unit_a"}, refused=404)),
    ("GET", "/items", None, only(USERS)),
    ("GET", "/items/new", None, only({"office", "admin"})),
    ("GET", "/items/{item}", None, only(ON_THE_ITEM, refused=404)),
    ("GET", "/instances", None, only(USERS)),
    ("GET", "/instances/{instance}", None, only(ON_THE_ITEM, refused=404)),
    ("GET", "/notifications", None, only(USERS)),
    ("GET", "/audit", None, only({"auditor"})),
    ("GET", "/audit/export", None, only({"auditor"})),
    ("GET", "/items/{item}/print", None, only(ON_THE_ITEM, refused=404)),
    ("GET", "/notifications?state=unread&kind=task&item={item}", None, only(USERS)),
    # one's own notifications only: a number that is no one's, or another's, does not exist
    ("POST", "/notifications/999999/read", None, only((), refused=404)),
    ("GET", "/admin/users", None, only({"admin", "secadmin"})),
    ("GET", "/admin/connectors", None, only({"admin"})),
    ("GET", "/modeler/decisions", None, only({"designer", "admin"})),
    ("GET", "/bulletins?preview=1&period=2026-09", None, only({"office"})),
    ("GET", "/account/password", None, only(USERS)),
    ("POST", "/items/{item}/withdraw", None,
     {**only(ON_THE_ITEM, refused=404), **dict.fromkeys(ON_THE_ITEM - {"office"}, 403), "office": 302}),
    # not a secret item: those who see it are told so on its page; for the others it does not exist
    ("POST", "/items/{item}/designees", None, only(ON_THE_ITEM, ok=302, refused=404)),
]


@pytest.fixture
def situation(duban_sqlite):
    org = seed(duban_sqlite)
    item = services.register_item(duban_sqlite, org["office"], {"title": "矩阵事项"})
    complete(duban_sqlite, org["office"], "draft_opinion", {"lead_unit": "fgj", "co_units": ["czj"], "opinion": "办"})
    complete(duban_sqlite, org["leader"], "leader_approval", {"decision": "approve"})
    complete(duban_sqlite, org["office"], "assign", {"notice": "交办通知单"})
    tasks, _ = services.list_tasks(duban_sqlite, org["unit_a"], instance_id=item["instance_id"])
    task = next(t for t in tasks if t["element_id"] == "unit_receive")
    app = create_app(duban=duban_sqlite)
    app.config["TESTING"] = True
    return app, {"item": item["id"], "instance": item["instance_id"], "task": task["id"]}


def call(client, token, method, path, body):
    headers = {"Authorization": f"Bearer {token}"}
    if body == "file":
        return client.open(path, method=method, headers=headers, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(b"<not-bpmn/>"), "x.bpmn")})
    return client.open(path, method=method, headers=headers, json=body)


@pytest.mark.parametrize("username", USERS)
def test_the_authorization_matrix(situation, username):
    app, ids = situation
    client = app.test_client()
    token = client.post("/api/v1/auth/token", json={"username": username, "password": "duban-demo"}).json["token"]
    mismatches = []
    for method, template, body, expected in MATRIX:
        path = template.format(**ids)
        response = call(client, token, method, path, body)
        if response.status_code != expected[username]:
            mismatches.append(f"{method} {path}: {response.status_code}, expected {expected[username]}")
        if path.startswith("/api") and response.status_code >= 400:
            assert set(response.json) == {"error", "message", "details"}, path
    assert not mismatches, f"{username}:\n" + "\n".join(mismatches)


def test_strangers_get_401_from_the_api_and_the_login_page_from_pages(situation):
    app, ids = situation
    client = app.test_client()
    for method, template, body, _ in MATRIX:
        path = template.format(**ids)
        response = client.open(path, method=method, json=body if isinstance(body, dict) else None)
        if path.startswith("/api"):
            assert response.status_code == 401, path
        else:
            assert response.status_code == 302 and response.headers["Location"].startswith("/login"), path
