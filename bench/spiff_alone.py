"""The baseline: SpiffWorkflow by itself, as its documentation shows it used, on the same diagram."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from .paths import HAPPY_PATH

DEADLINE = datetime.now(UTC) + timedelta(days=30)


def _functions():
    return {
        "workdays": lambda n: (datetime.now(UTC) + timedelta(days=n)).isoformat(),
        "unit_deadline": lambda unit: DEADLINE.isoformat(),
        "remind_at": lambda unit: (DEADLINE - timedelta(days=2)).isoformat(),
        # stock SpiffWorkflow cannot leave a timer unscheduled: give the escalation a far date
        "urge_limit": lambda unit: (DEADLINE + timedelta(days=30)).isoformat(),
        "unit_reported": lambda unit: False,
        "assignment_notice": lambda units, opinion=None: "交办",
        "urge_notice": lambda unit: "催办",
    }


class SpiffAlone:
    def __init__(self, bpmn: Path, serialize: bool):
        parser = SpiffBpmnParser()
        parser.add_bpmn_file(str(bpmn))
        self.spec = parser.get_spec("duban_main")
        self.subprocesses = parser.get_subprocess_specs("duban_main")
        self.engine = PythonScriptEngine(environment=TaskDataEnvironment(_functions()))
        self.serialize = serialize
        self.serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))

    def run_once(self) -> None:
        workflow = BpmnWorkflow(self.spec, self.subprocesses, script_engine=self.engine)
        workflow.task_tree.data.update({"title": "事项", "category": "normal"})
        workflow.do_engine_steps()
        for element, unit, data in HAPPY_PATH:
            if self.serialize:
                workflow = self.serializer.deserialize_json(self.serializer.serialize_json(workflow))
                workflow.script_engine = self.engine
            task = next(t for t in workflow.get_tasks(state=TaskState.READY, manual=True)
                        if t.task_spec.bpmn_id == element and (unit is None or t.data.get("unit") == unit))
            task.set_data(**data)
            task.run()
            workflow.do_engine_steps()
        assert workflow.is_completed()
