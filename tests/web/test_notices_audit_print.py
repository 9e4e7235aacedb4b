"""确认与提示 over HTTP: notifications filtered and read one by one (API and page, with the toast that
follows), the audit log by date range and exported (itself audited), the printable 督办单, the favicon."""
import csv
import hashlib
import io
from datetime import datetime, timedelta

from openpyxl import load_workbook

from engine import services
from engine.clock import CHINA
from engine.services import items as items_service
from tests.integration import flow
from tests.support.web import Browser, assert_error


def _through_approval(app, comment="同意，抓紧落实", **fields):
    duban = app.extensions["duban"]
    org = _org(duban)
    item = flow.register(duban, org, **fields)
    flow.complete(duban, org["office"], "draft_opinion", {"lead_unit": "fgj", "co_units": ["czj"],
                                                          "opinion": "请发改局牵头、财政局配合"})
    flow.complete(duban, org["leader"], "leader_approval", {"decision": "approve", "comment": comment})
    return duban, org, item


def _org(duban):
    from tests.support.org import Org

    return Org(duban)


def test_notifications_filter_by_state_kind_and_item(app, as_):
    office = as_("office")
    first = office.post("/api/v1/items", json={"title": "第一件通知事项"}).json
    second = office.post("/api/v1/items", json={"title": "第二件通知事项"}).json
    everything = office.get("/api/v1/notifications").json
    assert {n["item_id"] for n in everything} >= {first["id"], second["id"]}
    assert all(n["kind"] == "task" and n["kind_name"] == "待办任务" for n in everything)

    about_first = office.get(f"/api/v1/notifications?item_id={first['id']}").json
    assert about_first and {n["item_id"] for n in about_first} == {first["id"]}
    assert office.get("/api/v1/notifications?kind=urge").json == []
    assert len(office.get("/api/v1/notifications?kind=task").json) == len(everything)

    read = about_first[0]["id"]
    assert office.post(f"/api/v1/notifications/{read}/read").json == {"count": 1}
    unread = office.get("/api/v1/notifications?unread=1").json
    assert read not in {n["id"] for n in unread} and len(unread) == len(everything) - 1
    assert office.get(f"/api/v1/notifications?unread=1&item_id={first['id']}").json == [
        n for n in unread if n["item_id"] == first["id"]]
    assert office.get("/api/v1/notifications?unread=true&kind=task").headers["X-Pagination"]
    assert_error(office.get("/api/v1/notifications?item_id=abc"), 422)
    # Only one's own: another person's notification does not exist for them.
    assert_error(as_("leader").post(f"/api/v1/notifications/{everything[-1]['id']}/read"), 404)


def test_secret_item_news_is_hidden_from_the_no_longer_cleared(app, as_):
    duban = app.extensions["duban"]
    org = _org(duban)
    item = services.register_item(duban, org["office"], {"title": "限定范围的事项", "classification": "secret",
                                                         "designees": ["leader"]})
    flow.complete(duban, org["office"], "draft_opinion", {"lead_unit": "fgj", "co_units": [], "opinion": "办"})
    leader = as_("leader")
    news = leader.get(f"/api/v1/notifications?item_id={item['id']}").json
    assert news, "the designated leader hears of the 领导审批 task"
    items_service.designate(duban, org["office"], item["id"], "leader", remove=True)
    assert leader.get(f"/api/v1/notifications?item_id={item['id']}").json == []
    assert leader.get("/api/v1/notifications?kind=task").json == [
        n for n in leader.get("/api/v1/notifications").json if n["kind"] == "task"]
    assert_error(leader.post(f"/api/v1/notifications/{news[0]['id']}/read"), 404)
    page = Browser(app, "leader").get(f"/notifications?item={item['id']}").text
    assert "限定范围的事项" not in page


def test_the_notifications_page_filters_and_marks_one_read_with_a_toast(app, as_):
    office = as_("office")
    first = office.post("/api/v1/items", json={"title": "页面通知甲"}).json
    office.post("/api/v1/items", json={"title": "页面通知乙"})
    browser = Browser(app, "office")
    page = browser.get(f"/notifications?state=unread&item={first['id']}").text
    listed = page[page.index('id="notifications"'):]
    assert "页面通知甲" in listed and "页面通知乙" not in listed
    assert f'<option value="{first["id"]}" selected>页面通知甲</option>' in page  # the item filter names items
    assert '<option value="task" >待办任务</option>' in page  # and the kinds
    ids = [n["id"] for n in office.get(f"/api/v1/notifications?item_id={first['id']}").json]
    answer = browser.post(f"/notifications/{ids[0]}/read", {"state": "unread", "item": str(first["id"])})
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"/notifications?state=unread&item={first['id']}"
    after = browser.get(answer.headers["Location"]).text
    assert '<p class="toast">已标为已读</p>' in after  # the toast survives the redirect (flash)
    assert f'data-notification="{ids[0]}"' not in after  # gone from the unread list
    assert office.get(f"/api/v1/notifications?item_id={first['id']}").json[0]["read"] is True
    again = browser.get("/notifications").text
    assert '<p class="toast">' not in again  # shown once
    assert browser.post("/notifications/999999/read").status_code == 404


