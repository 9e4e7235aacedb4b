"""Demo items (`duban seed-demo --with-items`): a few items in every state, so a first look is not empty.

Each is driven through the real services as the demo people would (立项, 拟办, 审批, 交办, 签收, 报告,
审核, 催办, 延期申请, 撤销), never written as rows. Overdue items need time to pass: their steps run on a
clock set weeks back and moved forward, the timers firing as they fall due (催办 at the deadline, 纪委
when the urge limit passes), and the rest run now. Running it again adds nothing (the titles are known).
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import select

from ..clock import CHINA, FixedClock
from ..domain import steps
from ..domain.items import STATUSES
from ..errors import Conflict
from ..models import Definition, Instance, Item, User
from ..texts import text
from . import extensions, items, tasks, timers, withdrawal
from .auth import actor_of

PREFIX = "【演示】"
# The states the demo shows (the test checks each exists), keyed by what builds them.
TITLES = {
    "drafting": "推进城区老旧小区改造（待拟办）",
    "in_progress": "优化营商环境专项行动（办理中）",
    "overdue": "农村饮水安全巩固提升（已逾期，待催办）",
    "urged": "中小学校舍安全排查（已催办）",
    "extension": "重点项目用地报批（延期申请待审批）",
    "review": "城区排水管网改造（办结报告待审核）",
    "closed": "政务服务一网通办（已反馈销号）",
    "rejected": "新建城市雕塑（不予立项）",
    "withdrawn": "重复登记的防汛检查事项（已撤销）",
    "escalated": "安全生产大检查整改（逾期移送纪委）",
}
RECEIVE = {"first_responsible": "局长", "responsible": "分管副局长", "handler": "业务科科长"}


def seed_items(duban) -> dict:
    """The demo items, each in its state; {created: n} (0 when they exist already)."""
    with duban.db.reading() as session:
        if session.scalar(select(Definition.id).where(Definition.key == "duban_main").limit(1)) is None:
            raise Conflict(text("seed.needs_main"))
        if session.scalar(select(Item.id).where(Item.title.startswith(PREFIX)).limit(1)) is not None:
            return {"created": 0}
        people = {u.username: actor_of(u) for u in session.scalars(select(User))}
    now = duban.clock.now()
    made = {}
    with _clock_at(duban, now - timedelta(days=30)) as clock:
        for kind, lead in (("overdue", "fgj"), ("urged", "czj"), ("escalated", "fgj")):
            made[kind] = _assigned(duban, people, kind, lead)
        clock.advance(days=20)  # past the 10 working days: each unit's 催办 falls due
        timers.fire_all_due(duban)
        _complete(duban, people["office"], made["urged"], "urge",
                  {"notice": "请于限期内报送办结报告", "new_limit": _day(now + timedelta(days=5))})
        _complete(duban, people["office"], made["escalated"], "urge",
                  {"notice": "请于两日内报送办结报告", "new_limit": _day(clock.now() + timedelta(days=2))})
        clock.advance(days=4)  # that limit passes unreported: 纪委 责任追究
        timers.fire_all_due(duban)
    with _clock_at(duban, now - timedelta(days=3)):
        made["drafting"] = _register(duban, people, "drafting")
        made["rejected"] = _register(duban, people, "rejected")
        _complete(duban, people["office"], made["rejected"], "draft",
                  {"lead_unit": "jyj", "co_units": [], "opinion": "拟请教育局牵头研究"})
        _complete(duban, people["leader"], made["rejected"], "approve", {"decision": "reject"})
        for kind, lead in (("in_progress", "fgj"), ("extension", "czj"), ("review", "fgj"), ("closed", "czj"),
                           ("withdrawn", "czj")):
            made[kind] = _assigned(duban, people, kind, lead)
        extensions.request_extension(duban, people["unit_b"], made["extension"].id, {
            "reason": "用地指标待省厅批复，需延后办结", "head": "财政局局长", "head_signed": True,
            "new_deadline": _day(made["extension"].deadline + timedelta(days=15))})
        _complete(duban, people["unit_a"], made["review"], "report",
                  {"summary": "已完成主干管网改造 3.2 公里", "approved_by_deputy": True})
        _complete(duban, people["unit_b"], made["closed"], "report",
                  {"summary": "已实现 186 项事项网上办理", "approved_by_deputy": True})
        _complete(duban, people["office"], made["closed"], "review", {"decision": "accept"})
        _complete(duban, people["office"], made["closed"], "feedback", {"summary": "已向县政府反馈，予以销号"})
        withdrawal.withdraw_item(duban, people["office"], made["withdrawn"].id, "与已登记的防汛检查事项重复，误登记")
    timers.fire_all_due(duban)  # now: whatever fell due meanwhile (reminders)
    return {"created": len(made)}


class _Made:
    """What the later steps need of a registered demo item."""

    def __init__(self, item: dict):
        self.id, self.instance_id, self.deadline = item["id"], item["instance_id"], item["deadline"]


def _register(duban, people, kind: str) -> _Made:
    item = items.register_item(duban, people["office"], {
        "title": PREFIX + TITLES[kind], "content": "演示数据：" + TITLES[kind], "source": "instruction",
        "category": "normal", "classification": "internal"})
    return _Made(item)


def _assigned(duban, people, kind: str, lead: str) -> _Made:
    """Registered, approved, assigned to `lead` and received by it (签收)."""
    made = _register(duban, people, kind)
    user = people["unit_a" if lead == "fgj" else "unit_b"]
    _complete(duban, people["office"], made, "draft", {"lead_unit": lead, "co_units": [], "opinion": "请牵头办理"})
    _complete(duban, people["leader"], made, "approve", {"decision": "approve"})
    _complete(duban, people["office"], made, "assign", {"notice": "请按时限办结并报送办结报告"})
    _complete(duban, user, made, "receive", {**RECEIVE, "committed_date": _day(made.deadline)})
    return made


def _complete(duban, actor, made: _Made, kind: str, data: dict) -> None:
    """Complete the open step of `kind` (as the definition declares it, not by element id) as `actor`."""
    with duban.db.reading() as session:
        elements = session.scalar(select(Definition.elements).join(Instance, Instance.definition_id == Definition.id)
                                  .where(Instance.id == made.instance_id))
    open_tasks, _ = tasks.list_tasks(duban, actor, instance_id=made.instance_id)
    task = next(t for t in open_tasks if steps.kind_of(elements, t["element_id"]) == kind)
    tasks.complete_task(duban, actor, task["id"], data)


def _day(moment) -> str:
    return moment.astimezone(CHINA).date().isoformat()


@contextmanager
def _clock_at(duban, start):
    """Services and the runtime read this clock meanwhile; the caller's comes back afterwards."""
    saved = duban.clock, duban.runtime.clock
    clock = FixedClock(start)
    duban.clock = duban.runtime.clock = clock
    try:
        yield clock
    finally:
        duban.clock, duban.runtime.clock = saved


def states(duban) -> dict:
    """{kind: status name} of the demo items as they stand (for the command's report)."""
    with duban.db.reading() as session:
        rows = session.execute(select(Item.title, Item.status).where(Item.title.startswith(PREFIX))).all()
    by_title = dict(rows)
    return {kind: STATUSES.get(by_title.get(PREFIX + title), "") for kind, title in TITLES.items()}
