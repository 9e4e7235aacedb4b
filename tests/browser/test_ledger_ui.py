"""The ledger page (台账) in a real browser: filter by light and unit, sort by a column header, export
the same query to Excel and read the downloaded file; and the page on a phone."""
from __future__ import annotations

import re
from datetime import timedelta

from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.support.browser import Person, screenshot
from tests.support.items import add_item


def _items(duban) -> dict:
    now = duban.clock.now()
    return {
        "late_czj": add_item(duban, "财政局逾期事项", deadline=now - timedelta(days=3), parts=[("czj", {})]),
        "late_fgj": add_item(duban, "发改局逾期事项", deadline=now - timedelta(days=1), parts=[("fgj", {})]),
        "soon": add_item(duban, "临期事项", deadline=now + timedelta(hours=4), parts=[("fgj", {})]),
        "later": add_item(duban, "正常事项", deadline=now + timedelta(days=40), parts=[("jyj", {})]),
    }


def _rows(page) -> list[int]:
    return [int(i) for i in page.locator("#ledger tbody tr[data-item]").evaluate_all(
        "rows => rows.map(r => r.dataset.item)")]


def test_filter_sort_and_export_the_ledger(live, open_page, tmp_path):
    base, duban, _ = live
    made = _items(duban)
    office = Person(open_page, base, "office")
    page = office.page
    page.goto(f"{base}/items")
    expect(page.locator("#ledger-total")).to_have_text("共 4 项")
    page.select_option("select[name=light]", "red")
    page.click("form.ledger-filters button[type=submit]")
    expect(page).to_have_url(re.compile(r"light=red"))
    assert _rows(page) == [made["late_fgj"], made["late_czj"]]
    expect(page.locator("#ledger tbody .light-red")).to_have_count(2)
    # sort by deadline with a click on the header; the light filter stays
    page.get_by_role("link", name="办结时限").click()
    expect(page).to_have_url(re.compile(r"sort=deadline"))
    assert _rows(page) == [made["late_czj"], made["late_fgj"]]
    page.get_by_role("link", name=re.compile("办结时限")).click()
    expect(page).to_have_url(re.compile(r"sort=-deadline"))
    assert _rows(page) == [made["late_fgj"], made["late_czj"]]
    # one unit
    page.select_option("select[name=unit]", "czj")
    page.click("form.ledger-filters button[type=submit]")
    expect(page.locator("#ledger-total")).to_have_text("共 1 项")
    assert _rows(page) == [made["late_czj"]]
    screenshot(page, "10-ledger-filtered")
    # the export carries the page's query
    with page.expect_download() as waiting:
        page.click("#export")
    download = waiting.value
    assert download.suggested_filename.endswith(".xlsx")
    target = tmp_path / "ledger.xlsx"
    download.save_as(target)
    sheet = load_workbook(target).active
    assert [cell.value for cell in sheet[1]][:3] == ["编号", "事项", "来源"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [(row[0], row[1], row[5], row[11]) for row in rows] == [
        (made["late_czj"], "财政局逾期事项", "财政局", "逾期")]


def test_a_units_ledger_and_its_export_hold_only_its_items(live, open_page, tmp_path):
    base, duban, _ = live
    made = _items(duban)
    unit = Person(open_page, base, "unit_a")
    page = unit.page
    page.goto(f"{base}/items")
    assert sorted(_rows(page)) == sorted([made["late_fgj"], made["soon"]])
    with page.expect_download() as waiting:
        page.click("#export")
    target = tmp_path / "unit.xlsx"
    waiting.value.save_as(target)
    exported = [row[0] for row in load_workbook(target).active.iter_rows(min_row=2, values_only=True)]
    assert sorted(exported) == sorted([made["late_fgj"], made["soon"]])


def test_the_ledger_on_a_phone(live, open_page):
    base, duban, _ = live
    _items(duban)
    office = Person(open_page, base, "office", width=375, height=740)
    page = office.page
    page.goto(f"{base}/items?sort=deadline")
    expect(page.locator("#ledger thead")).to_be_hidden()  # rows become cards
    first = page.locator("#ledger tbody tr").first
    expect(first.locator("td[data-label=事项]")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375 + 1  # nothing wider than the screen
    page.select_option("select[name=sort]", "-deadline")
    page.click("form.ledger-filters button[type=submit]")
    expect(page).to_have_url(re.compile(r"sort=-deadline"))
    screenshot(page, "11-phone-ledger")
