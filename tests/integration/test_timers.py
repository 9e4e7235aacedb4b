"""Deadlines, reminders, 催办 and escalation to 纪委, with the clock under the test's control."""
import threading
import weakref
from datetime import datetime

import pytest
from sqlalchemy import select, text

from engine import services
from engine.clock import CHINA
from engine.errors import ProcessError
from engine.models import Instance, Timer
from engine.services import process, timers
from tests.integration.flow import RECEIVE, REPORT, complete, open_task, through_assignment, unit_done
from tests.support.statements import statements_sent
from tests.support.waiting import wait_for


def move(duban, *when):
    duban.clock.set(datetime(*when, tzinfo=CHINA))
    return timers.fire_all_due(duban)


def item_of(duban, org, item):
    return services.get_item(duban, org["office"], item["id"])


def elements(duban, actor):
    return sorted((t["element_id"], t["unit"]) for t in services.list_tasks(duban, actor)[0])


def test_an_overdue_unit_turns_yellow_then_red_is_urged_once_and_escalated_once(duban, org):
    item = through_assignment(duban, org)
    unit_done(duban, org, "unit_a", "fgj")
    complete(duban, org["unit_b"], "unit_receive", RECEIVE, "czj")
    assert item_of(duban, org, item)["light"] == "green"

    assert move(duban, 2026, 10, 14, 18) == 1          # two working days before: 预警
    assert item_of(duban, org, item)["light"] == "yellow"
    assert move(duban, 2026, 10, 15, 9) == 0

    assert move(duban, 2026, 10, 16, 17, 31) == 1      # the deadline passes unreported
    assert move(duban, 2026, 10, 16, 18) == 0          # and nothing fires twice
    assert item_of(duban, org, item)["light"] == "red"
    assert elements(duban, org["office"]) == [("urge", "czj")]
    urge = open_task(duban, org["office"], "urge")
    assert "催办通知单" in services.get_task(duban, org["office"], urge["id"])["data"]["notice"]

    services.complete_task(duban, org["office"], urge["id"],
                           {"notice": "请于10月21日前办结", "new_limit": "2026-10-21"})
    assert elements(duban, org["unit_b"]) == [("unit_report", "czj")]
    assert open_task(duban, org["unit_b"], "unit_report")["due_at"].isoformat() == "2026-10-21T09:30:00+00:00"

    assert move(duban, 2026, 10, 21, 17, 31) == 1      # the urge's limit passes unreported
    assert move(duban, 2026, 10, 22, 9) == 0
    assert elements(duban, org["discipline"]) == [("discipline_review", "czj")]
    escalated = next(p for p in item_of(duban, org, item)["units"] if p["unit"] == "czj")
    assert escalated["urged_at"] and escalated["escalated_at"]
    # 纪委 now sees the item
    assert [i["id"] for i in services.list_items(duban, org["discipline"])[0]] == [item["id"]]

    # reporting late ends the unit's own work, but the 纪委 review stands
    complete(duban, org["unit_b"], "unit_report", REPORT, "czj")
    complete(duban, org["office"], "office_review", {"decision": "accept"}, "czj")
    assert elements(duban, org["discipline"]) == [("discipline_review", "czj")]
    complete(duban, org["discipline"], "discipline_review", {"finding": "予以通报批评"}, "czj")
    assert elements(duban, org["office"]) == [("feedback", None)]


def test_a_unit_that_reports_in_time_gets_nothing(duban, org):
    item = through_assignment(duban, org, co_units=())
    unit_done(duban, org, "unit_a", "fgj")
    assert move(duban, 2026, 10, 30, 9) == 0
    assert elements(duban, org["office"]) == [("feedback", None)]
    assert elements(duban, org["discipline"]) == []
    instance = services.get_instance(duban, org["office"], item["instance_id"])
    assert instance["timers"] == []
    with duban.db.reading() as session:
        states = set(session.scalars(select(Timer.state).where(Timer.instance_id == item["instance_id"])))
    assert states == {"cancelled"}


def test_pending_timers_show_their_due_times(duban, org):
    item = through_assignment(duban, org, co_units=())
    instance = services.get_instance(duban, org["office"], item["instance_id"])
    due = {t["element_id"]: t["due_at"].isoformat() for t in instance["timers"]}
    assert due == {"remind_due": "2026-10-14T09:30:00+00:00", "deadline_reached": "2026-10-16T09:30:00+00:00"}


def test_the_office_is_reminded_when_assignment_lingers(duban, org):
    from tests.integration.flow import register

    item = register(duban, org)
    complete(duban, org["office"], "draft_opinion", {"lead_unit": "fgj", "co_units": [], "opinion": "x"})
    complete(duban, org["leader"], "leader_approval", {"decision": "approve"})
    assert move(duban, 2026, 9, 30, 18) == 1   # two working days after approval
    history = services.get_instance(duban, org["office"], item["instance_id"])["history"]
    assert [h["element_id"] for h in history if h["action"] == "timer_fired"] == ["assign_overdue"]
    assert elements(duban, org["office"]) == [("assign", None)]  # the reminder does not take the task away


def test_dispatch_hands_each_due_timer_out_once_per_lease(duban, org):
    item = through_assignment(duban, org, co_units=())
    duban.clock.set(datetime(2026, 10, 15, 9, tzinfo=CHINA))
    assert timers.dispatch_due(duban) == [item["instance_id"]]
    assert timers.dispatch_due(duban) == []            # already handed out
    duban.clock.advance(seconds=duban.settings.timer_lease_s + 1)
    assert timers.dispatch_due(duban) == [item["instance_id"]]  # the worker never fired it: again
    assert timers.fire(duban, item["instance_id"]) == 1
    assert timers.fire(duban, item["instance_id"]) == 0         # a second delivery fires nothing


