"""External tasks (外部任务): fetch and lock, complete, failure and retries, incidents retried from the
monitor, BPMN errors, lock extension and expiry, two workers at once, topics and 保密.

On SQLite and PostgreSQL (the `duban` fixture runs each test on both).
"""
from __future__ import annotations

import threading

import pytest

from engine import services
from engine.errors import Conflict, DeploymentInvalid, Forbidden, InvalidInput, NotFound
from engine.services import external_tasks as et, operations
from tests.integration.flow import complete as complete_human, open_task
from tests.support.external import TOPIC, add_worker, main_with_push, push_process
from tests.support.org import bpmn_bundle

LOCK = {"topicName": TOPIC, "lockDuration": 60_000}


@pytest.fixture
def pushing(duban, org):
    services.deploy(duban, {"push.bpmn": push_process()}, {}, org["designer"])
    add_worker(duban, "push_worker")
    add_worker(duban, "other_worker")
    return org


def start(duban, org, data=None) -> int:
    return services.start_instance(duban, org["office"], "push_demo", data or {"who": "张三", "count": 3})["id"]


def fetch(duban, org, worker="push_worker", worker_id="w1", topic=None, max_tasks=5) -> list[dict]:
    return et.fetch_and_lock(duban, org[worker], worker_id, max_tasks, [topic or LOCK])


def open_elements(duban, org, instance_id) -> list[str]:
    return [t["element_id"] for t in services.get_instance(duban, org["admin"], instance_id)["tasks"]]


def test_a_service_task_waits_for_its_worker_and_the_instance_moves_on_once(duban, pushing):
    org = pushing
    instance_id = start(duban, org, {"who": "张三", "count": 3, "big": 2**40, "ratio": 0.5, "tags": ["a"],
                                     "none": None, "ok": True})
    assert open_elements(duban, org, instance_id) == []  # no person's task: the instance waits for a worker
    [task] = fetch(duban, org, topic={**LOCK, "variables": None})
    assert (task["topicName"], task["activityId"], task["workerId"], task["processInstanceId"],
            task["processDefinitionKey"], task["retries"]) == (TOPIC, "push", "w1", str(instance_id), "push_demo", None)
    assert task["variables"] == {
        "who": {"value": "张三", "type": "String", "valueInfo": {}},
        "count": {"value": 3, "type": "Integer", "valueInfo": {}},
        "big": {"value": 2**40, "type": "Long", "valueInfo": {}},
        "ratio": {"value": 0.5, "type": "Double", "valueInfo": {}},
        "tags": {"value": '["a"]', "type": "Json", "valueInfo": {}},
        "none": {"value": None, "type": "Null", "valueInfo": {}},
        "ok": {"value": True, "type": "Boolean", "valueInfo": {}}}
    assert task["lockExpirationTime"] == "2026-09-28T01:01:00.000+0000"
    assert fetch(duban, org, worker_id="w2") == []  # locked: nobody else gets it
    et.complete(duban, org["push_worker"], task["id"], "w1", {"sent": {"value": True, "type": "Boolean"},
                                                              "reply": {"value": '{"code": 0}', "type": "Json"}})
    assert open_elements(duban, org, instance_id) == ["confirm"]
    data = services.get_instance(duban, org["admin"], instance_id)["data"]
    assert data["sent"] is True and data["reply"] == {"code": 0}
    with pytest.raises(Conflict):  # completing twice: refused, the instance moved once
        et.complete(duban, org["push_worker"], task["id"], "w1", {})
    assert open_elements(duban, org, instance_id) == ["confirm"]
    history = [h["action"] for h in services.get_instance(duban, org["admin"], instance_id)["history"]]
    assert history.count("external_task_completed") == 1 and "external_task_created" in history


def test_only_the_variables_asked_for_are_handed_out(duban, pushing):
    org = pushing
    start(duban, org, {"who": "张三", "secret_note": "内部意见"})
    [task] = fetch(duban, org, topic={**LOCK, "variables": ["who", "missing"]})
    assert task["variables"] == {"who": {"value": "张三", "type": "String", "valueInfo": {}}}


