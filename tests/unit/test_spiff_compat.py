"""What Duban relies on in SpiffWorkflow beyond its documented API (engine/bpmn/spiff_compat.py).
A SpiffWorkflow upgrade that changes any of it fails here."""
from datetime import datetime, timezone

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import DurationTimerEventDefinition
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from engine.bpmn import xml
from engine.bpmn.runtime import Runtime, compile_bundle
from engine.bpmn.spiff_compat import EVENT_FIRED, EVENT_VALUE
from engine.clock import FixedClock
from tests.conftest import START
from tests.samples import chain, process, timer_event, user_task


class _Definition:
    def __init__(self, ident, files):
        [compiled] = compile_bundle(files, {}, 5_000_000)
        self.id, self.key, self.files = ident, compiled.key, compiled.files


def _path(*path: str, key: str = "compat", duration: str = "PT1H") -> dict:
    """start -> the elements of `path` (user tasks eN, timers tN waiting `duration`) -> end."""
    body = ['<bpmn:startEvent id="start" name="开始"/>', '<bpmn:endEvent id="end" name="结束"/>']
    ids = ["start"]
    for element in path:
        if element.startswith("t"):
            body.append(timer_event(int(element[1:]), "timeDuration", duration).replace(
                f'id="e{element[1:]}"', f'id="{element}"'))
        else:
            body.append(user_task(int(element[1:])))
        ids.append(element)
    ids.append("end")
    body += [f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>' for i, (a, b) in
             enumerate(zip(ids, ids[1:]))]
    return {"compat.bpmn": process("".join(body), key=key)}


def _stock_workflow(files: dict) -> BpmnWorkflow:
    """A workflow on SpiffWorkflow's own specs (its own timer classes, the wall clock)."""
    parser = SpiffBpmnParser()
    for name, text in files.items():
        parser.add_bpmn_xml(xml.load(text, 1 << 30), name)
    [key] = parser.get_process_ids()
    return BpmnWorkflow(parser.get_spec(key), parser.get_subprocess_specs(key))


# -- the internal-data keys our timers share with SpiffWorkflow's ------------------------------------------

def test_spiffworkflow_timers_keep_their_due_time_and_firing_under_our_keys():
    workflow = _stock_workflow(_path("e1", "t2", duration="'PT1H'"))
    workflow.do_engine_steps()
    [ready] = workflow.get_tasks(state=TaskState.READY, manual=True)
    ready.run()
    workflow.do_engine_steps()
    [waiting] = workflow.get_tasks(state=TaskState.WAITING, spec_name="t2")
    assert isinstance(waiting.task_spec.event_definition, DurationTimerEventDefinition)
    assert set(waiting.internal_data) == {EVENT_VALUE}
    due = datetime.fromisoformat(waiting.internal_data[EVENT_VALUE])
    assert due > datetime.now(timezone.utc)
    assert waiting.task_spec.event_definition.details(waiting).value == waiting.internal_data[EVENT_VALUE]

    waiting.internal_data[EVENT_VALUE] = "2000-01-01T00:00:00+00:00"  # as our timers store it: fired once due
    workflow.refresh_timers()
    assert waiting.internal_data[EVENT_FIRED] is True
    workflow.do_engine_steps()
    assert workflow.is_completed()


def test_catching_and_resetting_an_event_use_the_fired_key():
    workflow = _stock_workflow(_path("t1", duration="'PT1H'"))
    workflow.do_engine_steps()
    [waiting] = workflow.get_tasks(state=TaskState.WAITING)
    definition = waiting.task_spec.event_definition
    definition.catch(waiting)
    assert waiting.internal_data[EVENT_FIRED] is True
    definition.reset(waiting)
    assert waiting.internal_data[EVENT_FIRED] is False


def test_user_and_manual_tasks_are_told_apart_by_their_spec_class():
    manual = '<bpmn:manualTask id="e2" name="线下办理"/>'
    run = Runtime(FixedClock(START)).start(_Definition(1, {"kinds.bpmn": process(chain(user_task(1), manual))}), {}, {})
    [user] = run.human_tasks()
    assert (user.element_id, user.kind) == ("e1", "user")
    run.complete(user.id, {})
    assert [(view.element_id, view.kind) for view in run.human_tasks()] == [("e2", "manual")]
