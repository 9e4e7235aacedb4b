"""The main process through the services, on SQLite and on PostgreSQL."""
import pytest
from sqlalchemy import func, select

from engine import services
from engine.errors import Forbidden, FormInvalid, InvalidInput, NotFound, TaskAlreadyCompleted
from engine.models import HistoryEntry, HumanTask, Instance
from tests.integration.flow import RECEIVE, REPORT, complete, open_task, register, through_assignment, unit_done


def test_registration_computes_the_deadline_and_starts_the_process(duban, org):
    item = register(duban, org)
    assert item["status"] == "drafting" and item["light"] == "green"
    assert item["deadline"].isoformat() == "2026-10-16T09:30:00+00:00"  # 10 working days, 17:30 Beijing
    assert not item["deadline_provisional"]
    instance = services.get_instance(duban, org["office"], item["instance_id"])
    assert instance["definition_key"] == "duban_main" and instance["status"] == "running"
    assert [t["element_id"] for t in instance["tasks"]] == ["draft_opinion"]


def test_the_whole_path_ends_closed_with_its_history(duban, org):
    item = through_assignment(duban, org)
    assert services.get_item(duban, org["office"], item["id"])["status"] == "in_progress"
    unit_done(duban, org, "unit_a", "fgj")
    unit_done(duban, org, "unit_b", "czj")
    complete(duban, org["office"], "feedback", {"summary": "已向领导反馈"})
    final = services.get_item(duban, org["office"], item["id"])
    assert final["status"] == "closed" and final["closed_at"] is not None
    lead = next(p for p in final["units"] if p["role"] == "lead")
    assert (lead["unit"], lead["first_responsible"], lead["handler"]) == ("fgj", "局长", "科员")
    assert lead["reported_at"] and lead["accepted_at"]
    instance = services.get_instance(duban, org["office"], item["instance_id"])
    assert instance["status"] == "completed" and instance["tasks"] == [] and instance["timers"] == []
    completed = [(h["actor"], h["element_id"]) for h in instance["history"] if h["action"] == "completed"]
    assert completed == [
        ("office", "draft_opinion"), ("leader", "leader_approval"), ("office", "assign"),
        ("unit_a", "unit_receive"), ("unit_a", "unit_report"), ("office", "office_review"),
        ("unit_b", "unit_receive"), ("unit_b", "unit_report"), ("office", "office_review"),
        ("office", "feedback"),
    ]
    report = next(h for h in instance["history"] if h["element_id"] == "unit_report" and h["action"] == "completed")
    assert report["data"] == {**REPORT, "evidence": []} and report["unit"] == "fgj"  # no 佐证材料 attached


def test_a_task_cannot_be_completed_twice(duban, org):
    register(duban, org)
    task = complete(duban, org["office"], "draft_opinion", {"lead_unit": "fgj", "co_units": [], "opinion": "x"})
    with pytest.raises(TaskAlreadyCompleted):
        services.complete_task(duban, org["office"], task["id"], {"lead_unit": "fgj", "opinion": "x"})


def test_units_work_only_their_own_tasks(duban, org):
    through_assignment(duban, org)
    task_a = open_task(duban, org["unit_a"], "unit_receive", "fgj")
    assert [t["unit"] for t in services.list_tasks(duban, org["unit_b"])[0]] == ["czj"]
    # a co-unit of the same item neither sees the lead unit's task nor works it: units see their own
    with pytest.raises(NotFound):
        services.get_task(duban, org["unit_b"], task_a["id"])
    with pytest.raises(NotFound):
        services.complete_task(duban, org["unit_b"], task_a["id"], RECEIVE)
    # a unit with no part in the item does not learn the task exists
    outsider = org.add_user("unit_c", "unit", "jyj")
    with pytest.raises(NotFound):
        services.get_task(duban, outsider, task_a["id"])
    with pytest.raises(NotFound):
        services.complete_task(duban, outsider, task_a["id"], RECEIVE)
    with pytest.raises(NotFound):
        services.get_item(duban, outsider, task_a["item_id"])
    # once done, the lead unit's 签收 (its persons, its committed date) is still its own
    services.complete_task(duban, org["unit_a"], task_a["id"], RECEIVE)
    with pytest.raises(NotFound):
        services.get_task(duban, org["unit_b"], task_a["id"])
    assert services.get_task(duban, org["unit_a"], task_a["id"])["data"]["handler"] == RECEIVE["handler"]
    assert services.get_task(duban, org["office"], task_a["id"])["data"]["handler"] == RECEIVE["handler"]


def test_roles_are_enforced(duban, org):
    with pytest.raises(Forbidden):
        services.register_item(duban, org["unit_a"], {"title": "越权立项"})
    register(duban, org)
    draft = open_task(duban, org["office"], "draft_opinion")
    with pytest.raises(Forbidden):
        services.complete_task(duban, org["leader"], draft["id"], {"lead_unit": "fgj", "opinion": "x"})


