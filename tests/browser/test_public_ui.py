"""公示 in a real browser without signing in (desktop and phone), and a 交办通知单 downloaded from an
item's page and opened with python-docx."""
from __future__ import annotations

from docx import Document
from playwright.sync_api import expect

from engine import services
from tests.integration.flow import RECEIVE, complete
from tests.support.browser import Person, screenshot


def assigned(duban, org, title: str, classification: str = "public") -> dict:
    item = services.register_item(duban, org["office"], {"title": title, "classification": classification})
    run = item["instance_id"]
    complete(duban, org["office"], "draft_opinion", {"lead_unit": "fgj", "co_units": ["czj"], "opinion": "办"},
             instance_id=run)
    complete(duban, org["leader"], "leader_approval", {"decision": "approve"}, instance_id=run)
    complete(duban, org["office"], "assign", {"notice": f"交办通知单\n请认真办理“{title}”。\n按期书面报告。"},
             instance_id=run)
    complete(duban, org["unit_a"], "unit_receive", RECEIVE, "fgj", instance_id=run)
    return item


def test_the_public_board_without_signing_in(live, open_page):
    base, duban, org = live
    item = assigned(duban, org, "城区道路改造公示事项")
    assigned(duban, org, "内部掌握事项", "internal")

    page = open_page()
    page.goto(f"{base}/public")
    expect(page).to_have_url(f"{base}/public")  # not sent to sign in
    row = page.locator(f"#item-{item['id']}")
    expect(row).to_contain_text("城区道路改造公示事项")
    expect(row).to_contain_text("具体承办人：科员")
    expect(page.locator("#public")).not_to_contain_text("内部掌握事项")
    page.fill("input[name=text]", "道路")
    page.click("form.filters button[type=submit]")
    expect(page.locator("#public tbody tr")).to_have_count(1)
    screenshot(page, "public-board")

    phone = open_page(width=375, height=740)
    phone.goto(f"{base}/public")
    expect(phone.locator(f"#item-{item['id']}")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "scrolls sideways"
    screenshot(phone, "public-board-phone")


def test_the_office_downloads_an_assign_notice_from_the_item_page(live, open_page):
    base, duban, org = live
    item = assigned(duban, org, "优化营商环境专项督查")
    office = Person(open_page, base, "office")
    office.page.goto(f"{base}/items/{item['id']}")
    documents = office.page.locator("#documents")
    expect(documents).to_contain_text("督交〔2026〕1号")
    with office.page.expect_download() as download:
        documents.get_by_role("link", name="下载 Word").first.click()
    assert download.value.suggested_filename == "督交〔2026〕1号交办通知单.docx"
    word = Document(download.value.path())
    assert word.paragraphs[0].text == "县委办督查室"
    values = {row.cells[0].text: row.cells[1].text for row in word.tables[0].rows}
    assert values["事项名称"] == "优化营商环境专项督查"
    assert values["承办单位"] == "发改局（牵头）、财政局（配合）"
    assert "请认真办理“优化营商环境专项督查”。" in values["交办内容"]
    screenshot(office.page, "item-documents")
