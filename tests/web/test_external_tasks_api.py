"""The external task endpoints as Camunda's clients call them: HTTP Basic for worker accounts, 204 answers,
typed variables, Camunda's error `type`, long polling, and worker accounts kept to these endpoints."""
from __future__ import annotations

import base64
import threading
import time

import pytest

from engine import services
from tests.support.external import TOPIC, WORKER_PASSWORD, add_worker, push_process
from tests.support.org import Org

FETCH = {"workerId": "w1", "maxTasks": 2, "usePriority": False, "sorting": None,
         "topics": [{"topicName": TOPIC, "lockDuration": 60000, "processVariables": {}, "variables": None,
                     "includeExtensionProperties": True, "deserializeValues": True}]}


def basic(username: str = "push_worker", password: str = WORKER_PASSWORD) -> dict:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}", "Content-Type": "application/json"}


@pytest.fixture
def pushing(app, duban_sqlite):
    org = Org(duban_sqlite)
    services.deploy(duban_sqlite, {"push.bpmn": push_process()}, {}, org["designer"])
    add_worker(duban_sqlite, "push_worker")
    return org


def start(duban, org) -> int:
    return services.start_instance(duban, org["office"], "push_demo", {"who": "张三"})["id"]


def test_a_worker_fetches_and_completes_with_http_basic(client, pushing, duban_sqlite):
    instance_id = start(duban_sqlite, pushing)
    response = client.post("/api/v1/external-task/fetchAndLock", json=FETCH, headers=basic())
    assert response.status_code == 200, response.json
    [task] = response.json
    assert task["variables"]["who"] == {"value": "张三", "type": "String", "valueInfo": {}}
    assert (task["topicName"], task["processInstanceId"], task["workerId"]) == (TOPIC, str(instance_id), "w1")
    done = client.post(f"/api/v1/external-task/{task['id']}/complete", headers=basic(),
                       json={"workerId": "w1", "variables": {"sent": {"value": True, "type": "Boolean"}},
                             "localVariables": {}})
    assert done.status_code == 204 and done.get_data() == b""
    assert "Content-Type" not in done.headers  # Camunda's JS client parses any answer labelled JSON
    again = client.post(f"/api/v1/external-task/{task['id']}/complete", headers=basic(), json={"workerId": "w1"})
    assert again.status_code == 409
    assert again.json["type"] == "BadUserRequestException" and "已结束" in again.json["message"]
    got = client.get(f"/api/v1/external-task/{task['id']}", headers=basic())
    assert got.status_code == 200 and got.json["state"] == "completed"


def test_basic_credentials_are_checked_and_a_worker_has_no_other_endpoint(client, pushing):
    refused = client.post("/api/v1/external-task/fetchAndLock", json=FETCH, headers=basic(password="wrong"))
    assert refused.status_code == 401 and refused.json["type"] == "AuthenticationException"
    assert client.get("/api/v1/items", headers=basic()).status_code == 401  # Basic is for these endpoints only
    token = client.post("/api/v1/auth/token", json={"username": "push_worker", "password": WORKER_PASSWORD}).json
    bearer = {"Authorization": f"Bearer {token['token']}"}
    assert client.get("/api/v1/external-task", headers=bearer).status_code == 200
    for path in ("/api/v1/items", "/api/v1/tasks", "/api/v1/me", "/api/v1/instances"):
        assert client.get(path, headers=bearer).status_code == 403, path
    # people are not workers: they may not fetch
    office = client.post("/api/v1/auth/token", json={"username": "office", "password": "duban-demo"}).json
    response = client.post("/api/v1/external-task/fetchAndLock", json=FETCH,
                           headers={"Authorization": f"Bearer {office['token']}"})
    assert response.status_code == 403


def test_long_polling_waits_for_a_task_and_answers_empty_at_its_end(client, pushing, duban_sqlite):
    started = time.monotonic()
    empty = client.post("/api/v1/external-task/fetchAndLock", json={**FETCH, "asyncResponseTimeout": 800},
                        headers=basic())
    waited = time.monotonic() - started
    assert empty.status_code == 200 and empty.json == [] and 0.7 < waited < 5
    threading.Timer(0.6, lambda: start(duban_sqlite, pushing)).start()
    started = time.monotonic()
    found = client.post("/api/v1/external-task/fetchAndLock", json={**FETCH, "asyncResponseTimeout": 10000},
                        headers=basic())
    assert len(found.json) == 1 and time.monotonic() - started < 8  # answered when the task came


def test_zeebe_task_definitions_declare_the_topic_too(client, pushing, duban_sqlite):
    zeebe = push_process("zeebe_push").decode().replace(
        f'camunda:type="external" camunda:topic="{TOPIC}" />',
        f'><bpmn:extensionElements><zeebe:taskDefinition type="{TOPIC}" /></bpmn:extensionElements>'
        "</bpmn:serviceTask>").replace(
        "xmlns:camunda=", 'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" xmlns:camunda=')
    services.deploy(duban_sqlite, {"z.bpmn": zeebe.encode()}, {}, pushing["designer"])
    services.start_instance(duban_sqlite, pushing["office"], "zeebe_push", {})
    [task] = client.post("/api/v1/external-task/fetchAndLock", json=FETCH, headers=basic()).json
    assert task["processDefinitionKey"] == "zeebe_push"


def test_the_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/api/openapi.json").json["paths"]
    one = "/api/v1/external-task/{external_task_id}"
    for path in ("/api/v1/external-task/fetchAndLock", "/api/v1/external-task", one, f"{one}/complete",
                 f"{one}/failure", f"{one}/bpmnError", f"{one}/extendLock", f"{one}/unlock"):
        assert path in paths, path


def test_the_monitor_shows_an_external_task_out_of_retries_and_its_retry_gives_it_one_more(app, client, pushing,
                                                                                            duban_sqlite):
    from tests.support.web import Browser, Caller

    instance_id = start(duban_sqlite, pushing)
    [task] = client.post("/api/v1/external-task/fetchAndLock", json=FETCH, headers=basic()).json
    failed = client.post(f"/api/v1/external-task/{task['id']}/failure", headers=basic(), json={
        "workerId": "w1", "errorMessage": "政务钉钉接口超时", "errorDetails": "HTTP 504", "retries": 0,
        "retryTimeout": 0})
    assert failed.status_code == 204
    admin = Browser(app, "admin")
    page = admin.get(f"/instances/{instance_id}").text
    assert 'id="incident"' in page and "政务钉钉接口超时" in page and 'data-op="retry"' in page
    assert 'id="external-tasks"' in page and TOPIC in page and "等待外部任务" in page  # and its history, in Chinese
    assert client.post("/api/v1/external-task/fetchAndLock", json=FETCH, headers=basic()).json == []
    retried = Caller(client, "admin").post(f"/api/v1/instances/{instance_id}/retry")
    assert retried.status_code == 200, retried.text
    [again] = client.post("/api/v1/external-task/fetchAndLock", json=FETCH, headers=basic()).json
    assert again["id"] == task["id"] and again["retries"] == 1
