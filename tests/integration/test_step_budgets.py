"""Runaway process code is stopped by the step's budget: the step fails, names its element, in
Chinese, and nothing of it is stored. And an ordinary step stays within its budget of SQL statements.
On SQLite and PostgreSQL (the `duban` fixture runs both)."""

import os
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine import services
from engine.bootstrap import bootstrap
from engine.config import Settings
from engine.errors import ProcessError
from engine.models import HistoryEntry, Instance, Item
from engine.services import timers
from tests.integration.flow import RECEIVE, REPORT, open_task
from tests.samples import chain, lane, process, script_task, user_task
from tests.support.statements import statements_sent
from tests.support.waiting import wait_for

FORM = {"simple.form": b'{"type": "default", "id": "simple", "components": []}'}


@pytest.fixture
def duban(database_url, clock, tmp_path):
    # A one-second CPU budget keeps the test short; the mechanism is the one of the 2 s default.
    settings = Settings.from_env({}, var_dir=tmp_path / "var", database_url=database_url,
                                 secret_key="test-secret", step_cpu_s=1.0, step_wall_s=8.0)
    context = bootstrap(settings, clock=clock)
    yield context
    context.db.dispose()


def deploy(duban, org, script: str, key: str = "hostile"):
    body = chain(user_task(1, 'camunda:formRef="simple"'), script_task(2, script))
    files = {f"{key}.bpmn": process(body, key=key, lanes=lane("office", "督查室", "e1"))}
    services.deploy(duban, files, FORM, org["designer"])


def run_to_script(duban, org, script: str):
    """Start the process and complete its task, which runs `script` next."""
    deploy(duban, org, script)
    instance = services.start_instance(duban, org["office"], "hostile", {})
    [task] = instance["tasks"]
    return instance, task


def refusal(duban, org, script: str) -> tuple[str, dict]:
    """The message of the step that runs `script`, which must fail and store nothing; and its task."""
    instance, task = run_to_script(duban, org, script)
    before = stored(duban, instance["id"])
    with pytest.raises(ProcessError) as caught:
        services.complete_task(duban, org["office"], task["id"], {})
    assert stored(duban, instance["id"]) == before
    return caught.value.message, task


