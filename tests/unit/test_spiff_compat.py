"""What Duban relies on in SpiffWorkflow beyond its documented API (engine/bpmn/spiff_compat.py), and
how it uses SpiffWorkflow's migration diff. A SpiffWorkflow upgrade that changes any of it fails here."""
import logging
from datetime import UTC, datetime
from itertools import pairwise

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import DurationTimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins import UserTaskMixin
from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.bpmn import xml
from engine.bpmn.runtime import Runtime, compile_bundle
from engine.bpmn.serializer import StateSerializer
from engine.bpmn.spiff_compat import EVENT_FIRED, EVENT_VALUE, details_only_when_heard, repredict
from engine.clock import FixedClock
from tests.samples import chain, process, timer_event, user_task
from tests.support.org import START, bpmn_bundle


class _Definition:
    def __init__(self, ident, files):
        [compiled] = compile_bundle(files, {}, 5_000_000)
        self.id, self.key, self.files = ident, compiled.key, compiled.files


def _tasks(run, state=TaskState.ANY_MASK):
    return {t.task_spec.name: t for t in run.workflow.get_tasks(state=state)}


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
             enumerate(pairwise(ids))]
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
    assert due > datetime.now(UTC)
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


# -- repredict: a task's way out changed, the task itself stays as it was ------------------------------------

def _migrated(old_path, new_path, at=()):
    runtime = Runtime(FixedClock(START))
    run = runtime.start(_Definition(1, _path(*old_path)), {}, {})
    for element in at:
        run.complete(str(_tasks(run, TaskState.READY)[element].id), {})
    return runtime, run, _Definition(2, _path(*new_path))


def test_repredict_replaces_the_predicted_path_and_keeps_the_task():
    runtime, run, new = _migrated(["e1", "e2"], ["e1", "e3", "e2"])
    task = _tasks(run, TaskState.READY)["e1"]
    task.set_data(draft="已填")
    task.internal_data["ours"] = 1
    old_child = task.children[0]
    assert old_child.task_spec.name == "e2" and old_child.state == TaskState.FUTURE

    spec, _ = runtime.specs(new.id, new.key, new.files)
    task.workflow.spec = spec
    for each in task.workflow.tasks.values():
        each.task_spec = spec.task_specs[each.task_spec.name]
    repredict(task)

    assert task.state == TaskState.READY and task.data["draft"] == "已填" and task.internal_data == {"ours": 1}
    assert [child.task_spec.name for child in task.children] == ["e3"]
    assert task.children[0].state == TaskState.FUTURE
    assert old_child.id not in task.workflow.tasks
    assert [t.task_spec.name for t in task.children[0].children] == ["e2"]


def test_a_waiting_timer_keeps_its_due_time_when_its_way_out_changes():
    runtime, run, new = _migrated(["e1", "t2", "e3"], ["e1", "t2", "e4", "e3"], at=["e1"])
    waiting = _tasks(run, TaskState.WAITING)["t2"]
    armed = dict(waiting.internal_data)
    assert EVENT_VALUE in armed and "armed_at" in armed
    runtime.clock.advance(minutes=30)
    runtime.migrate(run, new)
    assert waiting.internal_data == armed and waiting.state == TaskState.WAITING
    assert [child.task_spec.name for child in waiting.children] == ["e4"]
    runtime.clock.advance(minutes=31)  # an hour after it was armed, not after the migration
    run.advance()
    assert [view.element_id for view in run.human_tasks()] == ["e4"]


def test_spiffworkflow_migrate_workflow_would_rearm_a_waiting_timer():
    """Why Runtime.migrate re-points tasks itself: SpiffWorkflow's migration resets READY and WAITING tasks
    (a mask selecting none falls back to that default). Should this change, Runtime.migrate could call it."""
    runtime, run, new = _migrated(["e1", "t2"], ["e1", "t2"], at=["e1"])
    waiting = _tasks(run, TaskState.WAITING)["t2"]
    armed = dict(waiting.internal_data)
    runtime.clock.advance(minutes=30)
    spec, subprocesses = runtime.specs(new.id, new.key, new.files)
    top, _ = diff_workflow(StateSerializer().registry, run.workflow, spec, subprocesses)
    migrate_workflow(top, run.workflow, spec, reset_mask=0)
    assert waiting.state == TaskState.WAITING and waiting.internal_data["armed_at"] > armed["armed_at"]
    assert waiting.internal_data[EVENT_VALUE] > armed[EVENT_VALUE]


# -- SpiffWorkflow's diff, with Duban's policy on top --------------------------------------------------------

