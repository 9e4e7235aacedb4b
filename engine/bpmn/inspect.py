"""Static checks of BPMN documents before SpiffWorkflow sees them, and what the engine needs to know.

SpiffWorkflow parses many things it cannot run (JUEL conditions, JavaScript, DMN, service tasks)
and some parser errors are raw KeyErrors. Here every such construct is refused with a message
naming the element, and user tasks are resolved to a role (lane or candidateGroups) and a form.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .. import forms as formjs, texts
from ..config import engine_limits
from ..domain.roles import LANE_ROLES, UNIT, role_for_lane
from ..domain.steps import NAMESPACE as DUBAN
from . import camunda_forms, contract, external, foreign, sandbox
from .parser import RESULT_MAPS, decision_ref
from .timers import is_iso_literal, literal_cycle_interval
from .xml import BPMN, CAMUNDA, NS, SPIFF, ZEEBE, label, local

HUMAN_TASKS = ("userTask", "manualTask")
SUPPORTED_NODES = {
    "startEvent", "endEvent", "userTask", "task", "subProcess", "manualTask", "exclusiveGateway",
    "parallelGateway", "inclusiveGateway", "callActivity", "transaction", "adHocSubProcess",
    "scriptTask", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "receiveTask", "sendTask", "eventBasedGateway", "serviceTask", "businessRuleTask",
}
# The elements Duban refuses, with the key of the message saying why (engine/texts.py).
REFUSED_NODES = {
    "complexGateway": "deploy.complex_gateway",
}
PYTHON_FORMATS = {"", "python", "py", "text/x-python", "python3"}
OTHER_LANGUAGES = {"javascript", "js", "ecmascript", "groovy", "juel", "feel", "ruby", "jruby", "jython",
                   "nashorn", "graal.js", "kotlin", "java", "text/javascript", "application/javascript", "xslt"}
# Elements that cannot put anything into their data, so cannot give a multi-instance output item.
DATALESS = {"task", "manualTask", "sendTask", "receiveTask", "callActivity"}
_JUEL = re.compile(r"[$#]\{")
# Quartz cron (Camunda's other timeCycle form): six or seven fields, one of them * or ?.
_CRON = re.compile(r"^(?=.*[*?])[0-9A-Za-z*?/,#-]+(\s+[0-9A-Za-z*?/,#-]+){4,6}$")
# Parts of an element that carry ids of their own but are not drawn.
_NESTED = {"conditionExpression", "condition", "completionCondition", "loopCardinality", "timeDate", "timeDuration",
           "timeCycle", "timerEventDefinition", "conditionalEventDefinition", "multiInstanceLoopCharacteristics"}


@dataclass
class HumanTaskInfo:
    element_id: str
    name: str
    role: str | None
    lane: str | None
    form: str | None
    kind: str
    unit: str | None = None  # a lane declared for one unit (duban:unit)

    def as_dict(self) -> dict:
        return self.__dict__.copy()


@dataclass
class ProcessInfo:
    key: str
    name: str
    filename: str
    executable: bool
    calls: set = field(default_factory=set)
    human_tasks: dict = field(default_factory=dict)
    names: dict = field(default_factory=dict)
    message_starts: list = field(default_factory=list)
    # Duban's declarations (namespace urn:duban:bpmn:1): {element id: {"kind", "options"}}, the
    # process's duban:item and duban:starterRoles, and the form of its (none-)start event.
    steps: dict = field(default_factory=dict)
    item: bool = False
    starter_roles: list | None = None
    start_form: str | None = None
    # Business rule tasks: [(decision id, element)], resolved against the deployment's DMN (runtime.py).
    decisions: list = field(default_factory=list)
    # Service tasks waiting for external workers: {element id: {"topic", "name"}} (engine/bpmn/external.py).
    external_tasks: dict = field(default_factory=dict)

    def elements(self) -> dict:
        return {"human_tasks": {k: v.as_dict() for k, v in self.human_tasks.items()}, "names": self.names,
                "message_starts": self.message_starts, "steps": self.steps, "item": self.item,
                "starter_roles": self.starter_roles, "start_form": self.start_form,
                "external_tasks": self.external_tasks}


@dataclass
class Inspection:
    processes: dict = field(default_factory=dict)
    forms: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)

    def problem(self, bucket: list, filename: str, element, message: str, rule: str | None = None) -> None:
        """Record a problem; `rule` names the limit broken (`timer-min-cycle`), for designers to look up."""
        bucket.append({
            "file": filename,
            "element": element.get("id") if element is not None else None,
            "line": element.sourceline if element is not None else None,
            "message": texts.text("deploy.on_element", element=label(element), problem=message)
            if element is not None else message,
            "rule": rule,
        })


def inspect(documents: dict, form_files: dict) -> Inspection:
    """Check parsed documents ({filename: root}) with the forms offered beside them."""
    result = Inspection()
    catalogue = _form_catalogue(form_files, result)
    for filename, root in documents.items():
        _inspect_document(filename, root, catalogue, result)
    _check_calls(result)
    return result


def _form_catalogue(form_files: dict, result: Inspection) -> dict:
    """{reference: (filename, schema or error)}: forms findable by id, file name, or stem."""
    catalogue = {}
    for filename, text in form_files.items():
        try:
            entry = (filename, formjs.load(text, filename))
        except ValueError as error:
            entry = (filename, error)
        base = filename.rsplit("/", 1)[-1]
        refs = {base, base.removesuffix(".form")}
        if isinstance(entry[1], dict) and entry[1].get("id"):
            refs.add(str(entry[1]["id"]))
        for ref in refs:
            catalogue.setdefault(ref, entry)
    return catalogue


def _inspect_document(filename, root, catalogue, result: Inspection) -> None:
    lanes = _lanes(root)
    for element in root.iter(f"{{{BPMN}}}dataStore", f"{{{BPMN}}}dataStoreReference"):
        result.problem(result.warnings, filename, element, texts.text("deploy.data_store"))
    for process in root.iterfind("bpmn:process", NS):
        info = ProcessInfo(
            key=process.get("id"), name=process.get("name") or process.get("id"),
            filename=filename, executable=process.get("isExecutable", "true") == "true",
            item=(process.get(f"{{{DUBAN}}}item") or "").strip().lower() == "true",
            starter_roles=_starter_roles(process),
        )
        if info.key in result.processes:
            result.problem(result.errors, filename, process, texts.text("deploy.duplicate_process", process=info.key))
        result.processes[info.key] = info
        has_lanes = process.find(".//bpmn:lane", NS) is not None
        messages = {m.get("id"): m.get("name") or m.get("id") for m in root.iterfind("bpmn:message", NS)}
        for definition in process.iterfind("bpmn:startEvent/bpmn:messageEventDefinition", NS):
            info.message_starts.append(messages.get(definition.get("messageRef"), definition.get("messageRef")))
        for element in process.iter():
            if not isinstance(element.tag, str) or not element.tag.startswith(f"{{{BPMN}}}"):
                continue
            _inspect_element(filename, element, info, lanes, has_lanes, catalogue, result)
        if info.executable and not has_lanes and info.human_tasks:
            result.problem(result.warnings, filename, process, texts.text("deploy.no_lanes"))
        if info.executable:
            info.start_form = _start_form(filename, process, catalogue, result)
            contract.check(filename, process, info, result)


def _lanes(root) -> dict:
    """{flow node id: lane element}, the innermost lane that lists the node."""
    found = {}
    for lane in root.iter(f"{{{BPMN}}}lane"):
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            if ref.text:
                found[ref.text.strip()] = lane
    return found


def _starter_roles(process) -> list | None:
    text = process.get(f"{{{DUBAN}}}starterRoles")
    return None if text is None else [role for role in text.replace(",", " ").split() if role]


def _step(element) -> dict | None:
    """The 督办 step declared on an element: {"kind", "options": {name: value}}, else None."""
    declared = element.find(f"bpmn:extensionElements/{{{DUBAN}}}step", NS)
    if declared is None:
        return None
    options = {o.get("name"): o.get("value") for o in declared.iterfind(f"{{{DUBAN}}}option") if o.get("name")}
    return {"kind": (declared.get("kind") or "").strip(), "options": options}


def _start_form(filename, process, catalogue, result) -> str | None:
    """The form of the process's plain start event (what the 发起 page shows), if it has one."""
    for start in process.iterfind("bpmn:startEvent", NS):
        if any(isinstance(c.tag, str) and local(c).endswith("EventDefinition") for c in start):
            continue  # a message or timer start: no one fills a form for it
        if _form_reference(start)[0] is not None:
            return _resolve_form(filename, start, catalogue, result)
    return None


