"""The DMN editor in a real browser: a designer opens a deployed decision table from the modeler's page
(dmn-js, in Chinese), edits a cell, deploys it, and a new instance of the process using it takes the
new result; a cell the sandbox refuses is reported and nothing is deployed. Desktop and phone width."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from engine import PROCESSES, services
from tests.samples import user_task
from tests.support.browser import Person, open_modeler, panel_field, screenshot, select
from tests.support.dmn import deciding_process, table

WAIT = user_task(2, 'camunda:candidateGroups="office" camunda:formRef="simple"')
FORM = {"simple.form": b'{"type": "default", "id": "simple", "components": []}'}


def deploy_grading(duban, org) -> None:
    files = {"p.bpmn": deciding_process(then=WAIT), "grade.dmn": table()}
    services.deploy(duban, files, FORM, org["designer"])


def open_table(page, base) -> None:
    page.goto(f"{base}/modeler")
    page.get_by_role("link", name="决策表（DMN）").click()
    expect(page).to_have_url(re.compile(r"/modeler/decisions$"))
    page.get_by_role("link", name="期限规则").click()
    expect(page.locator("#dmn-canvas .tjs-table")).to_be_visible()


def output_cell(page, rule: int):
    return page.locator(f'#dmn-canvas td[data-element-id="r{rule}o0"]')


def test_editing_a_cell_and_deploying_gives_new_instances_the_new_result(live, open_page):
    base, duban, org = live
    deploy_grading(duban, org)
    before = services.start_instance(duban, org["office"], "decide", {"category": "major"})
    assert before["data"]["workdays"] == 20

    page = Person(open_page, base, "designer").page
    open_table(page, base)
    canvas = page.locator("#dmn-canvas")
    expect(canvas).to_contain_text("命中策略")  # dmn-js in Chinese, through its translate service
    expect(canvas).to_contain_text("唯一（UNIQUE）")
    expect(output_cell(page, 0)).to_have_text("20")
    screenshot(page, "40-decision-table")

    output_cell(page, 0).locator("[contenteditable]").click()
    page.keyboard.press("Control+A")
    page.keyboard.type("15")
    page.locator("#decision-name").click()  # leave the cell: dmn-js commits the edit
    page.get_by_role("button", name="部署新版本").click()
    expect(page.locator("#problems")).to_contain_text("已部署决策表 grade v2")
    expect(page.locator("#problems")).to_contain_text("decide v2")
    screenshot(page, "41-decision-table-deployed")

    after = services.start_instance(duban, org["office"], "decide", {"category": "major"})
    assert (after["version"], after["data"]["workdays"]) == (2, 15)
    assert services.get_instance(duban, org["office"], before["id"])["version"] == 1


def test_a_refused_cell_is_reported_and_nothing_deployed(live, open_page):
    base, duban, org = live
    deploy_grading(duban, org)
    page = Person(open_page, base, "designer", width=390, height=844).page
    open_table(page, base)
    screenshot(page, "42-decision-table-phone")
    output_cell(page, 1).locator("[contenteditable]").click()
    page.keyboard.press("Control+A")
    page.keyboard.type("__import__('os').getpid()")
    page.locator("#decision-name").click()
    page.get_by_role("button", name="部署新版本").click()
    expect(page.locator("#problems")).to_contain_text("部署未通过")
    expect(page.locator("#problems")).to_contain_text("第 2 条规则")
    screenshot(page, "43-decision-table-refused-phone")
    assert [d["version"] for d in services.decisions.list_decisions(duban, org["designer"])] == [1]


def test_only_designers_open_the_decision_tables(live, open_page):
    base, _, _ = live
    page = Person(open_page, base, "office").page
    response = page.goto(f"{base}/modeler/decisions")
    assert response.status == 403


def test_the_deadline_rules_table_edited_gives_new_items_their_deadline(live, open_page):
    """限时办结 as the bundled table: 一般件 10 → 5 working days in the browser, and the next item gets 5."""
    base, duban, org = live
    services.deploy(duban, {"deadline_rules.dmn": (PROCESSES / "deadline_rules.dmn").read_bytes()}, {}, org["designer"])
    ten = services.register_item(duban, org["office"], {"title": "按原期限规则立项", "category": "normal"})
    page = Person(open_page, base, "designer").page
    page.goto(f"{base}/modeler/decisions")
    page.get_by_role("link", name="办理期限规则（限时办结）").click()
    cell = page.locator('#dmn-canvas td[data-element-id="rule_normal_workdays"]')
    expect(cell).to_have_text("10")
    expect(page.locator("#dmn-canvas")).to_contain_text("首个（FIRST）")
    cell.locator("[contenteditable]").click()
    page.keyboard.press("Control+A")
    page.keyboard.type("5")
    page.locator("#decision-name").click()
    page.get_by_role("button", name="部署新版本").click()
    expect(page.locator("#problems")).to_contain_text("已部署决策表 deadline_rules v2")
    screenshot(page, "44-deadline-rules")
    five = services.register_item(duban, org["office"], {"title": "按新期限规则立项", "category": "normal"})
    assert five["deadline"] < ten["deadline"]
    assert str(five["deadline"]).startswith("2026-10-10") and str(ten["deadline"]).startswith("2026-10-16")


def test_a_business_rule_task_picks_its_table_in_the_modeler(live, open_page):
    """The modeler's properties panel offers the deployed decision tables for a business rule task."""
    base, duban, org = live
    deploy_grading(duban, org)
    page = open_modeler(open_page, base)
    expect(page.locator("#open-decisions")).to_have_text("决策表（DMN）")
    page.evaluate("""() => {
        const m = window.dubanModeler.modeler;
        const start = m.get('elementRegistry').get('start');
        const task = m.get('modeling').appendShape(start, {type: 'bpmn:BusinessRuleTask'}, {x: 320, y: 178});
        m.get('modeling').updateProperties(task, {id: 'decide_deadline', name: '判定期限'});
    }""")
    select(page, "decide_deadline")
    field = panel_field(page, "duban-decision-ref")
    expect(field.locator("option", has_text="期限规则（grade）")).to_have_count(1)
    field.select_option("grade")
    xml = page.evaluate("() => window.dubanModeler.modeler.saveXML({format: true}).then(r => r.xml)")
    assert 'camunda:decisionRef="grade"' in xml
    screenshot(page, "45-modeler-business-rule-task")
    assert not page.errors
