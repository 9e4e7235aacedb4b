"""Workflow state as JSON, without the spec.

The stock serializer writes the whole process spec into every saved workflow and rebuilds it on
every load (about half of the size and of the time). Specs here are parsed once per definition
version and re-attached on load, so a saved state holds only the instance's own tasks and data.
"""
from __future__ import annotations

import json
import threading
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from .external import ExternalTask
from .parser import BOUNDED, DecisionTask
from .timers import ClockedCycle, ClockedDuration, ClockedTimeDate


class _SpeclessWorkflowConverter(BpmnWorkflowConverter):
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


class StateSerializer:
    """Dumps and loads workflows as compact JSON strings; safe to share between threads."""

    def __init__(self):
        self._local = threading.local()

    @property
    def _serializer(self) -> BpmnWorkflowSerializer:
        # SpiffWorkflow's registry flips a mode flag while dumping: one registry per thread.
        serializer = getattr(self._local, "serializer", None)
        if serializer is None:
            serializer = self._local.serializer = BpmnWorkflowSerializer(_registry(), json_encoder_cls=_CompactEncoder)
        return serializer

    @property
    def registry(self):
        """This thread's converter registry (specs to dicts, as `SpiffWorkflow.bpmn.util.diff` compares them)."""
        return self._serializer.registry

    def dumps(self, workflow) -> str:
        return self._serializer.serialize_json(workflow)

    def loads(self, state: str, spec, subprocess_specs):
        dct = json.loads(state)
        dct.pop(BpmnWorkflowSerializer.VERSION_KEY, None)
        return self._serializer.from_dict(dct, spec=spec, subprocess_specs=subprocess_specs)
