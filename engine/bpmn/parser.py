"""Turning checked BPMN documents into SpiffWorkflow specs, with our timers, the sandbox's checks and
multi-instance activities bounded by the installation's maximum."""
from __future__ import annotations

import re
from collections.abc import Sized

from lxml import etree
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.event_definitions.conditional import ConditionalEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.exclusive_gateway import ExclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask, MultiInstanceTask, StandardLoopTask
from SpiffWorkflow.bpmn.specs.mixins.script_task import ScriptTask
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import BusinessRuleTaskParser, SpiffTaskParser
from SpiffWorkflow.spiff.specs.defaults import (
    BusinessRuleTask,
    ParallelMultiInstanceTask,
    SequentialMultiInstanceTask,
)

from ..config import engine_limits
from ..errors import ProcessError
from ..texts import text
from . import foreign, sandbox, timers, xml
from .external import ExternalTask


class SpecError(ValueError):
    """Raised when SpiffWorkflow refuses a document or an expression fails the sandbox's checks."""

    def __init__(self, message: str, element: str | None = None, filename: str | None = None,
                 line: int | None = None):
        super().__init__(message)
        self.element, self.filename, self.line = element, filename, line

    def as_detail(self) -> dict:
        return {"file": self.filename, "element": self.element, "line": self.line, "message": str(self),
                "rule": None}


class DubanParser(SpiffBpmnParser):
    """SpiffWorkflow's parser for plain, Camunda- and Spiff-flavoured BPMN, without XSD validation.
    A service task is an external task (engine/bpmn/external.py): it waits for a worker."""

    OVERRIDE_PARSER_CLASSES = {**SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
                               full_tag("serviceTask"): (SpiffTaskParser, ExternalTask)}


def build_specs(documents: dict, key: str):
    """(spec, subprocess specs) of process `key` from {filename: root}; raises SpecError."""
    parser = DubanParser()
    try:
        for filename, root in documents.items():
            if xml.is_dmn(root):
                parser.add_dmn_xml(root, filename)  # decision tables the business rule tasks name
            else:
                parser.add_bpmn_xml(_executable(root), filename)
        spec = parser.get_spec(key)
        subprocesses = parser.get_subprocess_specs(key)
    except ValidationException as error:
        element = _find(documents, getattr(error, "id", None))
        raise SpecError(_message(error, element), getattr(error, "id", None) or None,
                        getattr(error, "file_name", None) or None, _line(error, element)) from None
    except Exception as error:  # noqa: BLE001 - SpiffWorkflow raises bare KeyError/TypeError on odd input
        reason = f"{type(error).__name__}: {error}"
        raise SpecError(text("deploy.spiff_unparsable", process=key, reason=reason)) from None
    for each in [spec, *subprocesses.values()]:
        if each is not None:
            _prepare(each, documents)
            _connect_loops(each)
    return spec, subprocesses


# Where a diagram from Camunda writes JUEL that deploy translated (inspect.py warned with the Python).
_EXPRESSIONS = tuple(f"{{{xml.BPMN}}}{kind}" for kind in (
    "conditionExpression", "condition", "completionCondition", "loopCardinality", "timeDate", "timeDuration",
    "timeCycle"))
_DATA_ASSOCIATIONS = (f"{{{xml.BPMN}}}dataInputAssociation", f"{{{xml.BPMN}}}dataOutputAssociation")


def _executable(root):
    """The document as the engine runs it, on every parse (deploy, and each load of a stored version):
    data stores, which nothing reads or writes here, taken out with their associations (SpiffWorkflow
    wants an implementation for each); JUEL that translates word for word replaced by its Python."""
    stores = {e.get("id") for e in root.iter(f"{{{xml.BPMN}}}dataStore", f"{{{xml.BPMN}}}dataStoreReference")}
    if stores:
        for association in list(root.iter(*_DATA_ASSOCIATIONS)):
            ends = {(ref.text or "").strip() for ref in association if xml.local(ref) in ("sourceRef", "targetRef")}
            if ends & stores:
                association.getparent().remove(association)
        for element in list(root.iter(f"{{{xml.BPMN}}}dataStore", f"{{{xml.BPMN}}}dataStoreReference")):
            element.getparent().remove(element)
    for element in root.iter(*_EXPRESSIONS):
        python = foreign.juel(element.text)
        if python is not None:
            element.text = python
    for loop in root.iter(f"{{{xml.BPMN}}}multiInstanceLoopCharacteristics"):
        _camunda_collection(loop)
    return root


