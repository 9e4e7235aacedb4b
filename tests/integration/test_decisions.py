"""DMN decision tables (决策表): deployed with their process or on their own, run by business rule tasks
in the step process's sandbox, their results in the instance's data; a decision deployed anew reaches
the processes using it; a table that runs away is stopped by the step's budget."""
import pytest
from sqlalchemy import select

from engine import services
from engine.errors import DeploymentInvalid, ProcessError
from engine.models import Decision, Definition
from engine.services import decisions, timers
from tests.samples import process, user_task
from tests.support.dmn import SPIFF_NS, deciding_process, rule_task, table
from tests.support.org import make_duban, seed

WAIT = user_task(2, 'camunda:candidateGroups="office" camunda:formRef="simple"')
FORM = {"simple.form": b'{"type": "default", "id": "simple", "components": []}'}


def start(duban, org, category: str, key: str = "decide") -> dict:
    return services.start_instance(duban, org["office"], key, {"category": category})


@pytest.mark.parametrize("camunda", [False, True])
def test_a_process_with_its_table_deploys_runs_and_takes_the_result(duban, org, camunda):
    files = {"p.bpmn": deciding_process(camunda=camunda), "grade.dmn": table()}
    results = services.deploy(duban, files, {}, org["designer"])
    assert [(r["kind"], r["key"], r["version"]) for r in results] == [
        ("process", "decide", 1), ("decision", "grade", 1)]
    assert start(duban, org, "major")["data"]["workdays"] == 20
    finished = start(duban, org, "normal")
    assert finished["status"] == "completed" and finished["data"]["workdays"] == 10
    assert "workdays" not in start(duban, org, "urgent")["data"]  # no rule matched: nothing added


def test_collect_gives_every_matching_rule(duban, org):
    rules = (("> 1", '"a"'), ("> 2", '"b"'), ("> 100", '"c"'))
    files = {"p.bpmn": deciding_process(), "g.dmn": table(rules=rules, inputs=(("score", "分"),),
                                                           outputs=(("marks", "标记"),), hit_policy="COLLECT")}
    services.deploy(duban, files, {}, org["designer"])
    instance = services.start_instance(duban, org["office"], "decide", {"score": 5})
    assert instance["data"]["marks"] == ["a", "b"]


def test_a_decision_deployed_alone_is_found_by_its_id(duban, org):
    [alone] = services.deploy(duban, {"grade.dmn": table()}, {}, org["designer"])
    assert (alone["kind"], alone["key"], alone["version"], alone["created"]) == ("decision", "grade", 1, True)
    [process] = services.deploy(duban, {"p.bpmn": deciding_process()}, {}, org["designer"])
    assert process["key"] == "decide"
    with duban.db.reading() as session:
        files = session.scalars(select(Definition.files).where(Definition.key == "decide")).one()
    assert "deployed:decision:grade.dmn" in files
    assert start(duban, org, "major")["data"]["workdays"] == 20


def test_a_decision_missing_is_refused_naming_it(duban, org):
    with pytest.raises(DeploymentInvalid) as caught:
        services.deploy(duban, {"p.bpmn": deciding_process(decision="nowhere")}, {}, org["designer"])
    detail = caught.value.details[0]
    assert "nowhere" in detail["message"] and "既不在本次部署中" in detail["message"]
    assert detail["element"] == "e1" and "判定1" in detail["message"]
    with duban.db.reading() as session:
        assert session.scalar(select(Definition.id).where(Definition.key == "decide")) is None


def test_a_table_deployed_anew_reaches_new_instances_not_running_ones(duban, org):
    services.deploy(duban, {"p.bpmn": deciding_process(then=WAIT), "grade.dmn": table()}, FORM, org["designer"])
    running = start(duban, org, "major")
    assert (running["version"], running["data"]["workdays"]) == (1, 20)
    changed = table(rules=(('"major"', "15"), ('"normal"', "10")))
    results = services.deploy(duban, {"grade.dmn": changed}, {}, org["designer"])
    assert [(r["kind"], r["key"], r["version"]) for r in results] == [
        ("process", "decide", 2), ("decision", "grade", 2)]
    assert results[0]["decided_by"] == ["grade"]
    new = start(duban, org, "major")
    assert (new["version"], new["data"]["workdays"]) == (2, 15)
    assert services.get_instance(duban, org["office"], running["id"])["version"] == 1
    again = services.deploy(duban, {"grade.dmn": changed}, {}, org["designer"])
    assert [(r["key"], r["version"], r["created"]) for r in again] == [("grade", 2, False)]


