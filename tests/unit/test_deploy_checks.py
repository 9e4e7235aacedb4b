"""What deploy refuses, with a message naming the element, and what it derives."""
import os
import subprocess
import sys

import pytest

from engine.bpmn.runtime import compile_bundle
from engine.config import EngineLimits, Settings, using_limits
from engine.errors import DeploymentInvalid
from tests.conftest import ROOT
from tests.samples import (SIMPLE_FORM, boundary_timer, chain, lane, multi_instance, process, script_task,
                           timer_event, user_task)

LIMIT = 200_000


def refused(files, forms=None):
    with pytest.raises(DeploymentInvalid) as caught:
        compile_bundle(files, forms or {}, LIMIT)
    return caught.value


def only(xml, forms=None):
    return compile_bundle({"p.bpmn": xml}, forms or {}, LIMIT)


def test_a_plain_process_compiles_with_roles_and_forms():
    xml = process(chain(user_task(1, 'camunda:formRef="simple"')), lanes=lane("office", "督查室", "e1"))
    [compiled] = only(xml, {"simple.form": SIMPLE_FORM})
    task = compiled.elements["human_tasks"]["e1"]
    assert (task["role"], task["form"]) == ("office", "simple")
    assert compiled.forms["simple"]["components"][0]["key"] == "answer"


