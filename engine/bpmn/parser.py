"""Turning checked BPMN documents into SpiffWorkflow specs, with our timers and the sandbox's checks."""
from __future__ import annotations

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.mixins.exclusive_gateway import ExclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask, StandardLoopTask
from SpiffWorkflow.bpmn.specs.mixins.script_task import ScriptTask
from SpiffWorkflow.bpmn.specs.event_definitions.conditional import ConditionalEventDefinition
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from . import sandbox, timers


class SpecError(ValueError):
    """Raised when SpiffWorkflow refuses a document or an expression fails the sandbox's checks."""

    def __init__(self, message: str, element: str | None = None, filename: str | None = None,
                 line: int | None = None):
        super().__init__(message)
        self.element, self.filename, self.line = element, filename, line

    def as_detail(self) -> dict:
        return {"file": self.filename, "element": self.element, "line": self.line, "message": str(self)}


class DubanParser(SpiffBpmnParser):
    """SpiffWorkflow's parser for plain, Camunda- and Spiff-flavoured BPMN, without XSD validation."""


def build_specs(documents: dict, key: str):
    """(spec, subprocess specs) of process `key` from {filename: root}; raises SpecError."""
    parser = DubanParser()
    try:
        for filename, root in documents.items():
            parser.add_bpmn_xml(root, filename)
        spec = parser.get_spec(key)
        subprocesses = parser.get_subprocess_specs(key)
    except ValidationException as error:
        raise SpecError(_message(error), getattr(error, "id", None) or None,
                        getattr(error, "file_name", None) or None, _line(error)) from None
    except Exception as error:  # noqa: BLE001 - SpiffWorkflow raises bare KeyError/TypeError on odd input
        raise SpecError(f"SpiffWorkflow cannot parse process '{key}': {type(error).__name__}: {error}") from None
    for each in [spec, *subprocesses.values()]:
        if each is not None:
            _prepare(each)
    return spec, subprocesses


def _message(error: ValidationException) -> str:
    text = error.args[0] if error.args else str(error)
    where = getattr(error, "id", "") or ""
    tag = getattr(error, "tag", "") or ""
    return f"{tag} '{where}': {text}" if where else str(text)


def _line(error) -> int | None:
    line = getattr(error, "line_number", None)
    return line if isinstance(line, int) else None


def _prepare(spec) -> None:
    """Clock every timer and compile every expression and script of a spec in the sandbox."""
    for task_spec in spec.task_specs.values():
        element = getattr(task_spec, "bpmn_id", None) or task_spec.name
        try:
            _prepare_task_spec(task_spec)
        except (sandbox.SandboxViolation, timers.TimerSpecError) as error:
            raise SpecError(f"{element}: {error}", element, spec.file) from None


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
    if isinstance(task_spec, StandardLoopTask) and task_spec.condition:
        sandbox.check(task_spec.condition)

