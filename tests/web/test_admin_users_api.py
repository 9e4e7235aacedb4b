"""The system administrator's accounts and units (三员分立): create, edit, deactivate; open tasks handed on."""
import io

import pytest

from engine import services
from engine.models import HistoryEntry
from tests.integration.flow import RECEIVE, through_assignment
from tests.support.org import Org
from tests.support.web import assert_error, patch

STRONG = "Ch4nge-me!"
OTHER = "Zhang-San-2026"
NEW = {"username": "zhangsan", "name": "发改局 张三", "unit_id": "fgj", "password": STRONG}

pytestmark = pytest.mark.usefixtures("sysadmin")  # the app with a `sysadmin` account (tests/web/conftest.py)


def token(client, username, password="duban-demo"):
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.get_data(as_text=True)
    return {"Authorization": f"Bearer {response.json['token']}"}


MATRIX = [
    ("post", "/api/v1/admin/users", NEW),
    ("patch", "/api/v1/admin/users/unit_b", {"name": "财政局 刘科长（改）"}),
    ("get", "/api/v1/admin/users/unit_a/open-tasks", None),
    ("post", "/api/v1/admin/units", {"id": "xz01", "name": "城关镇", "kind": "unit"}),
    ("patch", "/api/v1/admin/units/jyj", {"name": "教育和体育局"}),
    ("get", "/api/v1/admin/import/template.xlsx", None),
]


@pytest.mark.parametrize("method,path,body", MATRIX, ids=[f"{m} {p}" for m, p, _ in MATRIX])
def test_only_the_system_administrator_manages_accounts_and_units(as_, method, path, body):
    for username in ("office", "leader", "unit_a", "secadmin", "auditor", "designer"):
        caller = as_(username)
        response = getattr(caller.client, method)(path, headers=caller.headers, json=body)
        assert "系统管理员" in assert_error(response, 403, "forbidden")["message"]
    for username in ("sysadmin", "admin"):  # the demo's `admin` does system work too
        caller = as_(username)
        response = getattr(caller.client, method)(path, headers=caller.headers, json=body)
        assert response.status_code in (200, 201, 409), (username, response.get_data(as_text=True))


def test_a_new_account_signs_in_and_must_change_its_first_password(client, as_):
    created = as_("sysadmin").post("/api/v1/admin/users", json={**NEW, "email": "zs@example.cn"})
    assert created.status_code == 201, created.json
    assert created.json["username"] == "zhangsan" and created.json["unit"] == "fgj"
    assert created.json["roles"] == [] and created.json["password_change_required"] is True
    assert "password" not in created.json and "password_hash" not in created.json
    headers = token(client, "zhangsan", STRONG)
    assert_error(client.get("/api/v1/tasks", headers=headers), 403, "password_change_required")
    assert client.post("/api/v1/me/password", headers=headers,
                       json={"old_password": STRONG, "new_password": OTHER}).status_code == 204
    assert client.get("/api/v1/me", headers=headers).json["unit"] == "fgj"
    # Roles are the security administrator's to grant (三员分立), and it may: it did not set the password.
    granted = as_("secadmin").post("/api/v1/admin/users/zhangsan/roles", json={"role": "unit"})
    assert granted.status_code == 200 and granted.json["roles"] == ["unit"]


def test_new_accounts_are_checked(as_):
    sys = as_("sysadmin")
    assert_error(sys.post("/api/v1/admin/users", json={**NEW, "username": "unit_a"}), 409, "conflict")
    body = assert_error(sys.post("/api/v1/admin/users", json={**NEW, "password": "Password1"}), 422)
    assert {d["field"] for d in body["details"]} == {"password"} and "最常见的口令" in body["message"]
    body = assert_error(sys.post("/api/v1/admin/users", json={**NEW, "unit_id": "nowhere"}), 422)
    assert body["message"] == "单位“nowhere”不存在"
    body = assert_error(sys.post("/api/v1/admin/users", json={**NEW, "username": "张 三"}), 422)
    assert "用户名" in body["message"]
    assert_error(sys.post("/api/v1/admin/users", json={"username": "x1", "name": "某"}), 422)


