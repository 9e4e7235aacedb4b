"""月度进展, 六有 and 答复 in a real browser: the unit fills the month's progress and its 六有 on the item
page, the office sees them on /progress (the missing report highlighted), records the requester's
reply and satisfaction, and the dashboard's source panel shows the rates."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from engine.services import checklists, progress, replies
from tests.integration.flow import through_assignment
from tests.support.browser import Person, screenshot


def test_progress_checklist_and_reply_through_the_browser(live, open_page):
    base, duban, org = live
    item = through_assignment(duban, org, source="mailbox", title="来信反映老旧小区供暖不足")  # 发改局 + 财政局

    unit = Person(open_page, base, "unit_a")
    page = unit.page
    page.goto(f"{base}/items/{item['id']}")
    form = page.locator(".progress-form")
    form.get_by_role("button", name="报送本月进展").click()  # empty: refused, shown beside the fields
    expect(page.locator(".progress-form .field-error").first).to_be_visible()
    assert progress.list_reports(duban, org["office"], item["id"]) == []
    page.get_by_label("本月进展").fill("已完成管网排查，制定改造方案")
    page.get_by_label("完成进度（%）").fill("40")
    page.get_by_label("存在问题").fill("改造资金尚未落实")
    page.get_by_label("下步打算").fill("10月启动管网改造")
    page.get_by_role("button", name="报送本月进展").click()
    expect(page.get_by_role("status")).to_contain_text("本月进展已报送")
    expect(page.locator("#progress-reports tr[data-unit=fgj]")).to_contain_text("40%")

    page.get_by_text("填写本单位“六有”（发改局）").click()
    for name in ("有落实方案", "有具体措施", "有责任领导"):
        page.get_by_label(name, exact=True).check()
    page.get_by_label("有落实方案：说明或附件名称").fill("供暖改造方案.docx")
    page.get_by_role("button", name="保存“六有”").click()
    expect(page.get_by_role("status")).to_contain_text("“六有”情况已保存")
    expect(page.locator("#checklists tr[data-unit=fgj] .checklist-done")).to_have_text("3/6")
    screenshot(page, "30-item-progress-checklist")
    mine = checklists.list_checklists(duban, org["office"], item["id"])[0]
    assert (mine["unit"], mine["done"], mine["plan_note"]) == ("fgj", 3, "供暖改造方案.docx")

    office = Person(open_page, base, "office")
    page = office.page
    page.get_by_role("link", name="月报").click()
    expect(page).to_have_url(re.compile(r"/progress$"))
    expect(page.locator("#progress tr[data-unit=fgj]")).to_have_class(re.compile("reported"))
    expect(page.locator("#progress tr[data-unit=fgj]")).to_contain_text("已完成管网排查")
    expect(page.locator("#progress tr[data-unit=fgj] .checklist-done")).to_have_text("3/6")
    missing = page.locator("#progress tr[data-unit=czj]")
    expect(missing).to_have_class(re.compile("missing"))
    expect(missing).to_contain_text("未报送")
    expect(page.locator("[data-stat=missing]")).to_have_text("1")
    screenshot(page, "31-progress-summary")

    page.goto(f"{base}/items/{item['id']}")
    expect(page.locator("#reply-text")).to_contain_text("尚未答复")
    page.get_by_label("来信人/提出人").fill("张某某")
    page.get_by_label("联系方式").fill("138****0000")
    page.get_by_label("答复内容").fill("已答复来信人：供暖管网改造10月完成")
    page.get_by_role("button", name="保存答复").click()
    expect(page.get_by_role("status")).to_contain_text("答复已记录")
    expect(page.locator("#reply-text")).to_contain_text("供暖管网改造10月完成")
    page.get_by_label("满意", exact=True).check()
    page.get_by_role("button", name="保存满意度").click()
    expect(page.get_by_role("status")).to_contain_text("满意度已记录")
    expect(page.locator("#reply-satisfaction")).to_contain_text("满意")
    shown = replies.get_reply(duban, org["office"], item["id"])
    assert (shown["requester_name"], shown["satisfaction"], shown["replied_by"]) == ("张某某", "satisfied", "office")

    page.get_by_role("link", name="统计").click()
    row = page.locator("#source-stats tr[data-source=mailbox]")
    expect(row.locator(".items")).to_have_text("1")
    expect(row.locator(".reply-rate")).to_have_text("100.0%")
    expect(row.locator(".satisfaction-rate")).to_have_text("100.0%")
    expect(page.locator("#chart-sources canvas").first).to_be_visible()
    expect(page.locator("#sources-data[data-drawn=true]")).to_have_count(1)
    screenshot(page, "32-dashboard-sources")
