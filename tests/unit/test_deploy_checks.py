"""What deploy refuses, with a message naming the element, and what it derives."""
import os
import re
import subprocess
import sys

import pytest

from engine.bpmn.runtime import compile_bundle
from engine.config import EngineLimits, Settings, using_limits
from engine.domain.roles import LANE_ROLES
from engine.errors import DeploymentInvalid
from tests.samples import (
    SIMPLE_FORM,
    boundary_timer,
    chain,
    lane,
    multi_instance,
    process,
    script_task,
    timer_event,
    user_task,
)
from tests.support.org import ROOT

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
    (b"<bpmn:definitions", "不是格式正确的 XML（第 1 行）"),
    (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]><d>&e;</d>', "不允许有 DOCTYPE"),
    (b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><lolz>&lol2;</lolz>', "不允许有 DOCTYPE"),
    (b"<other/>", "根元素是 other，不是 bpmn:definitions"),
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
    assert error.details[0]["message"].startswith("用户任务“任务2”（e2）：不在任何泳道内")
    assert "camunda:candidateGroups" in error.details[0]["message"]


def test_candidate_groups_assign_a_role_without_a_lane():
    xml = process(chain(user_task(1, 'camunda:candidateGroups="leader"')), lanes=lane("office", "督查室"))
    assert only(xml)[0].elements["human_tasks"]["e1"]["role"] == "leader"


def test_lanes_map_by_name_and_unknown_lanes_warn():
    xml = process(chain(user_task(1), user_task(2)), lanes=lane("L1", "领导", "e1") + lane("L2", "Sales", "e2"))
    [compiled] = only(xml)
    assert compiled.elements["human_tasks"]["e1"]["role"] == "leader"
    assert compiled.elements["human_tasks"]["e2"]["role"] is None
    assert "泳道“Sales”不是督办系统的角色" in compiled.warnings[0]["message"]


@pytest.mark.parametrize("attrs,message", [
    ('camunda:formRef="missing"', "找不到表单“missing”：请把 missing.form 放在流程图旁"),
    ('camunda:formKey="camunda-forms:deployment:x.form"', "找不到表单“x.form”：请把 x.form 放在流程图旁"),
])
def test_missing_or_unsupported_forms_are_refused(attrs, message):
    xml = process(chain(user_task(1, attrs)), lanes=lane("office", "督查室", "e1"))
    error = refused({"p.bpmn": xml})
    assert message in error.message and error.details[0]["element"] == "e1"


def test_an_invalid_form_is_refused():
    xml = process(chain(user_task(1, 'camunda:formRef="simple"')), lanes=lane("office", "督查室", "e1"))
    error = refused({"p.bpmn": xml}, {"simple.form": b'{"id": "simple", "components": [{"type": "nope"}]}'})
    assert "表单“simple”无效：表单 simple.form：组件“nope”的类型“nope”无法识别" in error.message


def test_camunda_form_data_becomes_a_form():
    inner = ('<bpmn:extensionElements><camunda:formData><camunda:formField id="answer" type="string"/>'
             '</camunda:formData></bpmn:extensionElements>')
    [compiled] = only(process(chain(user_task(1, "", inner))))
    assert compiled.forms["camunda:e1"]["components"][0]["key"] == "answer"


@pytest.mark.parametrize("element,message", [
    ('<bpmn:serviceTask id="e1" name="调用"/>', "服务任务“调用”（e1）：服务任务未声明外部任务主题"),
    ('<bpmn:businessRuleTask id="e1" name="决策"/>', "业务规则任务“决策”（e1）：业务规则任务没有指定决策"),
    (script_task(1, "x = 1", "javascript"), "脚本任务“脚本1”（e1）：脚本语言“javascript”不受支持"),
    (script_task(1, "import os"), "脚本任务“脚本1”（e1）的脚本或表达式不能运行：第 1 行不允许 import"),
    (script_task(1, "x = ().__class__"), "不允许访问以下划线开头的属性“__class__”"),
    (script_task(1, "x = (1"), "第 1 行语法错误：x = (1"),
    (timer_event(1, "timeDuration", "PT5X"), "e1"),
    (timer_event(1, "timeDuration", "${duration.plus(1)}"), "定时器“${duration.plus(1)}”是 JUEL/FEEL 表达式"),
    (timer_event(1, "timeCycle", "0 0/5 * * * ?"), "定时器“0 0/5 * * * ?”是 cron 表达式"),
    (script_task(1, "", "xslt").replace("<bpmn:scriptTask", '<bpmn:scriptTask camunda:resource="a.xsl"'),
     "脚本在外部文件“a.xsl”中（camunda:resource）"),
])
def test_unsupported_elements_are_refused_by_name(element, message):
    error = refused({"p.bpmn": process(chain(element))})
    assert message in error.message
    assert any(d["element"] == "e1" for d in error.details)


def _gateway(condition: str, language: str = "", extra: str = "") -> bytes:
    attribute = f' language="{language}"' if language else ""
    body = ('<bpmn:startEvent id="start"/><bpmn:exclusiveGateway id="gw" name="分支" default="fb"/>'
            '<bpmn:endEvent id="a"/><bpmn:endEvent id="b"/>'
            '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="gw"/>'
            '<bpmn:sequenceFlow id="fa" sourceRef="gw" targetRef="a"><bpmn:conditionExpression id="expr" '
            f'xsi:type="bpmn:tFormalExpression"{attribute}>{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>'
            '<bpmn:sequenceFlow id="fb" sourceRef="gw" targetRef="b"/>')
    return process(body).replace(b'targetNamespace="test"', b'targetNamespace="test" ' + extra.encode())


def test_juel_that_says_no_more_than_python_runs_as_python_with_a_warning():
    [compiled] = only(_gateway("${ok == true &amp;&amp; !late}"))
    [warning] = [w for w in compiled.warnings if w["element"] != "sample"]
    assert warning["element"] == "fa"  # the flow, not its expression's own id
    assert warning["message"] == ("顺序流“fa”：条件“${ok == true && !late}”是 JUEL 表达式，将按 Python 表达式 "
                                  "ok == True and (not late) 求值（流程图保持原样；请核对，或直接改写为 Python）")


def test_juel_conditions_beyond_that_are_refused():
    error = refused({"p.bpmn": _gateway("${execution.getVariable('ok')}")})
    assert error.details[0]["element"] == "fa"
    assert "顺序流“fa”：条件“${execution.getVariable('ok')}”是 JUEL/FEEL 表达式；督办系统按 Python 求值" in (
        error.message)


@pytest.mark.parametrize("condition,language,extra,message", [
    ("getDataObject('order')/amount &gt; 100", "http://www.w3.org/1999/XPath", "",
     "条件“getDataObject('order')/amount > 100”是 XPath 表达式，督办系统按 Python 求值：请写作 order['amount'] > 100"),
    ("$approved = true()", "", 'expressionLanguage="http://www.w3.org/1999/XPath"',
     "条件“$approved = true()”是 XPath 表达式，督办系统按 Python 求值：请写作 approved == True"),
    ("count(//item) &gt; 2", "http://www.w3.org/1999/XPath", "",
     "条件“count(//item) > 2”是 XPath 表达式，督办系统按 Python 求值：请改写为 Python 表达式"),
])
def test_xpath_conditions_are_refused_with_the_python_to_write(condition, language, extra, message):
    error = refused({"p.bpmn": _gateway(condition, language, extra)})
    assert error.details[0]["element"] == "fa"
    assert message in error.message


def test_xpath_timers_are_refused_and_iso_literals_are_not_taken_for_xpath():
    xpath = timer_event(1, "timeDuration", "getDataObject('plan')/wait").replace(
        "<bpmn:timeDuration>", '<bpmn:timeDuration language="http://www.w3.org/1999/XPath">')
    error = refused({"p.bpmn": process(chain(xpath))})
    assert error.details[0]["element"] == "e1"
    assert "定时器“getDataObject('plan')/wait”是 XPath 表达式，督办系统按 Python 求值：请写作 plan['wait']" in (
        error.message)
    declared = process(chain(timer_event(1, "timeDate", "2026-10-21T17:30:00Z"))).replace(
        b'targetNamespace="test"', b'targetNamespace="test" expressionLanguage="http://www.w3.org/1999/XPath"')
    assert only(declared)


def test_python_conditions_deploy_where_the_document_names_xpath_its_default():
    [compiled] = only(_gateway("amount &gt; 100", extra='expressionLanguage="http://www.w3.org/1999/XPath"'))
    assert [w for w in compiled.warnings if w["element"] == "fa"] == []


def test_data_stores_text_annotations_and_groups_deploy_with_a_warning_for_the_store():
    body = chain(
        '<bpmn:task id="e1" name="登记"><bpmn:property id="p1" name="__targetRef_placeholder"/>'
        '<bpmn:dataInputAssociation id="in"><bpmn:sourceRef>store</bpmn:sourceRef><bpmn:targetRef>p1</bpmn:targetRef>'
        '</bpmn:dataInputAssociation><bpmn:dataOutputAssociation id="out"><bpmn:targetRef>store</bpmn:targetRef>'
        '</bpmn:dataOutputAssociation></bpmn:task>') + (
        '<bpmn:dataStoreReference id="store" name="档案" dataStoreRef="ds"/>'
        '<bpmn:textAnnotation id="note"><bpmn:text>说明</bpmn:text></bpmn:textAnnotation>'
        '<bpmn:association id="link" sourceRef="e1" targetRef="note"/><bpmn:group id="g" categoryValueRef="cv"/>')
    extra = ('<bpmn:dataStore id="ds" name="档案库"/>'
             '<bpmn:category id="cat"><bpmn:categoryValue id="cv" value="分组"/></bpmn:category>')
    [compiled] = only(process(body, extra=extra))
    assert {w["element"]: w["message"] for w in compiled.warnings} == {
        "ds": "数据存储“档案库”（ds）：数据存储（data store）只作说明：督办系统不读写它，与之相连的数据关联不会执行",
        "store": "数据存储引用“档案”（store）：数据存储（data store）只作说明：督办系统不读写它，"
                 "与之相连的数据关联不会执行",
    }


def test_camunda_collection_over_a_variable_deploys_and_an_expression_is_refused():
    loop = '<bpmn:multiInstanceLoopCharacteristics camunda:collection="{}" camunda:elementVariable="item"/>'
    [compiled] = only(process(chain(f'<bpmn:task id="e1" name="逐项">{loop.format("${items}")}</bpmn:task>')))
    assert compiled.warnings[0]["element"] == "e1"
    assert "camunda:collection）“${items}”将对流程变量 items 中的每一项执行一次，当前项为 item" in (
        compiled.warnings[0]["message"])
    error = refused({"p.bpmn": process(chain(f'<bpmn:task id="e1" name="逐项">{loop.format("${a.b()}")}</bpmn:task>'))})
    assert "不支持 Camunda 式多实例（camunda:collection）“${a.b()}”" in error.message
    assert error.details[0]["element"] == "e1"


def test_timer_literals_are_accepted_as_modelling_tools_write_them():
    [compiled] = only(process(chain(timer_event(1, "timeDuration", "PT5M"), timer_event(2, "timeDate",
                                                                                      "2026-10-16T17:30:00"))))
    assert compiled.key == "sample"


def test_non_executable_diagrams_get_a_clear_refusal():
    error = refused({"p.bpmn": process(chain(), executable=False)})
    assert "没有可执行的流程（文件中的流程：sample）" in error.message and 'isExecutable="true"' in error.message


def test_call_activities_must_resolve_and_not_recurse():
    call_self = process(chain('<bpmn:callActivity id="e1" name="自调" calledElement="sample"/>'))
    assert "调用“sample”会回到“sample”" in refused({"p.bpmn": call_self}).message
    call_missing = process(chain('<bpmn:callActivity id="e1" name="调用" calledElement="elsewhere"/>'))
    assert "调用的流程“elsewhere”既不在本次部署中，也未曾部署" in refused({"p.bpmn": call_missing}).message


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


# -- what a designer reads: Chinese, naming the element ----------------------------------------------

ENGLISH_SENTENCE = r"[A-Za-z]+(?:[ ,;:]+[A-Za-z]+){3,}"  # four or more English words in a row


def test_a_refusal_names_the_element_in_chinese_and_counts_the_rest():
    error = refused({"p.bpmn": process(chain(user_task(1), '<bpmn:serviceTask id="e2"/>',
                                             '<bpmn:complexGateway id="e3" name="汇合"/>'),
                                       lanes=lane("office", "督查室", "e1"))})
    assert [d["message"] for d in error.details] == [
        "服务任务“e2”：服务任务未声明外部任务主题：请写 camunda:type=\"external\" 与 camunda:topic，"
        "或 duban:topic（由外部执行程序领取并完成）",
        "复杂网关“汇合”（e3）：不支持复杂网关（complexGateway）：请改用排他网关或包容网关",
    ]
    assert error.message == f"p.bpmn：{error.details[0]['message']}（另有 1 个问题）"


@pytest.mark.parametrize("body,element,message", [
    (chain('<bpmn:subProcess id="e1" name="子流程"><bpmn:task id="t1"/></bpmn:subProcess>'), "e1",
     "子流程“子流程”（e1）：子流程须恰有一个开始事件，现有 0 个"),
    ('<bpmn:startEvent id="start"/><bpmn:exclusiveGateway id="gw"/><bpmn:endEvent id="a"/><bpmn:endEvent id="b"/>'
     '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="gw"/>'
     '<bpmn:sequenceFlow id="fa" sourceRef="gw" targetRef="a"/>'
     '<bpmn:sequenceFlow id="fb" sourceRef="gw" targetRef="b"/>',
     "fa", "顺序流“fa”：排他网关的出口顺序流既不是默认流，也没有条件"),
    (chain('<bpmn:callActivity id="e1" name="调用"/>'), "e1", "调用活动“调用”（e1）：调用活动没有 calledElement 属性"),
    (chain('<bpmn:intermediateCatchEvent id="e1" name="收文"><bpmn:messageEventDefinition messageRef="nowhere"/>'
           '</bpmn:intermediateCatchEvent>'), "e1", "中间捕获事件“收文”（e1）：事件引用的消息"),
])
def test_what_spiffworkflow_refuses_is_said_in_chinese_on_its_element(body, element, message):
    [detail] = refused({"p.bpmn": process(body)}).details
    assert detail["element"] == element and detail["message"].startswith(message), detail
    assert detail["line"] == 2  # the element's line, which SpiffWorkflow does not give
    assert not re.search(ENGLISH_SENTENCE, detail["message"]), detail["message"]


def test_warnings_are_chinese_too():
    xml = process(chain(user_task(1, 'camunda:candidateGroups="sales"'), script_task(2, "x = 1", "python2"),
                        user_task(3)), lanes=lane("L", "Sales", "e1", "e2", "e3"))
    [compiled] = only(xml)
    assert [w["message"] for w in compiled.warnings] == [
        "用户任务“任务1”（e1）：候选组 sales 不是督办系统的角色（可选：" + "、".join(LANE_ROLES) + "）",
        "脚本任务“脚本2”（e2）：脚本语言“python2”无法识别，脚本将按 Python 运行",
        "用户任务“任务3”（e3）：泳道“Sales”不是督办系统的角色，任务将交给发起流程实例的人办理",
    ]
    [no_lanes] = only(process(chain(user_task(1))))[0].warnings
    assert no_lanes["message"] == "流程“样例 sample”（sample）：流程没有泳道：其中的用户任务将交给发起流程实例的人办理"
