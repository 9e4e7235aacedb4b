"""发起 in a real browser, on a phone: the office opens 发起, picks 人大代表建议办理 (a process that declares a
督办 item), fills its start form and lands on the new item in the ledger."""
from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from engine import services
from tests.support.browser import Person, screenshot
from tests.support.npc import START_FORM, npc_process
from tests.support.org import BPMN


def test_the_office_starts_a_declared_item_process_from_the_start_page(live, open_page):
    base, duban, org = live
    forms = {f"{name}.form": (BPMN / "forms" / f"{name}.form").read_bytes()
             for name in ("draft_opinion", "unit_report", "reply", "satisfaction", "feedback")}
    forms["npc_start.form"] = json.dumps(START_FORM).encode()
    services.deploy(duban, {"npc.bpmn": npc_process()}, forms, org["designer"])

    office = Person(open_page, base, "office", width=390, height=844)
    page = office.page
    page.get_by_role("link", name="发起", exact=True).first.click()
    expect(page).to_have_url(re.compile(r"/start$"))
    row = page.locator("#startable tr", has_text="人大代表建议办理")
    row.get_by_role("link", name="发起").click()
    expect(page.locator(".fjs-form")).to_be_visible()
    page.click("#submit")  # the title is required: refused in the browser
    expect(page.locator("#errors")).to_be_visible()
    page.get_by_label("建议标题").fill("关于改善城区停车难的建议")
    page.get_by_label("代表姓名").fill("王代表")
    screenshot(page, "11-start-form")
    page.click("#submit")
    expect(page).to_have_url(re.compile(r"/items/\d+"), timeout=20000)
    expect(page.locator("body")).to_contain_text("关于改善城区停车难的建议")
    [item] = [i for i in services.list_items(duban, org["office"])[0] if i["title"] == "关于改善城区停车难的建议"]
    assert item["status"] == "drafting"
