"""Administering instances: suspend/resume, terminate, retry an incident, migrate to a new version.

On SQLite and PostgreSQL (the `duban` fixture runs each test on both).
"""
from itertools import pairwise

import pytest

from engine import services
from engine.errors import Conflict, Forbidden, InvalidInput, ProcessError
from engine.services import operations, timers
from tests.integration.flow import REPORT, complete, open_task
from tests.samples import chain, lane, process, script_task, timer_event, user_task

FORM = {"simple.form": b'{"type": "default", "id": "simple", "components": []}'}


def deploy(duban, org, *elements, lanes_for=()):
    files = {"ops.bpmn": process(chain(*elements), key="ops", lanes=lane("office", "督查室", *lanes_for))}
    return services.deploy(duban, files, FORM, org["designer"])


def deploy_body(duban, org, path: list[str]):
    """start -> the user tasks in `path`, in that order -> end."""
    tasks = [t for t in path if t not in ("start", "end")]
    body = ['<bpmn:startEvent id="start" name="开始"/>', '<bpmn:endEvent id="end" name="结束"/>']
    body += [user_task(int(t[1:]), 'camunda:formRef="simple"') for t in tasks]
    body += [f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>' for i, (a, b) in
             enumerate(pairwise(path))]
    files = {"ops.bpmn": process("".join(body), key="ops", lanes=lane("office", "督查室", *tasks))}
    return services.deploy(duban, files, FORM, org["designer"])


def start(duban, org, data=None):
    return services.start_instance(duban, org["office"], "ops", data or {})


def open_elements(duban, actor, instance_id):
    return [t["element_id"] for t in services.get_instance(duban, actor, instance_id)["tasks"]]


def test_only_administrators_operate_instances(duban, org):
    item = services.register_item(duban, org["office"], {"title": "运维权限"})
    for name in ("office", "leader", "designer", "unit_a", "discipline"):
        with pytest.raises(Forbidden):
            operations.suspend(duban, org[name], item["instance_id"])
        with pytest.raises(Forbidden):
            operations.migrate(duban, org[name], item["instance_id"])


def test_a_suspended_instance_stands_still_until_resumed(duban, org):
    item = services.register_item(duban, org["office"], {"title": "挂起事项", "category": "urgent"})
    complete(duban, org["office"], "draft_opinion", {"lead_unit": "fgj", "opinion": "办"})
    complete(duban, org["leader"], "leader_approval", {"decision": "approve"})
    complete(duban, org["office"], "assign", {"notice": "交办"})
    suspended = operations.suspend(duban, org["admin"], item["instance_id"], "核实情况")
    assert suspended["status"] == "suspended" and suspended["history"][-1]["action"] == "suspended"
    task = open_task(duban, org["unit_a"], "unit_receive", "fgj")
    with pytest.raises(Conflict):
        services.complete_task(duban, org["unit_a"], task["id"], {})
    with pytest.raises(Conflict):
        services.claim_task(duban, org["unit_a"], task["id"])
    duban.clock.advance(days=3)  # the unit's deadline passes while suspended
    assert timers.fire_all_due(duban) == 0
    assert "urge" not in open_elements(duban, org["admin"], item["instance_id"])
    with pytest.raises(Conflict):
        operations.suspend(duban, org["admin"], item["instance_id"])
    assert operations.resume(duban, org["admin"], item["instance_id"])["status"] == "running"
    assert timers.fire_all_due(duban) >= 1  # what fell due meanwhile fires now, once
    assert open_elements(duban, org["admin"], item["instance_id"]).count("urge") == 1


def test_terminating_cancels_tasks_timers_and_the_item(duban, org):
    item = services.register_item(duban, org["office"], {"title": "终止事项"})
    with pytest.raises(InvalidInput):
        operations.terminate(duban, org["admin"], item["instance_id"], "  ")
    ended = operations.terminate(duban, org["admin"], item["instance_id"], "重复立项")
    assert ended["status"] == "terminated" and ended["tasks"] == [] and ended["timers"] == []
    assert services.get_item(duban, org["office"], item["id"])["status"] == "terminated"
    assert services.list_tasks(duban, org["office"], instance_id=item["instance_id"])[1] == 0
    with pytest.raises(Conflict):
        operations.terminate(duban, org["admin"], item["instance_id"], "再次")
    with pytest.raises(Conflict):
        operations.resume(duban, org["admin"], item["instance_id"])


