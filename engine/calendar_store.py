"""The working-day calendar as the database holds it, shared by the threads of one process."""
from __future__ import annotations

import threading
import time

from sqlalchemy import func, select

from .calendar import WorkCalendar
from .models import CalendarDay, CalendarYear


class CalendarStore:
    """The calendar as the database holds it, re-read when another process changed it."""

    def __init__(self, db, check_every_s: float = 10.0):
        self.db = db
        self.check_every_s = check_every_s
        self._calendar = None
        self._signature = None
        self._checked = 0.0
        self._lock = threading.Lock()

    def current(self) -> WorkCalendar:
        now = time.monotonic()
        if self._calendar is not None and now - self._checked < self.check_every_s:
            return self._calendar
        with self._lock:
            with self.db.reading() as session:
                years_loaded = select(func.count(CalendarYear.year)).scalar_subquery()
                signature = tuple(session.execute(
                    select(func.count(CalendarDay.day), func.max(CalendarDay.updated_at), years_loaded)).one())
                if signature != self._signature or self._calendar is None:
                    overrides = dict(session.execute(select(CalendarDay.day, CalendarDay.workday)).all())
                    years = set(session.scalars(select(CalendarYear.year)))
                    self._calendar, self._signature = WorkCalendar(overrides, years), signature
            self._checked = now
        return self._calendar

    def invalidate(self) -> None:
        self._checked = 0.0
