"""Working days (工作日) on the State Council's holiday schedule, with make-up working days (调休).

Periods follow 民法典 第201条 (the start day is not counted) and 第203条 (a period ending on a
holiday ends on the next working day instead). Years whose schedule is not loaded are counted on
weekends alone and marked provisional: the schedule for a year is only published in the autumn
before it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from .clock import CHINA
from .texts import text

# Office hours of government units; a deadline is the close of its last working day.
WORKDAY_START = time(8, 30)
WORKDAY_END = time(17, 30)
MAX_SPAN_DAYS = 3660
# Most working days one call counts (about 14 years): each costs a loop step, and the count may come
# from a process script, so an absurd one is refused rather than looped through.
MAX_WORKDAYS = 3660


@dataclass(frozen=True)
class Deadline:
    """A point in time and whether it rests on a year whose schedule is not loaded yet."""

    at: datetime
    provisional: bool


class WorkCalendar:
    """Which days are working days: weekends off, unless `overrides` says otherwise."""

    def __init__(self, overrides: dict | None = None, loaded_years=None):
        # {date: True (working, e.g. a make-up Saturday) | False (holiday)}
        self.overrides = dict(overrides or {})
        self.loaded_years = frozenset(loaded_years or ())

    @classmethod
    def official(cls) -> WorkCalendar:
        """The schedule shipped in the chinesecalendar package (the years it covers)."""
        overrides, years = official_days()
        return cls(overrides, years)

    def is_workday(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        return day.weekday() < 5

    def is_loaded(self, day: date) -> bool:
        return day.year in self.loaded_years

    def end_of(self, day: date) -> datetime:
        """The close of office on a day, as an aware datetime."""
        return datetime.combine(day, WORKDAY_END, CHINA)

    def next_workday(self, day: date) -> date:
        day += timedelta(days=1)
        for _ in range(MAX_SPAN_DAYS):
            if self.is_workday(day):
                return day
            day += timedelta(days=1)
        raise ValueError("no working day within ten years")

    def add_workdays(self, start: datetime, count: int) -> Deadline:
        """The close of the `count`-th working day after `start`'s day (which is not counted)."""
        _check_count(count)
        day = _local_day(start)
        provisional = False
        for _ in range(count):
            day = self.next_workday(day)
            provisional |= not self.is_loaded(day)
        if count == 0 and not self.is_workday(day):
            day = self.next_workday(day)
        return Deadline(self.end_of(day), provisional or not self.is_loaded(day))

    def subtract_workdays(self, moment: datetime, count: int) -> datetime:
        """The same time of day `count` working days earlier (for 预警 before a deadline)."""
        _check_count(count)
        local = moment.astimezone(CHINA)
        day = local.date()
        for _ in range(count):
            day -= timedelta(days=1)
            for _ in range(MAX_SPAN_DAYS):
                if self.is_workday(day):
                    break
                day -= timedelta(days=1)
        return datetime.combine(day, local.timetz())

    def same_day(self, moment: datetime) -> Deadline:
        """急件: the close of this working day, or of the next one if it is after hours or a holiday."""
        local = moment.astimezone(CHINA)
        day = local.date()
        if not self.is_workday(day) or local.time() >= WORKDAY_END:
            day = self.next_workday(day)
        return Deadline(self.end_of(day), not self.is_loaded(day))

    def on_or_after(self, day: date) -> Deadline:
        """第203条: a date that is not a working day moves to the next working day's close."""
        if not self.is_workday(day):
            day = self.next_workday(day)
        return Deadline(self.end_of(day), not self.is_loaded(day))

    def workdays_between(self, start: datetime, end: datetime) -> int:
        """Working days after `start`'s day up to and including `end`'s day (negative if end is earlier)."""
        first, last = _local_day(start), _local_day(end)
        sign = 1
        if last < first:
            first, last, sign = last, first, -1
        count, day = 0, first
        while day < last:
            day += timedelta(days=1)
            count += self.is_workday(day)
        return sign * count


def _check_count(count: int) -> None:
    if not 0 <= count <= MAX_WORKDAYS:
        raise ValueError(text("calendar.workdays_range", limit=MAX_WORKDAYS))


def _local_day(moment: datetime) -> date:
    if moment.tzinfo is None:
        raise ValueError("aware datetime required")
    return moment.astimezone(CHINA).date()


def official_days() -> tuple[dict, set]:
    """({date: is_workday}, years covered) from the chinesecalendar package."""
    import chinese_calendar

    overrides = {}
    for day in chinese_calendar.holidays:
        overrides[day] = False
    for day in chinese_calendar.workdays:
        if day.weekday() >= 5:
            overrides[day] = True
    years = {d.year for d in chinese_calendar.holidays}
    return overrides, years