@pytest.mark.parametrize("payload,message", [
    (b"<bpmn:definitions", "not well-formed"),
    (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]><d>&e;</d>', "DOCTYPE"),
    (b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><lolz>&lol2;</lolz>', "DOCTYPE"),
    (b"<other/>", "not bpmn:definitions"),
    (b"<x>" + b" " * (LIMIT + 1) + b"</x>", "超过上限"),
])
def test_hostile_or_broken_xml_is_refused(payload, message):
    error = refused({"bad.bpmn": payload})
    assert message in error.message
    assert error.details[0]["file"] == "bad.bpmn"


def test_user_task_outside_every_lane_is_refused():
    xml = process(chain(user_task(1), user_task(2)), lanes=lane("office", "督查室", "e1"))
    error = refused({"p.bpmn": xml})
    assert error.details[0]["element"] == "e2"
    assert "outside every lane" in error.details[0]["message"]


def test_candidate_groups_assign_a_role_without_a_lane():
    xml = process(chain(user_task(1, 'camunda:candidateGroups="leader"')), lanes=lane("office", "督查室"))
    assert only(xml)[0].elements["human_tasks"]["e1"]["role"] == "leader"


def test_lanes_map_by_name_and_unknown_lanes_warn():
    xml = process(chain(user_task(1), user_task(2)), lanes=lane("L1", "领导", "e1") + lane("L2", "Sales", "e2"))
    [compiled] = only(xml)
    assert compiled.elements["human_tasks"]["e1"]["role"] == "leader"
    assert compiled.elements["human_tasks"]["e2"]["role"] is None
    assert "not a Duban role" in compiled.warnings[0]["message"]


@pytest.mark.parametrize("attrs,message", [
    ('camunda:formRef="missing"', "is missing"),
    ('camunda:formKey="embedded:app:forms/x.html"', "not a form-js form"),
])
def test_missing_or_unsupported_forms_are_refused(attrs, message):
    xml = process(chain(user_task(1, attrs)), lanes=lane("office", "督查室", "e1"))
    error = refused({"p.bpmn": xml})
    assert message in error.message and error.details[0]["element"] == "e1"


def test_an_invalid_form_is_refused():
    xml = process(chain(user_task(1, 'camunda:formRef="simple"')), lanes=lane("office", "督查室", "e1"))
    error = refused({"p.bpmn": xml}, {"simple.form": b'{"id": "simple", "components": [{"type": "nope"}]}'})
    assert "invalid" in error.message


def test_camunda_form_data_becomes_a_form():
    inner = ('<bpmn:extensionElements><camunda:formData><camunda:formField id="answer" type="string"/>'
             '</camunda:formData></bpmn:extensionElements>')
    [compiled] = only(process(chain(user_task(1, "", inner))))
    assert compiled.forms["camunda:e1"]["components"][0]["key"] == "answer"


@pytest.mark.parametrize("element,message", [
    ('<bpmn:serviceTask id="e1" name="调用"/>', "service tasks are not supported"),
    ('<bpmn:businessRuleTask id="e1" name="决策"/>', "DMN"),
    (script_task(1, "x = 1", "javascript"), "scriptFormat 'javascript'"),
    (script_task(1, "import os"), "import is not allowed"),
    (script_task(1, "x = ().__class__"), "invalid attribute name"),
    (timer_event(1, "timeDuration", "PT5X"), "e1"),
    (timer_event(1, "timeDuration", "${duration}"), "JUEL"),
])
def test_unsupported_elements_are_refused_by_name(element, message):
    error = refused({"p.bpmn": process(chain(element))})
    assert message in error.message
    assert any(d["element"] == "e1" for d in error.details)


def test_juel_conditions_are_refused():
    body = ('<bpmn:startEvent id="start"/><bpmn:exclusiveGateway id="gw" name="分支"/>'
            '<bpmn:endEvent id="a"/><bpmn:endEvent id="b"/>'
            '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="gw"/>'
            '<bpmn:sequenceFlow id="fa" sourceRef="gw" targetRef="a"><bpmn:conditionExpression '
            'xsi:type="bpmn:tFormalExpression">${ok == true}</bpmn:conditionExpression></bpmn:sequenceFlow>'
            '<bpmn:sequenceFlow id="fb" sourceRef="gw" targetRef="b"/>')
    error = refused({"p.bpmn": process(body)})
    assert error.details[0]["element"] == "fa" and "JUEL" in error.message


def test_camunda_collection_multi_instance_is_refused():
    inner = ('<bpmn:multiInstanceLoopCharacteristics camunda:collection="${items}" '
             'camunda:elementVariable="item"/>')
    error = refused({"p.bpmn": process(chain(f'<bpmn:task id="e1" name="逐项">{inner}</bpmn:task>'))})
    assert "camunda:collection" in error.message and error.details[0]["element"] == "e1"


def test_timer_literals_are_accepted_as_modelling_tools_write_them():
    [compiled] = only(process(chain(timer_event(1, "timeDuration", "PT5M"), timer_event(2, "timeDate",
                                                                                      "2026-10-16T17:30:00"))))
    assert compiled.key == "sample"


def test_non_executable_diagrams_get_a_clear_refusal():
    error = refused({"p.bpmn": process(chain(), executable=False)})
    assert "isExecutable" in error.message and "no executable process" in error.message


def test_call_activities_must_resolve_and_not_recurse():
    call_self = process(chain('<bpmn:callActivity id="e1" name="自调" calledElement="sample"/>'))
    assert "leads back" in refused({"p.bpmn": call_self}).message
    call_missing = process(chain('<bpmn:callActivity id="e1" name="调用" calledElement="elsewhere"/>'))
    assert "neither in this deployment" in refused({"p.bpmn": call_missing}).message


def test_call_activities_resolve_across_files_deployed_together():
    caller = process(chain('<bpmn:callActivity id="e1" name="调用" calledElement="callee"/>'), key="caller")
    callee = process(chain(), key="callee")
    compiled = compile_bundle({"a.bpmn": caller, "b.bpmn": callee}, {}, LIMIT)
    assert {c.key for c in compiled} == {"caller", "callee"}
    caller_files = next(c for c in compiled if c.key == "caller").files
    assert set(caller_files) == {"a.bpmn", "b.bpmn"}


def test_identical_content_has_the_same_checksum_and_changes_do_not():
    xml = process(chain(user_task(1)))
    assert only(xml)[0].checksum == only(xml)[0].checksum
    assert only(xml)[0].checksum != only(process(chain(user_task(1), user_task(2))))[0].checksum


# -- limits: what a process may ask of the engine (README, "Limits of a process") ---------------------

def with_boundary(kind, text, cancel=False):
    return process(chain(user_task(1)) + boundary_timer(kind, text, cancel))


def by_rule(problems, rule):
    return [p for p in problems if p["rule"] == rule]


@pytest.mark.parametrize("cycle,interval", [
    ("R/PT0.001S", "0.001"), ("R5/PT1S", "1"), ("'R5/PT59S'", "59"), ("R/2026-10-01T00:00:00/PT30S", "30"),
])
def test_cycles_shorter_than_the_minimum_are_refused_on_their_event(cycle, interval):
    error = refused({"p.bpmn": with_boundary("timeCycle", cycle)})
    [detail] = by_rule(error.details, "timer-min-cycle")
    assert detail["element"] == "tick"  # the event on the diagram, not its timerEventDefinition
    assert f"每 {interval} 秒触发一次，短于允许的最小间隔 60 秒" in detail["message"]
    assert "DUBAN_MIN_TIMER_CYCLE_S" in detail["message"] and detail["message"] in error.message


def test_a_short_cycle_is_refused_on_any_timer_event_and_in_every_process():
    error = refused({"a.bpmn": process(chain(timer_event(1, "timeCycle", "R3/PT10S"))),
                     "b.bpmn": with_boundary("timeCycle", "R/PT1S", cancel=True).replace(b'"sample"', b'"other"')})
    assert sorted((d["file"], d["element"]) for d in by_rule(error.details, "timer-min-cycle")) == [
        ("a.bpmn", "e1"), ("b.bpmn", "tick")]


def test_cycles_of_the_minimum_or_longer_deploy_and_endless_non_interrupting_ones_warn():
    [bounded] = only(with_boundary("timeCycle", "R5/PT1M"))
    assert by_rule(bounded.warnings, "timer-unbounded-cycle") == []
    [endless] = only(with_boundary("timeCycle", "R/PT1H"))
    [warning] = by_rule(endless.warnings, "timer-unbounded-cycle")
    assert warning["element"] == "tick" and "无限次重复" in warning["message"]
    [interrupting] = only(with_boundary("timeCycle", "R/PT1H", cancel=True))
    assert by_rule(interrupting.warnings, "timer-unbounded-cycle") == []


def test_a_cycle_from_an_expression_and_a_zero_duration_deploy():
    # Only the run time knows what `cycle` holds: it is stretched to the minimum there (test_timers.py).
    only(with_boundary("timeCycle", "cycle"))
    only(process(chain(timer_event(1, "timeDuration", "PT0S"))))


def test_the_minimum_cycle_is_the_installations():
    with using_limits(EngineLimits(min_timer_cycle_s=1)):
        only(with_boundary("timeCycle", "R5/PT1S"))
    with using_limits(EngineLimits(min_timer_cycle_s=3600)):
        error = refused({"p.bpmn": with_boundary("timeCycle", "R5/PT1M")})
    assert "短于允许的最小间隔 3600 秒" in by_rule(error.details, "timer-min-cycle")[0]["message"]


def test_a_literal_cardinality_above_the_maximum_is_refused_on_its_activity():
    error = refused({"p.bpmn": process(chain(multi_instance(1, cardinality="10000")))})
    [detail] = by_rule(error.details, "multi-instance-max")
    assert detail["element"] == "e1"
    assert "多实例数量 10000 超过上限 200" in detail["message"] and "DUBAN_MAX_MULTI_INSTANCE" in detail["message"]
    huge = refused({"p.bpmn": process(chain(multi_instance(1, cardinality="9" * 5000)))})
    assert by_rule(huge.details, "multi-instance-max")
    only(process(chain(multi_instance(1, cardinality="200"))))
    only(process(chain(multi_instance(1, cardinality="len(units)"))))  # checked at run time
    with using_limits(EngineLimits(max_multi_instance=5)):
        assert by_rule(refused({"p.bpmn": process(chain(multi_instance(1, cardinality="6")))}).details,
                       "multi-instance-max")


def test_every_problem_carries_a_rule_field():
    error = refused({"p.bpmn": process(chain(user_task(1)), lanes=lane("office", "督查室"))})
    assert [d["rule"] for d in error.details] == [None]  # a problem that is no limit has none


def test_the_limits_are_read_from_the_environment():
    env = {"DUBAN_MIN_TIMER_CYCLE_S": "300", "DUBAN_MAX_MULTI_INSTANCE": "50"}
    assert Settings.from_env(env, secret_key="x").limits == EngineLimits(min_timer_cycle_s=300, max_multi_instance=50)
    assert Settings(secret_key="x").limits == EngineLimits(min_timer_cycle_s=60, max_multi_instance=200)
    # A process running engine steps (a worker, a step's child) without a deploy under way reads its own.
    shown = subprocess.run([sys.executable, "-c", "from engine.config import engine_limits; print(engine_limits())"],
                           env={**os.environ, **env}, cwd=ROOT, capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "EngineLimits(min_timer_cycle_s=300.0, max_multi_instance=50)"
