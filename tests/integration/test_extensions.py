"""延期申请: the unit asks in writing, its head signs, a leader decides; approval moves the unit's
deadline and everything timed from it (reminder, 催办, escalation). On SQLite and PostgreSQL."""
from datetime import timedelta

import pytest

from engine import services
from engine.errors import Conflict, Forbidden, FormInvalid, InvalidInput, NotFound
from engine.models import Extension, Timer
from engine.services import timers
from tests.integration.flow import RECEIVE, REPORT, complete, open_task, through_assignment

ASK = {"reason": "涉及多部门会商，需延长办理期限", "head": "发改局 李局长", "head_signed": True,
       "new_deadline": "2026-10-30"}


def waiting(duban, instance_id, unit):
    with duban.db.reading() as session:
        return {t.element_id: t.due_at for t in session.query(Timer).filter_by(
            instance_id=instance_id, unit_id=unit, state="waiting")}


def decide(duban, org, decision, **extra):
    task = open_task(duban, org["leader"], "extension_review")
    return services.complete_task(duban, org["leader"], task["id"], {"decision": decision, **extra})


def test_an_approved_extension_moves_the_deadline_and_its_timers(duban, org):
    item = through_assignment(duban, org)
    complete(duban, org["unit_a"], "unit_receive", RECEIVE, "fgj")
    before, other = waiting(duban, item["instance_id"], "fgj"), waiting(duban, item["instance_id"], "czj")
    asked = services.request_extension(duban, org["unit_a"], item["id"], ASK)
    assert asked["status"] == "pending" and asked["old_deadline"].date().isoformat() == "2026-10-16"
    task = open_task(duban, org["leader"], "extension_review")
    assert task["item_id"] == item["id"] and task["item_title"] == item["title"]  # in the leader's inbox
    detail = services.get_task(duban, org["leader"], task["id"])
    assert detail["data"]["reason"] == ASK["reason"] and detail["data"]["unit_name"] == "发改局"

    decide(duban, org, "approve", comment="同意")
    after = waiting(duban, item["instance_id"], "fgj")
    assert after["deadline_reached"].date().isoformat() == "2026-10-30"
    assert after["remind_due"] > before["remind_due"]
    assert waiting(duban, item["instance_id"], "czj") == other  # the co-unit's deadline is its own
    ledger = services.get_item(duban, org["office"], item["id"])
    assert {p["unit"]: p["deadline"].date().isoformat() for p in ledger["units"]} == {
        "fgj": "2026-10-30", "czj": "2026-10-16"}
    history = [h["action"] for h in services.get_instance(duban, org["office"], item["instance_id"])["history"]]
    assert "extension_requested" in history and "extension_approved" in history
    assert services.list_extensions(duban, org["office"], item["id"])[0]["status"] == "approved"

    # The old deadline passes: no 催办 for 发改局 (财政局's own deadline still urges it).
    duban.clock.set(ledger["units"][1]["deadline"] + timedelta(hours=1))
    timers.fire_all_due(duban)
    urges = services.list_tasks(duban, org["office"], instance_id=item["instance_id"])[0]
    assert [(t["element_id"], t["unit"]) for t in urges if t["element_id"] == "urge"] == [("urge", "czj")]
    duban.clock.set(ledger["units"][0]["deadline"] + timedelta(hours=1))
    timers.fire_all_due(duban)
    urges = services.list_tasks(duban, org["office"], instance_id=item["instance_id"])[0]
    assert sorted(t["unit"] for t in urges if t["element_id"] == "urge") == ["czj", "fgj"]


def test_a_refused_extension_changes_nothing(duban, org):
    item = through_assignment(duban, org)
    before = waiting(duban, item["instance_id"], "fgj")
    services.request_extension(duban, org["unit_a"], item["id"], ASK)
    decide(duban, org, "refuse", comment="不同意，按原期限办结")
    assert waiting(duban, item["instance_id"], "fgj") == before
    extension = services.list_extensions(duban, org["unit_a"], item["id"])[0]
    assert extension["status"] == "refused" and extension["decided_by"] == "leader"
    assert extension["comment"] == "不同意，按原期限办结"


def test_the_leader_may_grant_less_than_asked(duban, org):
    item = through_assignment(duban, org)
    services.request_extension(duban, org["unit_a"], item["id"], ASK)
    with pytest.raises(FormInvalid):
        decide(duban, org, "approve", approved_deadline="2026-10-01")  # earlier than the deadline
    decide(duban, org, "approve", approved_deadline="2026-10-23")
    assert waiting(duban, item["instance_id"], "fgj")["deadline_reached"].date().isoformat() == "2026-10-23"


