"""The modeler in a real browser: a designer edits a deployed diagram's form with form-js's editor,
deploys a new version and sees it listed; a broken diagram's problems are shown on its elements."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from engine.services.deploy import definition_forms
from tests.browser.conftest import screenshot
from tests.browser.test_handlers_ui import Person


def test_editing_a_form_and_deploying_a_new_version(live, open_page):
    base, duban, _ = live
    designer = Person(open_page, base, "designer")
    page = designer.page
    page.goto(f"{base}/modeler")
    page.get_by_role("link", name="督查督办主流程").first.click()
    expect(page.locator("#canvas")).to_have_attribute("data-ready", "true")
    expect(page.locator("#versions tbody tr")).to_have_count(2)  # the main process and 延期申请

    # Pan the diagram clear of the palette (as a designer drags the canvas), then pick the task.
    page.evaluate("() => window.dubanModeler.modeler.get('canvas').scroll({dx: 160, dy: 0})")
    page.locator('.djs-element[data-element-id="draft_opinion"]').click()
    expect(page.locator("#form-id")).to_have_text("draft_opinion")
    editor = page.locator("#form-editor")
    editor.locator(".fjs-form-field", has_text="拟办意见").first.click()
    page.locator(".fjs-properties-panel").get_by_text("General", exact=True).click()
    label = page.locator(".fjs-properties-panel").get_by_label(re.compile("^Field label"))
    label.click()  # a CodeMirror field: typed into, as a person would
    page.keyboard.press("Control+A")
    page.keyboard.type("拟办意见（请写明办理要求）")
    expect(editor.locator(".fjs-form-field-label", has_text="请写明办理要求")).to_have_count(1)
    screenshot(page, "08-modeler-form")
    page.get_by_role("button", name="部署新版本").click()
    expect(page.locator("#problems")).to_contain_text("已部署 duban_main v2")
    expect(page).to_have_url(re.compile(r"version=2"))
    expect(page.locator('#versions tr[data-version="2"]')).to_have_count(1)
    labels = [c.get("label") for c in definition_forms(duban, "duban_main", 2)["draft_opinion"]["components"]]
    assert "拟办意见（请写明办理要求）" in labels
    assert "拟办意见（请写明办理要求）" not in [
        c.get("label") for c in definition_forms(duban, "duban_main", 1)["draft_opinion"]["components"]]


def test_problems_are_shown_on_the_elements(live, open_page):
    base, _, _ = live
    designer = Person(open_page, base, "designer")
    page = designer.page
    page.goto(f"{base}/modeler")
    expect(page.locator("#canvas")).to_have_attribute("data-ready", "true")
    # Model a user task whose form does not exist (through the modeler's own API: palette drags are
    # what bpmn-js's tests cover).
    page.evaluate("""() => {
        const m = window.dubanModeler.modeler;
        const start = m.get('elementRegistry').get('start');
        const task = m.get('modeling').appendShape(start, {type: 'bpmn:UserTask'}, {x: 320, y: 178});
        m.get('modeling').updateProperties(task, {id: 'review', name: '审核'});
        task.businessObject.$attrs['camunda:formRef'] = 'no_such_form';
    }""")
    page.get_by_role("button", name="验证").click()
    expect(page.locator("#problems")).to_contain_text("验证未通过")
    expect(page.locator("#problems li[data-element='review']")).to_have_count(1)
    expect(page.locator('.djs-element.invalid[data-element-id="review"]')).to_have_count(1)
    screenshot(page, "09-modeler-problems")


def test_a_refused_timer_shows_the_rule_it_breaks_on_its_element(live, open_page):
    base, _, _ = live
    page = Person(open_page, base, "designer").page
    page.goto(f"{base}/modeler")
    expect(page.locator("#canvas")).to_have_attribute("data-ready", "true")
    # A task with a reminder every millisecond on its border, modelled through bpmn-js's own API.
    page.evaluate("""() => {
        const m = window.dubanModeler.modeler;
        const modeling = m.get('modeling'), factory = m.get('bpmnFactory');
        const task = modeling.appendShape(m.get('elementRegistry').get('start'), {type: 'bpmn:UserTask'},
                                          {x: 320, y: 178});
        modeling.updateProperties(task, {id: 'wait', name: '等待办理'});
        const shape = m.get('elementFactory').createShape(
            {type: 'bpmn:BoundaryEvent', eventDefinitionType: 'bpmn:TimerEventDefinition'});
        const tick = modeling.createShape(shape, {x: 340, y: 218}, task, {attach: true});
        modeling.updateProperties(tick, {id: 'tick', name: '催办提醒', cancelActivity: false});
        tick.businessObject.eventDefinitions[0].timeCycle = factory.create('bpmn:FormalExpression',
                                                                            {body: 'R/PT0.001S'});
    }""")
    page.get_by_role("button", name="验证").click()
    expect(page.locator("#problems")).to_contain_text("验证未通过")
    expect(page.locator('.djs-element.invalid[data-element-id="tick"]')).to_have_count(1)
    note = page.locator('.djs-overlays[data-container-id="tick"] .problem-note')
    expect(note.locator('.rule[data-rule="timer-min-cycle"]')).to_have_text("规则 timer-min-cycle")
    expect(note).to_contain_text("短于允许的最小间隔 60 秒")
    expect(page.locator("#problems li[data-element='tick'] .rule")).to_have_text("规则 timer-min-cycle")
    screenshot(page, "09b-modeler-rule")


def test_only_designers_and_administrators_model(live, open_page):
    base, _, _ = live
    office = Person(open_page, base, "office")
    assert office.page.goto(f"{base}/modeler").status == 403
