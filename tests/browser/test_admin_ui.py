"""The system administrator at the browser: a unit, then an account in it, the account edited and
deactivated with its claimed task handed back, units imported from Excel; each page on a phone too."""
from __future__ import annotations

import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from engine import services
from tests.integration.flow import through_assignment
from tests.support.browser import Person, confirm, screenshot

pytestmark = pytest.mark.browser

STRONG = "Ch4nge-me!"
PHONE = {"width": 390, "height": 844}


def test_the_system_administrator_manages_units_and_accounts(live, open_page, tmp_path):
    base, duban, org = live
    through_assignment(duban, org)
    task = next(t for t in services.list_tasks(duban, org["unit_a"])[0] if t["element_id"] == "unit_receive")
    services.claim_task(duban, org["unit_a"], task["id"])
    page = Person(open_page, base, "admin").page

    # A new unit.
    page.goto(f"{base}/admin/units")
    page.locator("#new-unit summary").click()
    page.fill("#new-unit input[name=id]", "cgz")
    page.fill("#new-unit input[name=name]", "城关镇")
    screenshot(page, "admin-units-new-desktop")
    page.click("#new-unit button[type=submit]")
    expect(page.get_by_role("status")).to_have_text("cgz：已创建")
    expect(page.locator("#units tr[data-unit=cgz]")).to_contain_text("承办单位")
    screenshot(page, "admin-units-desktop")

    # An account in it: a weak password is refused with what was typed kept.
    page.goto(f"{base}/admin/users")
    page.locator("#new-user summary").click()
    page.fill("#new-user input[name=username]", "wangwu")
    page.fill("#new-user input[name=name]", "城关镇 王五")
    page.select_option("#new-user select[name=unit_id]", "cgz")
    page.fill("#new-user input[name=password]", "12345678")
    screenshot(page, "admin-users-new-desktop")
    page.click("#new-user button[type=submit]")
    expect(page.get_by_role("alert")).to_contain_text("未能创建 wangwu")
    expect(page.locator("#new-user input[name=name]")).to_have_value("城关镇 王五")
    page.fill("#new-user input[name=password]", STRONG)
    page.click("#new-user button[type=submit]")
    expect(page.get_by_role("status")).to_have_text("wangwu：已创建，首次登录须修改口令")
    row = page.locator("#users tr[data-user=wangwu]")
    expect(row).to_contain_text("城关镇")
    expect(row).to_contain_text("待本人修改口令")

    # Edited.
    row.locator("details.edit-user summary").click()
    row.locator("input[name=email]").fill("wangwu@example.cn")
    row.locator("input[name=name]").fill("城关镇 王五（副镇长）")
    row.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status")).to_have_text("wangwu：已保存")
    expect(page.locator("#users tr[data-user=wangwu]")).to_contain_text("王五（副镇长）")
    screenshot(page, "admin-users-desktop")

    # unit_a leaves: the list shows its claimed task; deactivating leads to handing it back.
    row = page.locator("#users tr[data-user=unit_a]")
    expect(row).to_contain_text("未办任务 1 件")
    row.get_by_role("link", name="停用…").click()
    expect(page.locator("#open-tasks tbody tr")).to_have_count(1)
    screenshot(page, "admin-user-tasks-desktop")
    page.get_by_role("button", name="确认停用").click()
    confirm(page)
    expect(page.get_by_role("status")).to_have_text("unit_a：已停用，不能再登录")
    expect(page.locator("#account-state")).to_contain_text("已停用")
    page.get_by_role("button", name="退回待领").click()
    expect(page.get_by_role("status")).to_contain_text("已退回待领")
    expect(page.locator(".empty")).to_have_text("没有未办结的任务。")
    # The account can no longer sign in.
    stranger = open_page()
    stranger.goto(f"{base}/login")
    stranger.fill("input[name=username]", "unit_a")
    stranger.fill("input[name=password]", "duban-demo")
    stranger.click("form button[type=submit]")
    expect(stranger).to_have_url(re.compile(r"/login"))

    # Import: the template downloaded, filled in, uploaded, reported row by row.
    page.goto(f"{base}/admin/import")
    with page.expect_download() as waiting:
        page.get_by_role("link", name="下载导入模板").click()
    path = tmp_path / "template.xlsx"
    waiting.value.save_as(path)
    book = load_workbook(path)
    book["单位"].append(["hsz", "红山镇", "承办单位"])
    book["用户"].append(["zhaoliu", "红山镇 赵六", "hsz", None, STRONG])
    book["用户"].append(["wangwu", "重名", "cgz", None, STRONG])
    book.save(path)
    page.set_input_files("input[name=file]", str(path))
    page.get_by_role("button", name="导入").click()
    expect(page.locator("#import-report tbody tr")).to_have_count(3)
    expect(page.locator("#import-report tr.refused")).to_contain_text("用户名“wangwu”已存在")
    screenshot(page, "admin-import-desktop")


def test_the_administration_pages_on_a_phone(live, open_page):
    base, duban, org = live
    through_assignment(duban, org)
    task = next(t for t in services.list_tasks(duban, org["unit_a"])[0] if t["element_id"] == "unit_receive")
    services.claim_task(duban, org["unit_a"], task["id"])
    page = Person(open_page, base, "admin", **PHONE).page
    for path, name in (("/admin/users", "admin-users"), ("/admin/units", "admin-units"),
                       ("/admin/import", "admin-import"), ("/admin/users/unit_a/tasks", "admin-user-tasks")):
        page.goto(base + path)
        for fold in page.locator("details.admin-form summary").all():
            fold.click()
        # Nothing wider than the phone: the page scrolls down, not sideways.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], (path, width)
        screenshot(page, f"{name}-phone")
