"""`duban` as users run it: the CLI sets up a database, `duban run` serves, the whole path goes over HTTP."""
from __future__ import annotations

import os
import time

import pytest

from tests.support.commands import Http, cli, duban_run, login
from tests.support.org import BPMN
from tests.support.waiting import wait_for


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    var = tmp_path_factory.mktemp("var")
    env = {**os.environ, "DUBAN_VAR_DIR": str(var), "DUBAN_TIMER_POLL_S": "0.2"}
    env.pop("DUBAN_DATABASE_URL", None)
    env.pop("DUBAN_REDIS_URL", None)
    cli(env, "db", "upgrade")
    deployed = cli(env, "deploy", *[str(p) for p in sorted(BPMN.glob("*.bpmn"))])
    assert "duban_main 1" in deployed.stdout
    assert "2 units" not in cli(env, "seed-demo").stdout
    assert "(0 units and 0 users added)" in cli(env, "seed-demo").stdout  # idempotent
    with duban_run(env, timeout=30) as base:
        yield base, env


def test_deploy_refuses_an_invalid_file_with_exit_2(server, tmp_path):
    _, env = server
    broken = tmp_path / "broken.bpmn"
    broken.write_text("<bpmn:definitions")
    result = cli(env, "deploy", str(broken), check=False)
    assert result.returncode == 2 and "broken.bpmn：不是格式正确的 XML（第 1 行）" in result.stderr


def test_the_whole_path_over_http(server):
    base, _ = server
    status, health = Http(base).call("GET", "/healthz", token=False)
    assert (status, health) == (200, {"status": "ok", "database": "ok", "broker": "embedded"})
    assert Http(base).call("GET", "/api/v1/tasks", token=False)[0] == 401

    people = {name: login(base, name) for name in ("office", "leader", "unit_a", "unit_b")}
    assert people["office"].call("GET", "/api/v1/me")[1]["roles"] == ["office"]
    status, item = people["office"].call("POST", "/api/v1/items", {"title": "端到端事项", "category": "normal"})
    assert status == 201, item

    def task(user, element, unit=None):
        status, tasks = people[user].call("GET", f"/api/v1/tasks?instance_id={item['instance_id']}")
        assert status == 200
        return next(t for t in tasks if t["element_id"] == element and (unit is None or t["unit"] == unit))

    def complete(user, element, data, unit=None, expect=200):
        found = task(user, element, unit)
        status, body = people[user].call("POST", f"/api/v1/tasks/{found['id']}/complete", {"data": data})
        assert status == expect, body
        return found

    draft = task("office", "draft_opinion")
    status, body = people["office"].call("POST", f"/api/v1/tasks/{draft['id']}/complete", {"data": {}})
    assert status == 422 and {d["field"] for d in body["details"]} == {"lead_unit", "opinion"}
    complete("office", "draft_opinion", {"lead_unit": "fgj", "co_units": ["czj"], "opinion": "请办理"})
    status, body = people["office"].call("POST", f"/api/v1/tasks/{draft['id']}/complete",
                                         {"data": {"lead_unit": "fgj", "opinion": "再次"}})
    assert status == 409 and body["error"] == "task_completed"
    complete("leader", "leader_approval", {"decision": "approve"})
    complete("office", "assign", {"notice": "交办通知单"})

    receive_a = task("unit_a", "unit_receive", "fgj")
    status, _ = people["unit_b"].call("POST", f"/api/v1/tasks/{receive_a['id']}/complete", {"data": {}})
    assert status == 404  # a unit sees only its own unit's tasks: another unit's does not exist for it
    outsider = login(base, "discipline")  # no part in this item: the task does not exist for them
    assert outsider.call("GET", f"/api/v1/tasks/{receive_a['id']}")[0] == 404
    assert outsider.call("POST", f"/api/v1/tasks/{receive_a['id']}/complete", {"data": {}})[0] == 404

    receive = {"first_responsible": "局长", "responsible": "科长", "handler": "科员", "committed_date": "2026-12-01"}
    for user, unit in (("unit_a", "fgj"), ("unit_b", "czj")):
        status, detail = people[user].call("GET", f"/api/v1/tasks/{task(user, 'unit_receive', unit)['id']}")
        assert detail["form"]["id"] == "unit_receive"
        deadline = detail["data"]["deadline"][:10]
        complete(user, "unit_receive", {**receive, "committed_date": deadline}, unit)
        complete(user, "unit_report", {"summary": "已办结", "approved_by_deputy": True}, unit)
        complete("office", "office_review", {"decision": "accept"}, unit)
    complete("office", "feedback", {"summary": "已向领导反馈"})

    status, instance = people["office"].call("GET", f"/api/v1/instances/{item['instance_id']}")
    assert status == 200 and instance["status"] == "completed" and instance["tasks"] == []
    done = [(h["actor"], h["element_id"]) for h in instance["history"] if h["action"] == "completed"]
    assert done[0] == ("office", "draft_opinion") and done[-1] == ("office", "feedback") and len(done) == 10
    status, ledger = people["office"].call("GET", f"/api/v1/items/{item['id']}")
    assert ledger["status"] == "closed"


def test_embedded_worker_urges_a_unit_whose_deadline_passes(server):
    """Without Redis, `duban run`'s own scheduler thread fires the deadline timer: 催办 reaches the office."""
    base, _ = server
    people = {name: login(base, name) for name in ("office", "leader", "unit_b")}
    due = time.time() + 5
    soon = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(due))
    status, item = people["office"].call("POST", "/api/v1/items", {"title": "限时事项", "deadline": soon})
    assert status == 201, item

    def complete(user, element, data):
        status, tasks = people[user].call("GET", f"/api/v1/tasks?instance_id={item['instance_id']}")
        found = next(t for t in tasks if t["element_id"] == element)
        status, body = people[user].call("POST", f"/api/v1/tasks/{found['id']}/complete", {"data": data})
        assert status == 200, body

    complete("office", "draft_opinion", {"lead_unit": "czj", "opinion": "急办"})
    complete("leader", "leader_approval", {"decision": "approve"})
    complete("office", "assign", {"notice": "交办通知单"})
    complete("unit_b", "unit_receive", {"first_responsible": "局长", "responsible": "科长", "handler": "科员",
                                        "committed_date": soon[:10]})
    assert time.time() < due - 1, "the unit received the item too late: the deadline had (nearly) passed"

    def open_urges():
        _, tasks = people["office"].call("GET", f"/api/v1/tasks?instance_id={item['instance_id']}")
        return [t for t in tasks if t["element_id"] == "urge"]

    urges = wait_for(open_urges, timeout=40, what="the urge task", interval=0.3)
    assert [(t["element_id"], t["unit"]) for t in urges] == [("urge", "czj")]
    _, ledger = people["office"].call("GET", f"/api/v1/items/{item['id']}")
    assert ledger["light"] == "red"
