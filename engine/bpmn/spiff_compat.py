"""What Duban relies on in SpiffWorkflow beyond its documented API, in one place.

Everything else in engine/bpmn uses SpiffWorkflow's public names only. Each item here says why no public
way exists; tests/unit/test_spiff_compat.py pins the behaviour each one relies on, so that a SpiffWorkflow
upgrade that changes it fails there, loudly, rather than as a timer that never fires or a migrated
instance that takes the old path.
"""
from __future__ import annotations

import logging

from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from SpiffWorkflow.workflow import Workflow

from . import walk

# Keys SpiffWorkflow's event definitions keep in `Task.internal_data` (a public dict; its keys are not
# documented). Our timers override how SpiffWorkflow's timer classes schedule and fire, and the methods
# they inherit (`catch`, `reset`, `details`, a cycle's `update_task`) read and write these same keys.
EVENT_VALUE = "event_value"  # a timer's due time (ISO text), or a cycle's {cycles, next, duration}
EVENT_FIRED = "event_fired"  # the event has happened: the waiting task may complete


def repredict(task) -> None:
    """A task whose way out changed (its element's outgoing flows differ in a new version): drop the
    branch predicted from the old outputs and predict it from the new ones, leaving the task itself as
    it is — its state, data and internal data (a waiting timer's due time, a unit's instance).

    SpiffWorkflow has no public call for this. `Task.reset_branch` predicts again too, but it sends the
    task back to FUTURE and readies it anew: its internal data cleared (a timer re-armed from now), its
    data copied from its parent (a multi-instance child loses its unit), its prescript run again, and a
    STARTED subprocess or multi-instance activity loses its children. So the two private calls below
    (`Workflow._remove_task`, `TaskSpec._predict`) stay here, pinned by the tests.
    """
    for child in list(task.children):
        if not child.triggered and child.has_state(TaskState.FUTURE | TaskState.PREDICTED_MASK):
            task.workflow._remove_task(child.id)
    task.task_spec._predict(task, mask=TaskState.DEFINITE_MASK | TaskState.PREDICTED_MASK)


def details_only_when_heard() -> None:
    """Build a task's log details only for a line that will be heard.

    SpiffWorkflow logs every state change of every task at INFO, and builds the line's details first
    (`Task.collect_log_extras`: the spec's name and class, the parent, the state's name), heard or not.
    In a step process, where its loggers are at WARNING, that was a twentieth of a step's time. Every
    caller only passes the details as a log call's `extra`, so an unheard line needs none. There is no
    setting for this; the method is replaced, in the step process only."""
    collect = Task.collect_log_extras
    if getattr(collect, "duban_when_heard", False):
        return
    logger = logging.getLogger("spiff.task")  # the logger those lines go to

    def collect_when_heard(task, dct=None):
        return collect(task, dct) if logger.isEnabledFor(logging.INFO) else {}

    collect_when_heard.duban_when_heard = True
    Task.collect_log_extras = collect_when_heard


def waiting_tasks_by_stack() -> None:
    """Find the tasks to update after each task completes with a plain stack.

    `Workflow.update_waiting_tasks` runs after every completed task. It looks for the workflow's
    WAITING tasks with SpiffWorkflow's TaskIterator, which pops the head of a Python list and filters
    each task through an object. In a step process that walk was a tenth of a step's time.
    `walk.waiting_in` gives the same tasks in the same order, tested against the iterator. The method is
    replaced in the step process only."""
    Workflow.update_waiting_tasks = update_waiting_tasks


def update_waiting_tasks(workflow) -> None:
    """`Workflow.update_waiting_tasks`, with `walk.waiting_in` for the iterator."""
    for task in walk.waiting_in(workflow):
        task.task_spec._update(task)
