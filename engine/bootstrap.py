"""One place that wires settings, database, clock, calendar and runtime, for web and workers alike."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import event

from .bpmn.isolation import IsolatedRuntime, Limits
from .calendar import WorkCalendar
from .calendar_store import CalendarStore
from .clock import Clock, SystemClock
from .config import Settings
from .db import Database
from .lru import Lru

if TYPE_CHECKING:
    from .services.hooks import HookRegistry


@dataclass
class Duban:
    """Everything a service needs besides its arguments. Build it with `bootstrap()`."""

    settings: Settings
    db: Database
    clock: Clock
    runtime: IsolatedRuntime
    calendar_store: CalendarStore
    # What each process definition adds to the engine (engine/services/hooks.py), chosen by its declarations.
    hooks: HookRegistry
    # Deployed definitions by id (immutable once deployed, so read once per process), the most recently
    # used `settings.definitions_cached` of them.
    definitions: Lru

    @property
    def calendar(self) -> WorkCalendar:
        """The working-day calendar as the database holds it now."""
        return self.calendar_store.current()


def bootstrap(settings: Settings | None = None, clock: Clock | None = None, db: Database | None = None) -> Duban:
    settings = settings or Settings.from_env()
    clock = clock or SystemClock()
    db = db or Database(settings.database_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow)
    runtime = IsolatedRuntime(clock, limits(settings))
    _keep_live_workflows(db, runtime)
    from .services import audit  # here, not at the top: the services import this module

    audit.bind(db, settings)  # the audit chain's key and anchor file (not in the database)
    return Duban(settings=settings, db=db, clock=clock, runtime=runtime, calendar_store=CalendarStore(db),
                 hooks=process_hooks(), definitions=Lru(settings.definitions_cached))


def process_hooks() -> HookRegistry:
    """The hooks of Duban's own processes, by what a definition declares (engine/domain/steps.py),
    first match wins: 延期审批 steps get the extension's, other 督办 steps the main process's."""
    from .domain import steps
    from .services import extensions, main_process  # here, not at the top: the services import this module
    from .services.hooks import HookRegistry

    return HookRegistry([(steps.uses_extension_steps, extensions.HOOKS),
                         (steps.uses_item_steps, main_process.HOOKS)])


def limits(settings: Settings) -> Limits:
    """The budgets of one engine step, from the settings."""
    return Limits(cpu_s=settings.step_cpu_s, memory_mb=settings.step_memory_mb, wall_s=settings.step_wall_s,
                  processes=settings.step_processes, live_workflows=settings.live_workflows,
                  max_value_bytes=settings.max_value_bytes,
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
