"""duban_main on the runtime: every path straight through and again through save/restore."""
import copy

import pytest

from engine.errors import ProcessError
from tests.workflow.harness import MainProcess


@pytest.fixture(params=[False, True], ids=["straight", "restored"])
def flow(request):
    return MainProcess(restore=request.param).start()


def test_happy_path_with_a_lead_and_a_co_unit(flow):
    assert flow.tasks() == [("draft_opinion", None)]
    flow.complete("draft_opinion", {"lead_unit": "fgj", "co_units": ["czj"], "opinion": "请办理"})
    assert flow.tasks() == [("leader_approval", None)]
    flow.complete("leader_approval", {"decision": "approve"})
    assert flow.tasks() == [("assign", None)]
    assert flow.timers() == [("assign_overdue", None)]
    flow.complete("assign", {"notice": "交办通知单"})
    assert flow.tasks() == [("unit_receive", "czj"), ("unit_receive", "fgj")]
    assert flow.timers() == [("deadline_reached", "czj"), ("deadline_reached", "fgj"),
                             ("remind_due", "czj"), ("remind_due", "fgj")]
    flow.unit_done("fgj")
    assert flow.timers() == [("deadline_reached", "czj"), ("remind_due", "czj")]
    flow.unit_done("czj")
    assert flow.tasks() == [("feedback", None)]
    assert flow.timers() == []
    flow.complete("feedback", {"summary": "已反馈"})
    assert flow.run.completed
    data = flow.run.data()
    assert sorted(data["unit_results"]) == ["czj", "fgj"]
    assert "unit" not in data  # each unit's branch keeps its data to itself


def test_assignment_notice_is_prefilled(flow):
    flow.complete("draft_opinion", {"lead_unit": "fgj", "co_units": ["czj", "fgj"], "opinion": "请办理"})
    flow.complete("leader_approval", {"decision": "approve"})
    [assign] = flow.run.human_tasks()
    assert assign.data["notice"] == "交办 fgj,czj"
    assert assign.data["units"] == ["fgj", "czj"]


def test_leader_returns_the_draft_then_approves(flow):
    flow.complete("draft_opinion", {"lead_unit": "fgj", "co_units": [], "opinion": "初稿"})
    flow.complete("leader_approval", {"decision": "return"})
    assert flow.tasks() == [("draft_opinion", None)]
    flow.through_assignment(co_units=())
    assert flow.tasks() == [("unit_receive", "fgj")]


def test_leader_rejects_and_nothing_is_assigned(flow):
    flow.complete("draft_opinion", {"lead_unit": "fgj", "co_units": [], "opinion": "初稿"})
    flow.complete("leader_approval", {"decision": "reject"})
    assert flow.run.completed
    assert "end_rejected" in flow.run.log.passed
    assert "assign" not in flow.run.log.passed


def test_review_returns_the_report_to_the_unit(flow):
    flow.through_assignment(co_units=())
    flow.complete("unit_receive", {}, "fgj")
    flow.complete("unit_report", {"summary": "草率"}, "fgj")
    flow.complete("office_review", {"decision": "return"}, "fgj")
    assert flow.tasks() == [("unit_report", "fgj")]
    flow.complete("unit_report", {"summary": "认真"}, "fgj")
    flow.complete("office_review", {"decision": "accept"}, "fgj")
    assert flow.tasks() == [("feedback", None)]


def test_major_items_need_the_leaders_signoff():
    flow = MainProcess(restore=True).start(category="major")
    flow.through_assignment(co_units=()).unit_done("fgj")
    assert flow.tasks() == [("leader_signoff", None)]
    flow.complete("leader_signoff", {"decision": "approve"})
    assert flow.tasks() == [("feedback", None)]


def test_a_unit_reporting_in_time_gets_no_reminder_urge_or_escalation(flow):
    flow.through_assignment(co_units=()).unit_done("fgj")
    assert flow.at(2026, 10, 15, 9) == []
    assert flow.at(2026, 10, 30, 9) == []
    assert flow.tasks() == [("feedback", None)]


