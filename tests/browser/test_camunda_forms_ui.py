"""Forms generated for a Camunda diagram, as the person doing the task sees them: camunda:formData's fields
with their labels, choices and constraints, and the form standing in for an embedded HTML form, each
rendered by form-js on the task page, refused while incomplete and submitted, on a desktop and a phone."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from engine import services
from tests.samples import process
from tests.support.browser import Person, confirm, screenshot, settle

FORM_DATA = """<bpmn:userTask id="fill" name="填报"><bpmn:extensionElements><camunda:formData>
  <camunda:formField id="name" label="联系人" type="string">
    <camunda:validation><camunda:constraint name="required"/><camunda:constraint name="minlength" config="2"/>
    </camunda:validation></camunda:formField>
  <camunda:formField id="count" label="份数" type="long" defaultValue="1">
    <camunda:validation><camunda:constraint name="max" config="10"/></camunda:validation></camunda:formField>
  <camunda:formField id="urgent" label="加急" type="boolean"/>
  <camunda:formField id="kind" label="类别" type="enum">
    <camunda:value id="doc" name="公文"/><camunda:value id="meeting" name="会议"/></camunda:formField>
</camunda:formData></bpmn:extensionElements></bpmn:userTask>"""

EMBEDDED = ('<bpmn:userTask id="approve" name="审批" camunda:formKey="embedded:app:forms/approve.html"/>'
            '<bpmn:exclusiveGateway id="gw"/><bpmn:endEvent id="yes"/><bpmn:endEvent id="no"/>')

FLOWS = ('<bpmn:startEvent id="start"/>'
         '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="fill"/>'
         '<bpmn:sequenceFlow id="f1" sourceRef="fill" targetRef="approve"/>'
         '<bpmn:sequenceFlow id="f2" sourceRef="approve" targetRef="gw"/>'
         '<bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="yes">'
         '<bpmn:conditionExpression>${approved}</bpmn:conditionExpression></bpmn:sequenceFlow>'
         '<bpmn:sequenceFlow id="f4" sourceRef="gw" targetRef="no">'
         '<bpmn:conditionExpression>${!approved}</bpmn:conditionExpression></bpmn:sequenceFlow>')


def _submit(page):
    settle(page)
    page.click("#submit")
    confirm(page)
    expect(page).to_have_url(re.compile(r"/tasks\?done="), timeout=15000)


@pytest.mark.parametrize("width", [1440, 390])
def test_generated_forms_render_refuse_and_submit(live, open_page, width):
    base, duban, org = live
    [deployed] = services.deploy(duban, {"camunda.bpmn": process(FORM_DATA + EMBEDDED + FLOWS, key="camunda")}, {},
                                 org["designer"])
    started = services.start_instance(duban, org["designer"], deployed["key"], {})
    person = Person(open_page, base, "designer", width=width, height=900)
    page = person.open_task("填报")
    for label in ("联系人", "份数", "加急"):
        expect(page.get_by_label(label)).to_be_visible()
    select = page.locator(".fjs-form-field-select", has_text="类别")
    expect(select).to_be_visible()
    expect(page.get_by_label("份数")).to_have_value("1")  # camunda:formField's defaultValue
    page.get_by_label("联系人").fill("张")
    page.click("#submit")
    expect(page.locator(".fjs-form-field-error").first).to_be_visible()  # minlength 2, in the browser
    screenshot(page, f"camunda-form-data-{width}")
    page.get_by_label("份数").fill("3")
    page.get_by_label("加急").check()
    select.click()
    page.locator(".fjs-dropdownlist-item", has_text="会议").first.click()
    # 提交 the moment the name is typed, the field still focused: the form checks what was typed, not the
    # value it had before (form-js holds typing back 300 ms unless told not to).
    page.get_by_label("联系人").fill("张三")
    page.evaluate("() => document.getElementById('submit').click()")
    confirm(page)
    expect(page).to_have_url(re.compile(r"/tasks\?done="), timeout=15000)

    page = person.open_task("审批")
    expect(page.locator(".fjs-form")).to_contain_text("embedded:app:forms/approve.html")  # says what it stands for
    screenshot(page, f"camunda-embedded-{width}")
    page.get_by_label("approved").check()
    _submit(page)

    finished = services.get_instance(duban, org["designer"], started["id"])
    assert finished["status"] == "completed" and "yes" in finished["trail"]
    assert {k: finished["data"][k] for k in ("name", "count", "urgent", "kind", "approved")} == {
        "name": "张三", "count": 3, "urgent": True, "kind": "meeting", "approved": True}
