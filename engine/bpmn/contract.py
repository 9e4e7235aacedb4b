"""The 督办 contract, checked at deploy: what the engine needs of a process that declares 督办 steps.

The engine binds behaviour by declared kind (engine/domain/steps.py). A diagram that declares a
签收 outside a unit's branch, a 催办 no deadline leads to, or a deadline timer counted wrongly would
deploy and then silently do nothing; here each such problem is refused on its element, in Chinese,
with the `rule` it breaks.
"""
from __future__ import annotations

import re

from .. import forms as formjs, texts
from ..domain import steps as catalogue
from ..domain.roles import LANE_ROLES
from .xml import BPMN, CAMUNDA, NS, local

# Steps done for one unit: they must sit inside the per-unit multi-instance, whose `unit` names it.
PER_UNIT = ("receive", "report", "reply", "monthly_progress", "review", "urge", "escalate", "remind", "deadline")
# Engine functions that give a moment (ISO text), for a timeDate, never a duration or a cycle.
_MOMENT_FUNCTIONS = re.compile(r"\b(workdays|unit_deadline|remind_at|urge_limit)\s*\(")
_USES_UNIT = re.compile(r"\b(unit_deadline|remind_at|urge_limit)\s*\(")
_BPMN_TYPE = {"userTask": catalogue.USER_TASK, "startEvent": catalogue.START_EVENT,
              "endEvent": catalogue.END_EVENT, "boundaryEvent": catalogue.BOUNDARY_EVENT,
              "intermediateCatchEvent": "bpmn:IntermediateCatchEvent"}


def check(filename, process, info, result) -> None:
    """Check `process` (an lxml element) whose inspection is `info`; problems go to `result.errors`."""
    by_id = {e.get("id"): e for e in process.iter() if isinstance(e.tag, str) and e.get("id")}

    def refuse(element, key, rule, **params):
        result.problem(result.errors, filename, element, texts.text(key, **params), rule=rule)

    for lane in process.iter(f"{{{BPMN}}}lane"):
        declared = lane.get(f"{{{catalogue.NAMESPACE}}}role")
        if declared is not None and declared.strip() not in LANE_ROLES:
            refuse(lane, "contract.lane_role", "duban-lane-role", role=declared,
                   roles="、".join(LANE_ROLES))
    for role in info.starter_roles or []:
        if role not in catalogue.STARTER_ROLES:
            refuse(process, "contract.starter_role", "duban-starter-roles", role=role,
                   roles="、".join(catalogue.STARTER_ROLES))
    if not info.steps and not info.item:
        return
    for element_id, step in info.steps.items():
        _check_step(by_id[element_id], step, info, refuse)
    for element_id, task in info.human_tasks.items():
        element = by_id[element_id]
        if local(element) == "userTask" and not task.form:
            refuse(element, "contract.task_form", "duban-task-form")
        if task.role is None and not _names_people(element):
            refuse(element, "contract.task_candidate", "duban-task-candidate")
    _check_urges(by_id, info, refuse)
    _check_reports(by_id, info, refuse)
    _check_step_fields(by_id, info, result.forms, refuse)


def _check_step(element, step, info, refuse) -> None:
    kind = catalogue.KINDS.get(step["kind"])
    if kind is None:
        refuse(element, "contract.unknown_kind", "duban-step-kind", kind=step["kind"],
               kinds="、".join(catalogue.KINDS))
        return
    element_type = _BPMN_TYPE.get(local(element), f"bpmn:{local(element)}")
    if element_type not in kind.applies_to:
        refuse(element, "contract.kind_element", "duban-step-kind", label=kind.label,
               types="、".join(kind.applies_to))
        return
    if step["kind"] in PER_UNIT and _unit_branch(element) is None:
        refuse(element, "contract.unit_branch", "duban-unit-step", label=kind.label)
    for option in kind.options:
        value = step["options"].get(option.name)
        if value is not None and option.type == "integer" and not re.fullmatch(r"-?[0-9]{1,6}", value.strip()):
            refuse(element, "contract.option_integer", "duban-step-option", option=option.label, value=value)
    if kind.timer:
        _check_timer(element, step["kind"], kind.label, refuse)
        _check_not_interrupting(element, kind.label, refuse)