def test_invalid_form_data_is_refused_and_changes_nothing(duban, org):
    item = register(duban, org)
    draft = open_task(duban, org["office"], "draft_opinion")
    before = _counts(duban, item["instance_id"])
    with pytest.raises(FormInvalid) as caught:
        services.complete_task(duban, org["office"], draft["id"], {"co_units": ["nowhere"]})
    assert {d["field"] for d in caught.value.details} == {"lead_unit", "opinion", "co_units"}
    with pytest.raises(FormInvalid, match="牵头单位不能同时作为配合单位"):
        services.complete_task(duban, org["office"], draft["id"],
                               {"lead_unit": "fgj", "co_units": ["fgj"], "opinion": "x"})
    with pytest.raises(FormInvalid) as caught:
        services.complete_task(duban, org["office"], draft["id"], {"lead_unit": "dcs", "opinion": "x"})
    assert caught.value.details[0]["field"] == "lead_unit"  # the office is no handling unit
    assert _counts(duban, item["instance_id"]) == before
    assert open_task(duban, org["office"], "draft_opinion")["id"] == draft["id"]


def test_committed_date_may_not_pass_the_deadline(duban, org):
    through_assignment(duban, org, co_units=())
    with pytest.raises(FormInvalid, match="承诺办结时限不得晚于"):
        complete(duban, org["unit_a"], "unit_receive", {**RECEIVE, "committed_date": "2026-10-20"}, "fgj")


def test_report_needs_the_deputys_signature(duban, org):
    through_assignment(duban, org, co_units=())
    complete(duban, org["unit_a"], "unit_receive", RECEIVE, "fgj")
    with pytest.raises(FormInvalid) as caught:
        complete(duban, org["unit_a"], "unit_report", {"summary": "好", "approved_by_deputy": False}, "fgj")
    assert caught.value.details[0]["field"] == "approved_by_deputy"


def test_claimed_tasks_belong_to_the_claimant(duban, org):
    register(duban, org)
    colleague = org.add_user("office2", "office", "dcs")
    draft = open_task(duban, org["office"], "draft_opinion")
    services.claim_task(duban, org["office"], draft["id"])
    assert services.list_tasks(duban, colleague)[0] == []
    with pytest.raises(TaskAlreadyCompleted):
        services.claim_task(duban, colleague, draft["id"])
    with pytest.raises(Forbidden):
        services.complete_task(duban, colleague, draft["id"], {"lead_unit": "fgj", "opinion": "x"})
    services.unclaim_task(duban, org["office"], draft["id"])
    assert [t["id"] for t in services.list_tasks(duban, colleague)[0]] == [draft["id"]]


def test_leader_rejection_ends_the_item(duban, org):
    item = register(duban, org)
    complete(duban, org["office"], "draft_opinion", {"lead_unit": "fgj", "co_units": [], "opinion": "x"})
    complete(duban, org["leader"], "leader_approval", {"decision": "reject"})
    assert services.get_item(duban, org["office"], item["id"])["status"] == "rejected"


def test_major_items_wait_for_the_leaders_signoff(duban, org):
    item = through_assignment(duban, org, co_units=(), category="major")
    assert item["deadline"].isoformat() == "2026-10-30T09:30:00+00:00"  # 20 working days
    unit_done(duban, org, "unit_a", "fgj")
    assert services.get_item(duban, org["office"], item["id"])["status"] == "signoff"
    complete(duban, org["leader"], "leader_signoff", {"decision": "approve"})
    assert services.get_item(duban, org["office"], item["id"])["status"] == "feedback"


def test_item_input_is_checked(duban, org):
    with pytest.raises(InvalidInput) as caught:
        services.register_item(duban, org["office"], {"title": " ", "source": "rumour", "category": "huge"})
    assert {d["field"] for d in caught.value.details} == {"title", "source", "category"}
    with pytest.raises(InvalidInput):
        services.register_item(duban, org["office"], {"title": "过期", "deadline": "2020-01-01"})
    with pytest.raises(InvalidInput):
        services.register_item(duban, org["office"], {"title": "乱写", "deadline": "someday"})


def test_the_ledger_lists_what_each_user_may_see(duban, org):
    through_assignment(duban, org, co_units=(), title="发改局事项")
    register(duban, org, title="尚未交办")
    assert [i["title"] for i in services.list_items(duban, org["office"])[0]] == ["尚未交办", "发改局事项"]
    assert [i["title"] for i in services.list_items(duban, org["unit_a"])[0]] == ["发改局事项"]
    assert services.list_items(duban, org["unit_b"])[0] == []
    assert [i["title"] for i in services.list_items(duban, org["office"], text="发改")[0]] == ["发改局事项"]
    assert services.list_items(duban, org["office"], status="drafting")[1] == 1


def _counts(duban, instance_id):
    with duban.db.reading() as session:
        instance = session.get(Instance, instance_id)
        return (
            instance.version,
            session.scalar(select(func.count()).select_from(HistoryEntry)
                           .where(HistoryEntry.instance_id == instance_id)),
            session.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.instance_id == instance_id)),
        )
