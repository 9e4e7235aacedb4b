"""确认与提示 in a real browser: the confirmation dialog and the toast after the redirect, notifications
filtered and read one by one, the auditor's page, the printed 督办单, the date picker on a phone."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from engine import services
from engine.services import users
from tests.integration import flow
from tests.support.browser import SCREENSHOTS, Person, confirm, screenshot

PHONE = {"width": 390, "height": 844}


def _to_assign(duban, org):
    item = flow.register(duban, org, title="推进老旧小区改造")
    flow.complete(duban, org["office"], "draft_opinion", {"lead_unit": "fgj", "co_units": ["czj"],
                                                          "opinion": "请发改局牵头、财政局配合"})
    flow.complete(duban, org["leader"], "leader_approval", {"decision": "approve", "comment": "同意，抓紧落实"})
    return item


def test_submitting_a_task_asks_first_and_says_it_was_done(live, open_page):
    base, duban, org = live
    item = _to_assign(duban, org)
    task = flow.open_task(duban, org["office"], "assign", instance_id=item["instance_id"])
    for name, size in (("desktop", {}), ("phone", PHONE)):
        office = Person(open_page, base, "office", **size)
        page = office.page
        page.goto(f"{base}/tasks/{task['id']}")
        expect(page.get_by_label("交办通知单")).not_to_be_empty()
        page.click("#submit")
        dialog = page.get_by_role("dialog", name="提交“交办”")  # named by its heading (aria-labelledby)
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text("流程转入下一环节")
        expect(page.locator("#confirm-cancel")).to_be_focused()  # the safe answer has the focus
        box = dialog.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"], box
        screenshot(page, f"confirm-submit-{name}")
        if name == "desktop":
            page.keyboard.press("Escape")  # no: nothing is sent
            expect(dialog).to_be_hidden()
            page.locator("#confirm-dialog").get_by_role("button", name="取消").wait_for(state="hidden")
            assert flow.open_task(duban, org["office"], "assign", instance_id=item["instance_id"])
            continue
        confirm(page)
        expect(page).to_have_url(re.compile(r"/tasks\?done="))
        expect(page.locator("#toasts .toast")).to_have_text("已提交：交办")
        screenshot(page, f"toast-submitted-{name}")
    assert services.get_item(duban, org["office"], item["id"])["status"] != "drafting"


def test_revoking_a_role_asks_through_data_confirm(live, open_page):
    base, duban, org = live
    page = Person(open_page, base, "secadmin").page
    page.goto(f"{base}/admin/users")
    row = page.locator("tr[data-user=unit_a]")
    revoke = row.get_by_role("button", name="撤销承办单位")
    revoke.click()
    dialog = page.get_by_role("dialog", name="撤销角色")
    expect(dialog).to_contain_text("撤销 发改局 张科长（unit_a）的“承办单位”角色")
    screenshot(page, "confirm-revoke-role")
    dialog.get_by_role("button", name="取消").click()
    expect(row.get_by_role("button", name="撤销承办单位")).to_have_count(1)
    revoke.click()
    confirm(page)
    expect(page.locator("tr[data-user=unit_a]").get_by_role("button", name="撤销承办单位")).to_have_count(0)


def test_notifications_filtered_and_read_one_by_one(live, open_page):
    base, duban, org = live
    first = flow.register(duban, org, title="通知甲：推进重点项目")
    flow.register(duban, org, title="通知乙：整治人居环境")
    for name, size in (("phone", PHONE), ("desktop", {})):  # the phone only looks: the desktop reads
        page = Person(open_page, base, "office", **size).page
        page.goto(f"{base}/notifications")
        page.select_option("select[name=state]", "unread")
        page.select_option("select[name=item]", str(first["id"]))
        page.get_by_role("button", name="筛选").click()
        rows = page.locator("#notifications li[data-notification]")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("待办任务")
        screenshot(page, f"notifications-filtered-{name}")
        if name == "phone":
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], width
            continue
        rows.first.get_by_role("button", name=re.compile("标为已读")).click()
        expect(page.locator("#toasts .toast")).to_have_text("已标为已读")
        expect(page).to_have_url(re.compile(rf"state=unread&item={first['id']}"))
        expect(rows).to_have_count(0)  # read: no longer among the unread
        page.select_option("select[name=state]", "all")
        page.get_by_role("button", name="筛选").click()
        expect(rows.first.locator(".read-mark")).to_have_text("已读")


def test_the_auditor_page_in_chinese_with_dates_and_export(live, open_page, tmp_path):
    base, duban, org = live
    users.grant_role(duban, org["secadmin"], "unit_a", "leader")
    for name, size in (("desktop", {}), ("phone", PHONE)):
        page = Person(open_page, base, "auditor", **size).page
        page.goto(f"{base}/audit")
        table = page.locator("#audit")
        expect(table).to_contain_text("授予角色")
        expect(table).to_contain_text("登录")
        expect(table.locator("time").first).to_have_text(re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d$"))
        today = page.locator("#audit time").first.get_attribute("datetime")[:10]
        page.fill("input[name=from]", today)
        page.fill("input[name=to]", today)
        page.fill("input[name=action]", "user.role_grant")
        page.get_by_role("button", name="筛选").click()
        expect(page.locator("#audit tbody tr")).to_have_count(1)
        screenshot(page, f"audit-{name}")
        if name == "phone":
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            continue
        with page.expect_download() as download:
            page.click("#export-xlsx")
        assert download.value.suggested_filename.startswith("安全审计日志-")
        assert download.value.suggested_filename.endswith(".xlsx")
        path = tmp_path / "audit.xlsx"
        download.value.save_as(path)
        from openpyxl import load_workbook

        rows = list(load_workbook(path).active.iter_rows(values_only=True))
        assert rows[0][3] == "操作" and [r[3] for r in rows[1:]] == ["授予角色"]
        page.fill("input[name=from]", "2030-01-02")
        page.fill("input[name=to]", "2030-01-01")
        page.get_by_role("button", name="筛选").click()
        expect(page.locator("#audit-error")).to_have_text("起始日期不能晚于截止日期")


def test_the_printed_supervision_sheet(live, open_page):
    base, duban, org = live
    item = _to_assign(duban, org)
    flow.complete(duban, org["office"], "assign", {"notice": "交办通知单\n请于期限内办结并书面报告。"})
    for name, size in (("desktop", {}), ("phone", PHONE)):
        page = Person(open_page, base, "unit_a", **size).page
        page.goto(f"{base}/items/{item['id']}")
        page.get_by_role("link", name="打印督办单").click()
        sheet = page.locator("#sheet")
        expect(sheet.locator("h1")).to_have_text("督查督办通知单")
        expect(page.locator("#sheet-instruction")).to_have_text("同意，抓紧落实")
        expect(page.locator("#sheet-units")).to_contain_text("牵头：发改局")
        expect(page.locator("#sheet-number")).to_have_text(re.compile(r"^督交〔\d{4}〕\d+号$"))
        screenshot(page, f"print-sheet-screen-{name}")
        page.emulate_media(media="print")
        expect(page.locator("header.top")).to_be_hidden()
        expect(page.locator("#print-now")).to_be_hidden()
        expect(sheet).to_be_visible()
        colours = page.evaluate("""() => [getComputedStyle(document.body).backgroundColor,
                                          getComputedStyle(document.querySelector('.sheet-title')).color]""")
        assert colours == ["rgb(255, 255, 255)", "rgb(0, 0, 0)"], colours
        screenshot(page, f"print-sheet-print-{name}")
        page.emulate_media(media="screen")
    # Printing another page: the ledger keeps its table, without the navigation and the filters.
    page = Person(open_page, base, "office", **PHONE).page
    page.goto(f"{base}/items")
    page.emulate_media(media="print")
    expect(page.locator("header.top")).to_be_hidden()
    expect(page.locator("form.filters").first).to_be_hidden()
    assert page.evaluate("getComputedStyle(document.querySelector('table.list thead')).display") == "table-header-group"


def test_the_date_picker_fits_a_phone(live, open_page):
    base, duban, org = live
    item = flow.through_assignment(duban, org, co_units=())
    receive = flow.open_task(duban, org["unit_a"], "unit_receive", "fgj", item["instance_id"])
    page = Person(open_page, base, "unit_a", **PHONE).page
    page.goto(f"{base}/tasks/{receive['id']}")
    page.get_by_label("承诺办结时限").click()
    calendar = page.locator(".flatpickr-calendar.open")
    expect(calendar).to_be_visible()
    page.wait_for_timeout(400)  # flatpickr fades in
    box = calendar.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], box  # on screen, wherever the field is
    # What the phone's screen shows (a full-page shot would draw the fixed sheet mid-page).
    page.screenshot(path=str(SCREENSHOTS / "date-picker-phone.png"))
    calendar.locator(".flatpickr-day:not(.prevMonthDay):not(.nextMonthDay)", has_text="20").first.click()
    expect(page.get_by_label("承诺办结时限")).not_to_have_value("")


def test_a_favicon_on_every_page(live, open_page):
    base, _, _ = live
    page = Person(open_page, base, "office").page
    href = page.locator("link[rel=icon]").get_attribute("href")
    assert page.request.get(base + href).headers["content-type"].startswith("image/svg+xml")
    assert page.request.get(f"{base}/favicon.ico").status == 200


def test_a_pending_toast_is_not_said_over_a_refusal(live, open_page):
    """data-toast is stored before its form is sent: when the answer is a refusal, the refusal speaks."""
    base, _, _ = live
    page = Person(open_page, base, "office").page
    page.wait_for_function("() => window.dubanToast")  # its deferred script has run
    page.evaluate("dubanToast.next('事项已撤销')")
    assert page.goto(f"{base}/items/999999").status == 404
    expect(page.locator("[role=alert]")).to_be_visible()
    expect(page.locator("#toasts .toast")).to_have_count(0)
    page.goto(f"{base}/tasks")
    expect(page.locator("#toasts .toast")).to_have_count(0)  # said once or never, not on a later page
    page.evaluate("dubanToast.next('已提交：拟办')")
    page.goto(f"{base}/tasks")
    expect(page.locator("#toasts .toast")).to_have_text("已提交：拟办")