def test_overdue_unit_is_reminded_urged_and_escalated_exactly_once(flow):
    flow.through_assignment(co_units=("czj",)).unit_done("fgj")
    flow.complete("unit_receive", {}, "czj")
    assert flow.at(2026, 10, 14, 18) == [("remind_due", "临近期限")]
    assert flow.at(2026, 10, 15, 9) == []
    assert flow.at(2026, 10, 16, 18) == [("deadline_reached", "办理期限届满")]
    assert flow.at(2026, 10, 17, 9) == []
    assert flow.tasks() == [("unit_report", "czj"), ("urge", "czj")]
    [urge] = [t for t in flow.run.human_tasks() if t.element_id == "urge"]
    assert urge.data["notice"] == "催办 czj"
    flow.limits["czj"] = "2026-10-21T17:30:00+08:00"
    flow.complete("urge", {"notice": "催办通知单", "new_limit": "2026-10-21"}, "czj")
    assert flow.timers() == [("escalation_due", "czj")]
    assert flow.at(2026, 10, 21, 18) == [("escalation_due", "催办期限届满")]
    assert flow.at(2026, 10, 22, 9) == []
    assert flow.tasks() == [("discipline_review", "czj"), ("unit_report", "czj")]
    # the unit reports at last: its work ends, the 纪委 review stays
    flow.reported.add("czj")
    flow.complete("unit_report", {"summary": "迟报"}, "czj")
    flow.complete("office_review", {"decision": "accept"}, "czj")
    assert flow.tasks() == [("discipline_review", "czj")]
    flow.complete("discipline_review", {"finding": "通报批评"}, "czj")
    assert flow.tasks() == [("feedback", None)]


def test_reported_but_unreviewed_at_the_deadline_is_not_urged(flow):
    flow.through_assignment(co_units=())
    flow.complete("unit_receive", {}, "fgj")
    flow.reported.add("fgj")
    flow.complete("unit_report", {"summary": "按时"}, "fgj")
    assert flow.at(2026, 10, 17, 9) == [("deadline_reached", "办理期限届满"), ("remind_due", "临近期限")]
    assert flow.tasks() == [("office_review", "fgj")]


def test_urged_unit_that_reports_before_the_new_limit_is_not_escalated(flow):
    flow.through_assignment(co_units=())
    flow.at(2026, 10, 17, 9)
    flow.limits["fgj"] = "2026-10-21T17:30:00+08:00"
    flow.complete("urge", {"new_limit": "2026-10-21"}, "fgj")
    flow.complete("unit_receive", {}, "fgj")
    flow.reported.add("fgj")
    flow.complete("unit_report", {"summary": "补报"}, "fgj")
    flow.complete("office_review", {"decision": "accept"}, "fgj")
    assert flow.timers() == []
    assert flow.at(2026, 10, 23, 9) == []
    assert flow.tasks() == [("feedback", None)]


def test_completing_a_task_that_is_not_open_is_refused(flow):
    with pytest.raises(ProcessError):
        flow.run.complete("00000000-0000-0000-0000-000000000000", {})


def test_migrating_mid_handling_keeps_each_units_tasks_and_timers(flow):
    """To a new version (specs parsed anew): nothing reruns, no timer is re-armed, each unit keeps its branch."""
    flow.through_assignment(co_units=("czj",))
    flow.complete("unit_receive", {}, "czj")
    before = flow.tasks(), sorted((t.element_id, t.unit, t.due_at) for t in flow.run.waiting_timers())
    flow.clock.advance(hours=3)
    new = copy.copy(flow.definition)
    new.id = 2
    assert flow.runtime.migration_problems(flow.run, new) == []
    flow.runtime.migrate(flow.run, new)
    flow.definition = new
    assert (flow.tasks(), sorted((t.element_id, t.unit, t.due_at) for t in flow.run.waiting_timers())) == before
    assert flow.at(2026, 10, 14, 18) == [("remind_due", "临近期限"), ("remind_due", "临近期限")]
    flow.unit_done("fgj")
    flow.reported.add("czj")
    flow.complete("unit_report", {"summary": "已办结"}, "czj")
    flow.complete("office_review", {"decision": "accept"}, "czj")
    flow.complete("feedback", {"summary": "已反馈"})
    assert flow.run.completed
