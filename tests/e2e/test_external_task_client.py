"""Camunda's own Python external task client (camunda-external-task-client-python3, unchanged) against
`duban run`: it fetches the 督办 service task 推送政务钉钉 after 交办 with HTTP Basic, completes it and the
item goes on to the units; a handler that keeps failing spends its retries and leaves an incident."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.support.commands import login
from tests.support.external import TOPIC, WORKER_PASSWORD, served_with_worker
from tests.support.waiting import wait_for

# The worker, as someone would write it from the client's README; run as a process of its own.
WORKER = textwrap.dedent("""
    import sys
    from camunda.external_task.external_task_worker import ExternalTaskWorker

    base, topic, mode = sys.argv[1:4]
    config = {"auth_basic": {"username": "push_worker", "password": sys.argv[4]}, "maxTasks": 1,
              "lockDuration": 10000, "asyncResponseTimeout": 2000, "retries": 2, "retryTimeout": 200,
              "sleepSeconds": 1}

    def handle(task):
        if mode == "fail":
            return task.failure("政务钉钉接口超时", "HTTP 504 from the gateway", max_retries=2, retry_timeout=200)
        title = task.get_variable("title")
        print("pushed", title, flush=True)
        return task.complete({"pushed": True, "pushed_title": title})

    ExternalTaskWorker(worker_id="dingtalk-1", base_url=base, config=config).subscribe(
        topic, handle, variables=["title", "lead_unit"])
""")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with served_with_worker(tmp_path_factory.mktemp("var"), "push_worker", "政务钉钉推送", [TOPIC]) as base:
        yield base


def assigned_item(base, title: str) -> tuple:
    office, leader = login(base, "office"), login(base, "leader")
    status, item = office.call("POST", "/api/v1/items", {"title": title, "category": "normal"})
    assert status == 201, item

    def do(person, element, data):
        _, tasks = person.call("GET", f"/api/v1/tasks?instance_id={item['instance_id']}")
        task = next(t for t in tasks if t["element_id"] == element)
        status, body = person.call("POST", f"/api/v1/tasks/{task['id']}/complete", {"data": data})
        assert status == 200, body

    do(office, "draft_opinion", {"lead_unit": "fgj", "co_units": [], "opinion": "请发改局办理"})
    do(leader, "leader_approval", {"decision": "approve"})
    do(office, "assign", {"notice": "交办通知单"})
    return item, login(base, "admin")


def worker(base: str, mode: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WORKER, f"{base}/api/v1", TOPIC, mode, WORKER_PASSWORD],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def stop(process: subprocess.Popen) -> str:
    process.terminate()
    try:
        return process.communicate(timeout=20)[0]
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()[0]


def test_camundas_client_completes_the_push_and_the_item_moves_on(server):
    item, admin = assigned_item(server, "外部任务推送事项")

    def units_tasks():
        _, instance = admin.call("GET", f"/api/v1/instances/{item['instance_id']}")
        return [t["element_id"] for t in instance["tasks"]], instance

    assert units_tasks()[0] == []  # waiting for the worker
    running = worker(server, "ok")
    try:
        wait_for(lambda: units_tasks()[0] == ["unit_receive"], timeout=60, what="the worker to complete the push")
    finally:
        said = stop(running)
    instance = units_tasks()[1]
    assert instance["data"]["pushed"] is True and instance["data"]["pushed_title"] == "外部任务推送事项", said
    assert "pushed 外部任务推送事项" in said
    assert [h["action"] for h in instance["history"]].count("external_task_completed") == 1


def test_a_handler_that_keeps_failing_leaves_an_incident(server):
    item, admin = assigned_item(server, "推送失败事项")
    running = worker(server, "fail")

    def incident():
        _, instance = admin.call("GET", f"/api/v1/instances/{item['instance_id']}")
        return instance if instance["status"] == "error" else None

    try:
        instance = wait_for(incident, timeout=60, what="the retries to run out")
    finally:
        said = stop(running)
    assert "推送政务钉钉" in instance["error"] and "政务钉钉接口超时" in instance["error"], said
    status, tasks = admin.call("GET", f"/api/v1/external-task?processInstanceId={item['instance_id']}")
    assert status == 200 and tasks[0]["retries"] == 0 and tasks[0]["errorMessage"] == "政务钉钉接口超时"
    status, _ = admin.call("POST", f"/api/v1/instances/{item['instance_id']}/retry")
    assert status == 200
    status, tasks = admin.call("GET", f"/api/v1/external-task?processInstanceId={item['instance_id']}")
    assert tasks[0]["retries"] == 1  # the operator's retry gives the worker one more go
