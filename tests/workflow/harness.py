"""Runs duban_main on the runtime alone, with a fake of the domain's functions (no database).

`restore=True` saves and reloads the serialised workflow between every step, on specs parsed
afresh, as the service layer does in another process, so each path is run both ways.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from engine.bpmn.runtime import Runtime, compile_bundle
from engine.calendar import WorkCalendar
from engine.clock import CHINA, FixedClock
from tests.support.org import START, bpmn_bundle


class _Definition:
    def __init__(self, compiled):
        self.id, self.key, self.files = 1, compiled.key, compiled.files


class MainProcess:
    def __init__(self, restore: bool, deadline=datetime(2026, 10, 16, 17, 30, tzinfo=CHINA)):
        [compiled] = compile_bundle(*bpmn_bundle("duban_main.bpmn"), 5_000_000)
        self.definition = _Definition(compiled)
        self.clock = FixedClock(START)
        self.runtime = Runtime(self.clock)
        self.calendar = WorkCalendar.official()
        self.restore = restore
        self.deadline = deadline
        self.reported, self.limits = set(), {}
        self.run = None

    def functions(self):
        return {
            "workdays": lambda n: self.calendar.add_workdays(self.clock.now(), n).at.isoformat(),
            "unit_deadline": lambda unit: self.deadline.isoformat(),
            "remind_at": lambda unit: self.calendar.subtract_workdays(self.deadline, 2).isoformat(),
            "urge_limit": lambda unit: self.limits.get(unit),
            "unit_reported": lambda unit: unit in self.reported,
            "assignment_notice": lambda units, opinion=None: "交办 " + ",".join(units),
            "urge_notice": lambda unit: f"催办 {unit}",
        }

    def start(self, **data):
        self.run = self.runtime.start(self.definition, {"title": "事项", "category": "normal", **data},
                                      self.functions())
        return self

    def _reload(self):
        if self.restore:
            # A fresh runtime parses the specs anew, as another process (a worker, a restarted
            # server, a new step process) does: nothing may live only in the specs of this one.
            self.runtime = Runtime(self.clock)
            self.run = self.runtime.load(self.definition, self.run.dumps(), self.functions())

    def tasks(self):
        return sorted((t.element_id, t.unit) for t in self.run.human_tasks())

    def timers(self):
        return sorted((t.element_id, t.unit) for t in self.run.waiting_timers())

    def complete(self, element, data=None, unit=None):
        self._reload()
        matching = [t for t in self.run.human_tasks() if t.element_id == element and t.unit == unit]
        assert matching, f"no open {element} for {unit}; open: {self.tasks()}"
        self.run.complete(matching[0].id, data or {})
        return self

    def at(self, *when):
        """Move the clock and let due timers fire; returns the timers that fired."""
        self._reload()
        self.clock.set(datetime(*when, tzinfo=CHINA))
        self.run.advance()
        return sorted((t.element_id, t.name) for t in self.run.log.fired_timers)

    # the main path, step by step
    def through_assignment(self, co_units=("czj",)):
        self.complete("draft_opinion", {"lead_unit": "fgj", "co_units": list(co_units), "opinion": "请办理"})
        self.complete("leader_approval", {"decision": "approve"})
        self.complete("assign", {"notice": "交办通知单"})
        return self

    def unit_done(self, unit):
        self.complete("unit_receive", {"first_responsible": "甲"}, unit)
        self.reported.add(unit)
        self.complete("unit_report", {"summary": "已办结", "approved_by_deputy": True}, unit)
        self.complete("office_review", {"decision": "accept"}, unit)
        return self

    def days_after(self, days):
        return self.clock.now() + timedelta(days=days)
