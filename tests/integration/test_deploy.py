"""Deploying: versions, identical content, instances staying on their version, who may deploy."""
import pytest
from click.testing import CliRunner

from duban.cli import main as duban_cli
from engine import services
from engine.errors import DeploymentInvalid, Forbidden
from engine.services.deploy import validate
from tests.samples import SIMPLE_FORM, boundary_timer, chain, lane, multi_instance, process, user_task
from tests.support.org import make_duban

FORM = {"simple.form": SIMPLE_FORM}


def version_1():
    return {"p.bpmn": process(chain(user_task(1, 'camunda:formRef="simple"')), lanes=lane("office", "督查室", "e1"))}


def version_2():
    body = chain(user_task(1, 'camunda:formRef="simple"'), user_task(2, 'camunda:formRef="simple"'))
    return {"p.bpmn": process(body, lanes=lane("office", "督查室", "e1", "e2"))}


def test_versions_and_identical_content(duban, org):
    designer = org["designer"]
    [first] = services.deploy(duban, version_1(), FORM, designer)
    [again] = services.deploy(duban, version_1(), FORM, designer)
    [second] = services.deploy(duban, version_2(), FORM, designer)
    assert (first["version"], first["created"]) == (1, True)
    assert (again["version"], again["created"]) == (1, False)
    assert (second["version"], second["created"]) == (2, True)
    listed = {d["key"]: d["version"] for d in services.list_definitions(duban)}
    assert listed["sample"] == 2
    assert [d["version"] for d in services.list_definitions(duban, all_versions=True) if d["key"] == "sample"] == [2, 1]
    assert "e2" in services.definition_xml(duban, "sample")
    assert "e2" not in services.definition_xml(duban, "sample", 1)


def test_running_instances_stay_on_their_version(duban, org):
    office, designer = org["office"], org["designer"]
    services.deploy(duban, version_1(), FORM, designer)
    old = services.start_instance(duban, office, "sample", {})
    services.deploy(duban, version_2(), FORM, designer)
    new = services.start_instance(duban, office, "sample", {})
    assert (old["version"], new["version"]) == (1, 2)
    [task] = old["tasks"]
    services.complete_task(duban, office, task["id"], {"answer": "done"})
    assert services.get_instance(duban, office, old["id"])["status"] == "completed"
    running = {d["version"]: d["running_instances"] for d in services.list_definitions(duban, all_versions=True)
               if d["key"] == "sample"}
    assert running == {1: 0, 2: 1}


def test_only_designers_and_admins_deploy(duban, org):
    with pytest.raises(Forbidden):
        services.deploy(duban, version_1(), FORM, org["office"])
    services.deploy(duban, version_1(), FORM, org["admin"])


def test_refused_deploys_store_nothing(duban, org):
    before = services.list_definitions(duban, all_versions=True)
    with pytest.raises(DeploymentInvalid):
        services.deploy(duban, version_1(), {}, org["designer"])  # its form is missing
    assert services.list_definitions(duban, all_versions=True) == before


def test_the_main_process_starts_only_through_items(duban, org):
    from engine.errors import InvalidInput

    with pytest.raises(InvalidInput, match="POST /api/v1/items"):
        services.start_instance(duban, org["office"], "duban_main", {})


def reminding(cycle: str) -> dict:
    """version_1 with a non-interrupting timer repeating `cycle` on its task."""
    body = chain(user_task(1, 'camunda:formRef="simple"')) + boundary_timer("timeCycle", cycle)
    return {"p.bpmn": process(body, lanes=lane("office", "督查室", "e1", "remind"))}


def test_limits_refuse_a_deploy_naming_element_and_rule(duban, org):
    with pytest.raises(DeploymentInvalid) as caught:
        services.deploy(duban, reminding("R/PT0.001S"), FORM, org["designer"])
    [detail] = caught.value.details
    assert (detail["element"], detail["rule"]) == ("tick", "timer-min-cycle")
    assert "短于允许的最小间隔 60 秒" in detail["message"]
    body = chain(user_task(1, 'camunda:formRef="simple"'), multi_instance(2, cardinality="10000"))
    with pytest.raises(DeploymentInvalid) as caught:
        validate(duban, {"p.bpmn": process(body, lanes=lane("office", "督查室", "e1"))}, FORM, org["designer"])
    assert [(d["element"], d["rule"]) for d in caught.value.details] == [("e2", "multi-instance-max")]
    assert not [d for d in services.list_definitions(duban) if d["key"] == "sample"]


def test_limits_are_the_installations_settings(duban, database_url, clock, tmp_path, org):
    with pytest.raises(DeploymentInvalid, match="最小间隔 60 秒"):
        services.deploy(duban, reminding("R5/PT1S"), FORM, org["designer"])
    patient = make_duban(database_url, clock, tmp_path, min_timer_cycle_s=1, max_multi_instance=20000)
    try:
        [deployed] = services.deploy(patient, reminding("R5/PT1S"), FORM, org["designer"])
        assert deployed["version"] == 1
    finally:
        patient.db.dispose()


def test_duban_deploy_prints_the_refusal_in_chinese(sqlite_url, tmp_path):
    path = tmp_path / "reminding.bpmn"
    path.write_bytes(reminding("R5/PT1S")["p.bpmn"])
    (tmp_path / "simple.form").write_bytes(SIMPLE_FORM)
    env = {"DUBAN_DATABASE_URL": sqlite_url, "DUBAN_VAR_DIR": str(tmp_path / "var"), "DUBAN_SECRET_KEY": "x"}
    result = CliRunner().invoke(duban_cli, ["deploy", str(path)], env=env)
    assert result.exit_code == 2, result.output
    assert "边界事件“提醒”（tick）：循环定时器“R5/PT1S”每 1 秒触发一次，短于允许的最小间隔 60 秒" in result.stderr
