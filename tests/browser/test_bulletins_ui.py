"""督查通报 in a real browser, desktop and phone: 预览 before issuing, the warning when the period has a
bulletin already, and 作废 with a reason (the voided bulletin stays listed as 已作废 with why)."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.integration.scoring import october
from tests.support.browser import Person, confirm, screenshot


def no_sideways_scroll(page, width):
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width


def test_preview_warn_and_void(live, open_page):
    base, duban, org = live
    october(duban, org)
    office = Person(open_page, base, "office")
    page = office.page
    page.get_by_role("link", name="通报").click()
    page.select_option("select[name=period]", "2026-10")
    page.click("#preview-button")
    preview = page.locator("#preview")
    expect(preview).to_contain_text("预览：2026年10月督查督办工作情况通报")
    expect(preview).to_contain_text("如现在生成，期号为 〔2026〕第1期")
    expect(preview.locator(".preview-counts")).to_contain_text("3 件（按期 2，逾期 1）")
    expect(preview).to_contain_text("C 校舍改造问责 · 教育局")
    expect(page.locator("#already-issued")).to_have_count(0)
    expect(page.locator("#bulletins tbody tr.empty")).to_have_count(1)  # a preview issues nothing
    screenshot(page, "70-bulletin-preview-desktop")

    page.click("#issue-previewed")
    confirm(page)
    expect(page.locator("#issued")).to_contain_text("〔2026〕第1期")

    page.select_option("select[name=period]", "2026-10")
    page.click("#preview-button")
    expect(page.locator("#already-issued")).to_contain_text("2026年10月已发过通报：〔2026〕第1期")
    expect(page.locator("#preview")).to_contain_text("期号为 〔2026〕第2期")
    screenshot(page, "71-bulletin-already-issued-desktop")

    row = page.locator("#bulletins tr[data-bulletin]").first
    row.locator(".void-form summary").click()
    row.locator("textarea[name=reason]").fill("逾期件数有误，更正后重发")
    row.get_by_role("button", name="确认作废").click()
    confirm(page)
    expect(page.locator("#voided")).to_be_visible()
    voided = page.locator("#bulletins tr.voided")
    expect(voided).to_contain_text("已作废")
    expect(voided).to_contain_text("作废理由：逾期件数有误，更正后重发")
    expect(voided).to_contain_text("督查室 王主任")
    expect(voided.locator(".void-form")).to_have_count(0)
    # voided: no warning any more, and the next bulletin takes the next number
    page.select_option("select[name=period]", "2026-10")
    page.click("#preview-button")
    expect(page.locator("#already-issued")).to_have_count(0)
    expect(page.locator("#preview")).to_contain_text("期号为 〔2026〕第2期")
    screenshot(page, "72-bulletin-voided-desktop")

    phone = Person(open_page, base, "office", width=390, height=844).page
    phone.goto(f"{base}/bulletins?preview=1&period=2026-10")
    expect(phone.locator("#preview")).to_be_visible()
    expect(phone.locator("#bulletins tr.voided")).to_contain_text("作废理由：逾期件数有误")
    no_sideways_scroll(phone, 390)
    screenshot(phone, "73-bulletin-preview-voided-phone")

    leader = Person(open_page, base, "leader", width=390, height=844).page
    leader.goto(f"{base}/bulletins")
    expect(leader.locator("#bulletins tr.voided")).to_contain_text("已作废")
    expect(leader.locator(".void-form")).to_have_count(0)
    expect(leader.locator("#preview-button")).to_have_count(0)
    no_sideways_scroll(leader, 390)
    screenshot(leader, "74-bulletin-list-leader-phone")
