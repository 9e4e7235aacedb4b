"""Task forms as a person sees them: radio buttons and checkboxes are small boxes with their label right beside
them, on a desktop and on a phone, never pushed away or clipped."""
from __future__ import annotations

import re
from datetime import datetime

import pytest
from playwright.sync_api import expect

from engine.clock import CHINA
from engine.models import ItemUnit
from engine.services import timers
from tests.integration import flow
from tests.support.browser import PASSWORD, Person, confirm, screenshot, settle

WIDTHS = {"desktop": 1440, "phone": 390}

# Each radio and checkbox of the form: its own box, its label's box, the form's box.
MEASURE = """() => {
  const form = document.querySelector('.fjs-form').getBoundingClientRect();
  return Array.from(document.querySelectorAll('.fjs-form input[type=radio], .fjs-form input[type=checkbox]'))
    .map(input => {
      const label = document.querySelector('label[for="' + input.id + '"]');
      const box = input.getBoundingClientRect(), text = label.getBoundingClientRect();
      return {label: label.textContent.replace('*', '').trim(), width: box.width, gap: text.left - box.right,
              sameLine: text.top < box.bottom && text.bottom > box.top,
              inside: text.left >= form.left && text.right <= form.right + 0.5,
              clipped: label.scrollWidth > label.clientWidth};
    });
}"""


def open_tasks(duban, org) -> dict[str, tuple[str, str]]:
    """One open 领导审批, 办结报告 and 审核 (each on its own item): form name -> (username, task id)."""
    second = flow.through_assignment(duban, org, co_units=(), title="办结报告的事项")
    flow.complete(duban, org["unit_a"], "unit_receive", flow.RECEIVE, "fgj", second["instance_id"])
    report = flow.open_task(duban, org["unit_a"], "unit_report", "fgj", second["instance_id"])

    third = flow.through_assignment(duban, org, co_units=(), title="审核的事项")
    flow.complete(duban, org["unit_a"], "unit_receive", flow.RECEIVE, "fgj", third["instance_id"])
    flow.complete(duban, org["unit_a"], "unit_report", flow.REPORT, "fgj", third["instance_id"])
    review = flow.open_task(duban, org["office"], "office_review", "fgj", third["instance_id"])

    # Last: the flow helpers complete the first open task of a kind, which must be the new item's.
    flow.register(duban, org, title="领导审批的事项")
    flow.complete(duban, org["office"], "draft_opinion", {"lead_unit": "fgj", "co_units": [], "opinion": "请办理"})
    approval = flow.open_task(duban, org["leader"], "leader_approval")
    return {"leader_approval": ("leader", approval["id"]), "unit_report": ("unit_a", report["id"]),
            "office_review": ("office", review["id"])}


@pytest.mark.parametrize("screen", WIDTHS)
def test_choices_sit_beside_their_labels(live, open_page, screen):
    base, duban, org = live
    tasks = open_tasks(duban, org)
    people = {}
    expected = {"leader_approval": {"同意立项", "退回拟办", "不予立项"},
                "unit_report": {"报告已经本单位分管领导审签"},
                "office_review": {"审核通过", "退回重新办理"}}
    for form, (username, task_id) in tasks.items():
        if username not in people:
            people[username] = Person(open_page, base, username, width=WIDTHS[screen], height=900)
        page = people[username].page
        page.goto(f"{base}/tasks/{task_id}")
        page.locator(".fjs-form input[type=radio], .fjs-form input[type=checkbox]").first.wait_for()
        screenshot(page, f"form-{form}-{screen}")
        boxes = page.evaluate(MEASURE)
        assert expected[form] <= {b["label"] for b in boxes}, boxes
        for box in boxes:
            assert box["width"] < 30, box
            assert 0 <= box["gap"] < 30, box
            assert box["sameLine"], box
            assert box["inside"], box
            assert not box["clipped"], box


