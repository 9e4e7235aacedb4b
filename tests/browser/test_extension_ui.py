"""延期申请 in a real browser: the unit asks on the item page, the leader approves in the inbox,
the item shows the new deadline."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from engine import services
from tests.integration.flow import through_assignment
from tests.support.browser import Person, screenshot

MINUTES = b"%PDF-1.7\n" + b"0" * 2048 + b"\n%%EOF\n"


def test_a_unit_asks_for_more_time_and_the_leader_grants_it(live, open_page):
    base, duban, org = live
    item = through_assignment(duban, org)
    unit = Person(open_page, base, "unit_a")
    page = unit.page
    page.goto(f"{base}/items/{item['id']}")
    page.get_by_text("申请延期", exact=True).click()
    page.get_by_role("button", name="提交延期申请").click()  # empty: refused, nothing saved
    expect(page.locator(".extension-form .field-error").first).to_be_visible()
    assert services.list_extensions(duban, org["office"], item["id"]) == []
    page.get_by_label("申请理由（书面说明）").fill("需会商财政资金安排")
    page.get_by_role("textbox", name="单位负责人").fill("李局长")
    page.get_by_label("已经单位负责人审签").check()
    page.get_by_label("申请延至").fill("2026-10-30")
    page.get_by_role("button", name="提交延期申请").click()
    expect(page.locator("#extensions .extension-status")).to_contain_text("待审批")

    leader = Person(open_page, base, "leader")
    leader.open_task("延期审批")
    expect(leader.page.locator("#form")).to_contain_text("需会商财政资金安排")
    leader.pick("同意延期")
    screenshot(leader.page, "10-extension-review")
    leader.submit()

    page.goto(f"{base}/items/{item['id']}")
    expect(page.locator("#extensions .extension-status")).to_contain_text("已同意")
    expect(page.locator("#extensions .extension-status")).to_contain_text("2026年10月30日")
    parts = {p["unit"]: p["deadline"].date().isoformat()
             for p in services.get_item(duban, org["office"], item["id"])["units"]}
    assert parts["fgj"] == "2026-10-30"


@pytest.mark.parametrize("viewport, tag", [({"width": 1280, "height": 900}, "desktop"),
                                           ({"width": 390, "height": 844}, "phone")])
def test_the_request_carries_its_files_to_the_leader(live, open_page, viewport, tag):
    base, duban, org = live
    item = through_assignment(duban, org)
    unit = Person(open_page, base, "unit_a", **viewport)
    page = unit.page
    page.goto(f"{base}/items/{item['id']}")
    page.get_by_text("申请延期", exact=True).click()
    page.get_by_label("申请理由（书面说明）").fill("需会商财政资金安排，会商纪要见附件")
    page.locator("#extension-files input[type=file]").set_input_files(
        files=[{"name": "会商纪要.pdf", "mimeType": "application/pdf", "buffer": MINUTES}])
    expect(page.locator("#extension-files li.file-done", has_text="会商纪要.pdf")).to_be_visible()
    page.get_by_role("button", name="提交延期申请").click()  # no head named: refused, the file stays chosen
    expect(page.locator(".extension-form .field-error").first).to_be_visible()
    expect(page.locator("#extension-files li.file-done", has_text="会商纪要.pdf")).to_be_visible()
    page.get_by_role("textbox", name="单位负责人").fill("李局长")
    page.get_by_label("已经单位负责人审签").check()
    page.get_by_label("申请延至").fill("2026-10-30")
    screenshot(page, f"extension-01-request-with-files-{tag}")
    page.get_by_role("button", name="提交延期申请").click()
    expect(page.locator("#extensions .extension-files")).to_contain_text("会商纪要.pdf")
    [asked] = services.list_extensions(duban, org["office"], item["id"])
    assert len(asked["evidence"]) == 1

    leader = Person(open_page, base, "leader", **viewport)
    leader.open_task("延期审批")
    shown = leader.page.locator("#files li.file-done", has_text="会商纪要.pdf")
    expect(shown).to_be_visible()
    expect(leader.page.locator("#files .file-choose")).to_have_count(0)  # read-only: nothing to add
    screenshot(leader.page, f"extension-02-review-with-files-{tag}")
    with leader.page.expect_download() as download:
        shown.get_by_role("link").click()
    with open(download.value.path(), "rb") as saved:
        assert saved.read() == MINUTES
    leader.pick("同意延期")
    leader.submit()
    assert services.list_extensions(duban, org["office"], item["id"])[0]["status"] == "approved"
