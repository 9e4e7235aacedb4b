"""The instance monitor in a real browser: the diagram marks the path taken and the current tasks;
an administrator suspends, resumes and terminates from the page."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from engine import services
from tests.integration.flow import complete
from tests.support.browser import Person, confirm, screenshot


def test_a_highlighted_instance_and_its_operations(live, open_page):
    base, duban, org = live
    item = services.register_item(duban, org["office"], {"title": "监控事项"})
    complete(duban, org["office"], "draft_opinion", {"lead_unit": "fgj", "co_units": ["czj"], "opinion": "办"})
    complete(duban, org["leader"], "leader_approval", {"decision": "approve"})
    complete(duban, org["office"], "assign", {"notice": "交办通知单"})

    admin = Person(open_page, base, "admin")
    page = admin.page
    page.goto(f"{base}/instances")
    page.get_by_role("link", name=f"#{item['instance_id']}").click()
    expect(page.locator("#diagram")).to_have_attribute("data-ready", "true")
    # The path taken, from the instance's trail; the current tasks, from the task projection.
    for element in ("draft_opinion", "leader_approval", "assign"):
        expect(page.locator(f'.djs-element.passed[data-element-id="{element}"]')).to_have_count(1)
    expect(page.locator('.djs-element.current[data-element-id="unit_receive"]')).to_have_count(1)
    expect(page.locator('.djs-element.current[data-element-id="draft_opinion"]')).to_have_count(0)
    expect(page.locator("#open-tasks tbody tr")).to_have_count(2)
    expect(page.locator("#timers tbody")).to_contain_text("办理期限届满")
    screenshot(page, "07-instance-monitor")

    page.get_by_role("button", name="挂起").click()
    confirm(page)
    expect(page.locator("#instance-status")).to_have_text("已挂起")
    expect(page.locator("#toasts")).to_contain_text("已挂起流程实例")
    page.get_by_role("button", name="恢复").click()
    confirm(page)
    expect(page.locator("#instance-status")).to_have_text("运行中")
    page.get_by_role("button", name="终止").click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_contain_text("不能恢复")
    dialog.locator("#confirm-ok").click()  # without a reason: the dialog asks for one
    expect(dialog.locator("#confirm-problem")).to_have_text("请填写终止原因")
    screenshot(page, "07b-terminate-confirm")
    confirm(page, reason="重复立项，撤销")
    expect(page.locator("#instance-status")).to_have_text("已终止")
    expect(page.locator("#toasts")).to_contain_text("已终止流程实例")
    expect(page.locator(".history")).to_contain_text("重复立项，撤销")
    assert services.get_item(duban, org["office"], item["id"])["status"] == "terminated"

    office = Person(open_page, base, "office")
    office.page.goto(f"{base}/instances/{item['instance_id']}")
    expect(office.page.locator(".operations")).to_have_count(0)  # monitoring, not operating
    unit = Person(open_page, base, "unit_b")
    assert unit.page.goto(f"{base}/instances/{item['instance_id']}").status == 200  # its own item
    outsider = Person(open_page, base, "discipline")
    assert outsider.page.goto(f"{base}/instances/{item['instance_id']}").status == 404
    expect(outsider.page.locator("h1")).to_have_text(re.compile("404"))
