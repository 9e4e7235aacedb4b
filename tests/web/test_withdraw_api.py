"""撤销 over HTTP: the office withdraws its own mistaken item with a reason; everyone else is refused."""
from engine import services
from engine.models import Item
from tests.integration.flow import complete, through_assignment
from tests.support.org import Org
from tests.support.web import assert_error


def test_the_office_withdraws_an_item_in_progress(as_, duban_sqlite):
    org = Org(duban_sqlite)
    item = through_assignment(duban_sqlite, org)
    services.request_extension(duban_sqlite, org["unit_a"], item["id"], {
        "reason": "需要更多时间", "head": "发改局局长", "head_signed": True, "new_deadline": "2026-12-31"})
    office = as_("office")
    path = f"/api/v1/items/{item['id']}/withdraw"
    for who in ("leader", "unit_a", "admin"):
        assert "督查室" in assert_error(as_(who).post(path, json={"reason": "误登"}), 403)["message"]
    assert "理由" in assert_error(office.post(path, json={"reason": "  "}), 422)["message"]
    answer = office.post(path, json={"reason": "与第 3 号事项重复，误登记"})
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert (body["status"], body["status_name"], body["withdrawn_reason"], body["withdrawn_by"]) == (
        "withdrawn", "已撤销", "与第 3 号事项重复，误登记", "office")
    assert body["withdrawn_by_name"] == "督查室 王主任" and body["withdrawn_at"]
    instance = services.get_instance(duban_sqlite, org["office"], item["instance_id"])
    assert instance["status"] == "terminated" and instance["tasks"] == []
    assert instance["history"][-1]["action"] == "withdrawn"
    # The units' tasks, the leader's 延期审批 and their timers are gone; the request is withdrawn.
    for who in ("unit_a", "unit_b", "leader"):
        assert [t for t in services.list_tasks(duban_sqlite, org[who])[0] if t["item_id"] == item["id"]] == []
    assert services.list_extensions(duban_sqlite, org["office"], item["id"])[0]["status"] == "withdrawn"
    heard = as_("unit_a").get("/api/v1/notifications").json
    assert any(n["kind"] == "withdrawn" and "误登记" in n["body"] for n in heard)
    # Once ended it cannot be withdrawn again; the ledger and the audit log say so.
    assert "已撤销" in assert_error(office.post(path, json={"reason": "再撤"}), 409)["message"]
    rows = office.get("/api/v1/items?status=withdrawn").json
    assert [r["id"] for r in rows] == [item["id"]] and rows[0]["status_name"] == "已撤销"
    audit = as_("auditor").get("/api/v1/audit?action=instance.withdrawn").json
    assert audit and audit[0]["actor"] == "office"


def test_a_closed_or_foreign_item_is_not_withdrawn(as_, duban_sqlite):
    org = Org(duban_sqlite)
    item = through_assignment(duban_sqlite, org, co_units=())
    complete(duban_sqlite, org["unit_a"], "unit_receive", {"first_responsible": "局长", "responsible": "科长",
                                                           "handler": "科员", "committed_date": "2026-10-15"})
    rejected = services.register_item(duban_sqlite, org["office"], {"title": "另一件事", "source": "other"})
    complete(duban_sqlite, org["office"], "draft_opinion", {"lead_unit": "fgj", "co_units": [], "opinion": "请办"},
             instance_id=rejected["instance_id"])
    complete(duban_sqlite, org["leader"], "leader_approval", {"decision": "reject"},
             instance_id=rejected["instance_id"])
    body = assert_error(as_("office").post(f"/api/v1/items/{rejected['id']}/withdraw", json={"reason": "误"}), 409)
    assert "不予立项" in body["message"]
    # An item registered by someone without the office role (a designer's own process) is not the
    # office's to withdraw.
    with duban_sqlite.db.transaction() as session:
        session.get(Item, item["id"]).created_by = "designer"
    body = assert_error(as_("office").post(f"/api/v1/items/{item['id']}/withdraw", json={"reason": "误"}), 403)
    assert "县委办 流程设计员" in body["message"]
    assert_error(as_("unit_b").post("/api/v1/items/999999/withdraw", json={"reason": "误"}), 404)
