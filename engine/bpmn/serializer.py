"""Workflow state as JSON, without the spec.

The stock serializer writes the whole process spec into every saved workflow and rebuilds it on
every load (about half of the size and of the time). Specs here are parsed once per definition
version and re-attached on load, so a saved state holds only the instance's own tasks and data.
"""
from __future__ import annotations

import json
import threading
from uuid import UUID

import orjson
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnSubWorkflowConverter,
    BpmnWorkflowConverter,
    TaskConverter,
    WorkflowConverter,
)
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.deep_merge import DeepMerge

from .external import ExternalTask
from .parser import BOUNDED, DecisionTask
from .timers import ClockedCycle, ClockedDuration, ClockedTimeDate

# A task's id is written four times in a state (its key, its own, in its parent's children, as its
# children's parent): UUID.__str__ was 9 % of a step process's CPU. Each id's text, kept by its number:
# the same for every thread; emptied when full.
_ID_TEXTS: dict[int, str] = {}
_ID_TEXTS_MAX = 1 << 14


def _id_text(uuid: UUID) -> str:
    text = _ID_TEXTS.get(uuid.int)
    if text is None:
        if len(_ID_TEXTS) >= _ID_TEXTS_MAX:
            _ID_TEXTS.clear()
        text = _ID_TEXTS[uuid.int] = str(uuid)
    return text


class _IdTexts:
    """For workflow converters: the task mapping's keys written through _id_text."""

    def mapping_to_dict(self, mapping, **kwargs):
        convert = self.registry.convert
        return {_id_text(key) if type(key) is UUID else str(key): convert(value, **kwargs)
                for key, value in mapping.items()}


class _TaskConverter(TaskConverter):
    """SpiffWorkflow's TaskConverter.to_dict, writing the same dict: the parent looked up once (it is
    looked up four times there), ids written through _id_text."""

    def to_dict(self, task):
        parent = task.parent
        if parent is None:
            data, delta = task.data, {}
        else:
            data = {}
            delta = {"updates": DeepMerge.get_updated_keys(parent.data, task.data),
                     "deletions": DeepMerge.get_deleted_keys(parent.data, task.data)}
        return {
            "id": _id_text(task.id),
            "parent": _id_text(task._parent) if parent is not None else None,
            "children": [_id_text(child) for child in task._children],
            "last_state_change": task.last_state_change,
            "state": task.state,
            "task_spec": task.task_spec.name,
            "triggered": task.triggered,
            "internal_data": self.registry.convert(task.internal_data),
            "data": data,
            "delta": delta,
        }


class _SubWorkflowConverter(_IdTexts, BpmnSubWorkflowConverter):
    pass


class _SpeclessWorkflowConverter(_IdTexts, BpmnWorkflowConverter):
    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct, spec=None, subprocess_specs=None):
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _registry():
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = _SpeclessWorkflowConverter
    config[BpmnSubWorkflow], config[Task] = _SubWorkflowConverter, _TaskConverter
    # Our timers subclass SpiffWorkflow's; events holding them must still serialise, and specs holding
    # them or our multi-instance activities convert for comparison (SpiffWorkflow.bpmn.util.diff).
    for ours in (ClockedTimeDate, ClockedDuration, ClockedCycle, ExternalTask, DecisionTask, *BOUNDED.values()):
        base = ours.__mro__[1]
        if base in config:
            config[ours] = config[base]
    return BpmnWorkflowSerializer.configure(config)


class _CompactEncoder(json.JSONEncoder):
    """JSON without the spaces after separators (a state is written at every step)."""

    def __init__(self, *args, **kwargs):
        kwargs["separators"] = (",", ":")
        super().__init__(*args, **kwargs)


# Dates and dataclasses go to the encoder's default (the registry's conversion, or a refusal), as with json.
_PASSTHROUGH = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class _StateJsonSerializer(BpmnWorkflowSerializer):
    """SpiffWorkflow's serializer, its JSON written by orjson: a step's state (tens of KB) in a sixth of
    json.dumps's time, on the path of every step. What orjson refuses (keys not strings, integers past
    64 bits, lone surrogates, a value the registry cannot convert) json writes, or refuses, as before.
    orjson writes characters unescaped (json, ASCII with escapes): the same JSON to every reader."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._default = self._encoder_cls().default

    def serialize_json(self, workflow, use_gzip=False):
        if use_gzip:
            return super().serialize_json(workflow, use_gzip)
        # As the base class: data values are left to the encoder's default, not converted beforehand.
        self.registry._encoder_mode = True
        try:
            dct = self.to_dict(workflow)
            dct[self.VERSION_KEY] = self.VERSION
            try:
                return orjson.dumps(dct, default=self._default, option=_PASSTHROUGH).decode()
            except orjson.JSONEncodeError:
                return json.dumps(dct, cls=self._encoder_cls)
        finally:
            self.registry._encoder_mode = False


class StateSerializer:
    """Dumps and loads workflows as compact JSON strings; safe to share between threads."""

    def __init__(self):
        self._local = threading.local()

    @property
    def _serializer(self) -> BpmnWorkflowSerializer:
        # SpiffWorkflow's registry flips a mode flag while dumping: one registry per thread.
        serializer = getattr(self._local, "serializer", None)
        if serializer is None:
            serializer = self._local.serializer = _StateJsonSerializer(_registry(), json_encoder_cls=_CompactEncoder)
        return serializer

    @property
    def registry(self):
        """This thread's converter registry (specs to dicts, as `SpiffWorkflow.bpmn.util.diff` compares them)."""
        return self._serializer.registry

    def dumps(self, workflow) -> str:
        return self._serializer.serialize_json(workflow)

    def loads(self, state: str, spec, subprocess_specs):
        try:
            dct = orjson.loads(state)
        except orjson.JSONDecodeError:  # what only json reads: NaN, lone surrogates, in states json wrote
            dct = json.loads(state)
        dct.pop(BpmnWorkflowSerializer.VERSION_KEY, None)
        return self._serializer.from_dict(dct, spec=spec, subprocess_specs=subprocess_specs)