def _inspect_element(filename, element, info, lanes, has_lanes, catalogue, result) -> None:
    kind = local(element)
    if element.get("id") and kind in SUPPORTED_NODES | set(REFUSED_NODES):
        info.names[element.get("id")] = element.get("name") or element.get("id")
        step = _step(element)
        if step is not None:
            info.steps[element.get("id")] = step
    if kind in REFUSED_NODES:
        result.problem(result.errors, filename, element, texts.text(REFUSED_NODES[kind]))
    elif kind == "serviceTask":
        external.inspect_service_task(filename, element, info, result)
    elif kind in ("conditionExpression", "condition", "completionCondition"):
        _check_language(filename, element, result, "condition")
    elif kind == "loopCardinality":
        _check_language(filename, element, result, "cardinality")
    elif kind == "scriptTask":
        script_format = (element.get("scriptFormat") or "").strip().lower()
        if element.get(f"{{{CAMUNDA}}}resource") and not (element.findtext("bpmn:script", "", NS) or "").strip():
            result.problem(result.errors, filename, element,
                           texts.text("deploy.script_resource", resource=element.get(f"{{{CAMUNDA}}}resource")))
        elif script_format in OTHER_LANGUAGES:
            result.problem(result.errors, filename, element,
                           texts.text("deploy.script_format", format=element.get("scriptFormat")))
        elif script_format not in PYTHON_FORMATS:
            result.problem(result.warnings, filename, element,
                           texts.text("deploy.script_format_unknown", format=element.get("scriptFormat")))
    elif kind in ("timeDate", "timeDuration", "timeCycle"):
        _check_language(filename, element, result, "timer")
        if kind == "timeCycle":
            _check_cycle(filename, element, result)
    elif kind == "multiInstanceLoopCharacteristics":
        _check_multi_instance(filename, element, result)
    elif kind == "businessRuleTask":
        _decision_task(filename, element, info, result)
    elif kind == "startEvent" and contract.in_event_subprocess(element):
        _check_event_subprocess_start(filename, element, result)
    elif kind == "callActivity":
        called = element.get("calledElement")
        if called:
            info.calls.add((called, element))
    elif kind in HUMAN_TASKS and info.executable:
        task = _human_task(filename, element, kind, lanes, has_lanes, catalogue, result)
        info.human_tasks[task.element_id] = task