def _audit_rows(data: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(data)).active
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def test_the_audit_log_by_date_range_and_its_export(app, as_):
    as_("secadmin").post("/api/v1/admin/users/unit_a/roles", json={"role": "leader"})
    auditor = as_("auditor")
    now = app.extensions["duban"].clock.now()
    since, until = (now - timedelta(hours=1)).isoformat(), (now + timedelta(hours=1)).isoformat()
    inside = auditor.get("/api/v1/audit", query_string={"since": since, "until": until}).json
    assert any(r["action"] == "user.role_grant" and r["action_name"] == "授予角色" for r in inside)
    assert auditor.get("/api/v1/audit", query_string={"until": since}).json == []
    refused = assert_error(auditor.get("/api/v1/audit", query_string={"since": until, "until": since}), 422)
    assert "起始日期不能晚于截止日期" in str(refused)

    workbook = auditor.get("/api/v1/audit/export", query_string={"action": "user.*", "since": since})
    assert workbook.status_code == 200 and workbook.mimetype.endswith("spreadsheetml.sheet")
    rows = _audit_rows(workbook.data)
    assert rows[0] == ["序号", "时间（北京时间）", "操作人", "操作", "操作代码", "对象", "来源地址", "详情"]
    assert [(r[2], r[3], r[4], r[5]) for r in rows[1:]] == [("secadmin", "授予角色", "user.role_grant", "user:unit_a")]
    stamped = datetime.strptime(rows[1][1], "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA)
    assert abs(stamped - now) < timedelta(minutes=5)  # Beijing time, as the office reads it

    text = auditor.get("/api/v1/audit/export", query_string={"format": "csv", "action": "user.*"})
    assert text.mimetype == "text/csv" and text.data.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(text.data.decode("utf-8-sig"))))
    assert lines[0][3] == "操作" and lines[1][3] == "授予角色"
    assert_error(auditor.get("/api/v1/audit/export?format=pdf"), 422)

    # The export is itself on the record, with what was handed out.
    [exported] = [r for r in auditor.get("/api/v1/audit?action=audit.export").json if r["detail"]["format"] == "csv"]
    assert exported["actor"] == "auditor" and exported["action_name"] == "导出审计日志"
    assert exported["detail"]["sha256"] == hashlib.sha256(text.data).hexdigest()
    assert exported["detail"]["rows"] == 1 and exported["ip"] == "127.0.0.1"
    for other in ("secadmin", "admin", "office"):
        assert_error(as_(other).get("/api/v1/audit/export"), 403)


def test_the_audit_page_in_chinese_with_days_and_export(app, as_):
    as_("secadmin").post("/api/v1/admin/users/unit_a/roles", json={"role": "leader"})
    browser = Browser(app, "auditor")
    today = app.extensions["duban"].clock.now().astimezone(CHINA).date()
    page = browser.get(f"/audit?action=user.role_grant&from={today}&to={today}")
    assert page.status_code == 200
    assert "授予角色" in page.text and "起始日期" in page.text
    assert '<option value="user.role_grant">授予角色</option>' in page.text  # actions chosen by name
    assert f"{today.year}年{today.month}月{today.day}日" in page.text  # readable, Beijing
    tomorrow = today + timedelta(days=1)
    assert "没有记录" in browser.get(f"/audit?action=user.role_grant&from={tomorrow}").text
    reversed_range = browser.get(f"/audit?from={tomorrow}&to={today}")
    assert reversed_range.status_code == 422 and "起始日期不能晚于截止日期" in reversed_range.text
    export = browser.get(f"/audit/export?action=user.role_grant&from={today}&to={today}&format=xlsx")
    assert export.status_code == 200 and "attachment" in export.headers["Content-Disposition"]
    assert [r[3] for r in _audit_rows(export.data)[1:]] == ["授予角色"]
    assert Browser(app, "secadmin").get("/audit/export").status_code == 403


def test_the_printable_supervision_sheet(app):
    duban, org, item = _through_approval(app, title="推进老旧小区改造")
    flow.complete(duban, org["office"], "assign", {"notice": "交办通知单\n请于期限内办结并书面报告。"})
    sheet = Browser(app, "unit_b").get(f"/items/{item['id']}/print")
    assert sheet.status_code == 200
    html = sheet.text
    for words in ("督查督办通知单", "推进老旧小区改造", "同意，抓紧落实", "请发改局牵头、财政局配合",
                  "牵头：发改局", "配合：财政局", "请于期限内办结并书面报告。", "办理时限", "督交〔"):
        assert words in html, words
    assert "交办通知单\n" not in html  # the notice's own heading is not repeated
    assert Browser(app, "discipline").get(f"/items/{item['id']}/print").status_code == 404
    assert Browser(app, "office").get("/items/999999/print").status_code == 404


def test_a_sheet_before_assignment_and_a_secret_one(app):
    duban, org, item = _through_approval(app, comment="")
    html = Browser(app, "office").get(f"/items/{item['id']}/print").text
    created = services.get_item(duban, org["office"], item["id"])["created_at"].astimezone(CHINA)
    assert f"督办〔{created.year}〕{item['id']}号" in html and "请按办理时限办结" in html
    secret = services.register_item(duban, org["office"], {"title": "保密督办单", "classification": "secret",
                                                           "designees": ["leader"]})
    assert Browser(app, "leader").get(f"/items/{secret['id']}/print").status_code == 200
    assert Browser(app, "unit_a").get(f"/items/{secret['id']}/print").status_code == 404


def test_the_favicon(app, client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml" and b"<svg" in icon.data
    assert '<link rel="icon" href="/static/favicon.svg"' in Browser(app, "office").get("/tasks").text
