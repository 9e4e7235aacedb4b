"""Nothing is lost or doubled: failed steps change nothing, concurrent changes are serialised."""
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm.exc import StaleDataError

from engine import services
from engine.errors import ProcessError, TaskAlreadyCompleted
from engine.models import HistoryEntry, HumanTask, Instance
from engine.services import timers
from tests.integration.flow import open_task, register
from tests.samples import SIMPLE_FORM, chain, lane, process, script_task, timer_event, user_task


def deploy(duban, org, body):
    services.deploy(duban, {"p.bpmn": process(body, lanes=lane("office", "督查室", "e1"))},
                    {"simple.form": SIMPLE_FORM}, org["designer"])


def snapshot(duban, instance_id):
    with duban.db.reading() as session:
        instance = session.get(Instance, instance_id)
        return (instance.version, instance.state, instance.status,
                sorted((t.id, t.state)
                       for t in session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id))),
                len(list(session.scalars(select(HistoryEntry.id).where(HistoryEntry.instance_id == instance_id)))))


def test_a_failing_step_changes_nothing(duban, org):
    deploy(duban, org, chain(user_task(1, 'camunda:formRef="simple"'), script_task(2, "result = undefined_name + 1")))
    started = services.start_instance(duban, org["office"], "sample", {})
    before = snapshot(duban, started["id"])
    with pytest.raises(ProcessError, match="undefined_name"):
        services.complete_task(duban, org["office"], started["tasks"][0]["id"], {"answer": "x"})
    assert snapshot(duban, started["id"]) == before


def test_a_failing_timer_step_becomes_an_incident(duban, org):
    deploy(duban, org, chain(timer_event(1, "timeDuration", "PT1M"), script_task(2, "x = 1 / 0")))
    started = services.start_instance(duban, org["office"], "sample", {})
    duban.clock.advance(minutes=2)
    assert timers.fire_all_due(duban) == 0
    instance = services.get_instance(duban, org["office"], started["id"])
    assert instance["status"] == "error" and "ZeroDivisionError" in instance["error"]
    assert instance["history"][-1]["action"] == "incident"
    assert timers.dispatch_due(duban) == []  # an instance in error is not retried by itself


def test_a_stale_write_is_refused(duban_pg, org_pg):
    # On SQLite writers queue behind BEGIN IMMEDIATE, so only PostgreSQL can race like this.
    duban, org = duban_pg, org_pg
    register(duban, org)
    draft = open_task(duban, org["office"], "draft_opinion")
    first, second = duban.db.sessions(), duban.db.sessions()
    try:
        mine = first.get(Instance, draft["instance_id"])
        mine.updated_at = mine.updated_at + timedelta(seconds=1)
        second.execute(update(Instance).where(Instance.id == draft["instance_id"]).values(version=Instance.version + 1))
        second.commit()
        with pytest.raises(StaleDataError):
            first.commit()
    finally:
        first.close()
        second.close()


def test_concurrent_completions_of_one_task_succeed_once(duban, org):
    register(duban, org)
    draft = open_task(duban, org["office"], "draft_opinion")
    results, barrier = [], threading.Barrier(4)

    def attempt():
        barrier.wait()
        try:
            services.complete_task(duban, org["office"], draft["id"], {"lead_unit": "fgj", "opinion": "x"})
            results.append("ok")
        except TaskAlreadyCompleted:
            results.append("conflict")
        except Exception as error:  # noqa: BLE001 - the test reports what else happened
            results.append(repr(error))

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["conflict", "conflict", "conflict", "ok"]
    assert [t["element_id"] for t in services.list_tasks(duban, org["leader"])[0]] == ["leader_approval"]


def test_concurrent_timer_firing_fires_once(duban, org):
    deploy(duban, org, chain(timer_event(1, "timeDuration", "PT1M"),
                             user_task(2, 'camunda:candidateGroups="office" camunda:formRef="simple"')))
    started = services.start_instance(duban, org["office"], "sample", {})
    duban.clock.advance(minutes=2)
    fired, barrier = [], threading.Barrier(4)

    def attempt():
        barrier.wait()
        fired.append(timers.fire(duban, started["id"]))

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(fired) == [0, 0, 0, 1]
    assert [t["element_id"] for t in services.get_instance(duban, org["office"], started["id"])["tasks"]] == ["e2"]


def test_a_step_waits_out_a_long_writer(duban_sqlite, org_sqlite):
    # SQLite: a step reads before it writes, and a reader meeting another's write lock fails at once
    # (it cannot wait for it). However long the other writer holds the lock, the step's rerun waits.
    duban, org = duban_sqlite, org_sqlite
    deploy(duban, org, chain(timer_event(1, "timeDuration", "PT1M"),
                             user_task(2, 'camunda:candidateGroups="office" camunda:formRef="simple"')))
    started = services.start_instance(duban, org["office"], "sample", {})
    duban.clock.advance(minutes=2)
    holding, release = threading.Event(), threading.Event()

    def long_writer():
        with duban.db.transaction() as session:
            session.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: the write lock, held until release
            holding.set()
            release.wait(10)

    writer = threading.Thread(target=long_writer)
    writer.start()
    holding.wait(10)
    threading.Timer(1.0, release.set).start()
    try:
        assert timers.fire(duban, started["id"]) == 1
    finally:
        release.set()
        writer.join()
    assert [t["element_id"] for t in services.get_instance(duban, org["office"], started["id"])["tasks"]] == ["e2"]
