"""The 督办 steps as the engine sees them: functions, checks and effects of every process that
declares them (`duban_main` and any a designer builds).

The diagram stays in charge of the flow; what it cannot know (a unit's deadline after an
extension, whether a unit has reported) it asks for through the functions below, and what its
steps mean for the ledger (who received, reported, was urged, escalated) is recorded here. Each
effect is bound to the *kind* an element declares (engine/domain/steps.py), never to its id.
"""
from __future__ import annotations

from sqlalchemy import select

from ..bpmn.timers import LATEST
from ..clock import readable
from ..domain import deadlines, main_process as rules, steps
from ..domain.items import LIGHTS, limit_from, status_from
from ..domain.roles import OFFICE, UNIT
from ..errors import FormInvalid, ProcessError
from ..models import Criticism, HumanTask, ItemUnit
from ..texts import text
from . import org, replies
from .hooks import Hooks
from .notifications import notify, people

# Tasks due when their unit's (urged or extended) deadline is.
UNIT_TASKS = ("receive", "report", "reply", "monthly_progress")
# Steps before the units have the item: due by the item's own deadline at the latest (an urgent item's
# 拟办, 审批 and 交办 are all that same day, 随交随办).
BEFORE_ASSIGNMENT = ("draft", "approve", "assign")


def _kind(ctx, element_id: str | None) -> str | None:
    return steps.kind_of(ctx.definition.elements if ctx.definition else {}, element_id)


def _part(ctx, unit_id: str) -> ItemUnit:
    for part in ctx.item.units:
        if part.unit_id == unit_id:
            return part
    raise ProcessError(text("task.unit_not_in_item", unit=unit_id, item=ctx.item.id))


class MainProcessHooks(Hooks):
    def functions(self, ctx) -> dict:
        if ctx.item is None:
            return {}
        calendar, settings = ctx.duban.calendar, ctx.duban.settings

        def unit_deadline(unit):
            return _part(ctx, unit).deadline.isoformat()

        def remind_at(unit):
            return calendar.subtract_workdays(_part(ctx, unit).deadline, settings.yellow_workdays).isoformat()

        def urge_limit(unit):
            limit = _part(ctx, unit).urge_limit
            return limit.isoformat() if limit else None

        def unit_reported(unit):
            return _part(ctx, unit).reported_at is not None

        def unit_name(unit):
            return org.unit_names(ctx.session).get(unit, unit)

        def assignment_notice(units, opinion=None):
            names = org.unit_names(ctx.session)
            return rules.assignment_notice(ctx.item.title, ctx.item.deadline, [names.get(u, u) for u in units],
                                           opinion)

        def urge_notice(unit):
            return rules.urge_notice(ctx.item.title, unit_name(unit), _part(ctx, unit).deadline)

        def timer_latest(element_id, unit=None):
            """A reminder never falls after what it reminds of: 交办提醒 the item's deadline, 预警 the unit's."""
            kind = _kind(ctx, element_id)
            if kind == "assign_due" and ctx.item.deadline is not None:
                return ctx.item.deadline.isoformat()
            if kind == "remind" and unit:
                return deadlines.due_at(_part(ctx, unit)).isoformat()
            return None

        return {
            "unit_deadline": unit_deadline, "remind_at": remind_at, "urge_limit": urge_limit,
            "unit_reported": unit_reported, "unit_name": unit_name,
            "assignment_notice": assignment_notice, "urge_notice": urge_notice, LATEST: timer_latest,
        }

    def before_complete(self, ctx, task: HumanTask, data: dict) -> None:
        handler = getattr(self, f"_on_{_kind(ctx, task.element_id)}", None)
        if handler is not None and ctx.item is not None:
            handler(ctx, task, data)

    def _on_draft(self, ctx, task, data):
        rows = [row for row in org.units_of(ctx.session) if row.kind == "unit"]
        _refuse(rules.check_draft(data, {row.id for row in rows if row.active},
                                  frozenset(row.id for row in rows if not row.active)))
        item = ctx.item
        wanted = [data["lead_unit"], *[u for u in data.get("co_units") or [] if u != data["lead_unit"]]]
        item.lead_unit_id = wanted[0]
        existing = {part.unit_id: part for part in item.units}
        item.units = [
            existing.get(unit_id) or ItemUnit(unit_id=unit_id, deadline=item.deadline)
            for unit_id in wanted
        ]
        for index, part in enumerate(item.units):
            part.role = "lead" if index == 0 else "co"

    def _on_receive(self, ctx, task, data):
        part = _part(ctx, task.unit_id)
        _refuse(rules.check_receive(data, part.deadline))
        part.first_responsible = data.get("first_responsible")
        part.responsible = data.get("responsible")
        part.handler = data.get("handler")
        part.committed_date = data.get("committed_date")
        part.received_at = ctx.now

    def _on_report(self, ctx, task, data):
        _part(ctx, task.unit_id).reported_at = ctx.now

    def _on_reply(self, ctx, task, data):
        """答复 (人大建议, 政协提案, 省长信箱): the unit's report, and — from the lead unit, who answers the
        requester — the reply on record (答复率)."""
        part = _part(ctx, task.unit_id)
        part.reported_at = ctx.now
        if part.role == "lead" or len(ctx.item.units) == 1:
            replies.record_from_step(ctx.session, ctx.item, ctx.actor.username, ctx.now,
                                     text=str(data.get("reply_text") or ""))

    def _on_satisfaction(self, ctx, task, data):
        """满意度回访: the requester's satisfaction with the reply, on record (满意率)."""
        level = data.get("satisfaction")
        if level not in replies.SATISFACTION:
            _refuse([{"field": "satisfaction", "message": text("reply.satisfaction_level")}])
        replies.record_from_step(ctx.session, ctx.item, ctx.actor.username, ctx.now,
                                 satisfaction=(level, str(data.get("satisfaction_note") or "")))

    def _on_review(self, ctx, task, data):
        part = _part(ctx, _unit_of(ctx, task))
        if data.get("decision") == "accept":
            part.accepted_at = ctx.now
        else:
            part.reported_at = None

    def _on_urge(self, ctx, task, data):
        part = _part(ctx, _unit_of(ctx, task))
        try:
            limit = limit_from(ctx.duban.calendar, data["new_limit"])
        except (KeyError, ValueError):
            _refuse([{"field": "new_limit", "message": text("field.when")}])
        _refuse(rules.check_limit(limit, ctx.now))
        part.urged_at = ctx.now
        part.urge_limit = limit
        self.deadlines_moved(ctx)
        notify(ctx, people(ctx.session, UNIT, part.unit_id), "urge",
               text("notice.urge", title=ctx.item.title, limit=readable(limit)), data.get("notice", ""))

    def deadlines_moved(self, ctx) -> None:
        """Open unit tasks are due when their unit's (urged or extended) deadline is."""
        for open_task in ctx.session.scalars(select(HumanTask).where(
                HumanTask.instance_id == ctx.instance.id, HumanTask.state == "open",
                HumanTask.element_id.in_(steps.elements_of(ctx.definition.elements, *UNIT_TASKS)))):
            part = _part(ctx, open_task.unit_id)
            open_task.due_at = deadlines.due_at(part)

    def after_step(self, ctx, run, created: list, open_elements: set) -> None:
        item = ctx.item
        if item is None:
            return
        item.status = status_from(ctx.definition.elements, open_elements, run.completed, set(run.log.passed),
                                  item.status)
        if item.status in ("closed", "rejected") and item.closed_at is None:
            item.closed_at = ctx.now
        for task in created:
            if _kind(ctx, task.element_id) == "escalate":
                self._escalate(ctx, _part(ctx, _unit_of(ctx, task)))
        for timer in run.log.fired_timers:
            announce = _ANNOUNCEMENTS.get(_kind(ctx, timer.element_id))
            if announce:
                announce(ctx, timer.unit, timer.element_id)

    def _escalate(self, ctx, part: ItemUnit) -> None:
        """责任追究: the unit is reported to 纪委 and criticised (通报批评) in the same transaction."""
        part.escalated_at = ctx.now
        ctx.session.add(Criticism(item_id=ctx.item.id, unit_id=part.unit_id, reason="escalated",
                                  note="催办期限届满仍未报告，移送纪委", created_at=ctx.now))
        notify(ctx, people(ctx.session, UNIT, part.unit_id) + people(ctx.session, OFFICE), "escalated",
               f"通报批评：“{ctx.item.title}”催办期限届满仍未报告，已移送纪委")

    def task_due(self, ctx, task: HumanTask):
        if ctx.item is None:
            return None
        kind = _kind(ctx, task.element_id)
        if kind in UNIT_TASKS and task.unit_id:
            part = _part(ctx, task.unit_id)
            return deadlines.due_at(part)
        # Each kind's working days (engine/domain/steps.py: 001's 1 day to register, 2 to assign, ...).
        days = steps.option(ctx.definition.elements, task.element_id, "due_workdays") if kind else None
        if days is None:
            return None
        due = ctx.duban.calendar.add_workdays(ctx.now, int(days)).at
        if kind in BEFORE_ASSIGNMENT and ctx.item.deadline is not None:
            return min(due, ctx.item.deadline)
        return due