def test_a_service_evaluates_the_latest_table(duban, org):
    assert decisions.evaluate(duban, "grade", {"category": "major"}) is None
    services.deploy(duban, {"grade.dmn": table()}, {}, org["designer"])
    assert decisions.evaluate(duban, "grade", {"category": "major"}) == {"workdays": 20}
    services.deploy(duban, {"grade.dmn": table(rules=(('"major"', "18"),))}, {}, org["designer"])
    assert decisions.evaluate(duban, "grade", {"category": "major"}) == {"workdays": 18}
    with duban.db.reading() as session:
        assert [d.version for d in session.scalars(select(Decision).order_by(Decision.version))] == [1, 2]


@pytest.mark.parametrize("cells, problem", [
    (('"major"', "__import__('os').system('id')"), "不能运行"),
    (('"major"', "().__class__"), "不能运行"),
    (('=> 1', "1"), "不能运行"),
])
def test_hostile_or_broken_tables_are_refused_and_store_nothing(duban, org, cells, problem):
    with pytest.raises(DeploymentInvalid) as caught:
        services.deploy(duban, {"p.bpmn": deciding_process(), "bad.dmn": table(rules=(cells,))}, {}, org["designer"])
    assert problem in caught.value.message and "第 1 条规则" in caught.value.message
    with duban.db.reading() as session:
        assert session.scalar(select(Decision.id)) is None
        assert session.scalar(select(Definition.id).where(Definition.key == "decide")) is None


@pytest.mark.parametrize("cell, python", [('"normal","major"', '? in ("normal","major")'),
                                          ('not("urgent")', '? not in ("urgent",)')])
def test_feel_lists_and_negations_are_refused_with_the_python_to_write(duban, org, cell, python):
    with pytest.raises(DeploymentInvalid) as caught:
        services.deploy(duban, {"g.dmn": table(rules=((cell, "5"),))}, {}, org["designer"])
    assert python in caught.value.message and "FEEL" in caught.value.message
    written = table(rules=((python, "5"), ("-", "10")), hit_policy="FIRST")
    services.deploy(duban, {"p.bpmn": deciding_process(), "grade.dmn": written}, {}, org["designer"])
    data = {c: start(duban, org, c)["data"]["workdays"] for c in ("normal", "major", "urgent")}
    assert data == {"normal": 5, "major": 5, "urgent": 10}


@pytest.mark.parametrize("hit_policy", ["PRIORITY", "RULE ORDER"])
def test_hit_policies_spiffworkflow_cannot_run_are_refused(duban, org, hit_policy):
    with pytest.raises(DeploymentInvalid, match="命中策略"):
        services.deploy(duban, {"g.dmn": table(hit_policy=hit_policy)}, {}, org["designer"])


@pytest.fixture
def tight(database_url, clock, tmp_path):
    # A one-second CPU budget keeps the test short; the mechanism is the one of the 2 s default.
    context = make_duban(database_url, clock, tmp_path, step_cpu_s=1.0, step_wall_s=8.0)
    yield context
    context.db.dispose()


def test_a_runaway_table_on_a_timer_path_becomes_an_incident(tight, clock):
    """A background step (a timer) that reaches a runaway table: an incident naming the task, in Chinese."""
    org = seed(tight)
    body = (
        '<bpmn:startEvent id="start" name="开始"/>'
        '<bpmn:intermediateCatchEvent id="later" name="一小时后"><bpmn:timerEventDefinition>'
        '<bpmn:timeDuration>"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>'
        + rule_task("grade", 1) + '<bpmn:endEvent id="end"/>'
        '<bpmn:sequenceFlow id="a" sourceRef="start" targetRef="later"/>'
        '<bpmn:sequenceFlow id="b" sourceRef="later" targetRef="e1"/>'
        '<bpmn:sequenceFlow id="c" sourceRef="e1" targetRef="end"/>')
    timed = process(body, key="timed").replace(b"<bpmn:definitions ", f"<bpmn:definitions {SPIFF_NS} ".encode(), 1)
    runaway = table(rules=(('"major"', "sum(range(3 * 10 ** 9))"),))
    services.deploy(tight, {"timed.bpmn": timed, "grade.dmn": runaway}, {}, org["designer"])
    instance = services.start_instance(tight, org["office"], "timed", {"category": "major"})
    clock.advance(hours=2)
    timers.fire_all_due(tight)
    seen = services.get_instance(tight, org["admin"], instance["id"])
    assert seen["status"] == "error"
    assert "CPU 时间预算" in seen["error"] and "判定1" in seen["error"]