def _camunda_collection(loop) -> None:
    """camunda:collection="items" camunda:elementVariable="item" said as BPMN does: a loopDataInputRef
    and an inputDataItem (whose id SpiffWorkflow takes as the variable's name)."""
    collection = foreign.collection_variable(loop.get(f"{{{xml.CAMUNDA}}}collection"))
    if collection is None or loop.find(f"{{{xml.BPMN}}}loopDataInputRef") is not None:
        return
    loop.insert(0, _bpmn("loopDataInputRef", collection))
    item = loop.get(f"{{{xml.CAMUNDA}}}elementVariable")
    if foreign.variable_name(item):
        loop.insert(1, _bpmn("inputDataItem", None, id=item, name=item))


def _bpmn(kind: str, text: str | None, **attributes):
    element = etree.Element(f"{{{xml.BPMN}}}{kind}", **attributes)
    element.text = text
    return element


def _connect_loops(spec) -> None:
    """A loop or multi-instance merges each child as it completes through a connection on the
    child's *spec*, which SpiffWorkflow makes when it creates the first child (or when its own
    serializer restores a spec). Specs parsed afresh (another process, a restart) must have it
    before a saved workflow runs on, or its last child completes without ending the activity."""
    for task_spec in spec.task_specs.values():
        if isinstance(task_spec, LoopTask):
            child = spec.task_specs.get(task_spec.task_spec)
            if child is not None and not child.completed_event.is_connected(task_spec.merge_child):
                child.completed_event.connect(task_spec.merge_child)


# SpiffWorkflow's parser refusals (English), each said again from the catalogue; others are quoted.
_SPIFF_REFUSALS = tuple((re.compile(pattern), key) for pattern, key in (
    (r"^No start event found", "deploy.spiff_no_start"),
    (r"^Non-default exclusive outgoing sequence flow without condition", "deploy.spiff_flow_without_condition"),
    (r"^Exactly one start event is required in a SubWorkflow Task; found (?P<count>\d+)",
     "deploy.spiff_subprocess_start"),
    (r"^A SubWorkflow Must contain an End event", "deploy.spiff_subprocess_end"),
    (r'^No "calledElement" attribute', "deploy.spiff_called_element"),
    (r"^Invalid Script Task\.\s+No Script Provided", "deploy.spiff_no_script"),
    (r"^Conditional event definition with missing condition", "deploy.spiff_no_condition"),
    (r"^(Unknown Time Specification|Time Specification Error)", "deploy.spiff_time"),
    (r"^Cannot resolve data(Input|Output)Association", "deploy.spiff_data_association"),
    (r"^There is no support implemented for this task type", "deploy.spiff_task_type"),
    (r"^Could not find messageRef from message event definition: (?P<message>.*)", "deploy.spiff_message_ref"),
    (r"^Duplicate process ID: (?P<process>.*)", "deploy.spiff_duplicate_process"),
    (r"^The process '(?P<process>[^']*)' was not found", "deploy.spiff_process_not_found"),
    (r"^Process (?P<process>\S+) is not executable", "deploy.spiff_not_executable"),
    (r"^Sequential ordering for ad hoc subprocesses", "deploy.spiff_adhoc_sequential"),
    (r"^Ad hoc subprocesses may not contain start or end events", "deploy.spiff_adhoc_events"),
    (r"^A loopMaximum or loopCondition must be specified", "deploy.spiff_loop"),
    (r"^A multiinstance task must specify a cardinality or", "deploy.spiff_multi_instance_input"),
    (r"^A multiinstance task must specify exactly one of", "deploy.spiff_multi_instance_both"),
    (r"^The loop (input|output) data reference is missing", "deploy.spiff_multi_instance_io"),
    # SpiffWorkflow 3's own bug on an unresolved event reference raises a TypeError, wrapped as said here.
    (r"^Expected an? (Message|Signal|Error|Escalation) node|raise_validation_exception\(\) got an unexpected",
     "deploy.spiff_event_ref"),
))