def _unit_of(ctx, task: HumanTask) -> str:
    """The unit a task inside a unit's branch is about (an office review, an urge, a 纪委 review)."""
    if task.unit_id is None:
        raise ProcessError(text("task.no_unit", task=task.name))
    return task.unit_id


def _refuse(errors: list) -> None:
    if errors:
        raise FormInvalid(errors[0]["message"], errors)


def _announce_yellow(ctx, unit, _element_id):
    deadline = deadlines.due_at(_part(ctx, unit))
    notify(ctx, people(ctx.session, UNIT, unit) + people(ctx.session, OFFICE), "yellow",
           text("notice.yellow", light=LIGHTS["yellow"], unit=org.unit_names(ctx.session).get(unit, unit),
                title=ctx.item.title, deadline=readable(deadline)))


def _announce_red(ctx, unit, _element_id):
    if _part(ctx, unit).reported_at is not None:
        return
    notify(ctx, people(ctx.session, UNIT, unit) + people(ctx.session, OFFICE), "red",
           f"{LIGHTS['red']}：{org.unit_names(ctx.session).get(unit, unit)}承办的“{ctx.item.title}”已到期未报告")


def _announce_assignment_due(ctx, _unit, element_id):
    deadline = ctx.item.deadline
    if deadline is not None and ctx.now >= deadline:  # held back to the deadline (timer_latest): say so
        title = text("notice.assign_due_deadline", title=ctx.item.title, deadline=readable(deadline))
    else:
        title = text("notice.assign_due", title=ctx.item.title,
                     days=steps.option(ctx.definition.elements, element_id, "due_workdays"))
    notify(ctx, people(ctx.session, OFFICE), "assign_due", title)


_ANNOUNCEMENTS = {"remind": _announce_yellow, "deadline": _announce_red, "assign_due": _announce_assignment_due}

HOOKS = MainProcessHooks()
