"""One place that wires settings, database, clock, calendar and runtime, for web and workers alike."""
from __future__ import annotations

from dataclasses import dataclass, field

from .bpmn.runtime import Runtime
from .calendar import WorkCalendar
from .clock import SystemClock
from .config import Settings
from .db import Database


@dataclass
class Duban:
    """Everything a service needs besides its arguments. Build it with `bootstrap()`."""

    settings: Settings
    db: Database
    clock: object
    runtime: Runtime
    calendar: WorkCalendar
    # Called with an instance id after a commit that left timers due soon (the scheduler's nudge).
    on_timers_changed: list = field(default_factory=list)


def bootstrap(settings: Settings | None = None, clock=None, db: Database | None = None) -> Duban:
    settings = settings or Settings.from_env()
    clock = clock or SystemClock()
    db = db or Database(settings.database_url)
    return Duban(
        settings=settings,
        db=db,
        clock=clock,
        runtime=Runtime(clock),
        calendar=WorkCalendar.official(),
    )
