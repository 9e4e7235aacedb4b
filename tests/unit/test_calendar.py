"""Working days on the official schedule (民法典 201/203) and deadlines by category."""
import time
from datetime import date, datetime
from types import SimpleNamespace

import pytest

from engine.calendar import MAX_WORKDAYS, WorkCalendar
from engine.clock import CHINA
from engine.domain.items import deadline_for, light, limit_from
from engine.services.hooks import generic_functions


@pytest.fixture(scope="module")
def calendar():
    return WorkCalendar.official()


def at(*args):
    return datetime(*args, tzinfo=CHINA)


@pytest.mark.parametrize("start,end", [
    (at(2026, 9, 28, 9), date(2026, 10, 16)),   # across National Day, with the make-up Saturday 10-10
    (at(2026, 2, 12, 9), date(2026, 3, 4)),     # across the Spring Festival, make-up days 02-14 and 02-28
])
def test_worked_examples(calendar, start, end):
    deadline = calendar.add_workdays(start, 10)
    assert deadline.at.astimezone(CHINA).date() == end
    assert deadline.at.astimezone(CHINA).time().strftime("%H:%M") == "17:30"
    assert not deadline.provisional


def test_make_up_days_and_holidays(calendar):
    assert calendar.is_workday(date(2026, 10, 10))      # Saturday, 调休
    assert not calendar.is_workday(date(2026, 10, 1))   # National Day
    assert not calendar.is_workday(date(2026, 10, 11))  # an ordinary Sunday


def test_start_day_is_not_counted(calendar):
    assert calendar.add_workdays(at(2026, 11, 2, 8), 1).at.date() == date(2026, 11, 3)


def test_years_without_a_published_schedule_are_provisional(calendar):
    deadline = calendar.add_workdays(at(2026, 12, 24, 9), 10)
    assert deadline.provisional
    assert deadline.at.astimezone(CHINA).date() == date(2027, 1, 7)  # weekends only in 2027


def test_urgent_is_the_same_working_day_or_the_next(calendar):
    assert calendar.same_day(at(2026, 11, 2, 10)).at == at(2026, 11, 2, 17, 30)
    assert calendar.same_day(at(2026, 11, 2, 18)).at == at(2026, 11, 3, 17, 30)   # after hours
    assert calendar.same_day(at(2026, 10, 3, 10)).at == at(2026, 10, 8, 17, 30)   # holiday


def test_a_date_on_a_holiday_moves_to_the_next_working_day(calendar):
    assert calendar.on_or_after(date(2026, 10, 4)).at == at(2026, 10, 8, 17, 30)


def test_counting_back_and_between(calendar):
    assert calendar.subtract_workdays(at(2026, 10, 16, 17, 30), 2) == at(2026, 10, 14, 17, 30)
    assert calendar.subtract_workdays(at(2026, 10, 8, 17, 30), 1) == at(2026, 9, 30, 17, 30)
    assert calendar.workdays_between(at(2026, 9, 28, 9), at(2026, 10, 16, 9)) == 10
    assert calendar.workdays_between(at(2026, 10, 16, 9), at(2026, 9, 28, 9)) == -10


def test_deadlines_by_category(calendar):
    registered = at(2026, 9, 28, 9)
    assert deadline_for(calendar, "normal", registered).at == at(2026, 10, 16, 17, 30)
    assert deadline_for(calendar, "major", registered).at.date() == date(2026, 10, 30)
    assert deadline_for(calendar, "urgent", registered).at == at(2026, 9, 28, 17, 30)
    assert deadline_for(calendar, "normal", registered, "2026-11-20").at == at(2026, 11, 20, 17, 30)
    assert deadline_for(calendar, "normal", registered, "2026-11-20T12:00:00+08:00").at == at(2026, 11, 20, 12)
    with pytest.raises(ValueError):
        deadline_for(calendar, "normal", registered, "next week")


def test_limits_typed_as_dates_end_at_close_of_a_working_day(calendar):
    assert limit_from(calendar, "2026-10-03") == at(2026, 10, 8, 17, 30)


def test_lights(calendar):
    deadline = at(2026, 10, 16, 17, 30)
    assert light(calendar, deadline, at(2026, 10, 13, 9), 2) == "green"
    assert light(calendar, deadline, at(2026, 10, 15, 9), 2) == "yellow"
    assert light(calendar, deadline, at(2026, 10, 17, 9), 2) == "red"
    assert light(calendar, deadline, at(2026, 10, 17, 9), 2, done=True) == "green"


# -- counts from process scripts: cheap whatever they are (README, "Limits of a process") -------------

@pytest.mark.parametrize("count", [-1, MAX_WORKDAYS + 1, 1_900_000])
def test_absurd_counts_of_working_days_are_refused(calendar, count):
    with pytest.raises(ValueError, match=f"工作日天数须在 0 到 {MAX_WORKDAYS} 之间"):
        calendar.add_workdays(at(2026, 9, 28, 9), count)
    with pytest.raises(ValueError, match="工作日天数"):
        calendar.subtract_workdays(at(2026, 9, 28, 9), count)


@pytest.fixture
def functions(calendar):
    """The functions every process's expressions get, on the engine's clock at 2026-09-28 09:00."""
    return generic_functions(SimpleNamespace(duban=SimpleNamespace(calendar=calendar), now=at(2026, 9, 28, 9)))


@pytest.mark.parametrize("count", [1_900_000, -1_900_000, MAX_WORKDAYS + 1, 10 ** 100, float("inf"),
                                   float("nan"), "1" * 5000, None, [1], True])
def test_workdays_refuses_what_is_no_reasonable_count_at_once(functions, count):
    began = time.monotonic()
    with pytest.raises(ValueError, match=f"workdays\\(\\) 的天数须在 -{MAX_WORKDAYS} 到 {MAX_WORKDAYS} 之间"):
        functions["workdays"](count)
    assert time.monotonic() - began < 0.5  # workdays(1900000) took 6.6 s


def test_workdays_counts_forward_and_back(functions):
    assert functions["workdays"](10) == "2026-10-16T17:30:00+08:00"  # across National Day
    assert functions["workdays"]("2") == "2026-09-30T17:30:00+08:00"
    assert functions["workdays"](-1) == "2026-09-24T17:30:00+08:00"  # back over the weekend and 中秋 (09-25)
    assert functions["workdays"](-2) == "2026-09-23T17:30:00+08:00"
    assert functions["workdays"](MAX_WORKDAYS) > "2040"


@pytest.mark.parametrize("day,expected", [
    ("2026-10-01", False), ("2026-09-20", True), ("2026-09-25", False), (date(2026, 10, 10), True),
    (datetime(2026, 10, 3, 12, 0), False), ("2026-10-16T17:30:00+08:00", True),
])
def test_is_workday_reads_dates_and_iso_text(functions, day, expected):
    assert functions["is_workday"](day) is expected


@pytest.mark.parametrize("day", ["tomorrow", 20261001, ["2026-10-01"] * 1_000_000, None])
def test_is_workday_refuses_what_is_no_day_cheaply(functions, day):
    began = time.monotonic()
    with pytest.raises(ValueError, match="is_workday\\(\\) 需要一个日期"):
        functions["is_workday"](day)
    assert time.monotonic() - began < 0.5
