"""省长信箱, 人大建议, 政协提案: the office records the requester, the reply and the requester's
satisfaction; the statistics give reply, on-time and satisfaction rates. On SQLite and PostgreSQL."""
from datetime import date, datetime

import pytest

from engine.clock import CHINA
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.services import replies
from tests.integration.flow import complete, register, through_assignment

ASKER = {"requester_name": "张某某", "requester_contact": "138****0000"}


def reply(duban, org, item, text="已答复来信人：项目将于年内开工", **extra):
    return replies.put_reply(duban, org["office"], item["id"], {**ASKER, "text": text, **extra})


def satisfied(duban, org, item, level, **extra):
    return replies.put_satisfaction(duban, org["office"], item["id"], {"satisfaction": level, **extra})


def test_the_office_records_requester_reply_and_satisfaction(duban, org):
    item = register(duban, org, source="mailbox", title="来信反映道路破损")
    assert replies.get_reply(duban, org["office"], item["id"])["text"] is None
    asked = replies.put_reply(duban, org["office"], item["id"], ASKER)  # the requester first, no reply yet
    assert (asked["requester_name"], asked["text"], asked["replied_at"]) == ("张某某", None, None)
    with pytest.raises(Conflict):
        satisfied(duban, org, item, "satisfied")  # nothing to be satisfied with yet

    duban.clock.set(datetime(2026, 9, 29, 10, 0))
    answered = reply(duban, org, item)
    assert answered["replied_at"] == datetime(2026, 9, 29, 10, 0, tzinfo=CHINA) and answered["replied_by"] == "office"
    assert answered["corrections"] == 0
    rated = satisfied(duban, org, item, "basically_satisfied", note="电话回访")
    assert (rated["satisfaction"], rated["satisfaction_name"], rated["satisfaction_on"]) == (
        "basically_satisfied", "基本满意", date(2026, 9, 29))
    assert rated["satisfaction_by"] == "office" and rated["satisfaction_note"] == "电话回访"

    # Corrections are kept, not silent: the reply's text, then the satisfaction.
    corrected = reply(duban, org, item, text="已答复来信人：道路将于10月修复")
    assert corrected["text"] == "已答复来信人：道路将于10月修复" and corrected["corrections"] == 1
    assert corrected["replied_at"] == answered["replied_at"]  # the reply's time stays unless given anew
    assert satisfied(duban, org, item, "satisfied", date="2026-09-29")["corrections"] == 2
    assert reply(duban, org, item, text="已答复来信人：道路将于10月修复")["corrections"] == 2  # no change, no entry
    with pytest.raises(InvalidInput) as refused:
        replies.put_reply(duban, org["office"], item["id"], {**ASKER, "text": " "})
    assert refused.value.details[0]["field"] == "text"  # a reply can be corrected, never removed
    shown = replies.get_reply(duban, org["leader"], item["id"])
    assert (shown["satisfaction"], shown["applies"]) == ("satisfied", True)


def test_reply_rules(duban, org):
    mailbox = register(duban, org, source="mailbox")
    decision = register(duban, org, source="decision")
    with pytest.raises(Conflict):
        reply(duban, org, decision)  # only for 省长信箱, 人大建议, 政协提案
    assert replies.get_reply(duban, org["office"], decision["id"])["applies"] is False
    for username in ("leader",):
        with pytest.raises(Forbidden):
            replies.put_reply(duban, org[username], mailbox["id"], {**ASKER, "text": "答复"})
        with pytest.raises(Forbidden):
            replies.put_satisfaction(duban, org[username], mailbox["id"], {"satisfaction": "satisfied"})
    for username in ("unit_a", "discipline"):
        with pytest.raises(NotFound):
            replies.put_reply(duban, org[username], mailbox["id"], {**ASKER, "text": "答复"})
    assert replies.put_reply(duban, org["admin"], mailbox["id"], {**ASKER, "text": "答复"})["replied_by"] == "admin"
    for bad, field in (({"requester_name": ""}, "requester_name"), ({"replied_at": "2026-09-29"}, "replied_at"),
                       ({"replied_at": "2026-09-27"}, "replied_at"), ({"replied_at": "soon"}, "replied_at"),
                       ({"requester_contact": "1" * 201}, "requester_contact")):
        with pytest.raises(InvalidInput) as refused:
            reply(duban, org, mailbox, **bad)
        assert refused.value.details[0]["field"] == field
    for bad, field in (({"satisfaction": "happy"}, "satisfaction"), ({"date": "2026-09-27"}, "date"),
                       ({"date": "2026-09-29"}, "date"), ({"date": "x"}, "date")):
        with pytest.raises(InvalidInput) as refused:
            replies.put_satisfaction(duban, org["office"], mailbox["id"], {"satisfaction": "satisfied", **bad})
        assert refused.value.details[0]["field"] == field


