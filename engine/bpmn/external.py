"""External tasks (外部任务): service tasks that wait for a worker outside the engine, as Camunda 7's do.

A serviceTask declares its topic one of these ways (first found wins):
- `camunda:type="external" camunda:topic="push-dingtalk"` (Camunda 7),
- `<duban:external topic="push-dingtalk"/>` in its extensionElements, or `duban:topic="…"` on it (Duban's own),
- `<zeebe:taskDefinition type="push-dingtalk"/>` (Camunda 8),
- `camunda:class`, `camunda:delegateExpression` or `camunda:expression` (Java delegates, which nothing
  here runs): the topic is derived from the class or bean name, kebab-cased simple name
  (`com.example.SendMail` → `send-mail`, `${sendMailDelegate}` → `send-mail-delegate`), with a deploy
  warning naming the element and the topic, so a migrated diagram runs once a worker serves that topic.

What a worker gets (fetchAndLock's `variables`) is what the task declares it hands out, nothing else:
- `duban:variables="title, lead_unit"` on the serviceTask: those process variables, by name;
- `<camunda:inputOutput><camunda:inputParameter name="title">${title}</camunda:inputParameter>…` (Camunda 7):
  the parameters, as the local variables they are in Camunda: `${name}` hands that variable under the
  parameter's name, fixed text hands the text, an empty one the variable of the parameter's own name
  (Camunda would give null); any other expression, list, map or script is not handed out (a warning).
Both: the union. Neither: no variables at all, with a warning naming the element (a 督办's data holds
opinions, 批示 and reports; a program gets what the designer wrote down for it). `handed_out` applies it.

In the workflow such a task is a manual task of its own class: it waits READY, like a person's task,
until the external task service completes it (or a BPMN error moves it to an error boundary event).
"""
from __future__ import annotations

import re

from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition
from SpiffWorkflow.spiff.specs.defaults import ManualTask

from .. import texts
from ..domain.steps import NAMESPACE as DUBAN
from .xml import BPMN, CAMUNDA, NS, ZEEBE

TOPIC_MAX = 200
TOPIC_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$")
# The built-in connectors' reserved topics, each with the attribute its <duban:connector/> must give.
CONNECTOR_TOPICS = {"duban.notify": "channel", "duban.http": "endpoint"}
_EXPRESSION = re.compile(r"^\s*[$#]\{\s*([A-Za-z_][A-Za-z0-9_]*)")
VARIABLE_PATTERN = re.compile(r"^[A-Za-z\u3400-\u9fff][A-Za-z0-9_\u3400-\u9fff]{0,199}$")
# What the modeler's properties panel checks a topic and a variable name against before deploying
# (the catalogue hands it these, so the panel and deploy never disagree); written so that JavaScript's
# RegExp reads them alike.
NAME_PATTERNS = {"topic": TOPIC_PATTERN.pattern, "variable": VARIABLE_PATTERN.pattern}
_ONE_VARIABLE = re.compile(r"^\s*[$#]\{\s*([A-Za-z\u3400-\u9fff][A-Za-z0-9_\u3400-\u9fff]*)\s*\}\s*$")


class ExternalTask(ManualTask):
    """A service task waiting for an external worker: manual (the engine never runs it by itself)."""


def declared_topic(element) -> tuple[str | None, str | None]:
    """(topic, how) of a serviceTask; how is `camunda`, `duban`, `connector`, `zeebe`, `delegate` or None (none
    declared)."""
    if (element.get(f"{{{CAMUNDA}}}type") or "").strip() == "external":
        return (element.get(f"{{{CAMUNDA}}}topic") or "").strip(), "camunda"
    connector = element.get(f"{{{DUBAN}}}connector")
    if connector is not None:  # a built-in connector (内置连接器): its reserved topic, served by Duban's own worker
        return f"duban.{connector.strip()}", "connector"
    own = element.find(f"bpmn:extensionElements/{{{DUBAN}}}external", NS)
    if own is not None or element.get(f"{{{DUBAN}}}topic") is not None:
        topic = own.get("topic") if own is not None else element.get(f"{{{DUBAN}}}topic")
        return (topic or "").strip(), "duban"
    zeebe = element.find(f"bpmn:extensionElements/{{{ZEEBE}}}taskDefinition", NS)
    if zeebe is not None:
        return (zeebe.get("type") or "").strip(), "zeebe"
    for attribute in ("class", "delegateExpression", "expression"):
        value = element.get(f"{{{CAMUNDA}}}{attribute}")
        if value:
            return derive_topic(value), "delegate"
    return None, None


def _connector_declared(element, needed: str) -> bool:
    own = element.find(f"bpmn:extensionElements/{{{DUBAN}}}connector", NS)
    return own is not None and bool((own.get(needed) or "").strip())


def derive_topic(java: str) -> str:
    """The topic a Java delegate's class or bean name stands for: its simple name in kebab case."""
    found = _EXPRESSION.match(java)
    name = found.group(1) if found else java.strip().rsplit(".", 1)[-1]
    name = re.sub(r"[^A-Za-z0-9]+", "-", name)
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", name)
    return name.strip("-").lower() or "service-task"


