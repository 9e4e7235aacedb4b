"""月度进展: units report monthly on their open items, the office aggregates, a month-end reminder goes
out once per unit and month, and a month's reports are read-only once it ends. On SQLite and PostgreSQL.

The clock starts on Monday 2026-09-28; September's last working day is Wednesday the 30th (the
National Day holiday follows), October's is Friday the 30th.
"""
from datetime import datetime

import pytest

from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.models import Notification, ProgressReminder, ProgressReport
from engine.services import progress
from tests.integration.flow import RECEIVE, REPORT as DONE, complete, register, through_assignment

REPORT = {"text": "已完成项目选址论证", "percent": 40, "problems": "用地指标紧张", "next_steps": "10月完成立项"}


def unit_done(duban, org, user, unit, item):
    """The unit receives, reports, and the office accepts: its part of this item is finished."""
    for actor, element, data in ((user, "unit_receive", RECEIVE), (user, "unit_report", DONE),
                                 ("office", "office_review", {"decision": "accept"})):
        complete(duban, org[actor], element, data, unit, instance_id=item["instance_id"])


def reminders(duban, username=None):
    with duban.db.reading() as session:
        rows = session.query(Notification).filter_by(kind="progress_reminder").order_by(Notification.id).all()
        if username:
            from engine.models import User

            user = session.query(User).filter_by(username=username).one()
            rows = [n for n in rows if n.user_id == user.id]
        return [(n.title, n.body) for n in rows]


def test_a_unit_reports_and_corrects_its_month_with_the_history_kept(duban, org):
    item = through_assignment(duban, org)
    first = progress.put_report(duban, org["unit_a"], item["id"], "2026-09", REPORT)
    assert (first["unit"], first["month"], first["percent"], first["version"]) == ("fgj", "2026-09", 40, 1)
    assert first["reported_by"] == "unit_a" and first["history"] == [] and first["editable"] is True

    duban.clock.advance(hours=3)
    second = progress.put_report(duban, org["unit_a"], item["id"], "2026-09", {**REPORT, "percent": 55,
                                                                                "text": "已完成选址和环评"})
    assert second["id"] == first["id"] and second["version"] == 2 and second["percent"] == 55
    assert second["first_reported_at"] == first["reported_at"] < second["reported_at"]
    assert [(v["version"], v["percent"], v["text"], v["reported_by"], v["reported_at"]) for v in second["history"]] == [
        (1, 40, "已完成项目选址论证", "unit_a", first["reported_at"])]
    # The same report again changes nothing and adds no version.
    again = progress.put_report(duban, org["unit_a"], item["id"], "2026-09", {**REPORT, "percent": 55,
                                                                               "text": "已完成选址和环评"})
    assert again["version"] == 2 and len(again["history"]) == 1

    progress.put_report(duban, org["unit_b"], item["id"], "2026-09", {"text": "配合提供资金测算", "percent": 20})
    listed = progress.list_reports(duban, org["office"], item["id"])
    assert [(r["unit"], r["percent"]) for r in listed] == [("fgj", 55), ("czj", 20)]
    assert progress.list_reports(duban, org["unit_b"], item["id"], "2026-09")[0]["unit_name"] == "发改局"
    assert progress.list_reports(duban, org["office"], item["id"], "2026-08") == []


def test_the_report_is_checked(duban, org):
    item = through_assignment(duban, org)
    for bad, field in (({"text": "  "}, "text"), ({"percent": 101}, "percent"), ({"percent": -1}, "percent"),
                       ({"percent": None}, "percent"), ({"percent": True}, "percent"),
                       ({"problems": "难" * 5001}, "problems")):
        with pytest.raises(InvalidInput) as refused:
            progress.put_report(duban, org["unit_a"], item["id"], "2026-09", {**REPORT, **bad})
        assert field in {d["field"] for d in refused.value.details}
    for month in ("2026-9", "2026-13", "26-09", "1999-12", "x"):
        with pytest.raises(InvalidInput):
            progress.put_report(duban, org["unit_a"], item["id"], month, REPORT)
    with pytest.raises(InvalidInput) as refused:
        progress.put_report(duban, org["unit_a"], item["id"], "2026-10", REPORT)  # not begun
    assert refused.value.details[0]["field"] == "month"
    with duban.db.reading() as session:
        assert session.query(ProgressReport).count() == 0


def test_a_month_is_read_only_once_it_has_ended(duban, org):
    item = through_assignment(duban, org)
    progress.put_report(duban, org["unit_a"], item["id"], "2026-09", REPORT)
    duban.clock.set(datetime(2026, 9, 30, 23, 59))
    progress.put_report(duban, org["unit_a"], item["id"], "2026-09", {**REPORT, "percent": 45})  # still September
    duban.clock.set(datetime(2026, 10, 1, 0, 0))
    with pytest.raises(Conflict):
        progress.put_report(duban, org["unit_a"], item["id"], "2026-09", {**REPORT, "percent": 99})
    with pytest.raises(Conflict):
        progress.put_report(duban, org["unit_b"], item["id"], "2026-09", REPORT)  # nor filled in late
    september = progress.list_reports(duban, org["office"], item["id"], "2026-09")
    assert [(r["unit"], r["percent"], r["version"], r["editable"]) for r in september] == [("fgj", 45, 2, False)]
    assert progress.put_report(duban, org["unit_a"], item["id"], "2026-10", REPORT)["month"] == "2026-10"