def test_due_timers_of_several_instances_fire_in_one_batch_once(duban, org):
    items = [through_assignment(duban, org, co_units=()) for _ in range(3)]
    duban.clock.set(datetime(2026, 10, 14, 18, tzinfo=CHINA))  # two working days before: each one's 预警
    due = timers.dispatch_due(duban)
    assert sorted(due) == sorted(item["instance_id"] for item in items)
    with statements_sent(duban) as sent:
        assert timers.fire_many(duban, due) == 3
    # This process ran their steps and knows their timers: on PostgreSQL, one transaction ends the three in
    # one executemany; SQLite fires each instance in a transaction of its own.
    ends = sum(statement.startswith("UPDATE timers SET state") for statement in sent)
    assert ends == (1 if duban.db.dialect == "postgresql" else 3)
    assert timers.fire_many(duban, due) == 0            # a repeated delivery fires nothing
    assert [item_of(duban, org, item)["light"] for item in items] == ["yellow"] * 3
    with duban.db.reading() as session:
        fired = session.scalars(select(Timer.instance_id).where(Timer.state == "fired")).all()
    assert sorted(fired) == sorted(due)


def test_a_batch_reads_the_waiting_timers_and_the_people_to_tell_once_for_all_its_instances(duban_pg, org_pg,
                                                                                            monkeypatch):
    duban, org = duban_pg, org_pg
    items = [through_assignment(duban, org, co_units=()) for _ in range(3)]
    # As a worker finds them: it did not run their last steps, so it knows none of their timers.
    monkeypatch.setattr(process, "_TIMERS_KNOWN", weakref.WeakKeyDictionary())
    duban.clock.set(datetime(2026, 10, 14, 18, tzinfo=CHINA))
    due = timers.dispatch_due(duban)
    with statements_sent(duban) as sent:
        assert timers.fire_many(duban, due) == 3
    reads = [statement for statement in sent if statement.lstrip().startswith("SELECT timers.")]
    people = [statement for statement in sent if statement.lstrip().startswith("SELECT users.id, users.email")]
    assert len(reads) == 1  # not one per instance
    assert len(people) == 2  # each 预警 tells the unit's people and the office's: read once, not at every instance
    assert [item_of(duban, org, item)["light"] for item in items] == ["yellow"] * 3


def test_an_instance_that_cannot_fire_leaves_an_incident_and_the_rest_of_its_batch_fires(duban, org, monkeypatch):
    items = [through_assignment(duban, org, co_units=()) for _ in range(3)]
    broken = items[1]["instance_id"]
    save = timers.process.save

    def failing(ctx, run, *args):
        if ctx.instance.id == broken:
            raise ProcessError("脚本出错")
        return save(ctx, run, *args)

    monkeypatch.setattr(timers.process, "save", failing)
    duban.clock.set(datetime(2026, 10, 14, 18, tzinfo=CHINA))
    assert timers.fire_many(duban, timers.dispatch_due(duban)) == 2
    with duban.db.reading() as session:
        states = dict(session.execute(select(Instance.id, Instance.status)).all())
        fired = session.scalars(select(Timer.instance_id).where(Timer.state == "fired")).all()
    assert states[broken] == "error" and [states[i["instance_id"]] for i in items].count("running") == 2
    assert sorted(fired) == sorted(i["instance_id"] for i in items if i["instance_id"] != broken)


def test_an_instance_held_by_another_transaction_is_fired_once_it_is_free(duban_pg, org_pg):
    duban, org = duban_pg, org_pg
    items = [through_assignment(duban, org, co_units=()) for _ in range(3)]
    held = items[0]["instance_id"]
    duban.clock.set(datetime(2026, 10, 14, 18, tzinfo=CHINA))
    due = timers.dispatch_due(duban)
    with duban.db.engine.connect() as blocker:
        transaction = blocker.begin()
        blocker.execute(text("SELECT id FROM instances WHERE id = :id FOR UPDATE"), {"id": held})
        result = []
        firing = threading.Thread(target=lambda: result.append(timers.fire_many(duban, due)))
        firing.start()

        def fired():
            with duban.db.reading() as session:
                return set(session.scalars(select(Timer.instance_id).where(Timer.state == "fired")))

        # The others did not wait for it.
        wait_for(lambda: fired() == set(due) - {held}, timeout=20, what=lambda: f"fired {fired()}, due {due}")
        transaction.rollback()
    firing.join(timeout=20)
    assert result == [3] and fired() == set(due)
    assert timers.fire_many(duban, due) == 0


def test_an_instance_failing_unexpectedly_holds_up_none_of_its_batch(duban, org, monkeypatch):
    items = [through_assignment(duban, org, co_units=()) for _ in range(3)]
    broken = items[0]["instance_id"]
    save = timers.process.save

    def failing(ctx, run, *args):
        if ctx.instance.id == broken:
            raise RuntimeError("database gone")
        return save(ctx, run, *args)

    monkeypatch.setattr(timers.process, "save", failing)
    duban.clock.set(datetime(2026, 10, 14, 18, tzinfo=CHINA))
    due = timers.dispatch_due(duban)
    with pytest.raises(RuntimeError):
        timers.fire_many(duban, due)  # the message is delivered again
    with duban.db.reading() as session:
        fired = session.scalars(select(Timer.instance_id).where(Timer.state == "fired")).all()
    assert sorted(fired) == sorted(i["instance_id"] for i in items if i["instance_id"] != broken)
    monkeypatch.setattr(timers.process, "save", save)
    assert timers.fire_many(duban, due) == 1           # the redelivery fires the one left, and only it
