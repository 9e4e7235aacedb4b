"""决策依据: the reason of a return where the next person acts (task, notification, history), what each
decision rests on (办理依据, `basis` of a task), the item's whole file (办理记录), and names, not codes."""
import io

from tests.support.web import Browser, assert_error

PDF = b"%PDF-1.4\n%%EOF\n"
RETURN_REASON = "请补充资金来源明细"


def _task(as_, user, element, unit=None):
    tasks = as_(user).get("/api/v1/tasks").json
    return next(t for t in tasks if t["element_id"] == element and (unit is None or t["unit"] == unit))


def _complete(as_, user, element, data, unit=None):
    task = _task(as_, user, element, unit)
    answer = as_(user).post(f"/api/v1/tasks/{task['id']}/complete", json={"data": data})
    assert answer.status_code == 200, answer.json
    return task


def _basis(as_, user, element, unit=None):
    task = _task(as_, user, element, unit)
    detail = as_(user).get(f"/api/v1/tasks/{task['id']}")
    assert detail.status_code == 200, detail.json
    return detail.json["basis"]


def _values(entry):
    return {f["label"]: f["value"] for f in entry["fields"]}


def _up_to_reports(as_):
    """A 重大 item approved after one return, assigned to 发改局 (lead) and 财政局, both received."""
    item = as_("office").post("/api/v1/items", json={"title": "资金保障督办", "content": "落实专项资金",
                                                     "category": "major", "deadline": "2030-06-28"}).json
    draft = {"lead_unit": "fgj", "co_units": ["czj"], "opinion": "请发改局牵头办理"}
    _complete(as_, "office", "draft_opinion", draft)
    _complete(as_, "leader", "leader_approval", {"decision": "return", "comment": "请明确配合单位职责"})
    _complete(as_, "office", "draft_opinion", draft)
    _complete(as_, "leader", "leader_approval", {"decision": "approve", "comment": "请抓紧办理"})
    _complete(as_, "office", "assign", {"notice": "交办通知单"})
    receive = {"first_responsible": "局长", "responsible": "科长", "handler": "科员", "committed_date": "2030-06-20"}
    for user, unit in (("unit_a", "fgj"), ("unit_b", "czj")):
        _complete(as_, user, "unit_receive", receive, unit)
    return item


def test_a_leader_return_reaches_the_next_draft_and_approval_shows_units_and_deadline(as_):
    item = as_("office").post("/api/v1/items", json={"title": "退回拟办", "deadline": "2030-06-28"}).json
    _complete(as_, "office", "draft_opinion", {"lead_unit": "fgj", "co_units": ["czj", "jyj"], "opinion": "拟办"})
    approval = _basis(as_, "leader", "leader_approval")
    assert approval["returned"] is None
    draft = approval["entries"][0]
    assert _values(draft) == {"牵头单位": "发改局", "配合单位": "财政局、教育局", "拟办意见": "拟办"}
    assert draft["by_name"] == "督查室 王主任" and draft["by"] == "office"
    assert approval["facts"][0]["label"] == "办理时限" and approval["facts"][0]["value"].startswith("2030-06-28")

    approval_task = _task(as_, "leader", "leader_approval")
    refused = assert_error(as_("leader").post(f"/api/v1/tasks/{approval_task['id']}/complete",
                                              json={"data": {"decision": "return", "comment": "  "}}), 422)
    assert refused["details"] == [{"field": "comment", "message": "退回时请写明原因，下一步办理人将在其待办中看到"}]
    _complete(as_, "leader", "leader_approval", {"decision": "return", "comment": "请明确配合单位职责"})
    returned = _basis(as_, "office", "draft_opinion")["returned"]
    assert returned["reason"] == "请明确配合单位职责" and returned["by_name"] == "县政府 李副县长"
    assert returned["title"] == "领导审批" and returned["returned"] is True
    note = next(n for n in as_("office").get("/api/v1/notifications").json if n["title"].startswith("退回"))
    assert "请明确配合单位职责" in note["body"] and "县政府 李副县长" in note["body"] and item["title"] in note["title"]


def test_an_office_return_reaches_the_unit_with_reason_and_report(as_):
    item = _up_to_reports(as_)
    evidence = as_("unit_b").post("/api/v1/files", data={"file": (io.BytesIO(PDF), "资金测算表.pdf"),
                                                         "item_id": str(item["id"])},
                                  content_type="multipart/form-data").json
    _complete(as_, "unit_b", "unit_report", {"summary": "资金已落实", "approved_by_deputy": True,
                                             "evidence": [evidence["id"]]}, "czj")
    review = _basis(as_, "office", "office_review", "czj")
    report = review["entries"][0]
    assert report["unit_name"] == "财政局" and report["by_name"] == "财政局 刘科长"
    assert _values(report)["办结情况报告"] == "资金已落实"
    files = next(f for f in report["fields"] if f["type"] == "files")["files"]
    assert files == [{"id": evidence["id"], "name": "资金测算表.pdf", "size": len(PDF)}]

    _complete(as_, "office", "office_review", {"decision": "return", "comment": RETURN_REASON}, "czj")
    basis = _basis(as_, "unit_b", "unit_report", "czj")
    assert basis["returned"]["reason"] == RETURN_REASON and basis["returned"]["by_name"] == "督查室 王主任"
    assert _values(basis["entries"][0])["办结情况报告"] == "资金已落实"  # the report sent back
    note = next(n for n in as_("unit_b").get("/api/v1/notifications").json if n["title"].startswith("退回"))
    assert note["body"].startswith(f"退回原因：{RETURN_REASON} — 督查室 王主任，")
    assert not any(RETURN_REASON in n["body"] for n in as_("unit_a").get("/api/v1/notifications").json)

    inbox = next(t for t in as_("unit_b").get("/api/v1/tasks").json if t["element_id"] == "unit_report")
    as_("unit_b").post(f"/api/v1/tasks/{inbox['id']}/claim")
    claimed = next(t for t in as_("unit_b").get("/api/v1/tasks").json if t["id"] == inbox["id"])
    assert claimed["assignee"] == "unit_b" and claimed["assignee_name"] == "财政局 刘科长"  # code, and name beside it
    instance = as_("office").get(f"/api/v1/instances/{item['instance_id']}").json
    assert instance["started_by"] == "office" and instance["started_by_name"] == "督查室 王主任"
    assert {t["assignee_name"] for t in instance["tasks"] if t["assignee"]} == {"财政局 刘科长"}
    history = instance["history"]
    back = next(h for h in history if h["reason"] == RETURN_REASON)
    assert back["actor_name"] == "督查室 王主任" and back["unit_name"] == "财政局"
    # 发改局 sees its item's history, but not what 财政局 reported or why it was sent back
    seen = as_("unit_a").get(f"/api/v1/instances/{item['instance_id']}").json["history"]
    assert all(h["data"] is None and h["reason"] is None for h in seen if h["unit"] == "czj")
    assert any(h["unit"] == "czj" for h in seen) and all(h["unit_name"] != "czj" for h in seen)