def step_processes_cpu() -> float:
    """CPU seconds spent so far by this test process's children (its step processes), from /proc."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[1]) == os.getpid():
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def stored(duban, instance_id):
    with duban.db.reading() as session:
        instance = session.get(Instance, instance_id)
        history = session.scalar(select(func.count()).select_from(HistoryEntry)
                                 .where(HistoryEntry.instance_id == instance_id))
        return instance.version, instance.status, history


@pytest.mark.parametrize("script, budget", [
    ("x = sum(range(3 * 10 ** 9))", "CPU 时间预算"),
    ("x = '%0*d' % (2 * 10 ** 9, 0)", "内存预算"),
    ("x = f'{0:>2000000000}'", "内存预算"),
    ("x = 'a'.ljust(2 * 10 ** 9)", "内存预算"),
    ("x = ''.join(['a' * 10 ** 6 for i in range(3000)])", "内存预算"),
])
def test_a_step_over_its_budget_stops_and_stores_nothing(duban, org, script, budget):
    message, task = refusal(duban, org, script)
    assert budget in message and "脚本2" in message
    assert services.get_task(duban, org["office"], task["id"])["state"] == "open"


@pytest.mark.parametrize("script, words", [
    ("x = ['a' * 10 ** 6] * 50", "过大"),
    ("x = ['a' * 10 ** 5] * 20", "过大"),
    ("x = b'raw bytes'", "不是可保存的数据"),
    ("x = (i for i in range(3))", "不是可保存的数据"),
    ("x = ValueError('kept')", "不是可保存的数据"),
    # not JSON: PostgreSQL refuses them, and the state's writer would turn them into null
    ("x = float('nan')", "不是可保存的数据（nan）"),
    ("x = {'rate': [1e308 * 10]}", "不是可保存的数据（dict）"),
])
def test_data_too_large_or_not_storable_is_refused(duban, org, script, words):
    message, _ = refusal(duban, org, script)
    assert words in message and "“x”" in message


@pytest.mark.parametrize("script, words", [
    # 90 000 CJK characters: 270 000 bytes in UTF-8, over the 256 KiB a value may hold.
    ("x = '督' * 90000", "写入的变量“x”过大"),
    # Five values of 240 000 bytes: each within its limit, 1.2 MB together over the data limit.
    ("a = b = c = d = e = 'a' * 240000", "流程数据过大"),
])
def test_sizes_are_measured_in_utf8_value_by_value_and_in_total(duban, org, script, words):
    message, _ = refusal(duban, org, script)
    assert words in message


def test_data_just_within_the_limits_is_stored(duban, org):
    instance, task = run_to_script(duban, org, "x = '督' * 80000\ny = 'a' * 200000")
    done = services.complete_task(duban, org["office"], task["id"], {})
    assert services.get_instance(duban, org["office"], done["instance_id"])["status"] == "completed"


def test_the_service_goes_on_after_a_runaway_step(duban, org):
    instance, task = run_to_script(duban, org, "x = sum(range(3 * 10 ** 9))")
    with pytest.raises(ProcessError):
        services.complete_task(duban, org["office"], task["id"], {})
    # The next step (a fresh child replaces the killed one) and an ordinary item both work.
    item = services.register_item(duban, org["office"], {"title": "之后的事项"})
    assert item["status"] == "drafting"
    deploy(duban, org, "x = 1 + 1", key="gentle")
    gentle = services.start_instance(duban, org["office"], "gentle", {})
    done = services.complete_task(duban, org["office"], gentle["tasks"][0]["id"], {})
    assert services.get_instance(duban, org["office"], done["instance_id"])["status"] == "completed"


def test_a_runaway_timer_path_becomes_an_incident_naming_its_element(duban, org, clock):
    """A timer path is a background step: over budget, the instance shows an incident in Chinese."""
    body = (
        '<bpmn:startEvent id="start" name="开始"/>'
        '<bpmn:userTask id="wait" name="等待办理" camunda:formRef="simple"/>'
        '<bpmn:boundaryEvent id="later" name="一小时后" attachedToRef="wait" cancelActivity="false">'
        '<bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>'
        '</bpmn:boundaryEvent>'
        '<bpmn:scriptTask id="spin" name="失控脚本"><bpmn:script>x = sum(range(3 * 10 ** 9))</bpmn:script>'
        '</bpmn:scriptTask><bpmn:endEvent id="end1"/><bpmn:endEvent id="end2"/>'
        '<bpmn:sequenceFlow id="a" sourceRef="start" targetRef="wait"/>'
        '<bpmn:sequenceFlow id="b" sourceRef="wait" targetRef="end1"/>'
        '<bpmn:sequenceFlow id="c" sourceRef="later" targetRef="spin"/>'
        '<bpmn:sequenceFlow id="d" sourceRef="spin" targetRef="end2"/>')
    files = {"timed.bpmn": process(body, key="timed", lanes=lane("office", "督查室", "wait"))}
    services.deploy(duban, files, FORM, org["designer"])
    instance = services.start_instance(duban, org["office"], "timed", {})
    clock.advance(hours=2)
    assert timers.fire_all_due(duban) == 0
    seen = services.get_instance(duban, org["admin"], instance["id"])
    assert seen["status"] == "error"
    assert "CPU 时间预算" in seen["error"] and "失控脚本" in seen["error"]
    # The person's task is still there to work on.
    assert [t["element_id"] for t in seen["tasks"]] == ["wait"]


def test_a_secret_item_is_registered_while_nothing_is_written_during_its_start_step(duban, org):
    """立项 takes the item's id before its start step and writes after it (SQLite: no write lock held)."""
    first = services.register_item(duban, org["office"], {"title": "事项一"})
    second = services.register_item(duban, org["office"], {"title": "事项二"})
    assert second["id"] > first["id"]
    with duban.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Item)) >= 2
        assert session.get(Item, second["id"]).instance_id == second["instance_id"]


def test_a_huge_multi_instance_is_stopped_by_the_budget(duban, org):
    """A cardinality from data (10,000 script instances) cannot run for minutes."""
    body = chain(user_task(1, 'camunda:formRef="simple"'), script_task(2, "n = 10000"),
                 '<bpmn:scriptTask id="e3" name="逐一处理"><bpmn:multiInstanceLoopCharacteristics>'
                 '<bpmn:loopCardinality>n</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>'
                 '<bpmn:script>y = sum(range(10 ** 5))</bpmn:script></bpmn:scriptTask>')
    files = {"many.bpmn": process(body, key="many", lanes=lane("office", "督查室", "e1"))}
    services.deploy(duban, files, FORM, org["designer"])
    instance = services.start_instance(duban, org["office"], "many", {})
    before = stored(duban, instance["id"])
    with pytest.raises(ProcessError):
        services.complete_task(duban, org["office"], instance["tasks"][0]["id"], {})
    assert stored(duban, instance["id"]) == before


def test_engine_functions_called_without_end_are_stopped(duban, org):
    instance, task = run_to_script(duban, org, "x = len([today() for i in range(50000)])")
    with pytest.raises(ProcessError) as caught:
        services.complete_task(duban, org["office"], task["id"], {})
    assert "调用引擎函数超过" in caught.value.message
    assert services.get_task(duban, org["office"], task["id"])["state"] == "open"