def test_a_lock_held_by_another_or_expired_refuses_the_answer_and_changes_nothing(duban, pushing, clock):
    org = pushing
    instance_id = start(duban, org)
    [task] = fetch(duban, org)
    with pytest.raises(Conflict):
        et.complete(duban, org["push_worker"], task["id"], "someone-else", {})
    with pytest.raises(Conflict):
        et.extend_lock(duban, org["push_worker"], task["id"], "someone-else", 10_000)
    clock.advance(seconds=30)
    et.extend_lock(duban, org["push_worker"], task["id"], "w1", 60_000)  # now + 60 s: past the first lock
    clock.advance(seconds=45)
    assert fetch(duban, org, worker_id="w2") == []  # extended: still w1's
    clock.advance(seconds=16)
    [again] = fetch(duban, org, worker_id="w2")  # expired: fetchable again, by another worker
    assert again["id"] == task["id"] and again["workerId"] == "w2"
    with pytest.raises(Conflict):  # the first worker's lock is gone
        et.complete(duban, org["push_worker"], task["id"], "w1", {})
    assert open_elements(duban, org, instance_id) == []
    et.complete(duban, org["push_worker"], task["id"], "w2", {})
    assert open_elements(duban, org, instance_id) == ["confirm"]


def test_unlock_makes_it_fetchable_at_once(duban, pushing):
    org = pushing
    start(duban, org)
    [task] = fetch(duban, org)
    et.unlock(duban, org["push_worker"], task["id"])
    assert [t["id"] for t in fetch(duban, org, worker_id="w2")] == [task["id"]]


def test_failures_retry_after_their_timeout_then_become_an_incident_the_monitor_retries(duban, pushing, clock):
    org = pushing
    instance_id = start(duban, org)
    [task] = fetch(duban, org)
    et.fail(duban, org["push_worker"], task["id"], "w1", "政务钉钉接口超时", "Traceback ...", 1, 60_000)
    assert fetch(duban, org) == []  # not before the retry timeout
    clock.advance(seconds=61)
    [task] = fetch(duban, org)
    assert (task["retries"], task["errorMessage"]) == (1, "政务钉钉接口超时")
    et.fail(duban, org["push_worker"], task["id"], "w1", "政务钉钉接口仍超时", None, 0, 0)
    instance = services.get_instance(duban, org["admin"], instance_id)
    assert instance["status"] == "error" and "推送政务钉钉" in instance["error"] and "仍超时" in instance["error"]
    clock.advance(hours=1)
    assert fetch(duban, org) == []  # no retries left: nobody fetches it
    [listed] = et.list_tasks(duban, org["admin"], {"noRetriesLeft": True})
    assert listed["id"] == task["id"]
    operations.retry(duban, org["admin"], instance_id)  # the monitor's 重试: one more go
    assert services.get_instance(duban, org["admin"], instance_id)["status"] == "running"
    [task] = fetch(duban, org)
    et.complete(duban, org["push_worker"], task["id"], "w1", {})
    assert open_elements(duban, org, instance_id) == ["confirm"]


def test_a_bpmn_error_goes_to_the_tasks_error_boundary_event(duban, pushing):
    org = pushing
    instance_id = start(duban, org)
    [task] = fetch(duban, org)
    et.bpmn_error(duban, org["push_worker"], task["id"], "w1", "PUSH_FAILED", "号码不存在",
                  {"reason": {"value": "号码不存在", "type": "String"}})
    assert open_elements(duban, org, instance_id) == ["by_hand"]
    assert services.get_instance(duban, org["admin"], instance_id)["data"]["reason"] == "号码不存在"
    assert fetch(duban, org) == []


def test_a_bpmn_error_nothing_catches_is_an_incident(duban, pushing):
    org = pushing
    instance_id = start(duban, org)
    [task] = fetch(duban, org)
    et.bpmn_error(duban, org["push_worker"], task["id"], "w1", "OTHER_CODE", "未知错误")
    instance = services.get_instance(duban, org["admin"], instance_id)
    assert instance["status"] == "error" and "OTHER_CODE" in instance["error"]


def test_two_workers_fetching_at_once_never_get_the_same_task(duban, pushing):
    org = pushing
    for n in range(6):
        start(duban, org, {"n": n})
    got, errors, gate = {}, [], threading.Barrier(3)

    def work(worker_id):
        try:
            gate.wait()
            mine = []
            while True:
                batch = fetch(duban, org, worker_id=worker_id, max_tasks=1)
                if not batch:
                    break
                mine += [t["id"] for t in batch]
                et.complete(duban, org["push_worker"], batch[0]["id"], worker_id, {"by": {"value": worker_id}})
            got[worker_id] = mine
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    everything = [task for tasks in got.values() for task in tasks]
    assert len(everything) == len(set(everything)) == 6  # each once, and every one
    rows, _ = services.list_instances(duban, org["admin"], definition_key="push_demo")
    assert all(open_elements(duban, org, row["id"]) == ["confirm"] for row in rows)