def test_signoff_rests_on_every_report_and_the_item_record_is_the_whole_file(as_):
    item = _up_to_reports(as_)
    _complete(as_, "unit_a", "unit_report", {"summary": "项目已开工", "approved_by_deputy": True}, "fgj")
    _complete(as_, "office", "office_review", {"decision": "accept"}, "fgj")
    _complete(as_, "unit_b", "unit_report", {"summary": "初稿", "approved_by_deputy": True}, "czj")
    _complete(as_, "office", "office_review", {"decision": "return", "comment": RETURN_REASON}, "czj")
    _complete(as_, "unit_b", "unit_report", {"summary": "资金来源已列明", "approved_by_deputy": True}, "czj")
    again = as_("office").get(f"/api/v1/tasks/{_task(as_, 'office', 'office_review', 'czj')['id']}").json["data"]
    assert "decision" not in again and "comment" not in again  # the earlier 退回 does not fill in this review
    _complete(as_, "office", "office_review", {"decision": "accept", "comment": "同意"}, "czj")
    signing = as_("leader").get(f"/api/v1/tasks/{_task(as_, 'leader', 'leader_signoff')['id']}").json["data"]
    assert "decision" not in signing and "comment" not in signing  # nor the approval's 同意 this signature

    signoff = _basis(as_, "leader", "leader_signoff")
    assert [(e["unit_name"], _values(e)["办结情况报告"]) for e in signoff["entries"]] == [
        ("发改局", "项目已开工"), ("财政局", "资金来源已列明")]
    assert signoff["entries"][1]["review"]["by_name"] == "督查室 王主任"
    assert _values(signoff["entries"][1]["review"])["审核意见"] == "审核通过"
    _complete(as_, "leader", "leader_signoff", {"decision": "approve", "comment": "同意销号"})
    assert len(_basis(as_, "office", "feedback")["entries"]) == 2

    record = as_("office").get(f"/api/v1/items/{item['id']}/record")
    assert record.status_code == 200
    titles = [(e["title"], e["unit_name"]) for e in record.json]
    assert titles[0] == ("立项", None) and ("领导签发", None) in titles
    reasons = [e["reason"] for e in record.json if e["returned"]]
    assert reasons == ["请明确配合单位职责", RETURN_REASON]
    approval = next(e for e in record.json if e["title"] == "领导审批" and not e["returned"])
    assert _values(approval) == {"审批意见": "同意立项", "批示": "请抓紧办理"}
    assert [e["at"] for e in record.json] == sorted(e["at"] for e in record.json)
    received = next(e for e in record.json if e["title"] == "签收" and e["unit"] == "fgj")
    assert _values(received)["承诺办结时限"] == "2030-06-20"  # a date field, labelled by its dateLabel

    own = as_("unit_a").get(f"/api/v1/items/{item['id']}/record").json
    assert {e["unit"] for e in own} == {None, "fgj"} and RETURN_REASON not in str(own)
    assert_error(as_("discipline").get(f"/api/v1/items/{item['id']}/record"), 404)
    assert_error(as_("office").get("/api/v1/items/999999/record"), 404)


def test_the_task_page_shows_the_return_and_basis_and_the_item_page_the_record(app, as_):
    item = _up_to_reports(as_)
    _complete(as_, "unit_b", "unit_report", {"summary": "资金已落实", "approved_by_deputy": True}, "czj")
    _complete(as_, "office", "office_review", {"decision": "return", "comment": RETURN_REASON}, "czj")
    task = _task(as_, "unit_b", "unit_report", "czj")
    browser = Browser(app, "unit_b")
    page = browser.get(f"/tasks/{task['id']}").get_data(as_text=True)
    assert f"退回原因：{RETURN_REASON}" in page and "督查室 王主任" in page
    assert page.index("退回原因") < page.index('id="form"')
    assert "办理依据" in page and "资金已落实" in page
    record = browser.get(f"/items/{item['id']}").get_data(as_text=True)
    assert "办理记录" in record and RETURN_REASON in record and "请抓紧办理" in record
    assert ">czj<" not in record and "unit_b" not in record.split("办理记录")[1]
