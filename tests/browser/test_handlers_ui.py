"""The handlers' web app in a real browser: the whole main path across five people, a failed
validation shown inline, a forbidden page, a phone-sized screen."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from engine.models import Item
from tests.support.browser import Person, confirm, screenshot

NAMES = {"unit_a": "发改局 张科长", "unit_b": "财政局 刘科长"}


def test_the_main_path_through_the_browser(live, open_page):
    base, duban, _ = live
    office = Person(open_page, base, "office")
    page = office.page
    page.goto(f"{base}/items/new")
    page.fill("input[name=title]", "优化营商环境专项督查")
    page.fill("textarea[name=content]", "落实县委常委会议定事项")
    page.select_option("select[name=source]", "decision")
    page.click("form button.primary")
    expect(page.locator("h1")).to_contain_text("优化营商环境专项督查")
    screenshot(page, "01-item-registered")

    # 拟办, first sent empty: the form shows what is missing, nothing is saved.
    office.open_task("拟办")
    page.click("#submit")
    expect(page.locator(".fjs-form-field-error").first).to_be_visible()
    expect(page).to_have_url(re.compile(r"/tasks/[0-9a-f-]{36}$"))
    screenshot(page, "02-validation-errors")
    office.choose("牵头单位", "发改局")
    office.choose("配合单位", "财政局")
    page.get_by_label("拟办意见").fill("请发改局牵头、财政局配合办理")
    office.submit()

    leader = Person(open_page, base, "leader")
    leader.open_task("领导审批")
    leader.pick("同意立项")
    leader.page.get_by_label("批示").fill("同意，抓紧落实")
    leader.submit()

    office.open_task("交办")
    expect(page.get_by_label("交办通知单")).not_to_be_empty()  # prefilled 交办通知单
    office.submit()

    for username, unit in (("unit_a", "发改局"), ("unit_b", "财政局")):
        person = Person(open_page, base, username)
        person.open_task("签收", unit)
        person.page.click("#claim")
        expect(person.page.locator("#assignee")).to_have_text(NAMES[username])  # by name, not username
        person.page.get_by_label("第一责任人（单位主要负责人）").fill("局长")
        person.page.get_by_label("具体责任人").fill("科长")
        person.page.get_by_label("具体承办人").fill("科员")
        if username == "unit_a":
            # Later than the unit's deadline: only the server knows; its answer lands on the field.
            person.page.get_by_label("承诺办结时限").fill("2026-12-31")
            person.page.keyboard.press("Escape")
            person.page.click("#submit")
            confirm(person.page)
            expect(person.page.locator(".fjs-form-field-error")).to_contain_text("不得晚于办理时限")
            expect(person.page.locator("#errors")).to_be_visible()
            screenshot(person.page, "02b-server-validation")
        person.page.get_by_label("承诺办结时限").fill("2026-10-09")
        person.page.keyboard.press("Escape")
        expect(person.page.locator(".documents")).to_contain_text("交办")  # the 交办通知单 beside the form
        person.submit()
        person.open_task("办结报告", unit)
        person.page.get_by_label("办结情况报告").fill(f"{unit}已按要求办结")
        person.page.get_by_label("报告已经本单位分管领导审签").check()
        screenshot(person.page, f"03-report-{username}")
        person.submit()
        office.open_task("审核", unit)
        office.pick("审核通过")
        office.submit()

    office.open_task("反馈销号")
    page.get_by_label("反馈情况（向领导报告办理结果）").fill("两单位均已办结，已向领导反馈")
    office.submit()
    with duban.db.reading() as session:
        item_id, status = session.query(Item.id, Item.status).one()
    assert status == "closed"
    page.goto(f"{base}/items/{item_id}")
    expect(page.locator("#item-status")).to_have_text("已销号")
    screenshot(page, "04-item-closed")


def test_a_forbidden_page_and_a_hidden_task(live, open_page):
    base, _, _ = live
    office = Person(open_page, base, "office")
    office.page.goto(f"{base}/items/new")
    office.page.fill("input[name=title]", "仅督查室可见的拟办")
    office.page.click("form button.primary")
    office.page.goto(f"{base}/tasks")
    task_url = office.page.locator("#inbox tbody a").first.get_attribute("href")

    unit = Person(open_page, base, "unit_a")
    response = unit.page.goto(f"{base}/items/new")
    assert response.status == 403
    expect(unit.page.locator("h1")).to_contain_text("无权访问")
    screenshot(unit.page, "05-forbidden")
    assert unit.page.goto(f"{base}{task_url}").status == 404
    expect(unit.page.locator("nav.nav")).not_to_contain_text("立项")


def test_the_inbox_on_a_phone(live, open_page):
    base, _, _ = live
    office = Person(open_page, base, "office", width=375, height=740)
    page = office.page
    page.goto(f"{base}/items/new")
    page.fill("input[name=title]", "手机上立项")
    page.click("form button.primary")
    page.goto(f"{base}/tasks")
    row = page.locator("#inbox tbody tr").first
    expect(row).to_contain_text("手机上立项")
    # No sideways scrolling: the table turns into cards.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "06-phone-inbox")


def test_the_inbox_updates_itself(live, open_page):
    base, duban, org = live
    from engine import services

    office = Person(open_page, base, "office")
    page = office.page
    page.goto(f"{base}/tasks")
    expect(page.locator("#inbox tbody tr.empty")).to_be_visible()
    services.register_item(duban, org["office"], {"title": "后台新登记的事项"})
    page.evaluate("window.dubanRefresh()")  # what the 30-second timer calls
    expect(page.locator("#inbox tbody")).to_contain_text("后台新登记的事项")
    expect(page.locator("#unread")).to_have_text("1")
