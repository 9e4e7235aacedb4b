"""One place that wires settings, database, clock, calendar and runtime, for web and workers alike."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import event

from .bpmn.isolation import IsolatedRuntime, Limits
from .calendar import WorkCalendar
from .calendar_store import CalendarStore
from .clock import SystemClock
from .config import Settings
from .db import Database


@dataclass
class Duban:
    """Everything a service needs besides its arguments. Build it with `bootstrap()`."""

    settings: Settings
    db: Database
    clock: object
    runtime: IsolatedRuntime
    calendar_store: object
    # Deployed definitions by id (immutable once deployed, so read once per process).
    definitions: dict = field(default_factory=dict)

    @property
    def calendar(self) -> WorkCalendar:
        """The working-day calendar as the database holds it now."""
        return self.calendar_store.current()


def bootstrap(settings: Settings | None = None, clock=None, db: Database | None = None) -> Duban:
    settings = settings or Settings.from_env()
    clock = clock or SystemClock()
    db = db or Database(settings.database_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow)
    runtime = IsolatedRuntime(clock, limits(settings))
    _keep_live_workflows(db, runtime)
    from .services import audit  # here, not at the top: the services import this module

    audit.bind(db, settings)  # the audit chain's key and anchor file (not in the database)
    return Duban(settings=settings, db=db, clock=clock, runtime=runtime, calendar_store=CalendarStore(db))


def limits(settings: Settings) -> Limits:
    """The budgets of one engine step, from the settings."""
    return Limits(cpu_s=settings.step_cpu_s, memory_mb=settings.step_memory_mb, wall_s=settings.step_wall_s,
                  processes=settings.step_processes, max_value_bytes=settings.max_value_bytes,
                  max_data_bytes=settings.max_data_bytes, max_state_bytes=settings.max_state_bytes,
                  engine=settings.limits)


def _keep_live_workflows(db: Database, runtime: IsolatedRuntime) -> None:
    """Saved workflows go to the runtime's cache only once their transaction has committed."""

    def _committed(session):
        for instance, run in session.info.pop("duban_live", []):
            runtime.keep(instance.id, instance.version, run)

    def _rolled_back(session):
        session.info.pop("duban_live", None)

    for factory in db.writers:
        event.listen(factory, "after_commit", _committed)
        event.listen(factory, "after_rollback", _rolled_back)