def test_a_runaway_table_is_stopped_by_the_step_budget(tight):
    org = seed(tight)
    runaway = table(rules=(('"major"', "sum(range(3 * 10 ** 9))"),))
    services.deploy(tight, {"p.bpmn": deciding_process(), "grade.dmn": runaway}, {}, org["designer"])
    with pytest.raises(ProcessError) as caught:
        start(tight, org, "major")
    assert "CPU 时间预算" in caught.value.message and "判定1" in caught.value.message
    assert start(tight, org, "normal")["status"] == "completed"  # the service goes on


def test_deploying_a_table_is_audited(duban, org):
    services.deploy(duban, {"grade.dmn": table()}, {}, org["designer"])
    services.deploy(duban, {"grade.dmn": table()}, {}, org["designer"])
    records, _ = services.audit.list_records(duban, org["auditor"], filters={"action": "decision.deploy"})
    assert [(r["actor"], r["target"], r["detail"]) for r in records] == [
        ("designer", "decision:grade", {"version": 1, "created": False}),
        ("designer", "decision:grade", {"version": 1, "created": True})]
    assert records[0]["action_name"] == "部署决策表"


def result_process(mapping: str | None, variable: str = "grading") -> bytes:
    """deciding_process whose business rule task (as Camunda's modeler writes it) keeps the result in `variable`."""
    extra = f'camunda:resultVariable="{variable}"' + (f' camunda:mapDecisionResult="{mapping}"' if mapping else "")
    return deciding_process(camunda=True).replace(b'camunda:decisionRef="grade"',
                                                  f'camunda:decisionRef="grade" {extra}'.encode())


TWO_OUTPUTS = {"outputs": (("workdays", "期限"), ("level", "等级")),
               "rules": (('"major"', "20", '"重大"'), ('"normal"', "10", '"一般"'))}


@pytest.mark.parametrize(("mapping", "table_args", "category", "expected"), [
    (None, TWO_OUTPUTS, "major", [{"workdays": 20, "level": "重大"}]),  # Camunda's default: resultList
    ("resultList", {}, "urgent", []),
    ("singleResult", TWO_OUTPUTS, "normal", {"workdays": 10, "level": "一般"}),
    ("singleResult", {}, "urgent", None),
    ("singleEntry", {}, "major", 20),
    ("singleEntry", {}, "urgent", None),
    ("collectEntries", {"rules": (("> 1", '"a"'), ("> 2", '"b"')), "inputs": (("score", "分"),),
                        "outputs": (("mark", "标记"),), "hit_policy": "COLLECT"}, None, ["a", "b"]),
])
def test_camunda_result_variable_takes_the_result_as_mapped(duban, org, mapping, table_args, category, expected):
    """With camunda:resultVariable the decision's result goes into that variable, shaped as
    camunda:mapDecisionResult says (as Camunda 7 does), and not output by output."""
    files = {"p.bpmn": result_process(mapping), "grade.dmn": table(**table_args)}
    services.deploy(duban, files, {}, org["designer"])
    data = services.start_instance(duban, org["office"], "decide", {"category": category, "score": 5})["data"]
    assert data["grading"] == expected
    assert "workdays" not in data and "mark" not in data


def test_a_result_mapping_that_does_not_fit_the_table_stops_the_step(duban, org):
    files = {"p.bpmn": result_process("singleEntry"), "grade.dmn": table(**TWO_OUTPUTS)}
    services.deploy(duban, files, {}, org["designer"])
    with pytest.raises(ProcessError) as stopped:
        start(duban, org, "major")
    assert "多个输出列" in stopped.value.message and "singleEntry" in stopped.value.message
    with pytest.raises(DeploymentInvalid) as refused:
        services.deploy(duban, {"p.bpmn": result_process("firstEntry"), "grade.dmn": table()}, {}, org["designer"])
    assert "mapDecisionResult" in refused.value.details[0]["message"]
