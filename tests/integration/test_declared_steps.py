"""督办 semantics are declared on the diagram (duban:step), not keyed to element ids: duban_main with
every element id renamed runs the whole path, and breaking the 督办 contract is refused at deploy."""
from __future__ import annotations

import re
from datetime import datetime

import pytest
from sqlalchemy import func, select

from engine import services
from engine.clock import CHINA
from engine.errors import DeploymentInvalid
from engine.models import Criticism, Notification
from engine.services import documents, timers
from tests.integration.flow import RECEIVE, REPORT
from tests.support.org import BPMN, bpmn_bundle

# Ids that name data, not elements: SpiffWorkflow reads them as variable names (units, unit...).
_DATA_IDS = {"units", "unit_results", "unit", "unit_done"}
_REFERENCES = ("id", "sourceRef", "targetRef", "attachedToRef", "bpmnElement", "default", "processRef")


def renamed_main(suffix: str = "_x") -> bytes:
    """duban_main.bpmn with every element id (and every reference to one) renamed; the process key stays
    so that 立项 starts it."""
    text = (BPMN / "duban_main.bpmn").read_text(encoding="utf-8")
    ids = set(re.findall(r'\sid="([^"]+)"', text)) - _DATA_IDS - {"duban_main"}

    def rename(match):
        name, value = match.group(1), match.group(2)
        return f'{name}="{value}{suffix}"' if value in ids else match.group(0)

    text = re.sub(r'\b(%s)="([^"]+)"' % "|".join(_REFERENCES), rename, text)
    text = re.sub(r"<bpmn:flowNodeRef>([^<]+)</bpmn:flowNodeRef>",
                  lambda m: f"<bpmn:flowNodeRef>{m.group(1)}{suffix}</bpmn:flowNodeRef>", text)
    return text.encode()


def deploy_main(duban, org, xml: bytes):
    _, forms = bpmn_bundle()
    return services.deploy(duban, {"duban_main.bpmn": xml}, forms, org["designer"])


def move(duban, *when):
    duban.clock.set(datetime(*when, tzinfo=CHINA))
    return timers.fire_all_due(duban)


def tasks(duban, actor):
    return sorted((t["element_id"], t["unit"]) for t in services.list_tasks(duban, actor)[0])


def complete(duban, actor, element, data, unit=None):
    [task] = [t for t in services.list_tasks(duban, actor)[0] if t["element_id"] == element
              and (unit is None or t["unit"] == unit)]
    services.complete_task(duban, actor, task["id"], data)
    return task


def status(duban, org, item):
    return services.get_item(duban, org["office"], item["id"])["status"]


def notified(duban, kind: str) -> int:
    with duban.db.reading() as session:
        return session.scalar(select(func.count(Notification.id)).where(Notification.kind == kind))


