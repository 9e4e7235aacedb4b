"""Deadlines, reminders, 催办 and escalation to 纪委, with the clock under the test's control."""
from datetime import datetime

from sqlalchemy import select

from engine import services
from engine.clock import CHINA
from engine.models import Timer
from engine.services import timers
from tests.integration.flow import RECEIVE, REPORT, complete, open_task, through_assignment, unit_done


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

    services.complete_task(duban, org["office"], urge["id"], {"notice": "请于10月21日前办结", "new_limit": "2026-10-21"})
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
