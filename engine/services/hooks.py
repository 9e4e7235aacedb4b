"""What a process definition adds to the generic engine: functions for its expressions, checks, effects.

Any deployed process gets the generic functions; one that declares 督办 steps (engine/domain/steps.py)
also gets the 督办 rules (main_process.py).
"""
from __future__ import annotations

from datetime import date, datetime

from ..access import instance_item
from ..bpmn.timers import ARMED_AT
from ..calendar import MAX_WORKDAYS
from ..clock import CHINA
from ..texts import text


class Hooks:
    """No additions: what every process that is not ours gets."""

    def functions(self, ctx) -> dict:
        return {}

    def item_of(self, ctx):
        """The item an instance serves when it is not the item's own instance (None: none): the one
        rule of access.instance_item, so the engine and every clearance check agree on it."""
        return instance_item(ctx.session, ctx.instance.id) if ctx.instance else None

    def before_complete(self, ctx, task, data: dict) -> None:
        """Check a submission beyond its form and record its effects; raise FormInvalid to refuse."""

    def after_step(self, ctx, run, created: list, open_elements: set) -> None:
        """React to the state an operation left: tasks created and open, the instance ended."""

    def task_due(self, ctx, task):
        return None

    def deadlines_moved(self, ctx) -> None:
        """The item's deadlines changed (calendar, extension): move what hangs on them."""


class HookRegistry:
    """Which Hooks a definition's instances get: the first whose test its declarations pass (tests of
    engine/domain/steps.py; no process key or element id is special), else the bare Hooks. Built once,
    by bootstrap(), and kept on Duban."""

    def __init__(self, declared: list | tuple = (), default: Hooks | None = None):
        self._declared = list(declared)  # [(applies(elements) -> bool, Hooks)]
        self._default = default or Hooks()

    def for_definition(self, definition) -> Hooks:
        if definition is not None:
            for applies, hooks in self._declared:
                if applies(definition.elements):
                    return hooks
        return self._default


def generic_functions(ctx) -> dict:
    """Offered to every expression: working-day arithmetic on the engine's clock. A script may call
    them with anything, so each checks its argument and costs little whatever it is given."""
    calendar = ctx.duban.calendar

    def workdays(count):
        """The close of the `count`-th working day after the timer was armed (or now), as ISO text;
        a negative count counts back."""
        days, start = _workday_count(count), ARMED_AT.get() or ctx.now
        if days >= 0:
            return calendar.add_workdays(start, days).at.isoformat()
        earlier = calendar.subtract_workdays(start, -days).astimezone(CHINA).date()
        return calendar.end_of(earlier).isoformat()

    def now():
        return ctx.now.astimezone(CHINA).isoformat()

    def today():
        return ctx.now.astimezone(CHINA).date().isoformat()

    def is_workday(day):
        return calendar.is_workday(_day(day))

    return {"workdays": workdays, "now": now, "today": today, "is_workday": is_workday}


def _workday_count(count) -> int:
    """A count of working days from a script: a whole number within ±MAX_WORKDAYS (each day counted
    is a step of a loop, and a script once asked for 1 900 000 of them eight times over)."""
    try:
        days = int(count)
    except (TypeError, ValueError, OverflowError):
        days = None
    if days is None or isinstance(count, bool) or abs(days) > MAX_WORKDAYS:
        raise ValueError(text("function.workdays_range", limit=MAX_WORKDAYS))
    return days


def _day(value) -> date:
    """A day from a script: a date, a datetime (its own date) or ISO text beginning with one."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    shown = repr(value[:20]) if isinstance(value, str) else type(value).__name__
    raise ValueError(text("function.is_workday_day", value=shown))
