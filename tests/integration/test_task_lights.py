"""Every step's 期限 and light: a new 拟办 is not 预警 at birth, every task of the main process has a due
time in working days, an urgent item's reminders never fall after its deadline, and notices say their
times as people read them."""
from datetime import datetime

from sqlalchemy import select

from engine import services
from engine.clock import CHINA
from engine.models import HumanTask
from engine.services import notifications, timers
from tests.integration.flow import RECEIVE, REPORT, complete, open_task, register, through_assignment, unit_done


def at(*when):
    return datetime(*when, tzinfo=CHINA)


def light_of(duban, actor, element):
    return open_task(duban, actor, element)["light"]


def test_a_new_draft_is_green_and_turns_yellow_only_on_its_due_day(duban, org):
    register(duban, org)  # Monday 2026-09-28 09:00: 拟办 has 1 working day (001), to Tuesday's close
    task = open_task(duban, org["office"], "draft_opinion")
    assert (task["due_at"], task["light"]) == (at(2026, 9, 29, 17, 30), "green")
    duban.clock.set(at(2026, 9, 29, 8, 29))
    assert light_of(duban, org["office"], "draft_opinion") == "green"
    duban.clock.set(at(2026, 9, 29, 8, 30))  # the day it is due: 预警
    assert light_of(duban, org["office"], "draft_opinion") == "yellow"
    duban.clock.set(at(2026, 9, 29, 17, 31))
    assert light_of(duban, org["office"], "draft_opinion") == "red"


def test_a_units_ten_days_still_warn_two_working_days_ahead(duban, org):
    through_assignment(duban, org, co_units=())
    task = open_task(duban, org["unit_a"], "unit_receive")
    assert task["light"] == "green"
    duban.clock.set(at(2026, 10, 14, 17, 29))
    assert light_of(duban, org["unit_a"], "unit_receive") == "green"
    duban.clock.set(at(2026, 10, 14, 17, 30))  # deadline 10-16 17:30, two working days before
    assert light_of(duban, org["unit_a"], "unit_receive") == "yellow"


WORKDAYS = {"draft_opinion": 1, "leader_approval": 1, "assign": 2, "office_review": 2, "urge": 1,
            "discipline_review": 10, "leader_signoff": 2, "feedback": 2}


def test_every_task_of_a_major_item_has_a_deadline_in_working_days(duban, org):
    item = through_assignment(duban, org, category="major")
    unit_done(duban, org, "unit_a", "fgj")
    complete(duban, org["unit_b"], "unit_receive", RECEIVE, "czj")
    deadline = next(p for p in services.get_item(duban, org["office"], item["id"])["units"] if p["unit"] == "czj")
    duban.clock.set(deadline["deadline"].astimezone(CHINA).replace(hour=17, minute=31))
    timers.fire_all_due(duban)
    urge = open_task(duban, org["office"], "urge")
    assert urge["due_at"] is not None and urge["light"] == "green"
    limit = duban.calendar.add_workdays(duban.clock.now(), 3).at
    services.complete_task(duban, org["office"], urge["id"], {"notice": "请抓紧", "new_limit": limit.isoformat()})
    duban.clock.set(limit.replace(minute=31))
    timers.fire_all_due(duban)
    assert open_task(duban, org["discipline"], "discipline_review")["due_at"] is not None
    complete(duban, org["unit_b"], "unit_report", REPORT, "czj")
    complete(duban, org["office"], "office_review", {"decision": "accept"}, "czj")
    complete(duban, org["discipline"], "discipline_review", {"finding": "予以通报批评"}, "czj")
    complete(duban, org["leader"], "leader_signoff", {"decision": "approve"})
    assert open_task(duban, org["office"], "feedback")["due_at"] is not None

    with duban.db.reading() as session:
        tasks = [(t.element_id, t.created_at, t.due_at) for t in session.scalars(
            select(HumanTask).where(HumanTask.instance_id == item["instance_id"]))]
    assert {element for element, _, _ in tasks} >= set(WORKDAYS) | {"unit_receive", "unit_report"}
    assert [element for element, _, due in tasks if due is None] == []  # every inbox row has a light
    for element, created, due in tasks:
        if element in WORKDAYS:
            assert due == duban.calendar.add_workdays(created, WORKDAYS[element]).at, element