def test_a_worker_gets_only_its_topics(duban, pushing):
    org = pushing
    add_worker(duban, "mail_worker", topics=("send-mail",))
    start(duban, org)
    with pytest.raises(Forbidden):
        fetch(duban, org, worker="mail_worker")
    [task] = fetch(duban, org)
    with pytest.raises(NotFound):  # by id: not there for a worker of other topics
        et.complete(duban, org["mail_worker"], task["id"], "w1", {})
    with pytest.raises(NotFound):
        et.get_task(duban, org["mail_worker"], task["id"])
    with pytest.raises(Forbidden):  # people are no workers
        fetch(duban, org, worker="office")


def test_an_uncleared_worker_never_gets_a_secret_items_task(duban, org):
    files, forms = bpmn_bundle("duban_main.bpmn")
    files["duban_main.bpmn"] = main_with_push()
    services.deploy(duban, files, forms, org["designer"])
    add_worker(duban, "push_worker")
    add_worker(duban, "cleared_worker")
    secret = services.register_item(duban, org["office"], {
        "title": "保密推送事项", "classification": "secret", "designees": ["leader", "unit_a", "cleared_worker"]})
    complete_human(duban, org["office"], "draft_opinion", {"lead_unit": "fgj", "opinion": "办"},
                   instance_id=secret["instance_id"])
    complete_human(duban, org["leader"], "leader_approval", {"decision": "approve"}, instance_id=secret["instance_id"])
    complete_human(duban, org["office"], "assign", {"notice": "交办通知单"}, instance_id=secret["instance_id"])
    assert fetch(duban, org, worker="push_worker") == []
    assert et.list_tasks(duban, org["push_worker"], {}) == []
    [task] = fetch(duban, org, worker="cleared_worker")
    assert task["businessKey"] == str(secret["id"]) and task["variables"]["title"]["value"] == "保密推送事项"
    for call in (lambda: et.get_task(duban, org["push_worker"], task["id"]),
                 lambda: et.complete(duban, org["push_worker"], task["id"], "w1", {}),
                 lambda: et.fail(duban, org["push_worker"], task["id"], "w1", "x", None, 0, 0),
                 lambda: et.unlock(duban, org["push_worker"], task["id"])):
        with pytest.raises(NotFound):
            call()
    with pytest.raises(NotFound):  # an operator not designated does not see it either
        et.get_task(duban, org["designer"], task["id"])
    et.complete(duban, org["cleared_worker"], task["id"], "w1", {"pushed": {"value": True}})
    assert open_task(duban, org["unit_a"], "unit_receive", "fgj", secret["instance_id"])  # 交办 went on


def test_java_delegates_deploy_as_external_tasks_with_a_warning_and_undeclared_ones_are_refused(duban, org):
    delegate = push_process("delegated").decode().replace(
        f'camunda:type="external" camunda:topic="{TOPIC}"', 'camunda:class="com.example.dingtalk.PushMessage"')
    [deployed] = services.deploy(duban, {"d.bpmn": delegate.encode()}, {}, org["designer"])
    [warning] = deployed["warnings"]
    assert "com.example.dingtalk.PushMessage" in warning["message"] and "push-message" in warning["message"]
    assert warning["element"] == "push"
    add_worker(duban, "push_worker", topics=("push-message",))
    services.start_instance(duban, org["office"], "delegated", {})
    assert fetch(duban, org, topic={**LOCK, "topicName": "push-message"})[0]["activityId"] == "push"
    bare = push_process("bare").decode().replace(f'camunda:type="external" camunda:topic="{TOPIC}"', "")
    with pytest.raises(DeploymentInvalid) as refused:
        services.deploy(duban, {"b.bpmn": bare.encode()}, {}, org["designer"])
    assert "camunda:topic" in refused.value.message and refused.value.details[0]["element"] == "push"
    own = push_process("own").decode().replace(f'camunda:type="external" camunda:topic="{TOPIC}"',
                                               'duban:topic="sms-gateway"')
    services.deploy(duban, {"o.bpmn": own.encode()}, {}, org["designer"])
    add_worker(duban, "sms_worker", topics=("sms-gateway",))
    services.start_instance(duban, org["office"], "own", {})
    assert fetch(duban, org, worker="sms_worker", topic={**LOCK, "topicName": "sms-gateway"})


def test_bad_requests_are_refused_in_chinese(duban, pushing):
    org = pushing
    start(duban, org)
    with pytest.raises(InvalidInput):
        fetch(duban, org, topic={**LOCK, "lockDuration": 0})
    [task] = fetch(duban, org)
    with pytest.raises(InvalidInput) as refused:
        et.complete(duban, org["push_worker"], task["id"], "w1", {"__builtins__": {"value": 1}})
    assert "变量名" in refused.value.message
    with pytest.raises(InvalidInput):
        et.fail(duban, org["push_worker"], task["id"], "w1", "x", None, -1, 0)