def _check_timer(event, kind, label, refuse) -> None:
    definition = event.find("bpmn:timerEventDefinition", NS)
    if definition is None:
        refuse(event, "contract.timer_missing", "duban-timer", label=label)
        return
    moment = definition.find("bpmn:timeDate", NS)
    for other in ("timeDuration", "timeCycle"):
        node = definition.find(f"bpmn:{other}", NS)
        if node is not None and _MOMENT_FUNCTIONS.search(node.text or ""):
            refuse(event, "contract.timer_moment", "duban-timer-workdays", expression=(node.text or "").strip())
            return
    if moment is None:
        refuse(event, "contract.timer_date", "duban-timer-workdays", label=label)
        return
    expression = (moment.text or "").strip()
    if kind in ("remind", "deadline") and not _USES_UNIT.search(expression):
        refuse(event, "contract.timer_unit", "duban-timer-workdays", label=label, expression=expression)


def _check_not_interrupting(event, label, refuse) -> None:
    """预警, 期限届满 and 交办提醒 mark a moment in work that goes on: on a task's border or as an event
    sub-process's start, an interrupting timer would cancel the unit's report or the office's 交办."""
    name = local(event)
    if (name == "boundaryEvent" and event.get("cancelActivity", "true") != "false") or (
            name == "startEvent" and in_event_subprocess(event) and event.get("isInterrupting", "true") != "false"):
        refuse(event, "contract.timer_interrupting", "duban-timer-non-interrupting", label=label)


def in_event_subprocess(event) -> bool:
    parent = event.getparent()
    return parent is not None and local(parent) == "subProcess" and parent.get("triggeredByEvent") == "true"


def _check_step_fields(by_id, info, forms: dict, refuse) -> None:
    """A step that reads form fields (答复's reply_text, 回访's satisfaction) has them in its task's form."""
    for element_id, step in info.steps.items():
        kind, task = catalogue.KINDS.get(step["kind"]), info.human_tasks.get(element_id)
        if kind is None or not kind.fields or task is None or not task.form:
            continue
        keys = {component.get("key") for component in formjs.fields(forms.get(task.form))}
        missing = [name for name in kind.fields if name not in keys]
        if missing:
            refuse(by_id[element_id], "contract.step_fields", "duban-step-fields", label=kind.label,
                   form=task.form, fields="、".join(missing))


def _check_urges(by_id, info, refuse) -> None:
    """A 催办 follows a 期限届满 timer of the same unit's branch."""
    deadlines = {i for i, s in info.steps.items() if s["kind"] == "deadline"}
    for element_id, step in info.steps.items():
        if step["kind"] != "urge":
            continue
        urge = by_id[element_id]
        branch = _unit_branch(urge)
        sources = {i for i in _upstream(by_id, element_id) if i in deadlines and _unit_branch(by_id[i]) is branch}
        if not sources:
            refuse(urge, "contract.urge_deadline", "duban-urge-deadline")
    escalations = [i for i, s in info.steps.items() if s["kind"] == "escalate"]
    if escalations and not any(s["kind"] == "urge" for s in info.steps.values()):
        for element_id in escalations:
            refuse(by_id[element_id], "contract.escalate_urge", "duban-escalate-urge")


def _check_reports(by_id, info, refuse) -> None:
    """A unit is urged because it has not reported: a deadline needs a 办结报告 (or 答复) to wait for."""
    kinds = {s["kind"] for s in info.steps.values()}
    if kinds & {"report", "reply"}:
        return
    for element_id, step in info.steps.items():
        if step["kind"] in ("deadline", "urge"):
            refuse(by_id[element_id], "contract.needs_report", "duban-needs-report")


def _upstream(by_id, element_id: str) -> set:
    """Every element from which `element_id` can be reached (sequence flows, boundary events'
    hosts are not followed: a timer leads on by its own flows)."""
    incoming: dict = {}
    for flow in by_id.values():
        if local(flow) == "sequenceFlow":
            incoming.setdefault(flow.get("targetRef"), []).append(flow.get("sourceRef"))
    seen, stack = set(), [element_id]
    while stack:
        for source in incoming.get(stack.pop(), []):
            if source not in seen:
                seen.add(source)
                stack.append(source)
    return seen


def _unit_branch(element):
    """The innermost multi-instance activity enclosing `element` (the per-unit branch), or None. A
    boundary event sits beside its host, so it belongs to the branch around the host."""
    node = element
    while node is not None:
        if local(node) != "boundaryEvent" and node.find("bpmn:multiInstanceLoopCharacteristics", NS) is not None:
            return node
        node = node.getparent()
    return None


def _names_people(element) -> bool:
    return bool(element.get(f"{{{CAMUNDA}}}assignee") or element.get(f"{{{CAMUNDA}}}candidateUsers"))