def test_statistics_by_source(duban, org):
    """Seen on Wednesday 2026-09-30 10:00 (deadlines close at 17:30)."""
    on_time = register(duban, org, source="mailbox", title="来信一", deadline="2026-09-29")
    late = register(duban, org, source="mailbox", title="来信二", deadline="2026-09-29")
    silent_due = register(duban, org, source="mailbox", title="来信三", deadline="2026-09-29")
    register(duban, org, source="mailbox", title="来信四", deadline="2026-10-30")  # no reply, not due yet
    npc = register(duban, org, source="npc_suggestion", title="人大建议一")
    register(duban, org, source="decision", title="不计入")
    rejected = register(duban, org, source="mailbox", title="不予立项")
    complete(duban, org["office"], "draft_opinion", {"lead_unit": "fgj", "co_units": [], "opinion": "办"},
             instance_id=rejected["instance_id"])
    complete(duban, org["leader"], "leader_approval", {"decision": "reject"}, instance_id=rejected["instance_id"])
    assert silent_due["id"]

    duban.clock.set(datetime(2026, 9, 29, 10, 0))
    reply(duban, org, on_time)
    satisfied(duban, org, on_time, "satisfied")
    duban.clock.set(datetime(2026, 9, 30, 9, 0))
    reply(duban, org, late)  # recorded now: after its deadline
    satisfied(duban, org, late, "basically_satisfied")
    reply(duban, org, npc, replied_at="2026-09-29")  # given yesterday (its close of office), recorded today
    satisfied(duban, org, npc, "dissatisfied")
    duban.clock.set(datetime(2026, 9, 30, 10, 0))

    stats = {s["source"]: s for s in replies.source_stats(duban, org["office"])}
    assert list(stats) == ["mailbox", "npc_suggestion", "cppcc_proposal"]
    assert stats["mailbox"] == {
        "source": "mailbox", "source_name": "省长信箱", "items": 4, "replied": 2, "reply_rate": 0.5,
        "due": 3, "on_time": 1, "on_time_rate": 0.3333, "satisfied": 1, "basically_satisfied": 1,
        "dissatisfied": 0, "rated": 2, "satisfaction_rate": 1.0}
    assert stats["npc_suggestion"] == {
        "source": "npc_suggestion", "source_name": "人大代表建议", "items": 1, "replied": 1, "reply_rate": 1.0,
        "due": 1, "on_time": 1, "on_time_rate": 1.0, "satisfied": 0, "basically_satisfied": 0,
        "dissatisfied": 1, "rated": 1, "satisfaction_rate": 0.0}
    assert stats["cppcc_proposal"]["items"] == 0 and stats["cppcc_proposal"]["reply_rate"] is None
    assert stats["cppcc_proposal"]["on_time_rate"] is None and stats["cppcc_proposal"]["satisfaction_rate"] is None
    assert replies.source_stats(duban, org["leader"], year=2025)[0]["items"] == 0
    assert replies.source_stats(duban, org["leader"], year=2026)[0]["items"] == 4
    # A unit counts only the items it takes part in: none here.
    assert [s["items"] for s in replies.source_stats(duban, org["unit_a"])] == [0, 0, 0]
    with pytest.raises(Forbidden):
        replies.source_stats(duban, org["designer"])


def test_secret_items_count_only_for_the_cleared(duban, org):
    org.add_user("office2", "office", "dcs")
    secret = through_assignment(duban, org, source="mailbox", classification="secret", designees=["leader"],
                                title="保密来信")
    reply(duban, org, secret)
    assert replies.source_stats(duban, org["office"])[0]["replied"] == 1
    assert replies.source_stats(duban, org["office2"])[0]["items"] == 0
    with pytest.raises(NotFound):
        replies.get_reply(duban, org["office2"], secret["id"])
    with pytest.raises(NotFound):
        replies.put_reply(duban, org["office2"], secret["id"], {**ASKER, "text": "答复"})
