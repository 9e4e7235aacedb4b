"""The calendar in the database: official schedule, a new year's notice, admin corrections, recalculation."""
from datetime import date, datetime

import pytest

from engine import services
from engine.clock import CHINA
from engine.errors import Forbidden, InvalidInput
from engine.services import calendar
from tests.integration.flow import RECEIVE, complete, through_assignment

NOTICE_2027 = """
2027:
  holidays: [2027-01-01, 2027-02-05, 2027-02-08, 2027-02-09, 2027-02-10, 2027-02-11]
  workdays: [2027-02-06]
"""


def test_the_official_schedule_is_loaded_once(duban, org):
    assert 2026 in duban.calendar.loaded_years and 2027 not in duban.calendar.loaded_years
    assert calendar.sync_official(duban) == []
    assert not duban.calendar.is_workday(date(2026, 10, 1))
    assert duban.calendar.is_workday(date(2026, 10, 10))


def test_a_deadline_beyond_the_loaded_years_is_provisional_until_its_year_is_loaded(duban, org):
    duban.clock.set(datetime(2026, 12, 24, 9, tzinfo=CHINA))
    item = through_assignment(duban, org, co_units=(), category="major")
    assert item["deadline_provisional"]
    assert item["deadline"].astimezone(CHINA).date() == date(2027, 1, 21)  # weekends only
    timers_before = services.get_instance(duban, org["office"], item["instance_id"])["timers"]

    result = calendar.import_days(duban, NOTICE_2027, "2027.yaml", org["admin"])
    assert result["years"] == [2027] and result["moved"] == 1

    final = services.get_item(duban, org["office"], item["id"])
    assert not final["deadline_provisional"]
    assert final["deadline"].astimezone(CHINA).date() == date(2027, 1, 22)  # 2027-01-01 is a holiday
    assert final["units"][0]["deadline"] == final["deadline"]
    timers_after = services.get_instance(duban, org["office"], item["instance_id"])["timers"]
    due = {t["element_id"]: t["due_at"] for t in timers_after}
    assert due["deadline_reached"] == final["deadline"]
    assert due != {t["element_id"]: t["due_at"] for t in timers_before}
    history = services.get_instance(duban, org["office"], item["instance_id"])["history"]
    assert history[-1]["action"] == "recalculated"


def test_an_admin_correction_moves_open_deadlines_and_reminders(duban, org):
    item = through_assignment(duban, org, co_units=())
    complete(duban, org["unit_a"], "unit_receive", RECEIVE, "fgj")
    calendar.set_day(duban, org["admin"], date(2026, 10, 12), False, "临时停工")
    moved = services.get_item(duban, org["office"], item["id"])
    assert moved["deadline"].astimezone(CHINA).date() == date(2026, 10, 19)
    task = [t for t in services.list_tasks(duban, org["unit_a"])[0] if t["element_id"] == "unit_report"][0]
    assert task["due_at"] == moved["deadline"]
    due = {t["element_id"]: t["due_at"].astimezone(CHINA) for t in
           services.get_instance(duban, org["office"], item["instance_id"])["timers"]}
    assert due["remind_due"] == datetime(2026, 10, 15, 17, 30, tzinfo=CHINA)


def test_explicit_deadlines_stay_where_the_office_put_them(duban, org):
    item = through_assignment(duban, org, co_units=(), deadline="2026-10-20")
    calendar.set_day(duban, org["admin"], date(2026, 10, 12), False, "临时停工")
    assert services.get_item(duban, org["office"], item["id"])["deadline"] == item["deadline"]


def test_relative_timers_keep_counting_from_when_they_were_armed(duban, org):
    from tests.integration.flow import register

    item = register(duban, org)
    complete(duban, org["office"], "draft_opinion", {"lead_unit": "fgj", "co_units": [], "opinion": "x"})
    complete(duban, org["leader"], "leader_approval", {"decision": "approve"})
    before = {t["element_id"]: t["due_at"]
              for t in services.get_instance(duban, org["office"], item["instance_id"])["timers"]}
    duban.clock.set(datetime(2026, 9, 29, 15, tzinfo=CHINA))
    calendar.recalculate(duban, org["admin"])
    after = {t["element_id"]: t["due_at"]
             for t in services.get_instance(duban, org["office"], item["instance_id"])["timers"]}
    assert after["assign_overdue"] == before["assign_overdue"]


def test_holiday_files_in_yaml_and_csv():
    days, years = calendar.parse_days(NOTICE_2027, "2027.yaml")
    assert years == {2027} and days[date(2027, 2, 6)] == (True, "调休上班")
    days, years = calendar.parse_days("date,workday,note\n2027-10-08,false,国庆\n2027-10-09,true,调休\n", "x.csv")
    assert days == {date(2027, 10, 8): (False, "国庆"), date(2027, 10, 9): (True, "调休")} and years == {2027}
    for bad in ("2027: {holidays: [not-a-date]}", "- just a list", "date,workday\n2027-01-01,maybe\n"):
        with pytest.raises(InvalidInput):
            calendar.parse_days(bad, "bad.csv" if "," in bad else "bad.yaml")


def test_only_administrators_change_the_calendar(duban, org):
    with pytest.raises(Forbidden):
        calendar.set_day(duban, org["office"], date(2026, 10, 12), False)
    with pytest.raises(Forbidden):
        calendar.import_days(duban, NOTICE_2027, "2027.yaml", org["designer"])
    with pytest.raises(Forbidden):
        calendar.recalculate(duban, org["office"])