def test_editing_an_account_is_audited(as_):
    changed = patch(as_("sysadmin"), "/api/v1/admin/users/unit_b", {"name": "财政局 刘处长", "unit_id": "jyj",
                                                                    "email": "liu@example.cn"})
    assert changed.status_code == 200, changed.json
    assert (changed.json["display_name"], changed.json["unit"], changed.json["email"]) == \
        ("财政局 刘处长", "jyj", "liu@example.cn")
    assert as_("unit_b").get("/api/v1/me").json["unit"] == "jyj"
    records = as_("auditor").get("/api/v1/audit?action=user.update").json
    assert records[0]["actor"] == "sysadmin" and records[0]["target"] == "user:unit_b"
    assert records[0]["detail"]["unit_id"] == ["czj", "jyj"]
    assert_error(patch(as_("sysadmin"), "/api/v1/admin/users/unit_b", {"unit_id": "nowhere"}), 422)
    assert_error(patch(as_("sysadmin"), "/api/v1/admin/users/nobody", {"name": "某"}), 404)


def test_a_deactivated_user_cannot_sign_in_and_keeps_their_history(app, client, as_, duban_sqlite):
    org = Org(duban_sqlite)
    item = through_assignment(duban_sqlite, org)
    task = next(t for t in services.list_tasks(duban_sqlite, org["unit_a"])[0] if t["element_id"] == "unit_receive")
    services.claim_task(duban_sqlite, org["unit_a"], task["id"])
    session_of_unit_a = as_("unit_a")
    assert session_of_unit_a.get("/api/v1/me").status_code == 200

    off = patch(as_("sysadmin"), "/api/v1/admin/users/unit_a", {"active": False})
    assert off.status_code == 200 and off.json["active"] is False
    assert_error(session_of_unit_a.get("/api/v1/me"), 401)  # its token ends at once
    assert_error(client.post("/api/v1/auth/token", json={"username": "unit_a", "password": "duban-demo"}), 401)
    # History keeps the name: the account and what it did are still there.
    listed = {u["username"]: u for u in as_("secadmin").get("/api/v1/admin/users?page_size=100").json}
    assert listed["unit_a"]["active"] is False and listed["unit_a"]["display_name"] == "发改局 张科长"
    with duban_sqlite.db.reading() as session:
        assert session.query(HistoryEntry).filter_by(actor="unit_a", action="claimed").count() == 1
    record = as_("auditor").get("/api/v1/audit?action=user.deactivate").json[0]
    assert record["detail"] == {"tokens_revoked": 1, "open_tasks": 1}

    # Its claimed task is listed, and handed back to the unit's pool.
    open_ = as_("sysadmin").get("/api/v1/admin/users/unit_a/open-tasks")
    assert open_.status_code == 200 and [t["id"] for t in open_.json] == [task["id"]]
    assert open_.json[0]["item_title"] == item["title"] and open_.json[0]["unit_name"] == "发改局"
    assert open_.json[0]["pooled"] is True
    back = as_("sysadmin").post(f"/api/v1/admin/users/unit_a/open-tasks/{task['id']}/reassign", json={})
    assert back.status_code == 200, back.json
    assert as_("sysadmin").get("/api/v1/admin/users/unit_a/open-tasks").json == []
    org.add_user("unit_a2", "unit", "fgj")
    mine = services.claim_task(duban_sqlite, org["unit_a2"], task["id"])
    assert mine["assignee"] == "unit_a2"
    services.complete_task(duban_sqlite, org["unit_a2"], task["id"], RECEIVE)

    on = patch(as_("sysadmin"), "/api/v1/admin/users/unit_a", {"active": True})
    assert on.status_code == 200 and on.json["active"] is True
    assert client.post("/api/v1/auth/token", json={"username": "unit_a", "password": "duban-demo"}).status_code == 200