def inspect_service_task(filename, element, info, result) -> None:
    """Check a serviceTask's declaration; record its topic in `info.external_tasks`."""
    topic, how = declared_topic(element)
    if how is None:
        result.problem(result.errors, filename, element, texts.text("deploy.service_task_undeclared"))
        return
    if not topic or not TOPIC_PATTERN.fullmatch(topic):
        result.problem(result.errors, filename, element, texts.text("deploy.external_topic", topic=topic or ""))
        return
    if topic in CONNECTOR_TOPICS and not _connector_declared(element, CONNECTOR_TOPICS[topic]):
        result.problem(result.errors, filename, element, texts.text("deploy.connector_declaration",
                                                                    topic=topic, needs=CONNECTOR_TOPICS[topic]))
        return
    if how == "connector" and topic not in CONNECTOR_TOPICS:
        result.problem(result.errors, filename, element, texts.text("deploy.connector_kind", kind=topic[6:]))
        return
    if how == "delegate":
        java = next(element.get(f"{{{CAMUNDA}}}{a}") for a in ("class", "delegateExpression", "expression")
                    if element.get(f"{{{CAMUNDA}}}{a}"))
        result.problem(result.warnings, filename, element,
                       texts.text("deploy.external_delegate", java=java, topic=topic), rule="external-delegate")
    handed = None if how == "connector" else declared_variables(filename, element, result)
    if element.tag == f"{{{BPMN}}}serviceTask" and info.executable:
        info.external_tasks[element.get("id")] = {"topic": topic, "name": element.get("name") or element.get("id"),
                                                  "priority": _priority(element), "variables": handed}


def declared_variables(filename, element, result) -> dict | None:
    """What the task hands a worker: {name: {"from": variable} | {"value": text}}; None when it declares
    nothing (a worker then gets no variables: warned)."""
    handed, declared = {}, False
    listed = element.get(f"{{{DUBAN}}}variables")
    if listed is not None:
        declared = True
        for name in filter(None, (part.strip() for part in listed.split(","))):
            if _name_ok(filename, element, result, name):
                handed[name] = {"from": name}
    for parameter in element.iterfind(f"bpmn:extensionElements/{{{CAMUNDA}}}inputOutput/{{{CAMUNDA}}}inputParameter",
                                      NS):
        declared = True
        name = (parameter.get("name") or "").strip()
        if _name_ok(filename, element, result, name):
            source = _parameter_source(parameter, name)
            if source is None:
                value = "".join(parameter.itertext()).strip() or f"<{len(parameter)}>"
                result.problem(result.warnings, filename, element, texts.text(
                    "deploy.external_input_unsupported", name=name, value=value[:200]), rule="external-variables")
            else:
                handed[name] = source
    if not declared:
        result.problem(result.warnings, filename, element, texts.text("deploy.external_variables_undeclared"),
                       rule="external-variables")
        return None
    return handed


def _name_ok(filename, element, result, name: str) -> bool:
    if VARIABLE_PATTERN.fullmatch(name):
        return True
    result.problem(result.errors, filename, element, texts.text("deploy.external_variable_name", name=name))
    return False


def _parameter_source(parameter, name: str) -> dict | None:
    if any(isinstance(child.tag, str) for child in parameter):  # camunda:list, map, script: not evaluated here
        return None
    body = (parameter.text or "").strip()
    if not body:
        return {"from": name}
    one = _ONE_VARIABLE.match(body)
    if one:
        return {"from": one.group(1)}
    return None if re.search(r"[$#]\{", body) else {"value": body}


def handed_out(declared: dict | None, data: dict) -> dict:
    """The variables a task's declaration hands a worker from its data (none when it declares none)."""
    handed = {}
    for name, source in (declared or {}).items():
        if "value" in source:
            handed[name] = source["value"]
        elif source.get("from") in data and not str(source["from"]).startswith("_"):
            handed[name] = data[source["from"]]
    return handed


def _priority(element) -> int:
    """camunda:taskPriority as a literal number (fetchAndLock with usePriority takes higher first); an
    expression or nothing counts 0."""
    text = (element.get(f"{{{CAMUNDA}}}taskPriority") or "").strip()
    return max(-(2**31), min(2**31 - 1, int(text))) if re.fullmatch(r"-?[0-9]{1,12}", text) else 0


def error_catchers(task, code: str):
    """The error boundary events waiting on `task` that catch `code` (one naming it first, else a
    catch-all), as Camunda routes a BPMN error: to the activity's own boundary events, never broadcast."""
    named, catch_all = [], []
    for sibling in task.parent.children if task.parent is not None else []:
        definition = getattr(sibling.task_spec, "event_definition", None)
        if sibling is task or not isinstance(definition, ErrorEventDefinition):
            continue
        if definition.code == code:
            named.append(sibling)
        elif not definition.code:
            catch_all.append(sibling)
    return named or catch_all