# Start events of an event subprocess the engine does not wait for: SpiffWorkflow reads them as plain start
# events, so the subprocess would start with its parent, at once, instead of on the error.
_UNSUPPORTED_STARTS = {"errorEventDefinition": "错误", "escalationEventDefinition": "升级",
                       "compensateEventDefinition": "补偿"}


def _check_event_subprocess_start(filename, element, result) -> None:
    for definition in element:
        trigger = _UNSUPPORTED_STARTS.get(local(definition))
        if trigger:
            result.problem(result.errors, filename, element,
                           texts.text("deploy.event_subprocess_start", trigger=trigger))


def _decision_task(filename, element, info, result) -> None:
    """A business rule task runs the DMN decision it names (engine/bpmn/decisions.py)."""
    decision = decision_ref(element)
    if decision is None:
        result.problem(result.errors, filename, element, texts.text("deploy.decision_ref_missing"))
        return
    info.decisions.append((decision, element))
    mapping = element.get(f"{{{CAMUNDA}}}mapDecisionResult")
    if mapping is not None and mapping not in RESULT_MAPS:
        result.problem(result.errors, filename, element, texts.text(
            "deploy.decision_result_map", value=mapping, choices="、".join(RESULT_MAPS)))


def check_decisions(result: Inspection, known) -> None:
    """Every decision a business rule task names must be deployed with it or before it: `known(id)`."""
    for info in result.processes.values():
        for decision, element in info.decisions:
            if not known(decision):
                result.problem(result.errors, info.filename, element,
                               texts.text("deploy.decision_missing", decision=decision))