def test_the_diff_compares_our_specs_and_finds_an_identical_version_unchanged():
    files, forms = bpmn_bundle("duban_main.bpmn")
    [compiled] = compile_bundle(files, forms, 5_000_000)
    runtime = Runtime(FixedClock(START))
    old, new = (runtime.specs(ident, compiled.key, compiled.files) for ident in (1, 2))
    assert old[0] is not new[0]
    workflow = BpmnWorkflow(*old)
    top, subprocesses = diff_workflow(StateSerializer().registry, workflow, *new)
    assert top.removed == [] and top.changed == [] and subprocesses == {}
    assert all(new_spec is new[0].task_specs[task.task_spec.name] for task, new_spec in top.alignment.items())
    assert any(isinstance(spec, UserTaskMixin) for spec in old[0].task_specs.values())


def test_an_element_renamed_in_place_is_refused_though_spiffworkflow_would_match_it():
    runtime, run, new = _migrated(["e1", "e2"], ["e1", "e5"])
    spec, subprocesses = runtime.specs(new.id, new.key, new.files)
    top, _ = diff_workflow(StateSerializer().registry, run.workflow, spec, subprocesses)
    assert {task.task_spec.name: aligned.name for task, aligned in top.alignment.items()}["e2"] == "e5"
    assert runtime.migration_problems(run, new) == ["element 'e2' does not exist in the new version"]


def test_a_dropped_element_is_refused():
    runtime, run, new = _migrated(["e1", "e2"], ["e1"])
    assert runtime.migration_problems(run, new) == ["element 'e2' does not exist in the new version"]
    runtime, run, same = _migrated(["e1", "e2"], ["e1", "e2"])
    assert runtime.migration_problems(run, same) == []


def _with_subprocess(inner: str) -> dict:
    sub = (f'<bpmn:subProcess id="e1" name="子流程"><bpmn:startEvent id="s1"/><bpmn:userTask id="{inner}"/>'
           f'<bpmn:endEvent id="x1"/><bpmn:sequenceFlow id="g1" sourceRef="s1" targetRef="{inner}"/>'
           f'<bpmn:sequenceFlow id="g2" sourceRef="{inner}" targetRef="x1"/></bpmn:subProcess>')
    return {"sub.bpmn": process(chain(sub, user_task(2)), key="sub")}


def test_the_policy_holds_inside_a_running_subprocess():
    runtime = Runtime(FixedClock(START))
    run = runtime.start(_Definition(1, _with_subprocess("inner")), {}, {})
    assert [view.element_id for view in run.human_tasks()] == ["inner"] and run.workflow.subprocesses
    renamed = _Definition(2, _with_subprocess("inner2"))
    assert runtime.migration_problems(run, renamed) == ["element 'inner' does not exist in the new version"]
    same = _Definition(3, _with_subprocess("inner"))
    runtime.migrate(run, same)
    [inner] = run.human_tasks()
    run.complete(inner.id, {})
    assert [view.element_id for view in run.human_tasks()] == ["e2"]


def test_user_and_manual_tasks_are_told_apart_by_their_spec_class():
    manual = '<bpmn:manualTask id="e2" name="线下办理"/>'
    run = Runtime(FixedClock(START)).start(_Definition(1, {"kinds.bpmn": process(chain(user_task(1), manual))}), {}, {})
    [user] = run.human_tasks()
    assert (user.element_id, user.kind) == ("e1", "user")
    run.complete(user.id, {})
    assert [(view.element_id, view.kind) for view in run.human_tasks()] == [("e2", "manual")]


def test_task_log_details_are_built_only_for_a_line_that_will_be_heard(monkeypatch):
    # SpiffWorkflow builds them at every state change of every task, passing them as `extra` only.
    built, original = [], Task.collect_log_extras
    monkeypatch.setattr(Task, "collect_log_extras", lambda task, dct=None: built.append(1) or original(task, dct))
    details_only_when_heard()
    details_only_when_heard()  # once is enough: a second call changes nothing
    spiff = logging.getLogger("spiff")
    level = spiff.level
    try:
        spiff.setLevel(logging.WARNING)
        run = Runtime(FixedClock(START)).start(_Definition(1, _path("e1")), {}, {})
        assert built == [] and [t.element_id for t in run.human_tasks()] == ["e1"]
        spiff.setLevel(logging.INFO)
        task = run.workflow.get_next_task(state=TaskState.READY, manual=True)
        assert task.collect_log_extras()["task_spec"] == "e1" and built == [1]
    finally:
        spiff.setLevel(level)