def test_form_messages_and_the_date_picker_are_chinese(live, open_page):
    base, duban, org = live
    item = flow.through_assignment(duban, org, co_units=())
    receive = flow.open_task(duban, org["unit_a"], "unit_receive", "fgj", item["instance_id"])
    page = Person(open_page, base, "unit_a").page
    page.goto(f"{base}/tasks/{receive['id']}")
    page.click("#submit")
    errors = page.locator(".fjs-form-field-error")
    expect(errors.first).to_be_visible()
    assert set(errors.all_inner_texts()) == {"此项必填。"}

    page.get_by_label("承诺办结时限").click()
    calendar = page.locator(".flatpickr-calendar.open")
    expect(calendar).to_be_visible()
    screenshot(page, "form-date-picker-zh")
    months = calendar.locator(".flatpickr-monthDropdown-month").all_inner_texts()
    assert months[:3] == ["一月", "二月", "三月"]
    assert calendar.locator(".flatpickr-weekday").first.inner_text().strip() == "一"  # weeks start on Monday
    assert "yyyy" not in page.get_by_label("承诺办结时限").get_attribute("placeholder")
    year = calendar.locator("input.cur-year")
    assert year.input_value() and year.is_visible()  # the year beside the month


def test_dropdowns_are_chinese(live, open_page):
    base, duban, org = live
    flow.register(duban, org)
    draft = flow.open_task(duban, org["office"], "draft_opinion")
    page = Person(open_page, base, "office").page
    page.goto(f"{base}/tasks/{draft['id']}")
    co_units = page.get_by_label("配合单位")
    expect(co_units).to_have_attribute("placeholder", "搜索")
    co_units.click()
    co_units.fill("没有这个单位")
    expect(page.locator(".fjs-dropdownlist")).to_contain_text("无匹配项")
    screenshot(page, "form-dropdown-zh")
    co_units.fill("财政局")
    page.locator(".fjs-dropdownlist-item", has_text="财政局").first.click()
    # with a unit chosen, the keyboard's link past the chosen tags (form-js writes it in English)
    expect(page.locator(".fjs-taglist-skip-link")).to_have_text("跳到搜索框")


def test_the_urge_limit_is_beijing_time_in_any_browser(live, chromium):
    """A 督查室 laptop set to New York time picks 2026-10-21 17:30: the server gets 17:30 in Beijing."""
    base, duban, org = live
    item = flow.through_assignment(duban, org, co_units=())
    flow.complete(duban, org["unit_a"], "unit_receive", flow.RECEIVE, "fgj", item["instance_id"])
    duban.clock.set(datetime(2026, 10, 16, 17, 31, tzinfo=CHINA))
    timers.fire_all_due(duban)
    urge = flow.open_task(duban, org["office"], "urge", "fgj", item["instance_id"])

    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                   timezone_id="America/New_York")
    try:
        page = context.new_page()
        page.clock.set_fixed_time(datetime(2026, 10, 16, 17, 40, tzinfo=CHINA))
        page.goto(f"{base}/login")
        page.fill("input[name=username]", "office")
        page.fill("input[name=password]", PASSWORD)
        page.click("form button[type=submit]")
        expect(page).to_have_url(re.compile(r"/tasks$"))
        page.goto(f"{base}/tasks/{urge['id']}")
        page.get_by_label("新的办理期限").click()
        calendar = page.locator(".flatpickr-calendar.open")
        expect(calendar.locator(".flatpickr-monthDropdown-months")).to_have_value("9")  # October, as in Beijing
        calendar.locator(".flatpickr-day:not(.prevMonthDay):not(.nextMonthDay)", has_text="21").first.click()
        settle(page)
        page.get_by_label("时间").fill("17:30")
        page.keyboard.press("Tab")
        settle(page)
        screenshot(page, "form-urge-new-york")
        page.click("#submit")
        confirm(page)
        expect(page).to_have_url(re.compile(r"/tasks\?done="))
    finally:
        context.close()
    with duban.db.reading() as session:
        limit = session.query(ItemUnit.urge_limit).filter_by(item_id=item["id"], unit_id="fgj").scalar()
    assert limit.astimezone(CHINA) == datetime(2026, 10, 21, 17, 30, tzinfo=CHINA)
