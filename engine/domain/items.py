"""Supervision items (督办事项): their vocabularies, deadlines (限时办结), lights and statuses."""
from __future__ import annotations

from datetime import date, datetime

from ..calendar import WORKDAY_START, Deadline, WorkCalendar
from ..clock import CHINA
from . import steps

SOURCES = {
    "decision": "党委政府重大决策部署",
    "document": "重要文件",
    "meeting": "重要会议",
    "instruction": "领导批示",
    "target": "上级下达目标任务",
    "style": "作风建设",
    "statistics": "统计汇总材料",
    "mailbox": "省长信箱",
    "npc_suggestion": "人大代表建议",
    "cppcc_proposal": "政协提案",
    "other": "其他",
}
CATEGORIES = {"normal": "一般件", "major": "重大疑难件", "urgent": "急件"}
CLASSIFICATIONS = {"public": "公开", "internal": "内部", "secret": "限定范围（保密）"}
# 限时办结制 (seed 001 3、): working days allowed when no deadline is given.
WORKDAYS_BY_CATEGORY = {"normal": 10, "major": 20}

STATUSES = {
    "drafting": "拟办中",
    "approving": "待审批",
    "assigning": "待交办",
    "in_progress": "办理中",
    "signoff": "待签发",
    "feedback": "待反馈",
    "closed": "已销号",
    "rejected": "不予立项",
    "terminated": "已终止",
    "withdrawn": "已撤销",
}
# The status sets, here only (services and pages import them):
# open 在办: the process still runs; ended: it has ended one way or another (lights are green);
# assigned: the units have received the item (交办 done), so it is public and praisable.
OPEN_STATUSES = ("drafting", "approving", "assigning", "in_progress", "signoff", "feedback")
ENDED_STATUSES = ("closed", "rejected", "terminated", "withdrawn")
ASSIGNED_STATUSES = ("in_progress", "signoff", "feedback", "closed")
# dropped: the units' work was dropped, never handed over (不予立项) or stopped (终止, 撤销): their parts
# owe no reports and never count as late (a terminated item's history cannot be replayed).
DROPPED_STATUSES = ("rejected", "terminated", "withdrawn")
# Never registered as far as figures go: the leader refused it (不予立项) or the office withdrew it as a
# mistake (撤销); counts of registered items (通报 新立项, statistics) leave them out.
UNREGISTERED_STATUSES = ("rejected", "withdrawn")
# The lights' names, the only set of them (pages, exports, the API, notifications): the domain's
# 预警 (warning colour, a few working days before) and the seeds' 逾期 (001 "逾期不办").
LIGHTS = {"green": "正常", "yellow": "预警", "red": "逾期"}


def parse_when(text: str) -> date | datetime:
    """A date (`2026-10-16`) or an aware datetime from ISO text; ValueError otherwise."""
    text = text.strip()
    if len(text) == 10:
        return date.fromisoformat(text)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA)


def deadline_for(calendar: WorkCalendar, category: str, registered_at: datetime,
                 explicit: str | None = None, workdays: int | None = None) -> Deadline:
    """An explicit deadline rules; otherwise the working days the deadline rules table gave (`workdays`,
    0 for the same working day: engine/services/deadline_rules.py), or without one 10 or 20 working
    days, or the same working day (急件)."""
    if explicit:
        when = parse_when(explicit)
        if isinstance(when, datetime):
            return Deadline(when, not calendar.is_loaded(when.astimezone(CHINA).date()))
        return Deadline(calendar.end_of(when), not calendar.is_loaded(when))
    if workdays is None:
        workdays = 0 if category == "urgent" else WORKDAYS_BY_CATEGORY[category]
    if workdays == 0:
        return calendar.same_day(registered_at)
    return calendar.add_workdays(registered_at, workdays)


def limit_from(calendar: WorkCalendar, text: str) -> datetime:
    """A limit typed as a date means the close of that day (moved past holidays, 第203条)."""
    when = parse_when(text)
    if isinstance(when, datetime):
        return when
    return calendar.on_or_after(when).at


def light(calendar: WorkCalendar, deadline: datetime, now: datetime, yellow_workdays: int,
          done: bool = False, since: datetime | None = None) -> str:
    """green, yellow (预警: within `yellow_workdays` working days of the deadline) or red (逾期).
    With `since` (when the time allowed began), the warning window fits the time allowed (warning_from)."""
    if done:
        return "green"
    if now > deadline:
        return "red"
    if now >= warning_from(calendar, deadline, yellow_workdays, since):
        return "yellow"
    return "green"


def warning_from(calendar: WorkCalendar, deadline: datetime, yellow_workdays: int,
                 since: datetime | None = None) -> datetime:
    """When a deadline turns yellow: `yellow_workdays` working days before it, but a step given only a
    few days (拟办 1, 交办 2) warns over at most half of them, and over its last day when it has one or
    none: else it would be yellow from the moment it was created."""
    if since is None:
        return calendar.subtract_workdays(deadline, yellow_workdays)
    window = min(yellow_workdays, calendar.workdays_between(since, deadline) // 2)
    if window > 0:
        return calendar.subtract_workdays(deadline, window)
    return datetime.combine(deadline.astimezone(CHINA).date(), WORKDAY_START, CHINA)


# Where an item stands while steps of several kinds are open: the later stage wins. Which stage a
# kind of step stands for is declared with the kind (steps.KINDS[kind].status).
_STAGES = ("feedback", "signoff", "in_progress", "assigning", "approving", "drafting")


def status_from(elements: dict, open_elements: set, finished: bool, passed: set, current: str) -> str:
    """An item's status from where its instance stands (open tasks, elements just passed), by the
    kinds of step its definition's `elements` declare."""
    kinds = steps.declared(elements)
    if any(kinds.get(element) == "rejected" for element in passed):
        return "rejected"
    if finished:
        return "closed"
    stages = {steps.KINDS[kinds[e]].status for e in open_elements if kinds.get(e) in steps.KINDS}
    return next((stage for stage in _STAGES if stage in stages), current)
