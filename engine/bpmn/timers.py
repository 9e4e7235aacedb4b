"""Timer events driven by the engine's clock instead of the wall clock.

SpiffWorkflow's timers read `datetime.now()` and keep the first value their expression gave.
Ours read the clock of the workflow's script engine, accept the industry's literal forms
(`PT5M`, `R3/PT1H`, ISO dates) as well as expressions, and treat an expression that gives
None as "not scheduled yet": it is evaluated again at the next refresh (a deadline that only
exists after an urge, say). `recalculate` forgets the stored value so a moved deadline moves
its timer.

A repeating timer never fires more often than the installation's minimum cycle
(DUBAN_MIN_TIMER_CYCLE_S): a shorter literal is refused at deploy, a shorter cycle that an
expression gives is stretched to it, and a cycle that fell behind fires once, not once per
interval missed.
"""
from __future__ import annotations

import re
import weakref
from contextvars import ContextVar
from datetime import UTC, date, datetime, timedelta

from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.util.task import TaskState

from ..clock import CHINA
from ..config import engine_limits
from ..texts import text as catalogue
from .spiff_compat import EVENT_FIRED, EVENT_VALUE

_DURATION = re.compile(r"^P(?!$)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?"
                       r"(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?$", re.I)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")
_CYCLE = re.compile(r"^R\d*/", re.I)
# Text that can only have been meant as an ISO value (PT5X, 2026-13-45), never as Python.
_ISO_LOOKING = re.compile(r"^(P(\d|T\d)|R\d*/|\d{4}-\d)", re.I)


# While a timer's expression is evaluated: when the timer was armed. Relative functions such as
# workdays(2) count from it, so recalculating a timer later does not push it further out.
ARMED_AT: ContextVar = ContextVar("armed_at", default=None)


class TimerSpecError(ValueError):
    """Raised when a timer's text is neither a valid ISO 8601 value nor an expression giving one."""


def is_iso_literal(text: str) -> bool:
    text = text.strip()
    return bool(_DURATION.match(text) or _DATE.match(text) or _CYCLE.match(text))


def normalise_expression(text: str | None) -> str:
    """Modelling tools write `PT5M` bare; SpiffWorkflow would evaluate it as Python and fail."""
    text = (text or "").strip()
    if not text:
        raise TimerSpecError(catalogue("timer.empty"))
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        parse_literal(text[1:-1])  # a constant must be a valid ISO value
        return text
    if is_iso_literal(text) or _ISO_LOOKING.match(text):
        parse_literal(text)
        return repr(text)
    return text


def parse_literal(text: str):
    """Check an ISO literal now, so a bad one is refused at deploy rather than failing later."""
    text = text.strip()
    if not is_iso_literal(text):
        raise TimerSpecError(catalogue("timer.not_iso", value=text))
    try:
        if _CYCLE.match(text):
            _parse_cycle(text, datetime(2000, 1, 1, tzinfo=UTC))
        elif text.upper().startswith("P"):
            _duration(text, datetime(2000, 1, 1, tzinfo=UTC))
        else:
            to_datetime(text)
    except Exception as error:  # noqa: BLE001 - any failure means the literal is unusable
        raise TimerSpecError(catalogue("timer.iso_unusable", value=text, reason=error)) from None


def literal_cycle_interval(text: str | None) -> timedelta | None:
    """The interval of a cycle written as a literal (`R/PT1M`, quoted or not); None for anything
    else (an expression, or a value `normalise_expression` refuses with its own message)."""
    text = (text or "").strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    if not _CYCLE.match(text):
        return None
    try:
        return timedelta(seconds=_parse_cycle(text, datetime(2000, 1, 1, tzinfo=UTC))["duration"])
    except Exception:  # noqa: BLE001 - a malformed cycle is reported by normalise_expression
        return None


def min_cycle() -> timedelta:
    return timedelta(seconds=engine_limits().min_timer_cycle_s)