def test_only_the_unit_itself_reports(duban, org):
    item = through_assignment(duban, org)  # 发改局 leads, 财政局 co-operates
    alone = through_assignment(duban, org, co_units=())  # 发改局 alone
    with pytest.raises(Forbidden):
        progress.put_report(duban, org["unit_b"], item["id"], "2026-09", {**REPORT, "unit": "fgj"})
    for username in ("office", "leader", "admin"):
        with pytest.raises(Forbidden):
            progress.put_report(duban, org[username], item["id"], "2026-09", {**REPORT, "unit": "fgj"})
    with pytest.raises(NotFound):
        progress.put_report(duban, org["unit_b"], alone["id"], "2026-09", REPORT)
    with pytest.raises(NotFound):
        progress.put_report(duban, org["discipline"], item["id"], "2026-09", REPORT)
    with pytest.raises(NotFound):
        progress.list_reports(duban, org["unit_b"], alone["id"])
    for username in ("unit_a", "discipline", "designer"):
        with pytest.raises(Forbidden):
            progress.aggregate(duban, org[username], "2026-09")
    assert progress.put_report(duban, org["unit_b"], item["id"], "2026-09", REPORT)["unit"] == "czj"
    with duban.db.reading() as session:
        assert [(r.unit_id, r.reported_by) for r in session.query(ProgressReport)] == [("czj", "unit_b")]


def test_no_report_before_assignment_or_after_acceptance(duban, org):
    item = through_assignment(duban, org)
    unit_done(duban, org, "unit_b", "czj", item)  # 财政局's part is accepted
    with pytest.raises(Conflict):
        progress.put_report(duban, org["unit_b"], item["id"], "2026-09", REPORT)
    pending = register(duban, org, title="待审批事项")
    complete(duban, org["office"], "draft_opinion", {"lead_unit": "fgj", "co_units": [], "opinion": "办"},
             instance_id=pending["instance_id"])
    with pytest.raises(Conflict):
        progress.put_report(duban, org["unit_a"], pending["id"], "2026-09", REPORT)  # approving, not assigned


def test_the_office_sees_who_reported_and_who_is_missing(duban, org):
    first = through_assignment(duban, org, title="重点项目建设")  # 发改局 + 财政局
    second = through_assignment(duban, org, co_units=(), title="营商环境优化")  # 发改局
    third = through_assignment(duban, org, co_units=(), title="已办结的事项")  # 发改局: reports, then finishes
    progress.put_report(duban, org["unit_a"], first["id"], "2026-09", REPORT)
    progress.put_report(duban, org["unit_a"], third["id"], "2026-09", {"text": "已基本完成", "percent": 90})
    unit_done(duban, org, "unit_a", "fgj", first)
    register(duban, org, title="尚未交办的事项")  # owes nothing yet

    summary = progress.aggregate(duban, org["office"], "2026-09")
    rows = {(r["item_id"], r["unit"]): r for r in summary["rows"]}
    # 发改局 finished the first item (accepted): its report stays, it owes none. The third: reported.
    assert sorted(rows) == [(first["id"], "czj"), (first["id"], "fgj"), (second["id"], "fgj"), (third["id"], "fgj")]
    assert (rows[(first["id"], "fgj")]["state"], rows[(first["id"], "fgj")]["due"]) == ("reported", False)
    assert rows[(first["id"], "fgj")]["report"]["text"] == REPORT["text"]
    assert (rows[(first["id"], "czj")]["state"], rows[(first["id"], "czj")]["due"]) == ("missing", True)
    assert rows[(first["id"], "czj")]["report"] is None
    assert (rows[(second["id"], "fgj")]["state"], rows[(third["id"], "fgj")]["state"]) == ("missing", "reported")
    assert rows[(third["id"], "fgj")]["report"]["percent"] == 90
    # 应报 = 已报 + 未报, over the rows listed
    assert (summary["due"], summary["reported"], summary["missing"], summary["total"]) == (4, 2, 2, 4)

    only_missing = progress.aggregate(duban, org["leader"], "2026-09", missing=True)
    assert [(r["title"], r["unit"]) for r in only_missing["rows"]] == [("重点项目建设", "czj"), ("营商环境优化", "fgj")]
    assert only_missing["total"] == 2 and only_missing["missing"] == 2
    czj = progress.aggregate(duban, org["admin"], "2026-09", unit="czj")
    assert [(r["item_id"], r["state"]) for r in czj["rows"]] == [(first["id"], "missing")]
    paged = progress.aggregate(duban, org["office"], "2026-09", page=2, per_page=3)
    assert len(paged["rows"]) == 1 and paged["total"] == 4
    assert progress.aggregate(duban, org["office"], "2026-08")["rows"] == []  # nothing was assigned yet


