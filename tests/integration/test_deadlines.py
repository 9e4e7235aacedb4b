"""One home for the deadline rules (engine/domain/deadlines.py): the Python and the SQL form of each
rule agree row by row, and the dashboard, the ledger, 通报 and 考核 count the same parts as overdue,
on time and late — on SQLite and PostgreSQL.

The situation (now: Wednesday 2026-10-28 12:00, Beijing; every item registered 2026-09-10):
  A  in progress, 发改局 due 09-25, never reported                      → overdue since 09-25
  B  in progress, 财政局 due 09-25, urged 09-28 with limit 10-09         → overdue from 10-09 on only
  C  in progress, 发改局 due 10-09, urged 10-12 with limit 11-05         → not overdue (urge limit ahead)
  D  不予立项 on 10-12, its draft deadline 09-25 long passed            → never overdue (never assigned)
  E  terminated, 财政局 due 09-25, never reported                       → never counted
  F  closed, 发改局 due 10-16, reported 10-14, accepted 10-15           → on time
  G  待反馈, 财政局 due 10-09, urged 10-12 (limit 10-16), reported 10-15 → late (after its own deadline)
  H  in progress, 发改局 due 10-09, reported 10-08, under review         → neither overdue nor finished
  I  in progress, 财政局 due 10-16, accepted 10-15 without a report time → on time
"""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from engine import services
from engine.clock import CHINA
from engine.domain import deadlines
from engine.models import Item, ItemUnit
from engine.services import assessment, bulletins, stats
from tests.support.items import add_item

NOW = datetime(2026, 10, 28, 12, 0, tzinfo=CHINA)


def day(month: int, dom: int, hour: int = 17, minute: int = 30) -> datetime:
    return datetime(2026, month, dom, hour, minute, tzinfo=CHINA)


@pytest.fixture
def situation(duban, org):
    registered = day(9, 10, 9, 0)
    duban.clock.set(registered)

    def item(title, status, unit, closed_at=None, **part):
        deadline = part.pop("deadline")
        return add_item(duban, title, status=status, deadline=deadline, created_at=registered,
                        closed_at=closed_at, parts=[(unit, {"deadline": deadline, **part})])

    made = {
        "A": item("A 逾期未报告", "in_progress", "fgj", deadline=day(9, 25)),
        "B": item("B 催办后仍逾期", "in_progress", "czj", deadline=day(9, 25), urged_at=day(9, 28, 10),
                  urge_limit=day(10, 9)),
        "C": item("C 催办期限未到", "in_progress", "fgj", deadline=day(10, 9), urged_at=day(10, 12, 10),
                  urge_limit=day(11, 5)),
        "D": item("D 期限过后不予立项", "rejected", "fgj", closed_at=day(10, 12, 10), deadline=day(9, 25)),
        "E": item("E 已终止", "terminated", "czj", deadline=day(9, 25)),
        "F": item("F 按期办结", "closed", "fgj", closed_at=day(10, 16, 10), deadline=day(10, 16),
                  reported_at=day(10, 14, 10), accepted_at=day(10, 15, 10)),
        "G": item("G 逾期办结", "feedback", "czj", deadline=day(10, 9), urged_at=day(10, 12, 10),
                  urge_limit=day(10, 16), reported_at=day(10, 15, 10), accepted_at=day(10, 19, 10)),
        "H": item("H 审核中", "in_progress", "fgj", deadline=day(10, 9), reported_at=day(10, 8, 10)),
        "I": item("I 无报告时间", "in_progress", "czj", deadline=day(10, 16), accepted_at=day(10, 15, 10)),
    }
    duban.clock.set(NOW)
    return made


# ---- the two forms of each rule agree ---------------------------------------------------------------

MOMENTS = [day(9, 25, 17, 29), day(9, 25, 17, 31), datetime(2026, 10, 1, tzinfo=CHINA), day(10, 9, 17, 31),
           day(10, 13), datetime(2026, 11, 1, tzinfo=CHINA), NOW]