def to_datetime(value) -> datetime:
    """An aware UTC datetime from what an expression gave; dates and naive times are Beijing time."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    else:
        raise TimerSpecError(catalogue("timer.not_a_time", value=repr(value)[:80]))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=CHINA)
    return dt.astimezone(UTC)


def _duration(value, start: datetime) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str) or not _DURATION.match(value.strip()):
        raise TimerSpecError(catalogue("timer.not_a_duration", value=repr(value)[:80]))
    parsed = TimerEventDefinition.parse_iso_duration(value.strip())
    return TimerEventDefinition.get_timedelta_from_start(parsed, start)


def _parse_cycle(text: str, now: datetime, minimum: timedelta = timedelta(0)) -> dict:
    """{cycles (-1: without end), next, duration in seconds}; an interval under `minimum` is stretched."""
    parts = text.strip().upper().split("/")
    cycles = int(parts[0][1:]) if parts[0][1:] else -1
    if len(parts) == 2:
        interval = _interval(_duration(parts[1], now), minimum)
        start = now + interval
    elif len(parts) == 3 and parts[1].startswith("P"):
        end = to_datetime(parts[2])
        interval = _interval(_duration(parts[1], end), minimum)
        start = end - interval
    elif len(parts) == 3:
        start = to_datetime(parts[1])
        interval = _interval(_duration(parts[2], start), minimum)
    else:
        raise TimerSpecError(catalogue("timer.not_a_cycle", value=text))
    return {"cycles": cycles, "next": start.isoformat(), "duration": interval.total_seconds()}


def _interval(interval: timedelta, minimum: timedelta) -> timedelta:
    if interval.total_seconds() <= 0:
        raise TimerSpecError(catalogue("timer.cycle_not_positive"))
    return max(interval, minimum)


def _now(my_task) -> datetime:
    return my_task.workflow.script_engine.clock.now()


def _armed_at(my_task) -> datetime:
    armed = my_task.internal_data.get("armed_at")  # our own key
    if armed is None:
        armed = my_task.internal_data["armed_at"] = _now(my_task).isoformat()
    return datetime.fromisoformat(armed)


def _evaluate(definition, my_task):
    token = ARMED_AT.set(_armed_at(my_task))
    try:
        return my_task.workflow.script_engine.evaluate(my_task, definition.expression)
    finally:
        ARMED_AT.reset(token)


# The engine function (offered by the host, out of scripts' reach: a leading underscore) that gives the
# latest moment a timer may fire, as ISO text, or None: a reminder never falls after the deadline it is
# about (an urgent item's 交办提醒 would otherwise come days after the item was due).
LATEST = "_timer_latest"


def _bounded(my_task, due: datetime) -> datetime:
    latest = getattr(my_task.workflow.script_engine.environment, "functions", {}).get(LATEST)
    if latest is None:
        return due
    unit = my_task.data.get("unit")
    bound = latest(my_task.task_spec.bpmn_id, unit if isinstance(unit, str) else None)
    return min(due, to_datetime(bound)) if bound else due


class ClockedTimeDate(TimeDateEventDefinition):
    def schedule(self, my_task):
        value = _evaluate(self, my_task)
        return None if value is None else _bounded(my_task, to_datetime(value)).isoformat()

    def has_fired(self, my_task):
        return _has_fired(self, my_task)


class ClockedDuration(DurationTimerEventDefinition):
    def schedule(self, my_task):
        value = _evaluate(self, my_task)
        armed = _armed_at(my_task)
        return None if value is None else _bounded(my_task, armed + _duration(value, armed)).isoformat()

    def has_fired(self, my_task):
        return _has_fired(self, my_task)


def _has_fired(definition, my_task) -> bool:
    if my_task.internal_data.get(EVENT_FIRED, False):
        return True
    due = due_at(my_task, definition)
    if due is not None and due <= _now(my_task):
        my_task.internal_data[EVENT_FIRED] = True
    return my_task.internal_data.get(EVENT_FIRED, False)


class ClockedCycle(CycleTimerEventDefinition):
    def schedule(self, my_task):
        value = _evaluate(self, my_task)
        if value is None:
            return None
        if not isinstance(value, str) or not _CYCLE.match(value.strip()):
            raise TimerSpecError(catalogue("timer.not_a_cycle", value=repr(value)[:80]))
        return _parse_cycle(value, _now(my_task), min_cycle())

    def cycle_complete(self, my_task):
        value = my_task.internal_data.get(EVENT_VALUE)
        if value is None:
            value = self.schedule(my_task)
            if value is None:
                return False
        if value["cycles"] == 0:
            my_task.internal_data.pop(EVENT_VALUE, None)
            my_task.internal_data[EVENT_FIRED] = True
            return False
        upcoming, now = datetime.fromisoformat(value["next"]), _now(my_task)
        ready = upcoming <= now
        if ready:
            value = _fire_cycle(value, upcoming, now)
        my_task.internal_data[EVENT_VALUE] = value
        return ready


def _fire_cycle(value: dict, upcoming: datetime, now: datetime) -> dict:
    """The cycle after one firing at `now`. Each firing of a non-interrupting boundary timer starts a
    token, so the intervals missed while nothing ran (the service down, a clock moved on) are one
    firing, not one each; they still count against the repetitions, so the cycle ends when its
    schedule said. The interval is the installation's minimum at least, whatever was stored."""
    interval = max(timedelta(seconds=value["duration"]), min_cycle())
    due = (now - upcoming) // interval + 1  # the firings the schedule held up to now
    cycles = value["cycles"] if value["cycles"] < 0 else max(value["cycles"] - due, 0)
    return dict(value, next=(upcoming + due * interval).isoformat(), cycles=cycles,
                duration=interval.total_seconds())