def _message(error: ValidationException, element) -> str:
    reason = _spiff_reason(str(error.args[0] if error.args else error))
    where = getattr(error, "id", "") or ""
    if not where:
        return reason
    named = xml.label(element) if element is not None else xml.describe(
        getattr(error, "tag", "") or "", where, getattr(error, "name", None))
    return text("deploy.on_element", element=named, problem=reason)


def _spiff_reason(said: str) -> str:
    for pattern, key in _SPIFF_REFUSALS:
        found = pattern.search(said)
        if found:
            return text(key, **found.groupdict())
    return text("deploy.spiff_refused", reason=said)


def _find(documents: dict, ident: str | None):
    """The element with id `ident` in the documents, for its kind, name and line; None if none has it."""
    if not ident:
        return None
    for root in documents.values():
        found = root.xpath("//*[@id=$ident]", ident=ident)
        if found:
            return found[0]
    return None


def _line(error, element=None) -> int | None:
    line = getattr(error, "line_number", None)
    if isinstance(line, int):
        return line
    return element.sourceline if element is not None else None


def _prepare(spec, documents: dict) -> None:
    """Clock every timer and compile every expression and script of a spec in the sandbox."""
    for task_spec in spec.task_specs.values():
        ident = getattr(task_spec, "bpmn_id", None) or task_spec.name
        try:
            _prepare_task_spec(task_spec)
        except (sandbox.SandboxViolation, timers.TimerSpecError) as error:
            element = _find(documents, ident)
            named = xml.label(element) if element is not None else xml.describe(
                "", ident, getattr(task_spec, "bpmn_name", None))
            key = "deploy.code_refused" if isinstance(error, sandbox.SandboxViolation) else "deploy.timer_refused"
            raise SpecError(text(key, element=named, reason=error), ident, spec.file,
                            element.sourceline if element is not None else None) from None


def _prepare_task_spec(task_spec) -> None:
    definition = getattr(task_spec, "event_definition", None)
    if definition is not None:
        for timer in timers.clock_timers(definition):
            sandbox.check(timer.expression)
        if isinstance(definition, ConditionalEventDefinition):
            sandbox.check(definition.expression)
    if isinstance(task_spec, (ExclusiveGateway, InclusiveGateway)):
        for condition, _target in task_spec.cond_task_specs:
            if condition is not None:
                sandbox.check(condition.args[0])
    if isinstance(task_spec, ScriptTask) and task_spec.script:
        sandbox.check(task_spec.script, "exec")
    for script in (getattr(task_spec, "prescript", None), getattr(task_spec, "postscript", None)):
        if script:
            sandbox.check(script, "exec")
    if isinstance(task_spec, MultiInstanceTask):
        for expression in (task_spec.cardinality, task_spec.condition):
            if expression:
                sandbox.check(expression)
        # As with timers, our subclass: it counts the instances an expression asks for before making them.
        task_spec.__class__ = BOUNDED.get(type(task_spec), type(task_spec))
    if isinstance(task_spec, StandardLoopTask) and task_spec.condition:
        sandbox.check(task_spec.condition)


def _refuse_too_many(spec, my_task, count) -> None:
    """A multi-instance activity stops (an incident) rather than create more instances than the
    installation allows: what an expression or a collection says is only known at run time."""
    limit = engine_limits().max_multi_instance
    if isinstance(count, int) and count > limit:
        inner = my_task.workflow.spec.task_specs.get(spec.task_spec)  # the activity, which has the name
        element = getattr(inner, "bpmn_name", None) or spec.bpmn_id
        raise ProcessError(text("limit.multi_instance_run", element=element, count=count, limit=limit))


class _BoundedParallel(ParallelMultiInstanceTask):
    def create_children(self, my_task):
        if self.data_input is None:
            _refuse_too_many(self, my_task, my_task.workflow.script_engine.evaluate(my_task, self.cardinality))
        elif self.data_input.exists(my_task) and isinstance(self.data_input.get(my_task), Sized):
            _refuse_too_many(self, my_task, len(self.data_input.get(my_task)))
        super().create_children(my_task)