def test_a_past_month_is_read_as_it_stood_at_its_end(duban, org):
    item = through_assignment(duban, org, co_units=())
    duban.clock.set(datetime(2026, 10, 9, 10, 0))
    late = through_assignment(duban, org, co_units=(), title="十月交办")
    october = progress.aggregate(duban, org["office"], "2026-10")
    assert [(r["item_id"], r["state"]) for r in october["rows"]] == [(item["id"], "missing"), (late["id"], "missing")]
    september = progress.aggregate(duban, org["office"], "2026-09")
    assert [(r["item_id"], r["state"]) for r in september["rows"]] == [(item["id"], "missing")]


def test_the_month_end_reminder_goes_out_once_per_unit(duban, org):
    first = through_assignment(duban, org, title="重点项目建设")  # 发改局 + 财政局
    through_assignment(duban, org, co_units=(), title="营商环境优化")  # 发改局
    progress.put_report(duban, org["unit_b"], first["id"], "2026-09", REPORT)  # 财政局 owes nothing more

    duban.clock.set(datetime(2026, 9, 29, 16, 0))  # not the last working day
    assert progress.remind_monthly_progress(duban) == 0
    duban.clock.set(datetime(2026, 9, 30, 8, 0))  # the last working day, before office hours
    assert progress.remind_monthly_progress(duban) == 0
    assert reminders(duban) == []

    duban.clock.set(datetime(2026, 9, 30, 9, 0))
    assert progress.remind_monthly_progress(duban) == 1
    sent = reminders(duban, "unit_a")
    assert len(sent) == 1 and "2026年9月尚有2项" in sent[0][0]
    assert "重点项目建设" in sent[0][1] and "营商环境优化" in sent[0][1]
    assert reminders(duban, "unit_b") == []

    duban.clock.advance(minutes=5)
    assert progress.remind_monthly_progress(duban) == 0  # once
    third = through_assignment(duban, org, co_units=("czj",), title="下午交办的事项")
    duban.clock.advance(hours=1)
    # 财政局 now owes a report for the new item and is reminded; 发改局 already was this month.
    assert progress.remind_monthly_progress(duban) == 1
    assert len(reminders(duban, "unit_a")) == 1
    assert len(reminders(duban, "unit_b")) == 1 and "下午交办的事项" in reminders(duban, "unit_b")[0][1]
    assert progress.remind_monthly_progress(duban) == 0
    with duban.db.reading() as session:
        assert sorted((r.unit_id, r.month, r.missing) for r in session.query(ProgressReminder)) == [
            ("czj", "2026-09", 1), ("fgj", "2026-09", 2)]  # as owed when reminded

    duban.clock.set(datetime(2026, 10, 9, 9, 0))  # October: not its last working day
    assert progress.remind_monthly_progress(duban) == 0
    duban.clock.set(datetime(2026, 10, 30, 9, 0))
    assert progress.remind_monthly_progress(duban) == 2
    assert len(reminders(duban, "unit_a")) == 2
    assert third["id"]


def test_the_scheduler_tick_sends_the_reminder(duban, org):
    from workers.scheduler import TimerScheduler

    class Actors:
        class _Actor:
            def send(self, *_):
                pass

        fire_timers = send_mail = clean_files = _Actor()

    through_assignment(duban, org, co_units=())
    duban.clock.set(datetime(2026, 9, 30, 9, 0))
    scheduler = TimerScheduler(duban, Actors())
    scheduler.tick()
    scheduler.tick()
    assert len(reminders(duban, "unit_a")) == 1


def test_secret_items_are_nowhere_for_uncleared_people(duban, org):
    org.add_user("office2", "office", "dcs")
    org.add_user("czj2", "unit", "czj")
    secret = through_assignment(duban, org, classification="secret", designees=["leader", "unit_a", "unit_b"],
                                title="保密事项")
    progress.put_report(duban, org["unit_a"], secret["id"], "2026-09", REPORT)
    for username in ("office2", "discipline"):
        with pytest.raises(NotFound):
            progress.list_reports(duban, org[username], secret["id"])
    with pytest.raises(NotFound):
        progress.put_report(duban, org["czj2"], secret["id"], "2026-09", REPORT)
    assert progress.aggregate(duban, org["office2"], "2026-09")["rows"] == []
    assert progress.aggregate(duban, org["office2"], "2026-09")["due"] == 0
    assert [r["unit"] for r in progress.aggregate(duban, org["office"], "2026-09")["rows"]] == ["fgj", "czj"]

    duban.clock.set(datetime(2026, 9, 30, 9, 0))
    assert progress.remind_monthly_progress(duban) == 1  # 财政局 owes it
    assert len(reminders(duban, "unit_b")) == 1 and "保密事项" in reminders(duban, "unit_b")[0][1]
    assert reminders(duban, "czj2") == []  # not designated: never hears of it
