"""One place that wires settings, database, clock, calendar and runtime, for web and workers alike."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import event

from .bpmn.runtime import Runtime
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
    runtime: Runtime
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
    db = db or Database(settings.database_url)
    runtime = Runtime(clock)
    _keep_live_workflows(db, runtime)
    return Duban(settings=settings, db=db, clock=clock, runtime=runtime, calendar_store=CalendarStore(db))


def _keep_live_workflows(db: Database, runtime: Runtime) -> None:
    """Saved workflows go to the runtime's cache only once their transaction has committed."""

    @event.listens_for(db.sessions, "after_commit")
    def _committed(session):
        for instance, run in session.info.pop("duban_live", []):
            runtime.keep(instance.id, instance.version, run)

    @event.listens_for(db.sessions, "after_rollback")
    def _rolled_back(session):
        session.info.pop("duban_live", None)