def _check_multi_instance(filename, element, result) -> None:
    owner = element.getparent()
    _check_cardinality(filename, element, owner, result)
    collection = element.get(f"{{{CAMUNDA}}}collection")
    if collection:
        _check_camunda_collection(filename, element, owner, collection, result)
        return
    output = element.find("bpmn:outputDataItem", NS)
    if output is not None and local(owner) in DATALESS:
        result.problem(result.errors, filename, owner, texts.text(
            "deploy.output_item_dataless", item=output.get("id"), kind=texts.text(f"deploy.kind.{local(owner)}")))


def _check_camunda_collection(filename, element, owner, collection, result) -> None:
    """Camunda's multi-instance over a collection variable runs as BPMN's loopDataInputRef (parser.py);
    a collection an expression computes has no such twin."""
    variable = foreign.collection_variable(collection)
    has_bpmn_input = element.find("bpmn:loopDataInputRef", NS) is not None or element.find(
        "bpmn:loopCardinality", NS) is not None
    if variable is None or has_bpmn_input:
        result.problem(result.errors, filename, owner, texts.text("deploy.camunda_collection", collection=collection))
        return
    item = element.get(f"{{{CAMUNDA}}}elementVariable") or ""
    result.problem(result.warnings, filename, owner, texts.text(
        "deploy.camunda_collection_read", collection=collection, variable=variable,
        item=item if foreign.variable_name(item) else texts.text("deploy.camunda_collection_no_item")))


def _check_cycle(filename, element, result) -> None:
    """Limits of repeating timers written as literals; a cycle an expression gives is stretched to
    the minimum at run time instead (engine/bpmn/timers.py)."""
    cycle = (element.text or "").strip()
    interval = literal_cycle_interval(cycle)
    if interval is None:
        return
    event, minimum = _event_of(element), engine_limits().min_timer_cycle_s
    if interval.total_seconds() < minimum:
        result.problem(result.errors, filename, event, texts.text(
            "limit.timer_min_cycle", cycle=cycle, interval=f"{interval.total_seconds():g}", minimum=f"{minimum:g}"),
            rule="timer-min-cycle")
    elif cycle.strip("\"'").upper().startswith("R/") and _non_interrupting(event):
        result.problem(result.warnings, filename, event,
                       texts.text("limit.timer_unbounded_cycle", cycle=cycle), rule="timer-unbounded-cycle")


def _event_of(definition):
    """The event a timer belongs to (its timerEventDefinition may have an id of its own, which the
    diagram does not show)."""
    node = definition.getparent()
    while node is not None and not local(node).endswith("Event"):
        node = node.getparent()
    return node if node is not None else _owner(definition)


def _non_interrupting(event) -> bool:
    if local(event) == "boundaryEvent":
        return event.get("cancelActivity") == "false"
    return local(event) == "startEvent" and event.get("isInterrupting") == "false"


def _check_cardinality(filename, element, owner, result) -> None:
    """A literal loopCardinality above the maximum; an expression is checked at run time (parser.py)."""
    cardinality = element.find("bpmn:loopCardinality", NS)
    literal = (cardinality.text or "").strip() if cardinality is not None else ""
    limit = engine_limits().max_multi_instance
    if re.fullmatch(r"[0-9]+", literal) and (len(literal) > 18 or int(literal) > limit):
        result.problem(result.errors, filename, owner,
                       texts.text("limit.multi_instance_max", count=literal, limit=limit), rule="multi-instance-max")


def _check_language(filename, element, result, what) -> None:
    """`what` is "condition", "timer" or "cardinality", as the catalogue's deploy.what_* name them.

    Simple JUEL is run as the Python it says (engine/bpmn/foreign.py) with a warning; XPath, the
    language BPMN assumes when a document names none, is refused with the Python to write instead.
    """
    text = (element.text or "").strip()
    language = (element.get("language") or "").lower()
    named = texts.text(f"deploy.what_{what}")
    if what == "timer" and _CRON.match(text):
        result.problem(result.errors, filename, _owner(element), texts.text("deploy.cron", expression=text))
    elif _JUEL.search(text):
        python = _safe(foreign.juel(text))
        if python is None:
            result.problem(result.errors, filename, _owner(element),
                           texts.text("deploy.juel", what=named, expression=text))
        else:
            result.problem(result.warnings, filename, _owner(element),
                           texts.text("deploy.juel_translated", what=named, expression=text, python=python))
    elif "xpath" in language or (not language and text and _xpath_by_default(element, text, what)):
        python = _safe(foreign.xpath(text))
        key = "deploy.xpath_hint" if python is None else "deploy.xpath"
        result.problem(result.errors, filename, _owner(element), texts.text(key, what=named, expression=text,
                                                                            python=python))
    elif language and "python" not in language:
        result.problem(result.errors, filename, _owner(element),
                       texts.text("deploy.expression_language", what=named, language=element.get("language")))


