"""The system administrator's pages: accounts (create, edit, deactivate, open tasks), units, import."""
import io

from engine import services
from tests.integration.flow import through_assignment
from tests.support.org import Org
from tests.support.web import Browser
from tests.support.workbooks import workbook

STRONG = "Ch4nge-me!"


def test_accounts_are_created_edited_and_deactivated_on_the_page(app):
    admin = Browser(app, "admin")
    page = admin.get("/admin/users")
    assert page.status_code == 200 and "新建用户" in page.text and "批量导入" in page.text
    weak = admin.post("/admin/users", {"username": "zhangsan", "name": "张三", "unit_id": "fgj", "password": "123"})
    assert weak.status_code == 422 and "未能创建 zhangsan" in weak.text
    assert 'value="张三"' in weak.text and 'value="123"' not in weak.text  # what was typed, but no password
    made = admin.post("/admin/users", {"username": "zhangsan", "name": "张三", "unit_id": "fgj", "password": STRONG})
    assert made.status_code == 302 and "已创建" in admin.get(made.headers["Location"]).text
    saved = admin.post("/admin/users/zhangsan", {"action": "update", "name": "张三丰", "unit_id": "czj", "email": ""})
    assert "已保存" in admin.get(saved.headers["Location"]).text
    listing = admin.get("/admin/users").text
    row = listing[listing.index('data-user="zhangsan"'):][:2000]
    assert "张三丰" in row and "财政局" in row
    off = admin.post("/admin/users/zhangsan", {"action": "deactivate"})
    assert "已停用" in admin.get(off.headers["Location"]).text
    assert Browser(app).login("zhangsan", STRONG).status_code == 401
    # Nobody else manages accounts on these pages.
    assert Browser(app, "secadmin").post("/admin/users", {"username": "x1", "name": "某", "unit_id": "fgj",
                                                          "password": STRONG}).status_code == 403
    assert Browser(app, "office").get("/admin/units").status_code == 403
    assert Browser(app, "secadmin").get("/admin/import").status_code == 403


def test_a_deactivated_accounts_tasks_go_back_to_the_pool_from_the_page(app, duban_sqlite):
    org = Org(duban_sqlite)
    item = through_assignment(duban_sqlite, org)
    task = next(t for t in services.list_tasks(duban_sqlite, org["unit_a"])[0] if t["element_id"] == "unit_receive")
    services.claim_task(duban_sqlite, org["unit_a"], task["id"])
    admin = Browser(app, "admin")
    assert "未办任务 1 件" in admin.get("/admin/users").text
    off = admin.post("/admin/users/unit_a", {"action": "deactivate"})
    assert off.headers["Location"].startswith("/admin/users/unit_a/tasks")  # what it held, next
    page = admin.get(off.headers["Location"])
    assert item["title"] in page.text and "退回待领" in page.text and "已停用" in page.text
    unfit = admin.post("/admin/users/unit_a/tasks", {"task_id": task["id"], "to": "unit_b"})
    assert unfit.status_code == 422 and "unit_b 不能接手" in unfit.text
    back = admin.post("/admin/users/unit_a/tasks", {"task_id": task["id"]})
    assert "已退回待领" in admin.get(back.headers["Location"]).text
    assert "没有未办结的任务" in admin.get("/admin/users/unit_a/tasks").text


def test_units_and_the_import_on_their_pages(app):
    admin = Browser(app, "admin")
    made = admin.post("/admin/units", {"id": "cgz", "name": "城关镇", "kind": "unit"})
    assert made.status_code == 302
    taken = admin.post("/admin/units", {"id": "cgz", "name": "城关镇", "kind": "unit"})
    assert taken.status_code == 422 and "已存在" in taken.text
    renamed = admin.post("/admin/units/cgz", {"name": "城关镇人民政府", "kind": "unit"})
    assert "已保存" in admin.get(renamed.headers["Location"]).text
    assert "城关镇人民政府" in admin.get("/admin/units").text
    template = admin.get("/admin/import/template.xlsx")
    assert template.status_code == 200 and template.data[:2] == b"PK"
    data = workbook(units=[("hsz", "红山镇", "")], users=[("wangwu", "王五", "hsz", "", STRONG),
                                                        ("unit_a", "重名", "fgj", "", STRONG)])
    report = admin.client.post("/admin/import", data={"csrf_token": admin.csrf,
                                                      "file": (io.BytesIO(data), "名单.xlsx")},
                               content_type="multipart/form-data")
    assert report.status_code == 200 and "已创建 2 行，未创建 1 行" in report.text
    assert "用户名“unit_a”已存在" in report.text
    bad = admin.client.post("/admin/import", data={"csrf_token": admin.csrf, "file": (io.BytesIO(b"x"), "a.xlsx")},
                            content_type="multipart/form-data")
    assert bad.status_code == 422 and "Excel" in bad.text
