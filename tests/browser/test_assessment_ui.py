"""考核 and 督查通报 in a real browser: the ranking, one unit's lines, the export, issuing and downloading
a bulletin (read back with python-docx)."""
from __future__ import annotations

import re

from docx import Document
from openpyxl import load_workbook
from playwright.sync_api import expect

from engine.services import assessment
from tests.integration.scoring import october
from tests.support.browser import Person, confirm, screenshot


def test_the_ranking_and_a_units_lines(live, open_page, tmp_path):
    base, duban, org = live
    october(duban, org)
    expected = {u["unit"]: u for u in assessment.scores(duban, org["office"], 2026)["units"]}
    office = Person(open_page, base, "office")
    page = office.page
    page.get_by_role("link", name="考核").click()
    expect(page.locator("h1")).to_contain_text("2026年度考核")
    rows = page.locator("#ranking tbody tr")
    expect(rows).to_have_count(4)
    assert rows.evaluate_all("rows => rows.map(r => r.dataset.unit)") == ["zjj", "fgj", "czj", "jyj"]
    czj = page.locator("#ranking tr[data-unit=czj]")
    assert czj.locator("td.score").inner_text() == assessment.points_text(expected["czj"]["total"]) == "-2"
    assert czj.locator("td[data-label=排名]").inner_text() == str(expected["czj"]["rank"])
    screenshot(page, "40-assessment-ranking")

    with page.expect_download() as waiting:
        page.click("#assessment-export")
    target = tmp_path / "assessment.xlsx"
    waiting.value.save_as(target)
    assert [row[1] for row in load_workbook(target).worksheets[0].iter_rows(min_row=2, values_only=True)] == [
        "住建局", "发改局", "财政局", "教育局"]

    page.locator("#ranking tr[data-unit=jyj]").get_by_role("link", name="教育局").click()
    expect(page).to_have_url(re.compile(r"/assessment/2026/units/jyj$"))
    expect(page.locator("#unit-total")).to_have_text(assessment.points_text(expected["jyj"]["total"]))
    lines = page.locator("#lines tbody tr")
    expect(lines).to_have_count(2)
    assert lines.evaluate_all("rows => rows.map(r => r.dataset.event)") == ["criticised", "escalated"]
    expect(lines.nth(1)).to_contain_text("C 校舍改造问责")
    expect(lines.nth(1).locator("td.points")).to_have_text("-10")
    screenshot(page, "41-assessment-unit-lines")


def test_issue_and_download_a_bulletin(live, open_page, tmp_path):
    base, duban, org = live
    october(duban, org)
    office = Person(open_page, base, "office")
    page = office.page
    page.get_by_role("link", name="通报").click()
    expect(page.locator("h1")).to_have_text("督查通报")
    page.select_option("select[name=period]", "2026-10")
    page.click("#issue")
    confirm(page)  # issuing takes a number for good: asked first
    expect(page.locator("#issued")).to_contain_text("〔2026〕第1期")
    screenshot(page, "42-bulletin-issued")
    with page.expect_download() as waiting:
        page.locator("#bulletins tbody tr").first.locator("a.download").click()
    download = waiting.value
    assert download.suggested_filename == "督查通报〔2026〕第1期.docx"
    target = tmp_path / "bulletin.docx"
    download.save_as(target)
    doc = Document(str(target))
    paragraphs = [p.text for p in doc.paragraphs]
    assert paragraphs[:2] == ["督查通报", "〔2026〕第1期"]
    assert any("新立项督办事项4项；办结承办任务3件，其中按期办结2件、逾期办结1件" in p for p in paragraphs)
    cells = {cell.text for table in doc.tables for row in table.rows for cell in row.cells}
    assert {"住建局", "教育局", "C 校舍改造问责"} <= cells

    leader = Person(open_page, base, "leader")
    leader.page.goto(f"{base}/bulletins")
    expect(leader.page.locator("#bulletins tbody tr")).to_have_count(1)
    expect(leader.page.locator("select[name=period]")).to_have_count(0)
