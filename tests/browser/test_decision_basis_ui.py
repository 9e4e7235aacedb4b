"""决策依据 in the browser: the office returns 财政局's report with a reason; 财政局's next form shows it above
the form, its notification carries it, the item page shows the whole file (办理记录) by names; the leader's
approval shows the proposed units and deadline. Screenshots at desktop and phone width."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from engine import services
from engine.models import HumanTask
from engine.services import files
from tests.integration.flow import RECEIVE, REPORT, complete
from tests.support.browser import Person, screenshot

REASON = "请补充资金来源明细"


def _registered(duban, org):
    """A 重大 item, drafted for 发改局 and 财政局, as the office leaves it for the leader."""
    item = services.register_item(duban, org["office"], {"title": "县城供水管网改造资金保障", "category": "major",
                                                          "content": "落实管网改造配套资金", "deadline": "2030-06-28"})
    complete(duban, org["office"], "draft_opinion", {"lead_unit": "fgj", "co_units": ["czj"],
                                                     "opinion": "请发改局牵头、财政局配合，落实配套资金"})
    return item


def _task_url(base, duban, element, unit=None):
    with duban.db.reading() as session:
        query = session.query(HumanTask.id).filter(HumanTask.element_id == element, HumanTask.state == "open")
        if unit:
            query = query.filter(HumanTask.unit_id == unit)
        return f"{base}/tasks/{query.one()[0]}"


def test_a_return_reaches_the_unit_with_its_reason_and_the_item_keeps_the_file(live, open_page):
    base, duban, org = live
    item = _registered(duban, org)

    leader = Person(open_page, base, "leader")
    leader.page.goto(_task_url(base, duban, "leader_approval"))
    basis = leader.page.locator("#basis")
    expect(basis).to_contain_text("牵头单位")
    expect(basis).to_contain_text("发改局")
    expect(basis).to_contain_text("财政局")
    expect(basis).to_contain_text("2030年6月28日")
    expect(basis).not_to_contain_text("czj")
    screenshot(leader.page, "basis-01-leader-approval")
    leader.pick("同意立项")
    leader.page.get_by_label("批示").fill("同意，请抓紧落实")
    leader.submit()

    complete(duban, org["office"], "assign", {"notice": "交办通知单"})
    receive = {"first_responsible": "局长", "responsible": "科长", "handler": "科员", "committed_date": "2030-06-20"}
    complete(duban, org["unit_b"], "unit_receive", receive, "czj")
    complete(duban, org["unit_b"], "unit_report", {"summary": "配套资金已列入年度预算", "approved_by_deputy": True},
             "czj")

    office = Person(open_page, base, "office")
    office.open_task("审核", "财政局")
    expect(office.page.locator("#basis")).to_contain_text("配套资金已列入年度预算")
    expect(office.page.locator("#basis")).to_contain_text("财政局 刘科长")
    office.pick("退回重新办理")
    office.page.get_by_label("审核说明").fill(REASON)
    office.submit()

    for width, height, suffix in ((1280, 900, "desktop"), (390, 844, "phone")):
        unit = Person(open_page, base, "unit_b", width=width, height=height)
        page = unit.open_task("办结报告", "财政局")
        notice = page.locator("#return-notice")
        expect(notice).to_be_visible()
        expect(notice).to_contain_text(f"退回原因：{REASON}")
        expect(notice).to_contain_text("督查室 王主任")
        expect(notice).to_contain_text(re.compile(r"\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}"))
        # above the form, where the next person acts
        assert notice.bounding_box()["y"] < page.locator("#form").bounding_box()["y"]
        expect(page.locator("#basis")).to_contain_text("配套资金已列入年度预算")  # the report sent back
        if suffix == "phone":
            assert page.evaluate("document.documentElement.scrollWidth") <= width
        screenshot(page, f"basis-02-returned-task-{suffix}")

        page.goto(f"{base}/notifications")
        expect(page.locator("body")).to_contain_text(f"退回原因：{REASON}")
        if suffix == "desktop":
            screenshot(page, "basis-03-notification")

        page.goto(f"{base}/items/{item['id']}")
        record = page.locator("#record")
        expect(record).to_contain_text("同意，请抓紧落实")  # the leader's 批示
        expect(record).to_contain_text(REASON)
        expect(record).to_contain_text("财政局 刘科长")
        expect(record.locator(".record-entry.returned")).to_have_count(1)
        expect(record).not_to_contain_text("unit_b")
        expect(record).not_to_contain_text("czj")
        screenshot(page, f"basis-04-item-record-{suffix}")


def test_the_leader_signs_off_on_every_unit_report_with_its_files_and_review(live, open_page):
    base, duban, org = live
    item = _registered(duban, org)
    complete(duban, org["leader"], "leader_approval", {"decision": "approve", "comment": "同意"})
    complete(duban, org["office"], "assign", {"notice": "交办通知单"})
    scan = files.upload(duban, org["unit_a"], "资金到位凭证.pdf", b"%PDF-1.4\n%%EOF\n", item["id"])
    for user, unit, summary, evidence in (("unit_a", "fgj", "管网改造已开工", [scan["id"]]),
                                          ("unit_b", "czj", "配套资金已拨付", [])):
        complete(duban, org[user], "unit_receive", RECEIVE, unit)
        complete(duban, org[user], "unit_report", {**REPORT, "summary": summary, "evidence": evidence}, unit)
        complete(duban, org["office"], "office_review", {"decision": "accept", "comment": "材料齐全"}, unit)

    for width, height, suffix in ((1280, 900, "desktop"), (390, 844, "phone")):
        leader = Person(open_page, base, "leader", width=width, height=height)
        leader.page.goto(_task_url(base, duban, "leader_signoff"))
        basis = leader.page.locator("#basis")
        expect(basis.locator(".record-entry")).to_have_count(2)
        expect(basis).to_contain_text("管网改造已开工")
        expect(basis).to_contain_text("配套资金已拨付")
        expect(basis.get_by_role("link", name="资金到位凭证.pdf")).to_be_visible()
        expect(basis.locator(".record-review").first).to_contain_text("审核通过")
        expect(basis.locator(".record-review").first).to_contain_text("材料齐全")
        if suffix == "phone":
            assert leader.page.evaluate("document.documentElement.scrollWidth") <= width
        screenshot(leader.page, f"basis-05-leader-signoff-{suffix}")