def test_others_write_while_a_step_runs_process_code(duban, org):
    """The step holds no write lock while its script runs: 立项 by someone else commits meanwhile."""
    instance, task = run_to_script(duban, org, "x = sum(range(3 * 10 ** 9))")
    failures = []

    def hostile():
        try:
            services.complete_task(duban, org["office"], task["id"], {})
        except ProcessError as error:
            failures.append(error.message)

    busy_before = step_processes_cpu()
    worker = threading.Thread(target=hostile)
    worker.start()
    # The step has reached its script once a step process has spent a quarter of a second on it.
    wait_for(lambda: step_processes_cpu() - busy_before >= 0.25, timeout=10, what="the script to run")
    item = services.register_item(duban, org["office"], {"title": "并行立项"})
    assert worker.is_alive(), "the write waited for the runaway step to end"
    worker.join()
    assert item["status"] == "drafting" and "CPU 时间预算" in failures[0]


# Statements one completion of the main process may send: the instance locked, its task, open tasks,
# item and units read in a second query (the waiting timers are known from the step before), the task
# marked completed, then one statement per table written. On PostgreSQL those writes (history,
# notifications, new tasks and timers, ended timers, the instance's new state, the item's and its units'
# changes) all go in the audit chain's statement (with its check of the chain's head); the units' names
# are read once a transaction where a step names a unit, and new item units are the ORM's. On SQLite
# they are statements of their own (a report that leaves the item no open part moves its first due
# time, the ledger's lights: one UPDATE of the item more), and SQLite counts its BEGIN. More than these
# means a round trip came back: find it before raising a number.
COMPLETION_STATEMENTS = {
    "postgresql": {"draft_opinion": 5, "leader_approval": 4, "assign": 3, "unit_receive": 3, "unit_report": 3,
                   "office_review": 3, "feedback": 3},
    "sqlite": {"draft_opinion": 13, "leader_approval": 12, "assign": 12, "unit_receive": 10, "unit_report": 11,
               "office_review": 12, "feedback": 8},
}
HAPPY_PATH = [
    ("office", "draft_opinion", None, {"lead_unit": "fgj", "co_units": ["czj"], "opinion": "请办理"}),
    ("leader", "leader_approval", None, {"decision": "approve"}),
    ("office", "assign", None, {"notice": "交办通知单"}),
    ("unit_a", "unit_receive", "fgj", RECEIVE), ("unit_b", "unit_receive", "czj", RECEIVE),
    ("unit_a", "unit_report", "fgj", REPORT), ("unit_b", "unit_report", "czj", REPORT),
    ("office", "office_review", "fgj", {"decision": "accept"}),
    ("office", "office_review", "czj", {"decision": "accept"}),
    ("office", "feedback", None, {"summary": "已反馈"}),
]


def test_each_completion_of_the_main_path_stays_within_its_statements(duban, org):
    for round_ in range(2):  # the second round counts: the step processes hold the workflows then
        item = services.register_item(duban, org["office"], {"title": "语句预算"})
        for user, element, unit, data in HAPPY_PATH:
            task = open_task(duban, org[user], element, unit, instance_id=item["instance_id"])
            if not round_:
                services.complete_task(duban, org[user], task["id"], data)
                continue
            with statements_sent(duban) as statements:
                services.complete_task(duban, org[user], task["id"], data)
            assert len(statements) <= COMPLETION_STATEMENTS[duban.db.dialect][element], (element, unit, statements)
        assert services.get_item(duban, org["office"], item["id"])["status"] == "closed"


def test_a_steps_questions_are_answered_with_the_next_request(duban, org, monkeypatch):
    """A waiting timer's expression is asked at every step (the escalation waits for a 催办 that has not
    come: urge_limit answers nothing). The parent answers what the instance's last step asked before it
    sends the next, so each unit's question crosses between the processes once, when its branch starts,
    and the answers stay current: the path still closes."""
    from engine.bpmn import isolation

    asked = []
    answer = isolation._answer
    monkeypatch.setattr(isolation, "_answer", lambda message, run: asked.append(message[1]) or answer(message, run))
    item = services.register_item(duban, org["office"], {"title": "事先作答"})
    for user, element, unit, data in HAPPY_PATH:
        task = open_task(duban, org[user], element, unit, instance_id=item["instance_id"])
        services.complete_task(duban, org[user], task["id"], data)
    assert asked.count("urge_limit") == 2, asked  # one per unit (ten steps ask it)
    assert services.get_item(duban, org["office"], item["id"])["status"] == "closed"
