"""engine/bpmn/walk.py against SpiffWorkflow itself: the same tasks in the same order as `get_tasks`
(and the waiting tasks as its TaskIterator gives them, walk.waiting_in), and
engine steps that leave a workflow as `do_engine_steps` does, on real diagrams (the corpus's
SpiffWorkflow ones, subprocesses, call activities, transactions and timers, and the bundled main
process), checked at every step of a run to the end."""
import time
from pathlib import Path

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskIterator, TaskState
from SpiffWorkflow.workflow import Workflow

from bench.paths import HAPPY_PATH
from bench.spiff_alone import _functions
from engine.bpmn import spiff_compat, walk
from tests.support.org import BPMN, CORPUS

MASKS = [TaskState.READY, TaskState.WAITING, TaskState.READY | TaskState.WAITING, TaskState.FUTURE,
         TaskState.LIKELY, TaskState.MAYBE, TaskState.PREDICTED_MASK, TaskState.DEFINITE_MASK,
         TaskState.NOT_FINISHED_MASK, TaskState.COMPLETED, TaskState.CANCELLED, TaskState.FINISHED_MASK,
         TaskState.ANY_MASK]

SPIFF = CORPUS / "spiffworkflow"
# (files, process, the data its people give; the main process's come from the benchmark's path)
DIAGRAMS = {
    "lanes": ([SPIFF / "spiff-lanes__lanes.bpmn"], None, {"NewBPMNFeautre": "x", "NeedClarification": "No"}),
    "inclusive": ([SPIFF / "spiff-inclusive__inclusive_gateway.bpmn"], None, {"u": 1, "v": 0, "w": 1}),
    "boundary timer": ([SPIFF / "spiff-boundary__boundary.bpmn"], None, {"answer": "No"}),
    "transaction": ([SPIFF / "spiff-transaction__transaction.bpmn"], None, {"value": "x", "quantity": 1}),
    "call activity": ([SPIFF / "spiff-callact-escalation__CallActivity-Escalation-Test.bpmn20.xml",
                       SPIFF / "spiff-callact-escalation-sub__CallActivity-Escalation-Test-Sub.bpmn20.xml"],
                      "CallActivity-Escalation-Test", {}),
    "event gateway": ([SPIFF / "spiff-event-gateway__event-gateway.bpmn"], None, {}),
    "duban_main": ([BPMN / "duban_main.bpmn"], "duban_main", {"title": "事项", "category": "normal"}),
}


def _workflow(files: list[Path], process: str | None) -> BpmnWorkflow:
    parser = SpiffBpmnParser()
    for path in files:
        parser.add_bpmn_file(str(path))
    process = process or parser.get_process_ids()[0]
    engine = PythonScriptEngine(environment=TaskDataEnvironment(_functions()))
    return BpmnWorkflow(parser.get_spec(process), parser.get_subprocess_specs(process), script_engine=engine)


def _answer(task, data: dict) -> dict:
    return next((given for element, _, given in HAPPY_PATH if element == task.task_spec.bpmn_id), data)


def _spiff_steps(workflow) -> None:
    """What Runtime did before walk.run_engine_steps."""
    while True:
        workflow.do_engine_steps()
        if workflow.get_next_task(state=TaskState.READY, manual=False) is None:
            return


def _shape(workflow) -> list:
    """The whole tree, subprocesses included, as (spec, state, data) in SpiffWorkflow's order."""
    return [(t.task_spec.name, t.state, repr(sorted(t.data.items()))) for t in workflow.get_tasks()]


def _assert_walks_agree(workflow) -> None:
    parts = [workflow, *workflow.subprocesses.values()]
    for part in parts:
        waiting = list(TaskIterator(part.task_tree, state=TaskState.WAITING))
        assert list(walk.waiting_in(part)) == waiting
        for mask in MASKS:
            for manual in (None, True, False):
                expected = part.get_tasks(state=mask, manual=manual)
                assert walk.tasks_in(part, mask, manual) == expected, (TaskState.get_name(mask), manual)
                assert walk.first_in(part, mask, manual) is (expected[0] if expected else None)


@pytest.mark.parametrize("name", sorted(DIAGRAMS))
def test_walks_and_engine_steps_match_spiffworkflow_at_every_step(name, monkeypatch):
    files, process, data = DIAGRAMS[name]
    theirs, ours = _workflow(files, process), _workflow(files, process)
    # Ours updates its waiting tasks as the step process does (spiff_compat.waiting_tasks_by_stack).
    stock = Workflow.update_waiting_tasks
    monkeypatch.setattr(Workflow, "update_waiting_tasks", lambda part: (
        spiff_compat.update_waiting_tasks if part.top_workflow is ours else stock)(part))
    for workflow in (theirs, ours):
        workflow.task_tree.data.update(data)
    _spiff_steps(theirs)
    walk.run_engine_steps(ours, lambda task: None)
    steps = 0
    while not theirs.is_completed() and steps < 60:
        assert _shape(ours) == _shape(theirs)
        _assert_walks_agree(ours)
        ready = [theirs.get_next_task(state=TaskState.READY, manual=True),
                 ours.get_next_task(state=TaskState.READY, manual=True)]
        if ready[0] is None:
            time.sleep(0.05)  # a timer (the corpus's are fractions of a second) or nothing to do
        else:
            for task in ready:
                task.set_data(**_answer(task, data))
                task.run()
        _spiff_steps(theirs)
        walk.run_engine_steps(ours, lambda task: None)
        steps += 1
    assert theirs.is_completed() and ours.is_completed(), name
    assert _shape(ours) == _shape(theirs)
    _assert_walks_agree(ours)


def test_engine_steps_tell_each_task_they_run():
    files, process, data = DIAGRAMS["inclusive"]
    workflow = _workflow(files, process)
    workflow.task_tree.data.update(data)
    seen = []
    walk.run_engine_steps(workflow, lambda task: seen.append(task.task_spec.name))
    completed = [t.task_spec.name for t in workflow.get_tasks(state=TaskState.COMPLETED)
                 if not t.task_spec.manual and t.task_spec.name != "Root"]
    assert seen and sorted(seen) == sorted(completed)