def test_renamed_ids_run_the_whole_path_with_urge_and_one_escalation(duban, org):
    xml = renamed_main()
    assert b'id="unit_receive"' not in xml and b'id="unit_receive_x"' in xml
    [deployed] = deploy_main(duban, org, xml)
    assert deployed["version"] == 2
    item = services.register_item(duban, org["office"], {"title": "更名后的主流程", "source": "decision"})
    assert status(duban, org, item) == "drafting"
    draft = complete(duban, org["office"], "draft_opinion_x", {"lead_unit": "fgj", "co_units": ["czj"],
                                                                 "opinion": "请发改局牵头"})
    assert draft["due_at"] is not None  # 拟办 within a working day, by its kind
    assert status(duban, org, item) == "approving"
    complete(duban, org["leader"], "leader_approval_x", {"decision": "approve"})
    assert status(duban, org, item) == "assigning"
    complete(duban, org["office"], "assign_x", {"notice": "交办通知单"})
    assert status(duban, org, item) == "in_progress"
    record = services.get_item(duban, org["office"], item["id"])
    assert [p["unit"] for p in record["units"]] == ["fgj", "czj"]  # the 拟办 step's effect
    assert [d["kind"] for d in documents.list_documents(duban, org["office"], item["id"])] == [
        "assign_notice"]

    complete(duban, org["unit_a"], "unit_receive_x", RECEIVE, "fgj")
    complete(duban, org["unit_a"], "unit_report_x", REPORT, "fgj")
    complete(duban, org["office"], "office_review_x", {"decision": "accept"}, "fgj")
    complete(duban, org["unit_b"], "unit_receive_x", RECEIVE, "czj")
    parts = {p["unit"]: p for p in services.get_item(duban, org["office"], item["id"])["units"]}
    assert parts["fgj"]["accepted_at"] and parts["czj"]["received_at"] and parts["czj"]["first_responsible"] == "局长"

    assert move(duban, 2026, 10, 14, 18) == 1  # 预警 by the `remind` step
    assert notified(duban, "yellow") >= 1
    assert move(duban, 2026, 10, 16, 17, 31) == 1  # the `deadline` step: red, then 催办
    assert notified(duban, "red") >= 1
    assert tasks(duban, org["office"]) == [("urge_x", "czj")]
    complete(duban, org["office"], "urge_x", {"notice": "请于10月21日前办结", "new_limit": "2026-10-21"}, "czj")
    [report] = [t for t in services.list_tasks(duban, org["unit_b"])[0] if t["element_id"] == "unit_report_x"]
    assert report["due_at"].isoformat() == "2026-10-21T09:30:00+00:00"  # due at the urge's new limit
    assert "urge_notice" in [d["kind"] for d in documents.list_documents(duban, org["office"], item["id"])]

    assert move(duban, 2026, 10, 21, 17, 31) == 1  # the urge's limit passes unreported: 纪委
    assert move(duban, 2026, 10, 22, 9) == 0
    assert tasks(duban, org["discipline"]) == [("discipline_review_x", "czj")]
    with duban.db.reading() as session:
        assert session.scalar(select(func.count(Criticism.id)).where(Criticism.reason == "escalated")) == 1
    czj = next(p for p in services.get_item(duban, org["office"], item["id"])["units"] if p["unit"] == "czj")
    assert czj["urged_at"] and czj["escalated_at"]

    complete(duban, org["unit_b"], "unit_report_x", REPORT, "czj")
    complete(duban, org["office"], "office_review_x", {"decision": "accept"}, "czj")
    complete(duban, org["discipline"], "discipline_review_x", {"finding": "予以通报批评"}, "czj")
    assert status(duban, org, item) == "feedback"
    complete(duban, org["office"], "feedback_x", {"summary": "已办结"})
    assert status(duban, org, item) == "closed"
    with duban.db.reading() as session:
        assert session.scalar(select(func.count(Criticism.id)).where(Criticism.reason == "escalated")) == 1


def test_renamed_rejection_is_recorded_by_its_declared_end(duban, org):
    deploy_main(duban, org, renamed_main("_r"))
    item = services.register_item(duban, org["office"], {"title": "不予立项的事项"})
    complete(duban, org["office"], "draft_opinion_r", {"lead_unit": "fgj", "co_units": [], "opinion": "拟办"})
    complete(duban, org["leader"], "leader_approval_r", {"decision": "reject"})
    assert status(duban, org, item) == "rejected"


def _main_text() -> str:
    return (BPMN / "duban_main.bpmn").read_text(encoding="utf-8")


def _refused(duban, org, text: str) -> list[dict]:
    with pytest.raises(DeploymentInvalid) as refused:
        deploy_main(duban, org, text.encode())
    return refused.value.details


def _problem(details, element, rule):
    found = [d for d in details if d["element"] == element and d["rule"] == rule]
    assert found, details
    assert re.search("[\u4e00-\u9fff]", found[0]["message"]), found[0]  # in Chinese
    return found[0]


@pytest.mark.parametrize("change", [
    ('<duban:step kind="deadline" />', '<duban:step kind="remind" />'),  # the deadline is declared as a warning
    ('<duban:step kind="deadline" />', ""),  # the deadline's declaration deleted
])
def test_an_urge_no_deadline_leads_to_is_refused(duban_sqlite, org_sqlite, change):
    details = _refused(duban_sqlite, org_sqlite, _main_text().replace(*change))
    _problem(details, "urge", "duban-urge-deadline")


