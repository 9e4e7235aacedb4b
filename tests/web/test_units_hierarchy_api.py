"""单位层级 over HTTP: parent, category, 督查联络员 and deactivation of units (系统管理员)."""
import pytest

from engine import services
from engine.domain.main_process import check_draft
from tests.integration.flow import complete, register
from tests.support.org import Org
from tests.support.web import assert_error, patch

pytestmark = pytest.mark.usefixtures("sysadmin")


def test_units_form_a_tree_with_categories_and_liaisons(as_):
    sys = as_("sysadmin")
    town = sys.post("/api/v1/admin/units", json={"id": "cgz", "name": "城关镇", "kind": "unit",
                                                  "category": "乡镇（街道）", "parent_id": "xzf"})
    assert town.status_code == 201, town.json
    assert (town.json["parent_id"], town.json["category"], town.json["category_name"], town.json["active"]) == (
        "xzf", "township", "乡镇（街道）", True)
    station = sys.post("/api/v1/admin/units", json={"id": "cgz-nj", "name": "城关镇农技站", "parent_id": "cgz"})
    assert station.status_code == 201 and station.json["category"] is None
    # No cycles: a unit under itself, or under one of its own sub-units, is refused.
    assert "成环" in assert_error(patch(sys, "/api/v1/admin/units/cgz", {"parent_id": "cgz-nj"}), 422)["message"]
    assert "成环" in assert_error(patch(sys, "/api/v1/admin/units/cgz", {"parent_id": "cgz"}), 422)["message"]
    assert "不存在" in assert_error(patch(sys, "/api/v1/admin/units/cgz", {"parent_id": "nowhere"}), 422)["message"]
    assert "分类" in assert_error(patch(sys, "/api/v1/admin/units/cgz", {"category": "village"}), 422)["message"]
    # 督查联络员: an active account of the unit itself, shown by name.
    assert "联络员" in assert_error(patch(sys, "/api/v1/admin/units/fgj", {"liaison": "unit_b"}), 422)["message"]
    named = patch(sys, "/api/v1/admin/units/fgj", {"liaison": "unit_a", "category": "dept"})
    assert (named.json["liaison"], named.json["liaison_name"], named.json["category_name"]) == (
        "unit_a", "发改局 张科长", "县直部门")
    units = {u["id"]: u for u in as_("office").get("/api/v1/units").json}
    assert units["cgz-nj"]["parent_id"] == "cgz" and units["fgj"]["liaison_name"] == "发改局 张科长"
    cleared = patch(sys, "/api/v1/admin/units/cgz-nj", {"parent_id": None, "category": ""})
    assert (cleared.json["parent_id"], cleared.json["category"]) == (None, None)
    detail = as_("auditor").get("/api/v1/audit?action=unit.update").json[0]["detail"]
    assert detail == {"parent_id": ["cgz", None]}


def test_a_unit_with_people_or_open_work_is_not_deactivated(as_, duban_sqlite):
    sys, org = as_("sysadmin"), Org(duban_sqlite)
    register(duban_sqlite, org)
    complete(duban_sqlite, org["office"], "draft_opinion", {"lead_unit": "jyj", "co_units": [], "opinion": "请办理"})
    complete(duban_sqlite, org["leader"], "leader_approval", {"decision": "approve"})
    complete(duban_sqlite, org["office"], "assign", {"notice": "交办通知单"})
    body = assert_error(patch(sys, "/api/v1/admin/units/jyj", {"active": False}), 409)
    assert "未办结的任务" in body["message"] and "签收" in body["message"]
    body = assert_error(patch(sys, "/api/v1/admin/units/fgj", {"active": False}), 409)
    assert "发改局 张科长" in body["message"] and body["details"][0]["field"] == "active"
    # 住建局 has no one and nothing open: it is deactivated, and then no longer chosen as 承办单位.
    done = patch(sys, "/api/v1/admin/units/zjj", {"active": False})
    assert done.status_code == 200 and done.json["active"] is False
    assert {u["id"]: u["active"] for u in as_("office").get("/api/v1/units").json}["zjj"] is False
    register(duban_sqlite, org, title="另一事项")
    task = next(t for t in services.list_tasks(duban_sqlite, org["office"])[0] if t["element_id"] == "draft_opinion")
    shown = as_("office").get(f"/api/v1/tasks/{task['id']}").json
    assert "zjj" not in [o["value"] for o in shown["data"]["unit_options"]]
    refused = as_("office").post(f"/api/v1/tasks/{task['id']}/complete",
                                 json={"data": {"lead_unit": "zjj", "co_units": [], "opinion": "请住建局办理"}})
    assert assert_error(refused, 422)["details"][0]["field"] == "lead_unit"
    # The engine's own check says why, whatever the form offered.
    assert check_draft({"lead_unit": "zjj", "co_units": []}, {"fgj"}, frozenset({"zjj"})) == [
        {"field": "lead_unit", "message": "zjj 已停用，不能作为承办单位"}]
    assert patch(sys, "/api/v1/admin/units/zjj", {"active": True}).json["active"] is True


def test_no_one_joins_a_deactivated_unit_and_a_leaving_liaison_is_cleared(as_):
    sys = as_("sysadmin")
    assert patch(sys, "/api/v1/admin/units/zjj", {"active": False}).status_code == 200
    new = {"username": "zhaoliu", "name": "住建局 赵六", "unit_id": "zjj", "password": "Ch4nge-me!"}
    assert "已停用" in assert_error(sys.post("/api/v1/admin/users", json=new), 422)["message"]
    assert "已停用" in assert_error(patch(sys, "/api/v1/admin/users/unit_b", {"unit_id": "zjj"}), 422)["message"]
    assert patch(sys, "/api/v1/admin/units/fgj", {"liaison": "unit_a"}).json["liaison"] == "unit_a"
    assert patch(sys, "/api/v1/admin/users/unit_a", {"unit_id": "czj"}).status_code == 200
    assert {u["id"]: u for u in sys.get("/api/v1/units").json}["fgj"]["liaison"] is None
    assert patch(sys, "/api/v1/admin/units/czj", {"liaison": "unit_b"}).json["liaison"] == "unit_b"
    assert patch(sys, "/api/v1/admin/users/unit_b", {"active": False}).status_code == 200
    assert {u["id"]: u for u in sys.get("/api/v1/units").json}["czj"]["liaison"] is None
