"""Real-world BPMN from Camunda, bpmn.io, Flowable, SpiffWorkflow and the MIWG suite (shared/corpus).

Each supported diagram is deployed and run to completion through the services, as a user would
through the API; each unsupported one is refused at deploy with a message naming what and where.
"""

import pytest

from engine import services
from engine.errors import Conflict, DeploymentInvalid
from engine.services import timers
from tests.support.org import CORPUS


def deploy(duban, org, *paths):
    files = {p: (CORPUS / p).read_bytes() for p in paths}
    return services.deploy(duban, {k.split("/")[-1]: v for k, v in files.items()}, {}, org["designer"])


def work(duban, org, instance_id, steps):
    """Complete the open tasks named in `steps` ({element: data}) until none of them is open."""
    for _ in range(20):
        instance = services.get_instance(duban, org["designer"], instance_id)
        open_tasks = [t for t in instance["tasks"] if t["element_id"] in steps]
        if not open_tasks:
            return instance
        task = open_tasks[0]
        services.complete_task(duban, org["designer"], task["id"], steps[task["element_id"]])
    raise AssertionError("the process kept asking for work")


def run_timers(duban, seconds=5):
    duban.clock.advance(seconds=seconds)
    return timers.fire_all_due(duban)


RUNS = {
    "spiffworkflow/spiff-lanes__lanes.bpmn": {
        "Activity_A1": {"NewBPMNFeautre": "lanes"}, "Activity_B1": {"NeedClarification": False},
        "Implement_Feature": {}, "Activity_1uksrqx": {}, "SubProcessTask": {}},
    "spiffworkflow/spiff-inclusive__inclusive_gateway.bpmn": {"set_data": {"u": 1, "v": 0, "w": 1}},
    "spiffworkflow/spiff-transaction__transaction.bpmn": {
        "Activity_Get_Data": {"value": "x"}, "Activity_Get_Quantity": {"quantity": 1}},
}


@pytest.mark.parametrize("path", sorted(RUNS))
def test_supported_diagrams_run_to_completion(duban_sqlite, org_sqlite, path):
    [deployed] = deploy(duban_sqlite, org_sqlite, path)
    started = services.start_instance(duban_sqlite, org_sqlite["designer"], deployed["key"], {})
    finished = work(duban_sqlite, org_sqlite, started["id"], RUNS[path])
    assert finished["status"] == "completed", finished["tasks"]


@pytest.mark.parametrize("path", ["spiffworkflow/spiff-timer__timer.bpmn",
                                  "spiffworkflow/spiff-event-gateway__event-gateway.bpmn"])
def test_timer_diagrams_complete_once_their_timers_fire(duban_sqlite, org_sqlite, path):
    [deployed] = deploy(duban_sqlite, org_sqlite, path)
    started = services.start_instance(duban_sqlite, org_sqlite["designer"], deployed["key"], {})
    assert started["status"] == "running" and started["timers"]
    assert run_timers(duban_sqlite) >= 1
    assert run_timers(duban_sqlite) == 0  # nothing fires twice
    assert services.get_instance(duban_sqlite, org_sqlite["designer"], started["id"])["status"] == "completed"


def test_interrupting_timer_boundary_on_a_subprocess(duban_sqlite, org_sqlite):
    [deployed] = deploy(duban_sqlite, org_sqlite, "spiffworkflow/spiff-boundary__boundary.bpmn")
    started = services.start_instance(duban_sqlite, org_sqlite["designer"], deployed["key"], {})
    work(duban_sqlite, org_sqlite, started["id"], {"Activity_09c27ms": {"initialstuff": "go"}})
    instance = services.get_instance(duban_sqlite, org_sqlite["designer"], started["id"])
    assert [t["element_id"] for t in instance["tasks"]] == ["Activity_Pester_Dad"]
    assert run_timers(duban_sqlite, 1) == 1
    instance = services.get_instance(duban_sqlite, org_sqlite["designer"], started["id"])
    assert [t["element_id"] for t in instance["tasks"]] == ["Activity_1ya1db2"]  # the subprocess was interrupted
    finished = work(duban_sqlite, org_sqlite, started["id"], {"Activity_1ya1db2": {}, "StopCar": {}})
    assert finished["status"] == "completed"


def test_message_boundaries(duban_sqlite, org_sqlite):
    [deployed] = deploy(duban_sqlite, org_sqlite, "spiffworkflow/spiff-external-message__external_message.bpmn")
    assert any("脚本语言“reset”无法识别，脚本将按 Python 运行" in w["message"] for w in deployed["warnings"])
    started = services.start_instance(duban_sqlite, org_sqlite["designer"], deployed["key"], {})
    services.send_message(duban_sqlite, org_sqlite["designer"], "Interrupt", {}, started["id"])
    instance = services.get_instance(duban_sqlite, org_sqlite["designer"], started["id"])
    assert sorted(t["element_id"] for t in instance["tasks"]) == ["Activity_0sywrc6", "Activity_147sm5j"]
    with pytest.raises(Conflict):
        services.send_message(duban_sqlite, org_sqlite["designer"], "no such message", {}, started["id"])
    finished = work(duban_sqlite, org_sqlite, started["id"], {"Activity_147sm5j": {"Continue": "yes"},
                                                             "Activity_0sywrc6": {"PauseForTest": "done"}})
    assert finished["status"] == "completed"


