"""月度进展, 六有 and 答复 in the pages (Flask test client): forms on the item page, errors inline,
the office's /progress summary, the dashboard's source panel."""
import json
import re

import pytest

from engine.services import checklists, progress, replies
from tests.integration.flow import register, through_assignment
from tests.support.org import seed
from tests.support.web import Browser
from web import create_app


@pytest.fixture
def world(duban_sqlite):
    org = seed(duban_sqlite)
    app = create_app(duban=duban_sqlite)
    app.config["TESTING"] = True
    return app, duban_sqlite, org


def test_a_unit_reports_progress_on_the_item_page(world):
    app, duban, org = world
    item = through_assignment(duban, org)
    unit = Browser(app, "unit_a")
    page = unit.get(f"/items/{item['id']}").text
    assert "填报2026年9月进展（发改局）" in page and 'name="month" value="2026-09"' in page

    refused = unit.post(f"/items/{item['id']}/progress", {"month": "2026-09", "text": "", "percent": "150"})
    assert refused.status_code == 422
    assert refused.text.count('class="field-error"') == 2  # text and percent, beside their fields
    assert progress.list_reports(duban, org["office"], item["id"]) == []

    saved = unit.post(f"/items/{item['id']}/progress", {"month": "2026-09", "text": "完成选址", "percent": "35",
                                                        "problems": "用地紧张", "next_steps": "报批"})
    assert saved.status_code == 302 and saved.headers["Location"].endswith("saved=progress#progress")
    page = unit.get(f"/items/{item['id']}?saved=progress").text
    assert "本月进展已报送" in page and "完成选址" in page and "35%" in page
    assert progress.list_reports(duban, org["office"], item["id"])[0]["reported_by"] == "unit_a"
    unit.post(f"/items/{item['id']}/progress", {"month": "2026-09", "text": "完成选址和环评", "percent": "50"})
    page = unit.get(f"/items/{item['id']}").text
    assert "修改 1 次" in page and "第1版 35%：完成选址" in page  # the replaced version is shown
    # The office reads it but has no form.
    office_page = Browser(app, "office").get(f"/items/{item['id']}").text
    assert "完成选址和环评" in office_page and "报送本月进展" not in office_page
    # Without the session's CSRF token nothing is saved.
    assert unit.post(f"/items/{item['id']}/progress", {"month": "2026-09", "text": "x", "percent": "1"},
                     csrf=False).status_code == 403


def test_a_unit_fills_in_its_six_points(world):
    app, duban, org = world
    item = through_assignment(duban, org)
    unit = Browser(app, "unit_b")
    assert "填写本单位“六有”（财政局）" in unit.get(f"/items/{item['id']}").text
    refused = unit.post(f"/items/{item['id']}/checklist", {"plan": "1", "plan_note": "方" * 501})
    assert refused.status_code == 422 and "field-error" in refused.text
    saved = unit.post(f"/items/{item['id']}/checklist", {"plan": "1", "plan_note": "方案.docx", "leader": "1"})
    assert saved.status_code == 302
    mine = [c for c in checklists.list_checklists(duban, org["office"], item["id"]) if c["unit"] == "czj"][0]
    assert (mine["plan"], mine["leader"], mine["done"], mine["plan_note"]) == (True, True, 2, "方案.docx")
    page = Browser(app, "office").get(f"/items/{item['id']}").text
    assert re.search(r'data-unit="czj".*?2/6', page, re.S) and "填写本单位“六有”" not in page


def test_the_office_sees_the_month_on_progress(world):
    app, duban, org = world
    item = through_assignment(duban, org, title="重点项目建设")
    progress.put_report(duban, org["unit_a"], item["id"], "2026-09", {"text": "完成选址", "percent": 35})
    checklists.put_checklist(duban, org["unit_a"], item["id"], dict.fromkeys(checklists.CHECKS, True))
    office = Browser(app, "office")
    assert 'href="/progress"' in office.get("/tasks").text  # the 月报 link
    page = office.get("/progress?month=2026-09").text
    assert re.search(r'data-stat="due">2<.*data-stat="reported">1<.*data-stat="missing">1<', page, re.S)
    rows = re.findall(r'<tr data-item="\d+" data-unit="(\w+)" class="(\w+)">', page)
    assert rows == [("fgj", "reported"), ("czj", "missing")]
    assert "完成选址" in page and "6/6" in page and "0/6" in page
    only_missing = office.get("/progress?month=2026-09&missing=1").text
    assert re.findall(r'data-unit="(\w+)" class="missing"', only_missing) == ["czj"]
    assert office.get("/progress").status_code == 200  # this month by default
    assert office.get("/progress?month=2026-13").status_code == 422
    assert Browser(app, "leader").get("/progress").status_code == 200
    unit = Browser(app, "unit_a")
    assert unit.get("/progress").status_code == 403 and 'href="/progress"' not in unit.get("/tasks").text


def test_the_office_records_reply_and_satisfaction(world):
    app, duban, org = world
    item = register(duban, org, source="mailbox", title="来信反映供暖问题")
    plain = register(duban, org, source="decision", title="一般事项")
    office = Browser(app, "office")
    assert "记录答复" in office.get(f"/items/{item['id']}").text
    assert "答复与满意度" not in office.get(f"/items/{plain['id']}").text
    refused = office.post(f"/items/{item['id']}/reply", {"requester_name": "", "text": "已答复"})
    assert refused.status_code == 422 and "field-error" in refused.text
    assert office.post(f"/items/{item['id']}/reply", {"requester_name": "李某", "requester_contact": "139",
                                                      "text": "本周恢复供暖"}).status_code == 302
    assert office.post(f"/items/{item['id']}/satisfaction", {"satisfaction": "basically_satisfied"}).status_code == 302
    shown = replies.get_reply(duban, org["office"], item["id"])
    assert (shown["text"], shown["satisfaction"]) == ("本周恢复供暖", "basically_satisfied")
    page = Browser(app, "leader").get(f"/items/{item['id']}").text
    assert "本周恢复供暖" in page and "基本满意" in page and "记录满意度" not in page


def test_the_dashboard_shows_the_source_panel(world):
    app, duban, org = world
    item = register(duban, org, source="npc_suggestion", title="人大建议一")
    replies.put_reply(duban, org["office"], item["id"], {"requester_name": "王代表", "text": "已答复"})
    page = Browser(app, "office").get("/dashboard").text
    assert 'id="source-stats"' in page and "人大代表建议" in page
    assert re.search(r'data-source="npc_suggestion">.*?<td data-label="事项" class="items">1</td>', page, re.S)
    block = re.search(r'<script type="application/json" id="sources-data">(.*?)</script>', page, re.S)
    data = json.loads(block.group(1))
    assert [(s["source"], s["items"], s["replied"]) for s in data] == [
        ("mailbox", 0, 0), ("npc_suggestion", 1, 1), ("cppcc_proposal", 0, 0)]
