"""Dashboard statistics on a known situation: units on time, late, urged, escalated; per role.

The situation (all `normal` items registered Monday 2026-09-28 09:00, deadline Friday 2026-10-16 17:30):
  A  发改局 (lead) reports at once; 财政局 (co) receives, is urged (limit 10-21), escalated, reports 11-02
  B  发改局 alone: receives, is urged (limit 10-23), reports late on 10-20, accepted
  C  财政局 alone: reports at once, accepted, item closed off (销号)
  D  registered, left in 拟办 (no units yet), past its own deadline
  F  drafted for 发改局, rejected by the leader (不予立项)
"""
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from engine import services
from engine.clock import CHINA
from engine.errors import Forbidden, InvalidInput
from engine.models import Criticism
from engine.services import stats
from tests.integration.flow import RECEIVE, REPORT, register
from tests.support.stats import act, assigned, done, move


@pytest.fixture
def situation(duban, org):
    a = assigned(duban, org, "A 重点项目", "fgj", ["czj"])
    b = assigned(duban, org, "B 营商环境", "fgj")
    c = assigned(duban, org, "C 财政预算", "czj")
    d = register(duban, org, title="D 待拟办")
    f = register(duban, org, title="F 不予立项")
    act(duban, org["office"], f, "draft_opinion", {"lead_unit": "fgj", "co_units": [], "opinion": "拟请发改局办理"})
    act(duban, org["leader"], f, "leader_approval", {"decision": "reject"})

    done(duban, org, a, "unit_a", "fgj")
    act(duban, org["unit_b"], a, "unit_receive", RECEIVE, "czj")
    act(duban, org["unit_a"], b, "unit_receive", RECEIVE, "fgj")
    done(duban, org, c, "unit_b", "czj")
    act(duban, org["office"], c, "feedback", {"summary": "已办结，予以销号"})

    assert move(duban, 2026, 10, 16, 17, 31) >= 2       # the deadline passes: urges for A/czj and B/fgj
    act(duban, org["office"], a, "urge", {"notice": "请于10月21日前办结", "new_limit": "2026-10-21"}, "czj")
    act(duban, org["office"], b, "urge", {"notice": "请于10月23日前办结", "new_limit": "2026-10-23"}, "fgj")
    move(duban, 2026, 10, 20, 10)
    act(duban, org["unit_a"], b, "unit_report", REPORT, "fgj")
    act(duban, org["office"], b, "office_review", {"decision": "accept"}, "fgj")
    assert move(duban, 2026, 10, 21, 17, 31) == 1       # A/czj's urge limit passes: 纪委, 通报批评
    move(duban, 2026, 10, 22, 9)
    return {"a": a, "b": b, "c": c, "d": d, "f": f}


def statuses(summary):
    return {s["status"]: s["count"] for s in summary["statuses"] if s["count"]}


def test_the_office_sees_every_figure(duban, org, situation):
    summary = stats.summary(duban, org["office"])
    assert statuses(summary) == {"drafting": 1, "in_progress": 1, "feedback": 1, "closed": 1, "rejected": 1}
    assert (summary["total"], summary["open"], summary["closed"], summary["overdue"]) == (5, 3, 1, 2)
    assert (summary["parts"], summary["overdue_parts"], summary["finished_parts"], summary["on_time_parts"]) \
        == (4, 1, 3, 2)
    assert summary["on_time_rate"] == pytest.approx(0.6667)
    assert (summary["urges"], summary["escalations"], summary["criticisms"]) == (2, 1, 1)
    with duban.db.reading() as session:
        assert session.scalar(select(func.count(Criticism.id))) == 1

    units = {u["unit"]: u for u in stats.by_unit(duban, org["office"])}
    assert list(units) == ["fgj", "czj"]
    assert units["fgj"] == {"unit": "fgj", "unit_name": "发改局", "total": 2, "open": 0, "overdue": 0, "completed": 2,
                            "on_time": 1, "on_time_rate": 0.5, "urges": 1, "escalations": 0, "criticisms": 0}
    assert units["czj"] == {"unit": "czj", "unit_name": "财政局", "total": 2, "open": 1, "overdue": 1, "completed": 1,
                            "on_time": 1, "on_time_rate": 1.0, "urges": 1, "escalations": 1, "criticisms": 1}

    rows, total = stats.overdue(duban, org["office"])
    assert total == 1
    assert [(r["item_id"], r["unit"], r["overdue_workdays"]) for r in rows] == [(situation["a"]["id"], "czj", 1)]
    assert rows[0]["due_at"] == datetime(2026, 10, 21, 17, 30, tzinfo=CHINA)
    assert rows[0]["urged_at"] and rows[0]["escalated_at"]
    # the overdue item is red in the ledger too
    assert services.get_item(duban, org["office"], situation["a"]["id"])["light"] == "red"


