"""Lights and a refused item in a real browser: a new 拟办 is 正常 with its 期限 in the inbox, the
leader's 审批 has a 期限 too; a 不予立项 item shows the refusal, its reason, who and when, and no units,
deadline or 六有 (desktop and phone, screenshots)."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.integration.flow import complete, register
from tests.support.browser import Person, screenshot


def test_inbox_lights_and_a_refused_item(live, open_page):
    base, duban, org = live
    item = register(duban, org, title="拟不予立项的事项")
    office = Person(open_page, base, "office").page
    office.goto(f"{base}/tasks")
    row = office.locator("#inbox tbody tr", has_text="拟办")
    expect(row.locator("td[data-label=灯]")).to_have_text("正常")  # not 预警 the moment it appears
    expect(row.locator("td[data-label=期限]")).to_have_text("2026年9月29日 17:30")
    screenshot(office, "75-inbox-new-draft-green-desktop")

    complete(duban, org["office"], "draft_opinion", {"lead_unit": "fgj", "co_units": ["czj"], "opinion": "拟办"})
    leader = Person(open_page, base, "leader", width=390, height=844).page
    leader.goto(f"{base}/tasks")
    approval = leader.locator("#inbox tbody tr", has_text="领导审批")
    expect(approval.locator("td[data-label=期限]")).to_have_text("2026年9月29日 17:30")
    expect(approval.locator("td[data-label=灯]")).to_have_text("正常")
    complete(duban, org["leader"], "leader_approval",
             {"decision": "reject", "comment": "不属于督办范围，转有关部门处理"})

    for page, name in ((office, "76-refused-item-desktop"), (leader, "77-refused-item-phone")):
        page.goto(f"{base}/items/{item['id']}")
        expect(page.locator("#item-status")).to_have_text("不予立项")
        refusal = page.locator("#refusal")
        expect(refusal).to_contain_text("县政府 李副县长")
        expect(refusal).to_contain_text("领导审批")
        expect(refusal).to_contain_text("不属于督办范围，转有关部门处理")
        expect(page.get_by_role("heading", name="承办单位")).to_have_count(0)
        expect(page.get_by_role("heading", name="六有")).to_have_count(0)
        expect(page.locator(".facts dt", has_text="办结时限")).to_have_count(0)
        expect(page.locator("h1 .light")).to_have_count(0)  # no light applies
        screenshot(page, name)
    office.goto(f"{base}/items")
    ledger_row = office.locator(f"#ledger tr[data-item='{item['id']}'], tr[data-item='{item['id']}']").first
    expect(ledger_row.locator("td[data-label=承办单位]")).to_have_text("—")
    expect(ledger_row.locator("td[data-label=办结时限]")).to_have_text("—")
