"""What a process definition adds to the generic engine: functions for its expressions, checks, effects.

Any deployed process gets the generic functions; `duban_main` also gets the 督办 rules.
"""
from __future__ import annotations

from datetime import date

from ..bpmn.timers import ARMED_AT
from ..clock import CHINA


class Hooks:
    """No additions: what every process that is not ours gets."""

    def functions(self, ctx) -> dict:
        return {}

    def item_of(self, ctx):
        """The item an instance serves when it is not the item's own instance (None: none)."""
        return None

    def before_complete(self, ctx, task, data: dict) -> None:
        """Check a submission beyond its form and record its effects; raise FormInvalid to refuse."""

    def after_step(self, ctx, run, created: list, open_elements: set) -> None:
        """React to the state an operation left: tasks created and open, the instance ended."""

    def task_due(self, ctx, task):
        return None

    def deadlines_moved(self, ctx) -> None:
        """The item's deadlines changed (calendar, extension): move what hangs on them."""


def generic_functions(ctx) -> dict:
    """Offered to every expression: working-day arithmetic on the engine's clock."""
    calendar = ctx.duban.calendar

    def workdays(count):
        """The close of the `count`-th working day after the timer was armed (or now), as ISO text."""
        return calendar.add_workdays(ARMED_AT.get() or ctx.now, int(count)).at.isoformat()

    def now():
        return ctx.now.astimezone(CHINA).isoformat()

    def today():
        return ctx.now.astimezone(CHINA).date().isoformat()

    def is_workday(day):
        return calendar.is_workday(date.fromisoformat(str(day)[:10]))

    return {"workdays": workdays, "now": now, "today": today, "is_workday": is_workday}