def test_terminating_the_instance_ends_its_external_tasks(duban, pushing):
    org = pushing
    instance_id = start(duban, org)
    [task] = fetch(duban, org)
    operations.terminate(duban, org["admin"], instance_id, "事项撤销")
    assert et.list_tasks(duban, org["admin"], {}) == []
    assert et.get_task(duban, org["admin"], task["id"])["state"] == "cancelled"
    with pytest.raises(Conflict):
        et.complete(duban, org["push_worker"], task["id"], "w1", {})


def test_use_priority_takes_the_higher_camunda_task_priority_first(duban, pushing):
    org = pushing
    urgent = push_process("urgent_push").decode().replace('camunda:type="external"',
                                                          'camunda:type="external" camunda:taskPriority="50"')
    services.deploy(duban, {"u.bpmn": urgent.encode()}, {}, org["designer"])
    start(duban, org)
    services.start_instance(duban, org["office"], "urgent_push", {})
    [first] = et.fetch_and_lock(duban, org["push_worker"], "w1", 1, [LOCK], use_priority=True)
    assert (first["processDefinitionKey"], first["priority"]) == ("urgent_push", 50)
    [second] = et.fetch_and_lock(duban, org["push_worker"], "w1", 1, [LOCK], use_priority=True)
    assert (second["processDefinitionKey"], second["priority"]) == ("push_demo", 0)


def test_a_workers_topics_are_replaced_when_saved_again(duban, pushing):
    org = pushing
    add_worker(duban, "push_worker", topics=("send-mail", "sms-gateway"))
    start(duban, org)
    with pytest.raises(Forbidden):
        fetch(duban, org)
    assert et.fetch_and_lock(duban, org["push_worker"], "w1", 1, [{**LOCK, "topicName": "sms-gateway"}]) == []


def error_subprocess_process() -> bytes:
    """start → 推送 (a subprocess around the external task, no boundary event) → 确认 → end, and an error event
    subprocess of the process for PUSH_FAILED → 人工通知 (as Camunda would route a task's BPMN error to it)."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:duban="urn:duban:bpmn:1"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs" targetNamespace="urn:test">
  <bpmn:error id="push_failed" name="推送失败" errorCode="PUSH_FAILED" />
  <bpmn:process id="push_outward" name="推送（出错转人工）" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:subProcess id="sending" name="推送">
      <bpmn:startEvent id="s_start" />
      <bpmn:serviceTask id="push" name="推送政务钉钉" duban:variables="who" camunda:type="external"
                        camunda:topic="{TOPIC}" />
      <bpmn:endEvent id="s_end" />
      <bpmn:sequenceFlow id="s1" sourceRef="s_start" targetRef="push" />
      <bpmn:sequenceFlow id="s2" sourceRef="push" targetRef="s_end" />
    </bpmn:subProcess>
    <bpmn:userTask id="confirm" name="确认送达" camunda:candidateGroups="office" />
    <bpmn:endEvent id="end" />
    <bpmn:subProcess id="on_error" name="推送失败转人工" triggeredByEvent="true">
      <bpmn:startEvent id="e_start" isInterrupting="true"><bpmn:errorEventDefinition errorRef="push_failed" />
      </bpmn:startEvent>
      <bpmn:userTask id="by_hand" name="人工通知" camunda:candidateGroups="office" />
      <bpmn:endEvent id="e_end" />
      <bpmn:sequenceFlow id="e1" sourceRef="e_start" targetRef="by_hand" />
      <bpmn:sequenceFlow id="e2" sourceRef="by_hand" targetRef="e_end" />
    </bpmn:subProcess>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="sending" />
    <bpmn:sequenceFlow id="f2" sourceRef="sending" targetRef="confirm" />
    <bpmn:sequenceFlow id="f3" sourceRef="confirm" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>""".encode()


def test_an_event_subprocess_started_by_an_error_is_refused_at_deploy(duban, pushing):
    """SpiffWorkflow reads an error start event as a plain one: such an event subprocess would start with the
    process, at once (人工通知 before anything failed). Deploy refuses it, naming the element, and says what works."""
    with pytest.raises(DeploymentInvalid) as refused:
        services.deploy(duban, {"push_outward.bpmn": error_subprocess_process()}, {}, pushing["designer"])
    [problem] = refused.value.details
    assert problem["element"] == "e_start" and "错误事件启动的事件子流程" in problem["message"]
    assert "错误边界事件" in problem["message"]