def _xpath_by_default(element, text: str, what: str) -> bool:
    """The document declares XPath its expression language and this text is not Python (Signavio,
    the BPMN MIWG suite): a timer's ISO literal is neither, and stays ours to read."""
    declared = (element.getroottree().getroot().get("expressionLanguage") or "").lower()
    if "xpath" not in declared or (what == "timer" and is_iso_literal(text.strip("\"'"))):
        return False
    return _safe(text) is None


def _safe(python: str | None) -> str | None:
    """The expression if the sandbox compiles it, else None."""
    if python is None:
        return None
    try:
        sandbox.check(python)
    except sandbox.SandboxViolation:
        return None
    return python


def _owner(element):
    """The flow element a nested definition belongs to, for messages: a condition's or a timer's own id
    (Camunda Modeler gives them one) is not what the diagram shows."""
    node = element
    while node is not None and (not node.get("id") or local(node) in _NESTED):
        node = node.getparent()
    return node if node is not None else element


def _human_task(filename, element, kind, lanes, has_lanes, catalogue, result) -> HumanTaskInfo:
    element_id = element.get("id")
    lane = _enclosing_lane(element, lanes)
    lane_id, lane_name = (lane.get("id"), lane.get("name")) if lane is not None else (None, None)
    role, unit = _lane_role(lane)
    groups = _candidate_groups(element)
    if groups:
        known = [g for g in groups if g in LANE_ROLES]
        if known:
            role = known[0]
        else:
            result.problem(result.warnings, filename, element, texts.text(
                "deploy.candidate_groups", groups="、".join(groups), roles="、".join(LANE_ROLES)))
    if has_lanes and lane_id is None and not groups:
        result.problem(result.errors, filename, element, texts.text("deploy.outside_lanes"))
    elif lane_id is not None and role is None and not groups:
        result.problem(result.warnings, filename, element,
                       texts.text("deploy.lane_not_role", lane=lane_name or lane_id))
    form_key = _resolve_form(filename, element, catalogue, result) if kind == "userTask" else None
    return HumanTaskInfo(element_id=element_id, name=element.get("name") or element_id, role=role,
                         lane=lane_id, form=form_key, kind=kind, unit=unit)


def _lane_role(lane) -> tuple:
    """(role, unit) of a lane: declared with duban:role / duban:unit, else recognised by id or name."""
    if lane is None:
        return None, None
    unit = (lane.get(f"{{{DUBAN}}}unit") or "").strip() or None
    if unit:
        return UNIT, unit
    declared = (lane.get(f"{{{DUBAN}}}role") or "").strip()
    if declared:
        return (declared if declared in LANE_ROLES else None), None
    return role_for_lane(lane.get("id"), lane.get("name")), None


def _enclosing_lane(element, lanes):
    node = element
    while node is not None:
        if node.get("id") in lanes:
            return lanes[node.get("id")]
        node = node.getparent()
    return None


def _candidate_groups(element) -> list[str]:
    text = element.get(f"{{{CAMUNDA}}}candidateGroups")
    if text is None:
        assignment = element.find(f"bpmn:extensionElements/{{{ZEEBE}}}assignmentDefinition", NS)
        text = assignment.get("candidateGroups") if assignment is not None else None
    return [g.strip() for g in (text or "").split(",") if g.strip()]