def test_the_trend_counts_months_in_beijing_time(duban, org, situation):
    months = stats.trend(duban, org["leader"])
    assert len(months) == 12 and months[0]["month"] == "2025-11" and months[-1]["month"] == "2026-10"
    busy = {m["month"]: (m["registered"], m["closed"], m["overdue"]) for m in months if any(list(m.values())[1:])}
    assert busy == {"2026-09": (5, 1, 0), "2026-10": (0, 0, 1)}

    # November: 财政局 is still late on the 2nd (8 working days after 10-21), then reports and is accepted.
    move(duban, 2026, 11, 2, 9)
    rows, _ = stats.overdue(duban, org["office"])
    assert [r["overdue_workdays"] for r in rows] == [8]
    act(duban, org["unit_b"], situation["a"], "unit_report", REPORT, "czj")
    act(duban, org["office"], situation["a"], "office_review", {"decision": "accept"}, "czj")
    busy = {m["month"]: (m["registered"], m["closed"], m["overdue"]) for m in stats.trend(duban, org["office"], 3)}
    assert busy == {"2026-09": (5, 1, 0), "2026-10": (0, 0, 1), "2026-11": (0, 0, 0)}
    units = {u["unit"]: u for u in stats.by_unit(duban, org["office"])}
    assert (units["czj"]["completed"], units["czj"]["on_time"], units["czj"]["on_time_rate"]) == (2, 1, 0.5)
    assert stats.summary(duban, org["office"])["overdue_parts"] == 0


def test_a_unit_sees_only_its_own_figures(duban, org, situation):
    mine = stats.summary(duban, org["unit_a"])  # 发改局: A, B, and F (drafted for it, then rejected)
    assert statuses(mine) == {"in_progress": 1, "feedback": 1, "rejected": 1}
    assert (mine["total"], mine["open"], mine["overdue"], mine["parts"], mine["overdue_parts"]) == (3, 2, 0, 2, 0)
    assert (mine["finished_parts"], mine["on_time_parts"], mine["urges"], mine["escalations"], mine["criticisms"]) \
        == (2, 1, 1, 0, 0)
    assert [u["unit"] for u in stats.by_unit(duban, org["unit_a"])] == ["fgj"]
    assert stats.overdue(duban, org["unit_a"]) == ([], 0)

    theirs = stats.summary(duban, org["unit_b"])  # 财政局: A and C
    assert statuses(theirs) == {"in_progress": 1, "closed": 1}
    assert (theirs["overdue"], theirs["parts"], theirs["urges"], theirs["escalations"], theirs["criticisms"]) \
        == (1, 2, 1, 1, 1)
    assert [u["unit"] for u in stats.by_unit(duban, org["unit_b"])] == ["czj"]
    assert [r["unit"] for r in stats.overdue(duban, org["unit_b"])[0]] == ["czj"]
    assert [m["registered"] for m in stats.trend(duban, org["unit_b"]) if m["month"] == "2026-09"] == [2]


def test_discipline_sees_the_escalated_and_others_nothing(duban, org, situation):
    seen = stats.summary(duban, org["discipline"])
    assert statuses(seen) == {"in_progress": 1}
    assert (seen["parts"], seen["overdue_parts"], seen["escalations"], seen["criticisms"]) == (1, 1, 1, 1)
    assert [u["unit"] for u in stats.by_unit(duban, org["discipline"])] == ["czj"]
    for person in ("designer", "auditor", "secadmin"):
        with pytest.raises(Forbidden):
            stats.summary(duban, org[person])


def test_the_period_selects_items_by_registration(duban, org, situation):
    assert stats.summary(duban, org["office"], year=2026)["total"] == 5
    empty = stats.summary(duban, org["office"], year=2025)
    assert (empty["total"], empty["parts"], empty["on_time_rate"], empty["urges"]) == (0, 0, None, 0)
    assert stats.summary(duban, org["office"], since=date(2026, 9, 28), until=date(2026, 9, 28))["total"] == 5
    assert stats.summary(duban, org["office"], since=date(2026, 9, 29))["total"] == 0
    assert stats.by_unit(duban, org["office"], until=date(2026, 9, 27)) == []
    with pytest.raises(InvalidInput):
        stats.summary(duban, org["office"], since=date(2026, 10, 2), until=date(2026, 10, 1))
    with pytest.raises(InvalidInput):
        stats.trend(duban, org["office"], months=0)


def test_the_dashboard_reads_everything_at_once(duban, org, situation):
    board = stats.dashboard(duban, org["office"])
    assert board["summary"] == stats.summary(duban, org["office"])
    assert board["units"] == stats.by_unit(duban, org["office"])
    assert (board["overdue"], board["overdue_total"]) == stats.overdue(duban, org["office"], per_page=20)
    assert board["trend"] == stats.trend(duban, org["office"])
