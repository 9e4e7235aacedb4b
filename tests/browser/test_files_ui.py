"""佐证材料 in a real browser: a unit attaches a signed PDF to its 办结报告 and sees its upload bar
fill; the office finds the file on the item page and downloads it; at desktop and phone width."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from engine.services import files
from tests.integration.flow import RECEIVE, complete, through_assignment
from tests.support.browser import Person, screenshot

SIGNED = b"%PDF-1.7\n" + b"0" * (1536 * 1024) + b"\n%%EOF\n"  # 1.5 MB: the bar has something to show


@pytest.mark.parametrize("viewport, tag", [({"width": 1280, "height": 900}, "desktop"),
                                           ({"width": 390, "height": 844}, "phone")])
def test_a_unit_attaches_a_pdf_to_its_report_and_the_office_sees_it(live, open_page, viewport, tag):
    base, duban, org = live
    item = through_assignment(duban, org, co_units=())
    complete(duban, org["unit_a"], "unit_receive", RECEIVE, "fgj")

    unit = Person(open_page, base, "unit_a", **viewport)
    page = unit.open_task("办结报告", "发改局")
    page.get_by_label("办结情况报告").fill("发改局已按要求办结，签批件见附件")
    page.get_by_label("报告已经本单位分管领导审签").check()
    page.locator("#files input[type=file]").set_input_files(
        files=[{"name": "办结报告（签批件）.pdf", "mimeType": "application/pdf", "buffer": SIGNED}])
    done = page.locator("#files li.file-done", has_text="办结报告（签批件）.pdf")
    expect(done).to_be_visible()
    expect(done.locator("progress")).to_have_attribute("value", "100")
    expect(done).to_contain_text("1.5 MB")
    screenshot(page, f"files-01-report-attached-{tag}")
    task_url = page.url
    unit.submit()
    page.goto(task_url)  # the report as sent: its files by name, read-only
    sent = page.locator("#files li.file-done")
    expect(sent).to_contain_text("办结报告（签批件）.pdf")
    expect(sent).to_contain_text("1.5 MB")
    expect(page.locator("#files .file-choose")).to_have_count(0)

    office = Person(open_page, base, "office", **viewport)
    office.page.goto(f"{base}/items/{item['id']}")
    row = office.page.locator("#item-files tbody tr", has_text="办结报告（签批件）.pdf")
    expect(row).to_contain_text("发改局 张科长")
    expect(row).to_contain_text("1.5 MB")
    screenshot(office.page, f"files-02-item-page-{tag}")
    with office.page.expect_download() as download:
        row.get_by_role("link").click()
    assert download.value.suggested_filename == "办结报告（签批件）.pdf"
    with open(download.value.path(), "rb") as saved:
        assert saved.read() == SIGNED
    assert [f["name"] for f in files.list_item_files(duban, org["office"], item["id"])] == \
        ["办结报告（签批件）.pdf"]


def test_the_office_attaches_a_scan_on_the_item_page(live, open_page):
    base, duban, org = live
    item = through_assignment(duban, org, co_units=())
    office = Person(open_page, base, "office")
    office.page.goto(f"{base}/items/{item['id']}")
    expect(office.page.locator("#item-files")).to_contain_text("暂无佐证材料")
    office.page.locator("#attach input[type=file]").set_input_files(
        files=[{"name": "领导批示.png", "mimeType": "image/png", "buffer": b"\x89PNG\r\n\x1a\n" + b"\x00" * 64}])
    expect(office.page.locator("#item-files tbody tr", has_text="领导批示.png")).to_be_visible()
    office.page.locator("#attach input[type=file]").set_input_files(
        files=[{"name": "病毒.pdf", "mimeType": "application/pdf", "buffer": b"MZ\x90\x00" + b"\x00" * 64}])
    expect(office.page.locator("#attach .file-failed")).to_contain_text("不是可接受的类型")
    screenshot(office.page, "files-03-item-attach-refused")