def test_contract_breaks_are_refused_on_their_element(duban_sqlite, org_sqlite):
    duban, org = duban_sqlite, org_sqlite
    text = _main_text()
    # a 签收 declared outside the per-unit multi-instance
    details = _refused(duban, org, text.replace('<duban:step kind="assign" />', '<duban:step kind="receive" />'))
    _problem(details, "assign", "duban-unit-step")
    # an unknown kind
    _problem(_refused(duban, org, text.replace('kind="feedback"', 'kind="销号"')), "feedback", "duban-step-kind")
    # the 催办 step deleted: escalation no longer follows an urge
    _problem(_refused(duban, org, text.replace('<duban:step kind="urge" />', "")), "discipline_review",
             "duban-escalate-urge")
    # a working-day moment used as a duration
    broken = text.replace('<bpmn:timeDate xsi:type="bpmn:tFormalExpression">workdays(2)</bpmn:timeDate>',
                          '<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">workdays(2)</bpmn:timeDuration>')
    assert broken != text
    _problem(_refused(duban, org, broken), "assign_overdue", "duban-timer-workdays")
    # a deadline not counted from the unit's deadline
    broken = text.replace(">unit_deadline(unit)<", ">workdays(5)<")
    _problem(_refused(duban, org, broken), "deadline_reached", "duban-timer-workdays")
    # a user task without a form
    broken = text.replace('camunda:formRef="feedback" camunda:formRefBinding="latest"', "")
    _problem(_refused(duban, org, broken), "feedback", "duban-task-form")
    # a deadline that would cancel the unit's work: interrupting, as an event sub-process start or on
    # a task's border (交办提醒)
    broken = text.replace('id="deadline_reached" name="办理期限届满" isInterrupting="false"',
                          'id="deadline_reached" name="办理期限届满"')
    assert broken != text
    _problem(_refused(duban, org, broken), "deadline_reached", "duban-timer-non-interrupting")
    broken = text.replace('id="assign_overdue" name="交办时限将至" cancelActivity="false"',
                          'id="assign_overdue" name="交办时限将至"')
    assert broken != text
    _problem(_refused(duban, org, broken), "assign_overdue", "duban-timer-non-interrupting")
    # a lane declared for a role that does not exist
    _problem(_refused(duban, org, text.replace('duban:role="leader"', 'duban:role="boss"')), "leader",
             "duban-lane-role")


def test_renaming_a_step_element_alone_keeps_the_contract(duban_sqlite, org_sqlite):
    """What the modeler does when a designer renames one id: the element and every reference to it."""
    text = _main_text()
    for attribute in ("id", "sourceRef", "targetRef", "bpmnElement"):
        text = text.replace(f'{attribute}="urge"', f'{attribute}="cuiban"')
    [deployed] = deploy_main(duban_sqlite, org_sqlite, text.encode())
    assert deployed["version"] == 2


def _unit_lane_process(unit: str) -> bytes:
    """A process whose one task goes to the unit its lane declares (duban:unit), not to a role."""
    return (b'<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions '
            b'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:duban="urn:duban:bpmn:1" '
            b'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">'
            b'<bpmn:process id="ask_unit" name="\xe5\x90\x91\xe5\x8d\x95\xe4\xbd\x8d\xe4\xba\x86\xe8\xa7\xa3" '
            b'isExecutable="true"><bpmn:laneSet id="ls"><bpmn:lane id="L_unit" name="Lane 1" duban:unit="'
            + unit.encode() + b'"><bpmn:flowNodeRef>t</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>'
            b'<bpmn:startEvent id="s" /><bpmn:userTask id="t" name="report" camunda:formRef="feedback" />'
            b'<bpmn:endEvent id="e" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t" />'
            b'<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e" /></bpmn:process></bpmn:definitions>')


def test_a_lane_declared_for_one_unit_hands_its_tasks_to_that_unit(duban, org):
    _, forms = bpmn_bundle()
    services.deploy(duban, {"ask.bpmn": _unit_lane_process("czj")}, forms, org["designer"])
    services.start_instance(duban, org["office"], "ask_unit", {})
    assert tasks(duban, org["unit_b"]) == [("t", "czj")]
    assert tasks(duban, org["unit_a"]) == []
    with pytest.raises(DeploymentInvalid) as refused:
        services.deploy(duban, {"ask.bpmn": _unit_lane_process("nowhere")}, forms, org["designer"])
    _problem(refused.value.details, "L_unit", "duban-lane-unit")
