"""A step's state is written by orjson and our task converter (engine.bpmn.serializer): the JSON SpiffWorkflow's
own converters and json.dumps write, value for value, and read back the same; what orjson refuses goes
through json as before."""
import json
import math
from datetime import UTC, datetime, timedelta

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from engine.bpmn import serializer
from engine.bpmn.serializer import StateSerializer
from tests.support.org import CORPUS

DIAGRAMS = ["spiff-lanes__lanes.bpmn", "spiff-inclusive__inclusive_gateway.bpmn", "spiff-boundary__boundary.bpmn",
            "spiff-transaction__transaction.bpmn", "spiff-timer__timer.bpmn", "spiff-event-gateway__event-gateway.bpmn"]
ENTERED = {"事项": "督办事项“一号”\n第二行", "deadline": datetime(2026, 12, 18, 9, 30, tzinfo=UTC),
           "span": timedelta(days=2, seconds=30), "units": [{"id": "fgj", "score": 92.5, "late": None}],
           "approved": True, "count": 3,
           # what the diagrams' own expressions read
           "u": 1, "v": 0, "w": 1, "value": "x", "quantity": 1, "NeedClarification": "No", "answer": "No"}


def _workflow(name: str) -> BpmnWorkflow:
    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(CORPUS / "spiffworkflow" / name))
    key = parser.get_process_ids()[0]
    return BpmnWorkflow(parser.get_spec(key), parser.get_subprocess_specs(key))


class _StockSpecless(BpmnWorkflowConverter):
    """Ours without the spec, but SpiffWorkflow's own way of writing tasks and their ids."""
    to_dict = serializer._SpeclessWorkflowConverter.to_dict


def _stock() -> BpmnWorkflowSerializer:
    """SpiffWorkflow's own serializer (json.dumps) and converters (its TaskConverter), specless as ours."""
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure({**SPIFF_CONFIG, BpmnWorkflow: _StockSpecless}))


def _same_both_ways(ours: StateSerializer, workflow: BpmnWorkflow) -> str:
    state = ours.dumps(workflow)
    assert json.loads(state) == json.loads(_stock().serialize_json(workflow))
    again = ours.loads(state, workflow.spec, workflow.subprocess_specs)
    assert json.loads(ours.dumps(again)) == json.loads(state)
    return state


@pytest.mark.parametrize("name", DIAGRAMS)
def test_states_of_real_diagrams_are_the_json_spiffworkflow_writes_at_every_step(name):
    ours, workflow = StateSerializer(), _workflow(name)
    workflow.task_tree.data.update(ENTERED)
    workflow.do_engine_steps()
    states = [_same_both_ways(ours, workflow)]
    for _ in range(30):
        ready = workflow.get_tasks(state=TaskState.READY, manual=True)
        if not ready:
            break
        ready[0].set_data(**ENTERED)
        ready[0].run()
        workflow.do_engine_steps()
        states.append(_same_both_ways(ours, workflow))
    assert len(states) > 1 or name in ("spiff-timer__timer.bpmn", "spiff-event-gateway__event-gateway.bpmn")
    # orjson wrote them: characters as they are (json escapes them: \u7763...).
    assert all("督办事项" in state for state in states[1:])


@pytest.mark.parametrize("value", [{1: "键是数字", 2.5: "x"}, 2 ** 70, "孤立的代理项\ud800"],
                         ids=["keys-not-strings", "past-64-bits", "lone-surrogate"])
def test_what_orjson_refuses_is_written_by_json_as_before(value):
    ours, workflow = StateSerializer(), _workflow("spiff-lanes__lanes.bpmn")
    workflow.task_tree.data.update({"odd": value, "标题": "督办"})
    state = _same_both_ways(ours, workflow)
    assert "\\u7763" in state  # json's escapes: the fallback wrote it


def test_a_value_no_one_can_write_is_refused_as_before():
    ours, workflow = StateSerializer(), _workflow("spiff-lanes__lanes.bpmn")
    workflow.task_tree.data["odd"] = object()
    with pytest.raises(TypeError):
        _stock().serialize_json(workflow)
    with pytest.raises(TypeError):
        ours.dumps(workflow)


def test_states_json_wrote_with_nan_are_still_read():
    ours, workflow = StateSerializer(), _workflow("spiff-lanes__lanes.bpmn")
    workflow.task_tree.data["ratio"] = float("nan")
    older = _stock().serialize_json(workflow)
    assert "NaN" in older
    loaded = ours.loads(older, workflow.spec, workflow.subprocess_specs)
    assert math.isnan(loaded.task_tree.data["ratio"])