def _form_reference(element):
    """('ref', name) for a form-js form, ('camunda', fields) for camunda:formData, or (None, None)."""
    form_ref = element.get(f"{{{CAMUNDA}}}formRef")
    if form_ref:
        return "ref", form_ref
    zeebe = element.find(f"bpmn:extensionElements/{{{ZEEBE}}}formDefinition", NS)
    if zeebe is not None and (zeebe.get("formId") or zeebe.get("formKey")):
        return "ref", zeebe.get("formId") or zeebe.get("formKey")
    form_data = element.find(f"bpmn:extensionElements/{{{CAMUNDA}}}formData", NS)
    if form_data is not None:
        return "camunda", form_data
    form_key = element.get(f"{{{CAMUNDA}}}formKey")
    if form_key:
        for prefix in ("camunda-forms:deployment:", "camunda-forms:app:", "camunda-forms:"):
            form_key = form_key.removeprefix(prefix)
        # embedded:app:…, embedded:deployment:…, app:…: an HTML form Camunda's Tasklist shows.
        return ("ref", form_key) if form_key.endswith(".form") else ("embedded", element.get(f"{{{CAMUNDA}}}formKey"))
    spiff = element.find(f"bpmn:extensionElements/{{{SPIFF}}}properties", NS)
    if spiff is not None:
        for prop in spiff.iterfind(f"{{{SPIFF}}}property"):
            if prop.get("name") == "formJsonSchemaFilename":
                return "unsupported", prop.get("value")
    return None, None


def _resolve_form(filename, element, catalogue, result) -> str | None:
    kind, ref = _form_reference(element)
    if kind is None:
        return None
    if kind == "unsupported":
        result.problem(result.errors, filename, element, texts.text("deploy.form_not_formjs", form=ref))
        return None
    if kind in ("camunda", "embedded"):
        return _generated_form(filename, element, kind, ref, result)
    entry = catalogue.get(ref) or catalogue.get(ref.rsplit("/", 1)[-1])
    if entry is None:
        result.problem(result.errors, filename, element,
                       texts.text("deploy.form_missing", form=ref, file=f"{ref.removesuffix('.form')}.form"))
        return None
    form_file, schema = entry
    if not isinstance(schema, dict):
        result.problem(result.errors, filename, element, texts.text("deploy.form_invalid", form=ref, reason=schema))
        return None
    key = str(schema.get("id") or ref.removesuffix(".form"))
    result.forms[key] = schema
    return key


def _generated_form(filename, element, kind, ref, result) -> str:
    """A form-js form in place of Camunda's generated (formData) or embedded one, with a warning naming
    the task; it passes the checks every uploaded form passes."""
    key = f"camunda:{element.get('id')}"
    if kind == "camunda":
        fields = camunda_forms.form_data_fields(ref)
        schema = formjs.from_camunda_fields(key, fields)
        warning = texts.text("deploy.form_from_form_data", fields="、".join(f["id"] for f in fields) or "无")
    else:
        schema, keys = camunda_forms.embedded_form(element, key, ref)
        warning = (texts.text("deploy.form_generated", form=ref, fields="、".join(keys)) if keys
                   else texts.text("deploy.form_generated_empty", form=ref))
    problems = formjs.check_schema(schema)
    if problems:  # a field Camunda accepts and form-js does not (a key with a hyphen, twice the same id)
        result.problem(result.errors, filename, element, texts.text("deploy.form_invalid", form=ref if kind ==
                                                                    "embedded" else "camunda:formData",
                                                                    reason="；".join(problems)))
    else:
        result.problem(result.warnings, filename, element, warning)
    result.forms[key] = schema
    return key


def _check_calls(result: Inspection) -> None:
    """Call activities must reach a process in the deployment, and never call back into themselves."""
    for info in result.processes.values():
        for called, element in info.calls:
            if called not in result.processes:
                result.problem(result.errors, info.filename, element, texts.text("deploy.call_missing", called=called))
    for key, info in result.processes.items():
        for called, element in info.calls:
            if called in result.processes and key in _reachable(result.processes, called):
                result.problem(result.errors, info.filename, element,
                               texts.text("deploy.call_cycle", called=called, process=key))


def _reachable(processes: dict, start: str) -> set:
    seen, stack = set(), [start]
    while stack:
        key = stack.pop()
        if key in seen or key not in processes:
            continue
        seen.add(key)
        stack.extend(called for called, _ in processes[key].calls)
    return seen
