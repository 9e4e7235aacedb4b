"""The system administrator configures a 企业微信 robot at the browser (only its kind's fields shown, the
webhook address typed but never shown back), asks for 发送测试消息 and sees it sent by the embedded
worker; the page on a phone too."""
from __future__ import annotations

from dataclasses import replace

import pytest
from playwright.sync_api import expect

from tests.support.browser import Person, confirm, screenshot
from tests.support.connectors import Gateway
from workers.embedded import Embedded

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def test_the_system_administrator_configures_a_robot_and_sends_a_test_message(live, open_page):
    base, duban, org = live
    duban.settings = replace(duban.settings, timer_poll_s=0.2)
    embedded = Embedded(duban).start()  # as `duban run` without Redis: the worker beside the pages
    gateway = Gateway()
    try:
        page = Person(open_page, base, "admin").page
        page.goto(f"{base}/admin/connectors")
        page.locator("#new-connector summary").click()
        page.fill("#new-connector input[name=name]", "office_wecom")
        page.select_option("#new-connector select[name=kind]", "wecom")
        page.fill("#new-connector input[name=title]", "督查室工作群")
        expect(page.locator("#new-connector fieldset[data-kinds='email']")).to_be_hidden()
        robot = page.locator("#new-connector fieldset[data-kinds*='wecom']")
        robot.locator("input[name=secret_url]").fill(f"{gateway.url}/cgi-bin/webhook/send?key=SECRETKEY")
        robot.locator("input[name=allow_private]").check()
        screenshot(page, "admin-connectors-new-desktop")
        page.click("#new-connector button[type=submit]")
        expect(page.get_by_role("status").first).to_have_text("office_wecom：已创建")
        card = page.locator("[data-connector=office_wecom]")
        expect(card).to_contain_text("企业微信群机器人")
        assert "SECRETKEY" not in page.content()

        card.get_by_role("button", name="发送测试消息").click()
        page.wait_for_url("**/admin/connectors?done=*")
        for _ in range(100):  # the embedded worker sends it; the page shows the outcome once reloaded
            if gateway.requests:
                break
            page.wait_for_timeout(100)
        assert gateway.json_bodies()[0]["msgtype"] == "text"
        page.wait_for_timeout(300)
        page.goto(f"{base}/admin/connectors")
        expect(page.locator("[data-connector=office_wecom] .test-outcome")).to_contain_text("发送成功")
        screenshot(page, "admin-connectors-desktop")

        phone = Person(open_page, base, "admin", **PHONE).page
        phone.goto(f"{base}/admin/connectors")
        screenshot(phone, "admin-connectors-phone")

        page.locator("[data-connector=office_wecom] button[value=delete]").click()
        confirm(page)
        expect(page.locator("[data-connector=office_wecom]")).to_have_count(0)
    finally:
        embedded.stop()
        gateway.close()
