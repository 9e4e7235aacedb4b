"""A step process answers a step in two parts: what the step left (tasks, timers, data) first, the
serialised workflow after it, so the parent writes the step's tasks, history and notifications while
the child serialises. The state must still reach its own run, whichever thread reads the socket
next, and a state that never comes fails the step and stores nothing."""
import json
from datetime import datetime

import pytest
from sqlalchemy import event

from engine import services
from engine.bpmn import isolation
from engine.bpmn.isolation import IsolatedRuntime
from engine.bpmn.runtime import compile_bundle
from engine.bpmn.step_process import Limits
from engine.clock import CHINA, FixedClock
from engine.errors import ProcessError
from engine.services import audit, process
from tests.integration.flow import open_task
from tests.integration.test_step_budgets import deploy, stored
from tests.samples import chain, process as bpmn_process, script_task, user_task

START = datetime(2026, 9, 28, 9, 0, tzinfo=CHINA)


class _Definition:
    def __init__(self, compiled):
        self.id, self.key, self.files = id(compiled), compiled.key, compiled.files


def _definition(script: str) -> _Definition:
    [compiled] = compile_bundle({"p.bpmn": bpmn_process(chain(script_task(1, script), user_task(2)))}, {}, 1_000_000)
    return _Definition(compiled)


def test_each_state_reaches_its_own_run_when_another_step_reads_the_socket_first():
    runtime = IsolatedRuntime(FixedClock(START), Limits(processes=1))  # one child: both steps share its socket
    first = runtime.start(_definition("who = 'first'"), {}, {})
    assert first.state_from is not None  # its state is still on its way
    second = runtime.start(_definition("who = 'second'\nmore = list(range(500))"), {}, {})
    assert first.state_from is None  # the second step took it off the socket before sending its own
    for run, who in ((second, "second"), (first, "first")):
        state = json.loads(run.dumps())
        assert run.data()["who"] == who and f'"{who}"' in run.dumps() and state["root"]
    assert '"more"' in second.dumps() and '"more"' not in first.dumps()


def test_the_state_follows_the_snapshot_and_a_late_failure_is_raised_where_the_state_is_asked_for():
    runtime = IsolatedRuntime(FixedClock(START), Limits(processes=1, max_state_bytes=50_000))
    run = runtime.start(_definition("x = 'a' * 60000"), {}, {})
    # What the step left came first: its task is known before the state's size is measured.
    [task] = run.projection()[0]
    assert task.element_id == "e2"
    with pytest.raises(ProcessError) as caught:
        run.dumps()
    assert "过大" in caught.value.message
    # The child goes on serving steps.
    assert "ok" in runtime.start(_definition("y = 'ok'"), {}, {}).dumps()


def _draft_opinion_completed(duban, org, order: list, marks) -> tuple[dict, dict]:
    """An item registered, then its 拟办 completed with `order` emptied first and `marks(sql)` (a mark or
    None) appended to it for each statement sent meanwhile: (the item, the task)."""
    def statement(_conn, _cursor, sql, *_):
        mark = marks(sql)
        if mark:
            order.append(mark)

    item = services.register_item(duban, org["office"], {"title": "步骤的写入次序"})
    task = open_task(duban, org["office"], "draft_opinion", None, instance_id=item["instance_id"])
    order.clear()
    event.listen(duban.db.engine, "before_cursor_execute", statement)
    try:
        services.complete_task(duban, org["office"], task["id"],
                               {"lead_unit": "fgj", "co_units": ["czj"], "opinion": "请办理"})
    finally:
        event.remove(duban.db.engine, "before_cursor_execute", statement)
    return item, task


def test_the_parent_projects_the_step_before_its_state_arrives(duban, org, monkeypatch):
    """The parent projects the step, then takes its state: on SQLite at the commit's flush; on PostgreSQL
    only as the commit's audit statement is sent, once the rest of the commit is prepared (the records
    sealed), which the child's serialising then overlaps."""
    order = []
    took_state = isolation.RemoteRun.took_state
    project = process._project_tasks
    seal = audit.record_hash
    monkeypatch.setattr(isolation.RemoteRun, "took_state",
                        lambda run, *args: order.append("state") or took_state(run, *args))
    monkeypatch.setattr(process, "_project_tasks", lambda *args: order.append("tasks") or project(*args))
    monkeypatch.setattr(audit, "record_hash", lambda *args: order.append("seal") or seal(*args))
    item, _ = _draft_opinion_completed(duban, org, order, lambda sql: "statement" if sql.startswith("WITH") else None)
    marks = [mark for index, mark in enumerate(order) if not index or mark != order[index - 1]]
    postgres = duban.db.dialect == "postgresql"
    assert marks == (["tasks", "seal", "state", "statement"] if postgres else ["tasks", "seal", "state"])
    # The state went into the step's own transaction: the row holds the workflow at the leader's task.
    with duban.db.reading() as session:
        instance = session.get(process.Instance, item["instance_id"])
        assert "leader_approval" in instance.state and instance.version == 3