def test_message_start_event(duban_sqlite, org_sqlite):
    deploy(duban_sqlite, org_sqlite, "camunda-bpm-examples/cbe-message-start__message_start_process.bpmn")
    [instance_id] = services.send_message(duban_sqlite, org_sqlite["designer"], "instantiationMessage", {"k": 1})
    finished = work(duban_sqlite, org_sqlite, instance_id, {"UserTask_1": {}})
    assert finished["status"] == "completed"
    assert finished["data"]["k"] == 1


def test_call_activity_across_two_files_deployed_together(duban_sqlite, org_sqlite):
    results = deploy(duban_sqlite, org_sqlite,
                     "spiffworkflow/spiff-callact-escalation__CallActivity-Escalation-Test.bpmn20.xml",
                     "spiffworkflow/spiff-callact-escalation-sub__CallActivity-Escalation-Test-Sub.bpmn20.xml")
    main = next(r for r in results if r["key"] == "CallActivity-Escalation-Test")
    started = services.start_instance(duban_sqlite, org_sqlite["designer"], main["key"], {})
    assert started["status"] == "completed"


def test_a_call_activity_alone_is_refused_until_its_process_is_deployed(duban_sqlite, org_sqlite):
    main = "spiffworkflow/spiff-callact-escalation__CallActivity-Escalation-Test.bpmn20.xml"
    with pytest.raises(DeploymentInvalid,
                       match="调用的流程“CallActivity-Escalation-Test-Sub”既不在本次部署中，也未曾部署"):
        deploy(duban_sqlite, org_sqlite, main)
    deploy(duban_sqlite, org_sqlite,
           "spiffworkflow/spiff-callact-escalation-sub__CallActivity-Escalation-Test-Sub.bpmn20.xml")
    [deployed] = deploy(duban_sqlite, org_sqlite, main)
    assert services.start_instance(duban_sqlite, org_sqlite["designer"], deployed["key"], {})["status"] == "completed"


@pytest.mark.parametrize("enough,last", [("true", "provideAdditionalDetails"), ("false", "storeLeadInCrmSystem")])
def test_flowable_juel_conditions_run_as_python(duban_sqlite, org_sqlite, enough, last):
    [deployed] = deploy(duban_sqlite, org_sqlite, "flowable/fl-review-sales-lead__reviewSalesLead.bpmn20.xml")
    said = [w["message"] for w in deployed["warnings"] if w["element"] == "flow8"]
    assert said == ["顺序流“flow8”：条件“${notEnoughInformation == 'true'}”是 JUEL 表达式，将按 Python 表达式 "
                    "notEnoughInformation == 'true' 求值（流程图保持原样；请核对，或直接改写为 Python）"]
    started = services.start_instance(duban_sqlite, org_sqlite["designer"], deployed["key"], {})
    instance = work(duban_sqlite, org_sqlite, started["id"], {
        "provideNewSalesLead": {"customerName": "甲", "potentialProfit": 1, "details": "x"},
        "reviewCustomerRating": {}, "reviewProfitability": {"notEnoughInformation": enough}})
    assert [t["element_id"] for t in instance["tasks"]] == [last]  # the way the condition took


# The reason each is refused: the element it names and the Chinese words saying why.
REFUSED = {
    "bpmn-js-examples/bjsx-starter__diagram.bpmn": 'isExecutable="false"',
    "miwg/miwg-A.1.0__A.1.0.bpmn": "没有可执行的流程（文件中的流程：WFP-6-）",
    "camunda-modeler/cm-broken__broken.bpmn": "不是格式正确的 XML（第 5 行）",
    "spiffworkflow/spiff-mi-parallel__parallel_multiinstance_cardinality.bpmn":
        "任务“Any Task”（any_task）：要从每个实例收集输出项“output_item”，但任务不产生数据",
}


@pytest.mark.parametrize("path", sorted(REFUSED))
def test_unsupported_diagrams_are_refused_with_a_reason(duban_sqlite, org_sqlite, path):
    with pytest.raises(DeploymentInvalid) as caught:
        deploy(duban_sqlite, org_sqlite, path)
    assert REFUSED[path] in caught.value.message
    assert {d["key"] for d in services.list_definitions(duban_sqlite)} == {"duban_main", "duban_extension"}


def test_the_kitchen_sink_names_every_unsupported_element(duban_sqlite, org_sqlite):
    with pytest.raises(DeploymentInvalid) as caught:
        deploy(duban_sqlite, org_sqlite, "bpmn-js/bjs-kitchen-sink__kitchen-sink.bpmn")
    messages = " | ".join(d["message"] for d in caught.value.details)
    for expected in ("服务任务未声明外部任务主题", "业务规则任务没有指定决策",
                     "不支持复杂网关（complexGateway）"):
        assert expected in messages
    assert "数据存储" not in messages  # a data store is drawn, not run: a warning, not a refusal
    assert all(d["element"] or d["line"] for d in caught.value.details)


def test_the_corpus_is_here():
    assert (CORPUS / "README.md").is_file(), f"shared/corpus not found at {CORPUS}: set DUBAN_CORPUS_DIR"