def test_a_task_is_handed_to_a_person_who_fits_it(as_, duban_sqlite):
    org = Org(duban_sqlite)
    through_assignment(duban_sqlite, org)
    task = next(t for t in services.list_tasks(duban_sqlite, org["unit_a"])[0] if t["element_id"] == "unit_receive")
    services.claim_task(duban_sqlite, org["unit_a"], task["id"])
    path = f"/api/v1/admin/users/unit_a/open-tasks/{task['id']}/reassign"
    body = assert_error(as_("sysadmin").post(path, json={"to": "unit_b"}), 409)  # another unit
    assert "unit_b 不能接手" in body["message"]
    org.add_user("unit_a2", "unit", "fgj")
    handed = as_("sysadmin").post(path, json={"to": "unit_a2"})
    assert handed.status_code == 200
    assert services.get_task(duban_sqlite, org["unit_a2"], task["id"])["assignee"] == "unit_a2"
    assert_error(as_("sysadmin").post(path, json={}), 404)  # no longer unit_a's
    assert_error(as_("secadmin").post(f"/api/v1/admin/users/unit_a2/open-tasks/{task['id']}/reassign", json={}),
                 403)


def test_no_one_deactivates_themselves_or_those_who_check_them(as_):
    sys = as_("sysadmin")
    assert "本人" in assert_error(patch(sys, "/api/v1/admin/users/sysadmin", {"active": False}), 403)["message"]
    for overseer in ("secadmin", "auditor"):
        body = assert_error(patch(sys, f"/api/v1/admin/users/{overseer}", {"active": False}), 403)
        assert "三员分立" in body["message"]


def test_units_are_created_and_edited(as_):
    sys = as_("sysadmin")
    created = sys.post("/api/v1/admin/units", json={"id": "cgz", "name": "城关镇", "kind": "承办单位"})
    assert created.status_code == 201, created.json
    assert created.json == {"id": "cgz", "name": "城关镇", "kind": "unit", "kind_name": "承办单位",
                            "sort": created.json["sort"], "parent_id": None, "category": None, "category_name": None,
                            "active": True, "liaison": None, "liaison_name": None}
    units = {u["id"]: u for u in sys.get("/api/v1/units").json}
    assert units["cgz"]["name"] == "城关镇" and list(units)[-1] == "cgz"
    assert_error(sys.post("/api/v1/admin/units", json={"id": "cgz", "name": "又一个"}), 409)
    assert "类别" in assert_error(sys.post("/api/v1/admin/units", json={"id": "x2", "name": "某",
                                                                          "kind": "town"}), 422)["message"]
    assert_error(sys.post("/api/v1/admin/units", json={"id": "带空格 的", "name": "某"}), 422)
    renamed = patch(sys, "/api/v1/admin/units/cgz", {"name": "城关镇人民政府"})
    assert renamed.status_code == 200 and renamed.json["name"] == "城关镇人民政府"
    assert as_("auditor").get("/api/v1/audit?action=unit.*").json[0]["detail"] == {"name": ["城关镇", "城关镇人民政府"]}
    assert_error(patch(sys, "/api/v1/admin/units/nowhere", {"name": "某"}), 404)
    # A new user may belong to the new unit.
    assert sys.post("/api/v1/admin/users", json={**NEW, "unit_id": "cgz"}).status_code == 201


def test_a_workbook_is_imported_over_http_with_a_report(as_):
    from tests.support.workbooks import workbook

    sys = as_("sysadmin")
    template = sys.get("/api/v1/admin/import/template.xlsx")
    assert template.status_code == 200 and template.data[:2] == b"PK"
    assert "attachment" in template.headers["Content-Disposition"]
    data = workbook(units=[("cgz", "城关镇", "承办单位")], users=[("wangwu", "王五", "cgz", "", STRONG),
                                                             ("unit_a", "重名", "fgj", "", STRONG)])
    answer = sys.client.post("/api/v1/admin/import", headers=sys.headers,
                             data={"file": (io.BytesIO(data), "名单.xlsx")},
                             content_type="multipart/form-data")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert (answer.json["created"], answer.json["refused"]) == (2, 1)
    assert answer.json["rows"][2] == {"sheet": "用户", "row": 3, "key": "unit_a", "created": False,
                                      "message": "用户名“unit_a”已存在"}
    refused = sys.client.post("/api/v1/admin/import", headers=sys.headers,
                              data={"file": (io.BytesIO(b"not excel"), "x.xlsx")},
                              content_type="multipart/form-data")
    assert "Excel" in assert_error(refused, 422)["message"]
    office = as_("office")
    assert_error(office.client.post("/api/v1/admin/import", headers=office.headers,
                                    data={"file": (io.BytesIO(data), "x.xlsx")},
                                    content_type="multipart/form-data"), 403)