def test_python_and_sql_forms_agree(duban, situation):
    with duban.db.reading() as session:
        rows = session.execute(select(ItemUnit, Item).join(Item, Item.id == ItemUnit.item_id)).all()
        assert len(rows) == len(situation)
        by_id = {part.id: (part, item) for part, item in rows}

        def where(condition) -> set:
            return set(session.scalars(select(ItemUnit.id).join(Item, Item.id == ItemUnit.item_id).where(condition)))

        def python(rule) -> set:
            return {pid for pid, (part, item) in by_id.items() if rule(part, item)}

        assert where(deadlines.finished_sql()) == python(lambda p, i: deadlines.is_finished(p))
        assert where(deadlines.on_time_sql()) == python(lambda p, i: deadlines.is_on_time(p))
        assert where(deadlines.late_sql()) == python(lambda p, i: deadlines.is_late(p))
        assert where(deadlines.done_sql()) == python(lambda p, i: deadlines.is_done(p))
        assert where(deadlines.not_done_sql()) == python(lambda p, i: not deadlines.is_done(p))
        due = dict(session.execute(select(ItemUnit.id, deadlines.due_at_sql())).all())
        assert due == {pid: deadlines.due_at(part) for pid, (part, _) in by_id.items()}
        for moment in MOMENTS:
            due = dict(session.execute(select(ItemUnit.id, deadlines.due_at_sql(at=moment))).all())
            assert due == {pid: deadlines.due_at(part, moment) for pid, (part, _) in by_id.items()}, moment
            assert where(deadlines.done_sql(at=moment)) == python(
                lambda p, i, moment=moment: deadlines.is_done(p, moment))
            assert where(deadlines.overdue_sql(moment)) == python(
                lambda p, i, moment=moment: deadlines.is_overdue(p, i, moment)), moment
        # At now, the index-friendly form says the same as the general one.
        assert where(deadlines.overdue_now_sql(NOW)) == where(deadlines.overdue_sql(NOW))
        overdue = {by_id[pid][1].id for pid in python(lambda p, i: deadlines.is_overdue(p, i, NOW))}
    assert overdue == {situation["A"], situation["B"]}


# ---- the dashboard, the ledger, 通报 and 考核 agree ------------------------------------------------------

def test_dashboard_bulletins_and_assessment_count_alike(duban, org, situation):
    office = org["office"]
    summary = stats.summary(duban, office)
    units = stats.by_unit(duban, office)
    trend = {row["month"]: row["overdue"] for row in stats.trend(duban, office, months=2)}
    overdue_rows, overdue_total = stats.overdue(duban, office)
    red_items, _ = services.list_items(duban, office, light="red", per_page=200)
    september = bulletins.generate(duban, office, "2026-09")["summary"]
    october = bulletins.generate(duban, office, "2026-10")["summary"]  # still running: as of now
    board = assessment.scores(duban, office, 2026)
    scored = {event: sum(unit["counts"][event] for unit in board["units"]) for event in ("on_time", "late")}

    # Overdue now: A and B (the urged unit whose urge limit passed), never the rejected D nor the terminated E.
    overdue_now = {situation["A"], situation["B"]}
    assert summary["overdue_parts"] == sum(u["overdue"] for u in units) == overdue_total == october["overdue"] \
        == trend["2026-10"] == 2
    assert {row["item_id"] for row in overdue_rows} == {row["id"] for row in red_items} == overdue_now
    assert summary["overdue"] == len(red_items) == 2  # overdue items: the ledger's red light
    # At September's end only A: B's urge limit was still ahead, and D — rejected on 10-12, after its
    # deadline — was never assigned, so neither the trend nor 通报 counts it.
    assert september["overdue"] == trend["2026-09"] == 1
    # On time F and I (accepted without a report time), late G (reported after its own deadline, within
    # the urge limit): the dashboard, 通报 and 考核 alike.
    assert summary["on_time_parts"] == october["on_time"] == scored["on_time"] == 2
    assert summary["finished_parts"] - summary["on_time_parts"] == october["late"] == scored["late"] == 1
    assert summary["finished_parts"] == october["completed"] == 3