class _BoundedSequential(SequentialMultiInstanceTask):
    def init_remaining_items(self, my_task):
        remaining = super().init_remaining_items(my_task)
        _refuse_too_many(self, my_task, len(remaining))
        return remaining

    def get_next_index(self, my_task):
        _refuse_too_many(self, my_task, my_task.internal_data.get("cardinality"))
        return super().get_next_index(my_task)


# Ours in place of SpiffWorkflow's (the serializer's registry converts them as their bases).
BOUNDED = {ParallelMultiInstanceTask: _BoundedParallel, SequentialMultiInstanceTask: _BoundedSequential}


# camunda:mapDecisionResult: how a decision's result goes into camunda:resultVariable (Camunda 7's names).
RESULT_MAPS = ("resultList", "singleResult", "singleEntry", "collectEntries")


class DecisionTask(BusinessRuleTask):
    """A business rule task. Its decision's outputs go into the data by their names; with
    camunda:resultVariable the result goes into that one variable instead, shaped as Camunda does
    (camunda:mapDecisionResult): resultList, every matched rule's outputs as a list of dicts (the
    default); singleResult, the one matched rule's outputs or None; singleEntry, the one output of the one
    rule or None; collectEntries, the one output of each rule as a list."""

    def __init__(self, wf_spec, name, dmnEngine, result_variable=None, result_map=None, **kwargs):
        super().__init__(wf_spec, name, dmnEngine=dmnEngine, **kwargs)
        self.result_variable = result_variable
        self.result_map = result_map or RESULT_MAPS[0]

    def _run_hook(self, my_task):
        if not self.result_variable:
            return super()._run_hook(my_task)
        engine = self.dmnEngine
        rows = [rule.output_as_dict(my_task) for rule in engine.decide(my_task)]
        if engine.decision_table.hit_policy != "COLLECT":
            rows = rows[:1]
        my_task.data[self.result_variable] = _mapped_result(rows, self.result_map, self.bpmn_name or self.bpmn_id)
        return True


def _mapped_result(rows: list[dict], result_map: str, element: str):
    if result_map == "resultList":
        return rows
    if result_map != "collectEntries" and len(rows) > 1:
        raise ProcessError(text("run.decision_results", element=element, count=len(rows), map=result_map))
    if result_map == "singleResult":
        return rows[0] if rows else None
    if any(len(row) != 1 for row in rows):
        raise ProcessError(text("run.decision_outputs", element=element, map=result_map))
    values = [next(iter(row.values())) for row in rows]
    return values if result_map == "collectEntries" else (values[0] if values else None)


class _DecisionTaskParser(BusinessRuleTaskParser):
    """A business rule task names its decision as Spiff's modeler writes it
    (spiffworkflow:calledDecisionId) or as Camunda's does (camunda:decisionRef)."""

    @staticmethod
    def get_decision_ref(node):
        return decision_ref(node)

    def create_task(self):
        variable = (self.node.get(f"{{{xml.CAMUNDA}}}resultVariable") or "").strip() or None
        extensions = self.parse_extensions()
        return DecisionTask(
            self.spec, self.bpmn_id,
            dmnEngine=self.process_parser.parser.get_engine(decision_ref(self.node), self.node),
            result_variable=variable, result_map=(self.node.get(f"{{{xml.CAMUNDA}}}mapDecisionResult") or None),
            prescript=extensions.get("preScript"), postscript=extensions.get("postScript"), **self.bpmn_attributes)


def decision_ref(node) -> str | None:
    """The decision id a businessRuleTask element names, either way; None when it names none."""
    found = BusinessRuleTaskParser.get_decision_ref(node) or node.get(f"{{{xml.CAMUNDA}}}decisionRef")
    return found.strip() if isinstance(found, str) and found.strip() else None


DubanParser.OVERRIDE_PARSER_CLASSES = {**DubanParser.OVERRIDE_PARSER_CLASSES,
                                       full_tag("businessRuleTask"): (_DecisionTaskParser, DecisionTask)}
