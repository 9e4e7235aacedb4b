"""Walks of a workflow's task tree, and the engine steps that use them.

SpiffWorkflow's task iterator (`get_tasks`) pops the head of a Python list, keeps a depth count by
walking parents at each leaf and runs a filter object per task: in a step of the main process it
took a quarter of the step process's time, most of it in `do_engine_steps`, which walks the whole
tree again after each automatic task. These walks give the same tasks in the same order (depth
first, a subprocess's tasks before its task's children, predicted branches skipped unless asked
for) with a plain stack, reading the task attributes the iterator reads (tests/unit/test_walk.py
holds them to SpiffWorkflow's own results). One difference: no depth limit (the iterator stops
descending at 1,000 levels, which only a loop run hundreds of times would reach, and then loses
the tasks below).
"""
from __future__ import annotations

from SpiffWorkflow.util.task import TaskState


def tasks_in(workflow, state: int, manual: bool | None = None) -> list:
    """The tasks of `workflow` and of the subprocesses under it whose state is in `state` (a state
    or a mask), and whose spec's `manual` is `manual` when given: SpiffWorkflow's
    `workflow.get_tasks(state=state, manual=manual)`."""
    return list(_walk(workflow, state, manual))


def first_in(workflow, state: int, manual: bool | None = None):
    """The first of `tasks_in(...)`, or None (`workflow.get_next_task(state=..., manual=...)`)."""
    return next(_walk(workflow, state, manual), None)


def _walk(workflow, state: int, manual: bool | None):
    # As SpiffWorkflow's iterator: below a task in a predicted state (MAYBE, LIKELY) lie only
    # predicted tasks, and below a FUTURE one no finished task.
    if state & TaskState.PREDICTED_MASK:
        lowest = TaskState.MAYBE
    elif state & TaskState.DEFINITE_MASK:
        lowest = TaskState.FUTURE
    else:
        lowest = TaskState.COMPLETED
    subprocesses = workflow.top_workflow.subprocesses
    stack = [workflow.task_tree]
    while stack:
        task = stack.pop()
        if task._state & state and (manual is None or task.task_spec.manual == manual):
            yield task
        subprocess = subprocesses.get(task.id)
        if subprocess is not None or (task._children and task._state >= lowest):
            # children by id from their workflow's table (Task.children builds a list per call)
            stack.extend(map(task.workflow.tasks.get, reversed(task._children)))
            if subprocess is not None:  # SpiffWorkflow enters a subprocess, finished or not, first
                stack.append(subprocess.task_tree)


def waiting_in(workflow):
    """The WAITING tasks of `workflow`'s own tree (not its subprocesses'), as SpiffWorkflow's
    `TaskIterator(workflow.task_tree, state=TaskState.WAITING)` gives them, for updating them one after
    another. Unlike `_walk`, and like that iterator, each task's children are taken as the task is
    reached, before it is handed out: updating it may change them."""
    stack = [workflow.task_tree]
    while stack:
        task = stack.pop()
        if task._children and task._state >= TaskState.FUTURE:
            stack.extend(reversed(task.children))
        if task._state & TaskState.WAITING:
            yield task


def run_engine_steps(workflow, will_complete_task) -> None:
    """`workflow.do_engine_steps(will_complete_task=...)`, then again while a timer that fell due
    meanwhile left an automatic task READY (SpiffWorkflow refreshes timers only after its last pass)."""
    while True:
        while _engine_pass(workflow, will_complete_task):
            pass
        workflow.refresh_timers()
        if not _automatic_ready(workflow) or first_in(workflow, TaskState.READY, manual=False) is None:
            return


def _automatic_ready(part) -> list:
    """The READY automatic tasks of `part` and of every subprocess that may lie under it, by a look at
    each workflow's table of tasks, not a walk. Most of a step's walks for READY tasks find none (each
    subprocess's last, the final check), and most others one; this answers those. The tasks come in no
    particular order, and may include some outside what a walk of `part` covers (a deeper subprocess
    elsewhere): only an empty list, or one task of `part` itself, is the walk's answer."""
    top = part.top_workflow
    parts = [part, *(sub for sub in top.subprocesses.values()
                     if sub is not part and (part is top or sub.depth > part.depth))]
    return [task for each in parts for task in each.tasks.values()
            if task._state & TaskState.READY and not task.task_spec.manual]


def _engine_pass(workflow, will_complete_task) -> bool:
    """One pass of SpiffWorkflow's `_do_engine_steps`: the deepest subprocesses first, each until it
    has nothing automatic left, then the top level's READY automatic tasks once."""
    def run_ready(part) -> int:
        ready = _automatic_ready(part)
        if len(ready) > 1 or (ready and ready[0].workflow is not part):
            ready = tasks_in(part, TaskState.READY, manual=False)  # in the walk's order, and only part's
        for task in ready:
            will_complete_task(task)
            task.run()
        return len(ready)

    active = workflow.get_active_subprocesses()
    for subprocess in sorted(active, key=lambda part: part.depth, reverse=True):
        while run_ready(subprocess):
            pass
        if subprocess.parent_task_id is not None:
            task = workflow.get_task_from_id(subprocess.parent_task_id)
            task.task_spec._update(task)
    return run_ready(workflow) > 0 or len(workflow.get_active_subprocesses()) > len(active)
