"""Tasks carry only the variables their service task hands out (外部任务的变量): `duban:variables`,
Camunda's `camunda:inputParameter`s (as the local variables they are in Camunda), both, or — declaring
nothing — none at all; a fetch's own `variables` list narrows that further. And the rest of what Camunda's
JS client sends: lock by id, the topic filters it passes on, sorting. On SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from engine import services
from engine.errors import Conflict, DeploymentInvalid, InvalidInput
from engine.services import external_tasks as et
from tests.support.external import TOPIC, add_worker, push_process

LOCK = {"topicName": TOPIC, "lockDuration": 60_000}
DATA = {"title": "推送事项", "opinion": "领导批示：从严督办", "count": 3}
INPUT_OUTPUT = """><bpmn:extensionElements><camunda:inputOutput>
      <camunda:inputParameter name="subject">${title}</camunda:inputParameter>
      <camunda:inputParameter name="count" />
      <camunda:inputParameter name="channel">dingtalk</camunda:inputParameter>
      <camunda:inputParameter name="doubled">${count * 2}</camunda:inputParameter>
      <camunda:inputParameter name="several"><camunda:list><camunda:value>a</camunda:value></camunda:list>
      </camunda:inputParameter>
      <camunda:outputParameter name="ignored">${x}</camunda:outputParameter>
    </camunda:inputOutput></bpmn:extensionElements></bpmn:serviceTask>"""


def deploy(duban, org, key: str, xml: str) -> dict:
    [deployed] = services.deploy(duban, {f"{key}.bpmn": xml.encode()}, {}, org["designer"])
    return deployed


def handed(duban, org, key: str, topic=None) -> dict:
    services.start_instance(duban, org["office"], key, dict(DATA))
    [task] = et.fetch_and_lock(duban, org["push_worker"], "w1", 1, [topic or LOCK])
    return {name: typed["value"] for name, typed in task["variables"].items()}


@pytest.fixture
def worker(duban, org):
    add_worker(duban, "push_worker")
    return org


def test_a_task_declaring_nothing_hands_out_no_variables_and_deploy_says_so(duban, worker):
    deployed = deploy(duban, worker, "bare", push_process("bare", handed=None).decode())
    [warning] = deployed["warnings"]
    assert warning["rule"] == "external-variables" and warning["element"] == "push"
    assert "拿不到任何流程变量" in warning["message"] and "duban:variables" in warning["message"]
    assert handed(duban, worker, "bare") == {}
    assert handed(duban, worker, "bare", {**LOCK, "variables": ["title", "opinion"]}) == {}  # asking is not enough


def test_duban_variables_hand_out_those_and_a_fetch_narrows_them(duban, worker):
    deployed = deploy(duban, worker, "listed", push_process("listed", handed="title, count").decode())
    assert deployed["warnings"] == []
    assert handed(duban, worker, "listed") == {"title": "推送事项", "count": 3}  # never the 批示 (opinion)
    narrowed = {**LOCK, "variables": ["title", "opinion", "_private"]}
    assert handed(duban, worker, "listed", narrowed) == {"title": "推送事项"}


def test_camunda_input_parameters_are_what_the_worker_gets(duban, worker):
    xml = push_process("mapped", handed=None).decode().replace(
        f'camunda:topic="{TOPIC}" />', f'camunda:topic="{TOPIC}"' + INPUT_OUTPUT)
    deployed = deploy(duban, worker, "mapped", xml)
    warnings = sorted(w["message"] for w in deployed["warnings"])
    assert len(warnings) == 2 and all(w["rule"] == "external-variables" for w in deployed["warnings"])
    assert "doubled" in warnings[0] + warnings[1] and "several" in warnings[0] + warnings[1]
    assert handed(duban, worker, "mapped") == {"subject": "推送事项", "count": 3, "channel": "dingtalk"}


def test_both_declarations_hand_out_their_union(duban, worker):
    xml = push_process("both", handed="opinion").decode().replace(
        f'camunda:topic="{TOPIC}" />', f'camunda:topic="{TOPIC}"' + INPUT_OUTPUT)
    deploy(duban, worker, "both", xml)
    assert handed(duban, worker, "both") == {"subject": "推送事项", "count": 3, "channel": "dingtalk",
                                             "opinion": "领导批示：从严督办"}


def test_a_bad_variable_name_is_refused_in_chinese(duban, worker):
    with pytest.raises(DeploymentInvalid) as refused:
        deploy(duban, worker, "bad", push_process("bad", handed="title, _secret").decode())
    assert "变量名「_secret」无效" in refused.value.details[0]["message"]
    assert refused.value.details[0]["element"] == "push"


# -- what else Camunda's JS client sends (camunda-external-task-client-js) -------------------------

def test_lock_by_id_takes_a_free_task_and_refuses_one_another_holds(duban, worker, clock):
    deploy(duban, worker, "listed", push_process("listed", handed="title").decode())
    services.start_instance(duban, worker["office"], "listed", dict(DATA))
    add_worker(duban, "other_worker")
    [task] = et.list_tasks(duban, worker["push_worker"], {})
    et.lock(duban, worker["push_worker"], task["id"], "w1", 60_000)
    assert et.fetch_and_lock(duban, worker["other_worker"], "w2", 1, [LOCK]) == []  # locked: not fetched
    with pytest.raises(Conflict):
        et.lock(duban, worker["other_worker"], task["id"], "w2", 60_000)
    et.lock(duban, worker["push_worker"], task["id"], "w1", 120_000)  # its holder locks it again: a new lock
    clock.advance(seconds=90)
    et.complete(duban, worker["push_worker"], task["id"], "w1", {})  # still held (the second lock)
    with pytest.raises(Conflict):
        et.lock(duban, worker["push_worker"], task["id"], "w1", 60_000)  # ended


def test_business_key_definition_id_tenant_filters_and_newest_first(duban, worker, clock):
    deploy(duban, worker, "listed", push_process("listed", handed="title").decode())
    first = services.start_instance(duban, worker["office"], "listed", dict(DATA))["id"]
    clock.advance(seconds=5)
    second = services.start_instance(duban, worker["office"], "listed", dict(DATA))["id"]

    def found(**filters) -> list:
        locked = et.fetch_and_lock(duban, worker["push_worker"], "w1", 5, [{**LOCK, "lockDuration": 1, **filters}])
        clock.advance(seconds=1)  # the 1 ms locks run out before the next look
        return [int(task["processInstanceId"]) for task in locked]

    assert found(processDefinitionId="listed") == [first, second]
    assert found(processDefinitionIdIn=["other"]) == []
    assert found(tenantIdIn=["t1"]) == [] and found(processDefinitionVersionTag="v1") == []
    assert found(businessKey="999999") == []  # an item's id: these instances serve no item
    assert found(withoutTenantId=True) == [first, second]
    newest = et.fetch_and_lock(duban, worker["push_worker"], "w1", 1, [LOCK],
                               sorting=[{"sortBy": "createTime", "sortOrder": "desc"}])
    assert int(newest[0]["processInstanceId"]) == second
    with pytest.raises(InvalidInput) as refused:  # a filter Duban cannot apply is refused, never ignored
        et.fetch_and_lock(duban, worker["push_worker"], "w1", 5, [{**LOCK, "processVariables": {"title": "x"}}])
    assert "processVariables" in refused.value.message