_CLOCKED = {
    TimeDateEventDefinition: ClockedTimeDate,
    DurationTimerEventDefinition: ClockedDuration,
    CycleTimerEventDefinition: ClockedCycle,
}


def clock_timers(event_definition) -> list:
    """Swap SpiffWorkflow's timer classes for ours, in place; returns the timers found."""
    if isinstance(event_definition, MultipleEventDefinition):
        return [t for child in event_definition.event_definitions for t in clock_timers(child)]
    clocked = _CLOCKED.get(type(event_definition))
    if clocked is not None:
        event_definition.__class__ = clocked
        event_definition.expression = normalise_expression(event_definition.expression)
    return [event_definition] if isinstance(event_definition, TimerEventDefinition) else []


def timer_of(task_spec):
    """The timer a waiting task's spec waits on, if any."""
    definition = getattr(task_spec, "event_definition", None)
    if isinstance(definition, MultipleEventDefinition):
        return next((d for d in definition.event_definitions if isinstance(d, TimerEventDefinition)), None)
    return definition if isinstance(definition, TimerEventDefinition) else None


def due_at(my_task, definition=None) -> datetime | None:
    """When a waiting timer task fires, evaluating (and storing) its expression if needed."""
    definition = definition or timer_of(my_task.task_spec)
    if definition is None:
        return None
    value = my_task.internal_data.get(EVENT_VALUE)
    if value is None and isinstance(definition, ClockedCycle) and my_task.internal_data.get(EVENT_FIRED, False):
        return None  # a cycle that has run its repetitions: arming it again would start it over
    if value is None:
        unscheduled = getattr(my_task.workflow.script_engine, "unscheduled", None)
        if unscheduled is not None and my_task.id in unscheduled:
            return None
        value = definition.schedule(my_task)
        if value is None:
            if unscheduled is not None:
                unscheduled.add(my_task.id)
            return None
        my_task.internal_data[EVENT_VALUE] = value
    if isinstance(value, dict):
        return datetime.fromisoformat(value["next"]) if value.get("cycles", 0) != 0 else None
    return to_datetime(value)


def recalculate(my_task) -> None:
    """Forget a waiting timer's stored due time so its expression is evaluated again."""
    if my_task.state == TaskState.WAITING and timer_of(my_task.task_spec) is not None:
        value = my_task.internal_data.get(EVENT_VALUE)
        if not isinstance(value, dict):  # a running cycle keeps its count
            my_task.internal_data.pop(EVENT_VALUE, None)
            getattr(my_task.workflow.script_engine, "unscheduled", set()).discard(my_task.id)


_CYCLIC = weakref.WeakKeyDictionary()


def has_cycles(workflow) -> bool:
    """Whether the workflow's process or any of its subprocesses has a repeating timer (known per
    spec, so a step of a process without one skips the walk that watches them)."""
    return any(_spec_has_cycles(spec) for spec in (workflow.spec, *workflow.subprocess_specs.values()))


def _spec_has_cycles(spec) -> bool:
    known = _CYCLIC.get(spec)
    if known is None:
        known = _CYCLIC[spec] = any(isinstance(timer_of(task_spec), ClockedCycle)
                                    for task_spec in spec.task_specs.values())
    return known


def cycle_mark(my_task):
    """Where a waiting repeating timer stands (next due time, repetitions left), None for others:
    a change between two reads means it fired."""
    value = my_task.internal_data.get(EVENT_VALUE)
    return (value.get("next"), value.get("cycles")) if isinstance(value, dict) else None