def test_a_state_that_never_comes_fails_the_step_and_stores_nothing(duban, org, monkeypatch):
    deploy(duban, org, "x = 1")
    instance = services.start_instance(duban, org["office"], "hostile", {})
    [task] = instance["tasks"]
    before = stored(duban, instance["id"])
    exchange = isolation._Child.exchange

    def killed_after_its_snapshot(child, *args):
        answer = exchange(child, *args)
        child.kill()  # as when another thread's step overran and ended the child
        return answer

    monkeypatch.setattr(isolation._Child, "exchange", killed_after_its_snapshot)
    with pytest.raises(ProcessError) as caught:
        services.complete_task(duban, org["office"], task["id"], {})
    assert "执行进程意外退出" in caught.value.message
    assert stored(duban, instance["id"]) == before
    monkeypatch.undo()
    done = services.complete_task(duban, org["office"], task["id"], {})
    assert services.get_instance(duban, org["office"], done["instance_id"])["status"] == "completed"


def test_a_long_steps_state_is_taken_before_its_lowered_process_is_replaced(duban, org, monkeypatch):
    """A step that has used more CPU than DEMOTE_AFTER_CPU_S runs on at a lower priority, and its
    process is replaced once the step ends: the state it sends after its snapshot must be read first."""
    monkeypatch.setattr(isolation, "DEMOTE_AFTER_CPU_S", 0.05)
    monkeypatch.setattr(isolation, "_WATCH_S", 0.01)
    deploy(duban, org, "total = sum(range(3 * 10 ** 7))")
    instance = services.start_instance(duban, org["office"], "hostile", {})
    [task] = instance["tasks"]
    lowered = []
    demote = isolation._Child._demote
    monkeypatch.setattr(isolation._Child, "_demote", lambda child: lowered.append(child) or demote(child))
    done = services.complete_task(duban, org["office"], task["id"], {})
    assert lowered and lowered[0].process.poll() is not None  # lowered, then ended
    finished = services.get_instance(duban, org["office"], done["instance_id"])
    assert finished["status"] == "completed" and finished["data"]["total"] == sum(range(3 * 10 ** 7))
    with duban.db.reading() as session:
        assert '"total"' in session.get(process.Instance, instance["id"]).state


def test_a_completion_that_fails_before_its_step_stores_nothing(duban, org, monkeypatch):
    """The completion's own writes (the task, its history) fail: the step fails, nothing is stored, and the
    next completion of the task goes through."""
    deploy(duban, org, "x = 1")
    instance = services.start_instance(duban, org["office"], "hostile", {})
    [task] = instance["tasks"]
    before = stored(duban, instance["id"])

    def broken(*_args):
        raise RuntimeError("写入失败")

    monkeypatch.setattr(process, "complete_task_row", broken)
    with pytest.raises(RuntimeError):
        services.complete_task(duban, org["office"], task["id"], {})
    assert stored(duban, instance["id"]) == before
    monkeypatch.undo()
    done = services.complete_task(duban, org["office"], task["id"], {})
    finished = services.get_instance(duban, org["office"], done["instance_id"])
    assert finished["status"] == "completed" and finished["data"]["x"] == 1


def test_the_completed_task_is_written_once_at_commit(duban, org, monkeypatch):
    """The task's UPDATE goes out after the step process has answered, once: on SQLite in the commit's
    flush (a write takes the one write lock, which the designer's code would then hold while it runs), on
    PostgreSQL inside the commit's audit statement (one round trip fewer a completion)."""
    order = []
    receive = isolation._Child._recv
    monkeypatch.setattr(isolation._Child, "_recv", lambda child, *args: order.append("answer") or receive(child, *args))
    _, task = _draft_opinion_completed(duban, org, order, lambda sql: (
        "task" if sql.startswith("UPDATE tasks") else
        "task, folded" if sql.startswith("WITH") and "UPDATE tasks" in sql else None))
    written = "task, folded" if duban.db.dialect == "postgresql" else "task"
    assert [mark for mark in order if mark.startswith("task")] == [written]
    assert order.index(written) > order.index("answer")
    with duban.db.reading() as session:
        row = session.get(process.HumanTask, task["id"])
        assert (row.state, row.completed_by, row.data["opinion"]) == ("completed", "office", "请办理")