def test_after_an_urge_the_extension_moves_the_escalation(duban, org):
    item = through_assignment(duban, org, co_units=())
    complete(duban, org["unit_a"], "unit_receive", RECEIVE, "fgj")
    deadline = services.get_item(duban, org["office"], item["id"])["units"][0]["deadline"]
    duban.clock.set(deadline + timedelta(hours=1))
    timers.fire_all_due(duban)
    complete(duban, org["office"], "urge", {"notice": "请于三日内办结", "new_limit": "2026-10-21"})
    services.request_extension(duban, org["unit_a"], item["id"], {**ASK, "new_deadline": "2026-11-06"})
    decide(duban, org, "approve")
    assert waiting(duban, item["instance_id"], "fgj")["escalation_due"].date().isoformat() == "2026-11-06"
    duban.clock.advance(days=10)  # past the urge limit the office set, before the granted one
    timers.fire_all_due(duban)
    assert not [t for t in services.list_tasks(duban, org["discipline"])[0] if t["element_id"] == "discipline_review"]


def test_requests_are_checked(duban, org):
    item = through_assignment(duban, org)
    with pytest.raises(Forbidden):
        services.request_extension(duban, org["office"], item["id"], {**ASK, "unit": "fgj"})
    with pytest.raises(Forbidden):
        services.request_extension(duban, org["unit_b"], item["id"], {**ASK, "unit": "fgj"})
    with pytest.raises(NotFound):
        services.request_extension(duban, org["discipline"], item["id"], ASK)
    for bad, field in (({"reason": " "}, "reason"), ({"head_signed": False}, "head_signed"),
                       ({"new_deadline": "2026-10-10"}, "new_deadline"), ({"new_deadline": "soon"}, "new_deadline"),
                       ({"head": ""}, "head")):
        with pytest.raises(InvalidInput) as refused:
            services.request_extension(duban, org["unit_a"], item["id"], {**ASK, **bad})
        assert field in {d["field"] for d in refused.value.details}
    services.request_extension(duban, org["unit_a"], item["id"], ASK)
    with pytest.raises(Conflict):
        services.request_extension(duban, org["unit_a"], item["id"], ASK)  # one waiting at a time
    with duban.db.reading() as session:
        assert session.query(Extension).count() == 1


def test_no_extension_once_the_work_is_accepted(duban, org):
    item = through_assignment(duban, org, co_units=())
    complete(duban, org["unit_a"], "unit_receive", RECEIVE, "fgj")
    complete(duban, org["unit_a"], "unit_report", REPORT, "fgj")
    complete(duban, org["office"], "office_review", {"decision": "accept"}, "fgj")
    with pytest.raises(Conflict):
        services.request_extension(duban, org["unit_a"], item["id"], ASK)


def test_an_extension_request_carries_its_files_and_the_uncleared_get_404(duban, org):
    from engine.services import files

    item = through_assignment(duban, org, classification="secret", designees=["leader", "unit_a", "unit_b"])
    minutes = files.upload(duban, org["unit_a"], "会商纪要.pdf", b"%PDF-1.7\n%%EOF\n")
    others = files.upload(duban, org["unit_b"], "财政局的.txt", "说明\n".encode())
    with pytest.raises(InvalidInput) as refused:  # only the unit's own uploads (or the item's files)
        services.request_extension(duban, org["unit_a"], item["id"], {**ASK, "evidence": [others["id"]]})
    assert {d["field"] for d in refused.value.details} == {"evidence"}
    with pytest.raises(InvalidInput):
        services.request_extension(duban, org["unit_a"], item["id"], {**ASK, "evidence": ["会商纪要.pdf"]})

    asked = services.request_extension(duban, org["unit_a"], item["id"], {**ASK, "evidence": [minutes["id"]]})
    assert asked["evidence"] == [minutes["id"]]
    assert services.list_extensions(duban, org["office"], item["id"])[0]["evidence"] == [minutes["id"]]
    assert [f["id"] for f in files.list_item_files(duban, org["office"], item["id"])] == [minutes["id"]]
    review = services.get_task(duban, org["leader"], open_task(duban, org["leader"], "extension_review")["id"])
    assert review["data"]["evidence"] == [minutes["id"]]
    shown = next(c for c in review["form"]["components"] if c.get("key") == "evidence")
    assert shown["type"] == "filepicker" and shown["readonly"] is True
    assert files.download(duban, org["leader"], minutes["id"])[1].startswith(b"%PDF")

    uncleared = org.add_user("office2", "office", "dcs")
    for outsider in (uncleared, org["discipline"]):
        with pytest.raises(NotFound):
            files.download(duban, outsider, minutes["id"])
        with pytest.raises(NotFound):
            services.list_extensions(duban, outsider, item["id"])
    decide(duban, org, "approve")  # the read-only field is not submitted, and the files stay
    assert services.list_extensions(duban, org["unit_a"], item["id"])[0]["evidence"] == [minutes["id"]]
    # The decided review, read again, shows what it was decided on: the request's files and texts with the answer.
    decided = services.get_task(duban, org["leader"], review["id"])
    assert decided["data"]["evidence"] == [minutes["id"]] and decided["data"]["reason"] == ASK["reason"]
    assert decided["data"]["decision"] == "approve"
    duban.clock.advance(days=3)
    assert files.clean_up(duban) == 1  # 财政局's upload that nothing took; the request's stays
    assert files.download(duban, org["unit_a"], minutes["id"])[0]["item_id"] == item["id"]
