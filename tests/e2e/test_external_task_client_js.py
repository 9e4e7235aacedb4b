"""Camunda's own JavaScript external task client (camunda-external-task-client-js from npm, unchanged; a
devDependency, so `make install`'s `npm ci` brings it) against `duban run`, as the Python client is in
test_external_task_client.py: the worker (tests/e2e/js_worker.mjs, with the client's Client, logger,
BasicAuthInterceptor and Variables) completes the 督办's 推送政务钉钉 with typed variables and the item
goes on to the units; on a second topic it reports a failure with no retries left and the instance
shows an incident."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.commands import login
from tests.support.external import TOPIC, WORKER_PASSWORD, push_process, served_with_worker
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("js_worker.mjs")
SMS = "sms-gateway"
NODE = shutil.which("node")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if NODE is None or not (ROOT / "node_modules" / "camunda-external-task-client-js").is_dir():
        pytest.fail("node and `npm ci` (make install) are needed: camunda-external-task-client-js is missing")
    processes = {"sms_notice": push_process("sms_notice", SMS)}
    with served_with_worker(tmp_path_factory.mktemp("var"), "js_worker", "JS 推送程序", [TOPIC, SMS],
                            processes) as base:
        yield base


def js_worker(base: str, topic: str, mode: str, *more: str) -> str:
    """Run the Node worker until it has answered one task; its output (it exits 0 once answered)."""
    try:
        done = subprocess.run([NODE, str(SCRIPT), f"{base}/api/v1", "js_worker", WORKER_PASSWORD, topic, mode, *more],
                              cwd=ROOT, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired as late:
        raise AssertionError(f"the JS worker answered nothing in 60 s: {late.stdout} {late.stderr}") from None
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_js_client_completes_the_push_with_typed_variables(server):
    office, leader, admin = login(server, "office"), login(server, "leader"), login(server, "admin")
    status, item = office.call("POST", "/api/v1/items", {"title": "JS 推送事项", "category": "normal"})
    assert status == 201, item
    for person, element, data in ((office, "draft_opinion", {"lead_unit": "fgj", "co_units": [], "opinion": "请办"}),
                                  (leader, "leader_approval", {"decision": "approve"}),
                                  (office, "assign", {"notice": "交办通知单"})):
        _, tasks = person.call("GET", f"/api/v1/tasks?instance_id={item['instance_id']}")
        task = next(t for t in tasks if t["element_id"] == element)
        assert person.call("POST", f"/api/v1/tasks/{task['id']}/complete", {"data": data})[0] == 200

    said = js_worker(server, TOPIC, "complete", str(item["id"]))  # subscribed by businessKey: this item's

    assert "completed" in said and '"title":"JS 推送事项"' in said, said
    assert '"opinion"' not in said  # asked for, but the task hands out only title and lead_unit (duban:variables)
    _, instance = admin.call("GET", f"/api/v1/instances/{item['instance_id']}")
    assert [t["element_id"] for t in instance["tasks"]] == ["unit_receive"], said
    data = instance["data"]
    assert data["pushed_by_js"] is True and data["push_count"] == 3, said
    assert data["push_receipt"] == {"channel": "dingtalk", "title": "JS 推送事项"}
    assert "gateway_status" not in data  # a local variable ends with the task
    done = next(h for h in instance["history"] if h["action"] == "external_task_completed")
    assert done["data"]["local"] == {"gateway_status": "OK"}


def test_the_js_client_fails_with_no_retries_and_the_monitor_shows_an_incident(server):
    office, admin = login(server, "office"), login(server, "admin")
    status, started = office.call("POST", "/api/v1/instances", {"definition_key": "sms_notice", "data": {}})
    assert status == 201, started

    said = js_worker(server, SMS, "fail")

    assert "failed" in said, said

    def incident():
        _, instance = admin.call("GET", f"/api/v1/instances/{started['id']}")
        return instance if instance["status"] == "error" else None

    instance = wait_for(incident, timeout=10, what="the incident")
    assert "推送政务钉钉" in instance["error"] and "短信网关拒绝" in instance["error"]
    _, tasks = admin.call("GET", f"/api/v1/external-task?processInstanceId={started['id']}")
    assert tasks[0]["retries"] == 0 and tasks[0]["errorMessage"] == "短信网关拒绝"
    assert tasks[0]["errorDetails"] == "HTTP 503 from the SMS gateway"