def test_an_incident_is_fixed_by_a_new_version_then_retried(duban, org):
    deploy(duban, org, timer_event(1, "timeDuration", "PT1H"), script_task(2, "share = total // parts"),
           user_task(3, 'camunda:formRef="simple"'), lanes_for=("e3",))
    instance = start(duban, org, {"total": 10, "parts": 0})
    with pytest.raises(Conflict):
        operations.retry(duban, org["admin"], instance["id"])  # nothing has failed yet
    duban.clock.advance(hours=2)
    timers.fire_all_due(duban)
    failed = services.get_instance(duban, org["admin"], instance["id"])
    assert failed["status"] == "error" and "division" in failed["error"]
    with pytest.raises(ProcessError):
        operations.retry(duban, org["admin"], instance["id"])
    assert services.get_instance(duban, org["admin"], instance["id"])["status"] == "error"

    deploy(duban, org, timer_event(1, "timeDuration", "PT1H"), script_task(2, "share = total // max(parts, 1)"),
           user_task(3, 'camunda:formRef="simple"'), lanes_for=("e3",))
    check = operations.migration_check(duban, org["admin"], instance["id"])
    assert check == {"from_version": 1, "to_version": 2, "compatible": True, "problems": []}
    migrated = operations.migrate(duban, org["admin"], instance["id"])
    assert migrated["version"] == 2 and migrated["status"] == "error"
    fixed = operations.retry(duban, org["admin"], instance["id"])
    assert fixed["status"] == "running" and fixed["error"] is None
    assert [t["element_id"] for t in fixed["tasks"]] == ["e3"] and fixed["data"]["share"] == 10
    actions = [h["action"] for h in fixed["history"]]
    assert actions.index("incident") < actions.index("migrated") < actions.index("retried")


def test_migration_maps_elements_by_id_and_refuses_what_would_be_lost(duban, org):
    deploy(duban, org, user_task(1, 'camunda:formRef="simple"'), user_task(2, 'camunda:formRef="simple"'),
           lanes_for=("e1", "e2"))
    instance = start(duban, org)
    # Version 2 inserts a check (e3) between the two tasks.
    deploy_body(duban, org, ["start", "e1", "e3", "e2", "end"])
    task_before = services.list_tasks(duban, org["office"], instance_id=instance["id"])[0][0]
    migrated = operations.migrate(duban, org["admin"], instance["id"])
    assert migrated["version"] == 2
    task_after = services.list_tasks(duban, org["office"], instance_id=instance["id"])[0][0]
    assert task_after["id"] == task_before["id"]  # the same task goes on; nothing reran
    services.complete_task(duban, org["office"], task_after["id"], {})
    assert open_elements(duban, org["admin"], instance["id"]) == ["e3"]  # the new version's path
    with pytest.raises(Conflict):
        operations.migrate(duban, org["admin"], instance["id"])  # already on the latest

    # Version 3 drops e3, where the instance now stands: refused, and nothing changes.
    deploy_body(duban, org, ["start", "e1", "e2", "e4", "end"])
    check = operations.migration_check(duban, org["admin"], instance["id"])
    assert not check["compatible"] and any("'e3'" in p for p in check["problems"])
    with pytest.raises(Conflict) as refused:
        operations.migrate(duban, org["admin"], instance["id"])
    assert "'e3'" in refused.value.message
    assert services.get_instance(duban, org["admin"], instance["id"])["version"] == 2


def test_the_main_process_keeps_working_after_migrating_to_an_identical_new_version(duban, org):
    from tests.support.org import bpmn_bundle

    item = services.register_item(duban, org["office"], {"title": "迁移事项"})
    complete(duban, org["office"], "draft_opinion", {"lead_unit": "fgj", "opinion": "办"})
    files, forms = bpmn_bundle("duban_main.bpmn")
    files = {name: text.replace(b"</bpmn:definitions>", b"<!-- v2 --></bpmn:definitions>")
             for name, text in files.items()}
    services.deploy(duban, files, forms, org["designer"])
    assert operations.migrate(duban, org["admin"], item["instance_id"])["version"] == 2
    complete(duban, org["leader"], "leader_approval", {"decision": "approve"})
    complete(duban, org["office"], "assign", {"notice": "交办"})
    complete(duban, org["unit_a"], "unit_receive", {"first_responsible": "局长", "responsible": "科长",
                                                    "handler": "科员", "committed_date": "2026-10-09"}, "fgj")
    complete(duban, org["unit_a"], "unit_report", REPORT, "fgj")
    assert services.get_item(duban, org["office"], item["id"])["status"] == "in_progress"