def test_an_urgent_items_steps_and_reminders_never_fall_after_its_deadline(duban, org):
    item = register(duban, org, category="urgent")  # 急件 on Monday 09:00: due that day's close
    deadline = at(2026, 9, 28, 17, 30)
    assert services.get_item(duban, org["office"], item["id"])["deadline"] == deadline
    assert open_task(duban, org["office"], "draft_opinion")["due_at"] == deadline  # not Tuesday's close
    complete(duban, org["office"], "draft_opinion", {"lead_unit": "fgj", "co_units": [], "opinion": "急办"})
    assert open_task(duban, org["leader"], "leader_approval")["due_at"] == deadline
    complete(duban, org["leader"], "leader_approval", {"decision": "approve"})
    assert open_task(duban, org["office"], "assign")["due_at"] == deadline
    pending = services.get_instance(duban, org["office"], item["instance_id"])["timers"]
    # 交办提醒 is two working days after approval (Wednesday) for an ordinary item: held to the deadline
    assert [(t["element_id"], t["due_at"]) for t in pending] == [("assign_overdue", deadline)]

    duban.clock.set(at(2026, 9, 28, 17, 31))
    assert timers.fire_all_due(duban) == 1
    titles = [n["title"] for n in notifications.list_for(duban, org["office"])[0] if n["kind"] == "assign_due"]
    assert titles == ["交办提醒：“推进重点项目建设”已到办结时限（2026年9月28日 17:30）仍未交办，请立即交办"]

    complete(duban, org["office"], "assign", {"notice": "交办通知单"})
    for timer in services.get_instance(duban, org["office"], item["instance_id"])["timers"]:
        assert timer["due_at"] <= deadline, timer["element_id"]


def test_an_ordinary_assignment_reminder_keeps_its_two_working_days(duban, org):
    item = register(duban, org)
    complete(duban, org["office"], "draft_opinion", {"lead_unit": "fgj", "co_units": [], "opinion": "x"})
    complete(duban, org["leader"], "leader_approval", {"decision": "approve"})
    pending = services.get_instance(duban, org["office"], item["instance_id"])["timers"]
    assert [(t["element_id"], t["due_at"]) for t in pending] == [("assign_overdue", at(2026, 9, 30, 17, 30))]
    duban.clock.set(at(2026, 9, 30, 17, 31))
    assert timers.fire_all_due(duban) == 1
    titles = [n["title"] for n in notifications.list_for(duban, org["office"])[0] if n["kind"] == "assign_due"]
    assert titles == ["交办提醒：“推进重点项目建设”已批准，请于2个工作日内交办"]


def test_notices_say_their_times_as_people_read_them(duban, org):
    through_assignment(duban, org, co_units=())
    complete(duban, org["unit_a"], "unit_receive", RECEIVE, "fgj")
    duban.clock.set(at(2026, 10, 14, 17, 31))
    timers.fire_all_due(duban)
    yellow = [n["title"] for n in notifications.list_for(duban, org["unit_a"])[0] if n["kind"] == "yellow"]
    assert yellow == ["预警：发改局承办的“推进重点项目建设”将于2026年10月16日 17:30到期"]
    duban.clock.set(at(2026, 10, 16, 17, 31))
    timers.fire_all_due(duban)
    urge = open_task(duban, org["office"], "urge")
    services.complete_task(duban, org["office"], urge["id"], {"notice": "请抓紧", "new_limit": "2026-10-21"})
    urged = [n["title"] for n in notifications.list_for(duban, org["unit_a"])[0] if n["kind"] == "urge"]
    assert urged == ["催办通知：“推进重点项目建设”请于2026年10月21日 17:30前办结"]
