"""Task forms as a person sees them: radio buttons and checkboxes are small boxes with their label right beside
them, on a desktop and on a phone, never pushed away or clipped."""
from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot
from tests.browser.test_handlers_ui import Person
from tests.integration import flow

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
