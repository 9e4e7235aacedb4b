"""A service task designed in the properties panel, in Chinese: a built-in connector chosen by the name an
administrator gave it (通知渠道, HTTP 接口) with its message, or an external task's topic and the variables a
program gets; what the panel writes deploys."""
from __future__ import annotations

from playwright.sync_api import expect

from engine import services
from tests.support.browser import open_modeler, panel_field, screenshot, select
from tests.support.connectors import configure
from tests.support.waiting import wait_for

SERVICE_TASK = """() => {
    const m = window.dubanModeler.modeler, modeling = m.get('modeling'), registry = m.get('elementRegistry');
    modeling.updateProperties(m.get('canvas').getRootElement(), {id: 'push_demo', name: '推送演示'});
    const task = modeling.appendShape(registry.get('start'), {type: 'bpmn:ServiceTask'}, {x: 320, y: 178});
    modeling.updateProperties(task, {id: 'push', name: '推送催办'});
    const end = modeling.appendShape(task, {type: 'bpmn:EndEvent'}, {x: 480, y: 178});
    modeling.updateProperties(end, {id: 'done', name: '结束'});
}"""


def saved_xml(page, *having: str) -> str:
    """The diagram as saved, once it holds each of `having` (the panel applies typing after a pause)."""
    return wait_for(lambda: (lambda xml: xml if all(h in xml for h in having) else None)(page.evaluate(
        "() => window.dubanModeler.modeler.saveXML({format: true}).then(r => r.xml)")),
        timeout=5, what=lambda: f"the diagram to hold {having}")


def test_a_service_task_takes_a_connector_or_a_topic_in_the_panel(live, open_page):
    base, duban, org = live
    configure(duban, org["admin"], "office_wecom", "wecom", title="督查室企业微信群",
              secrets={"url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K"})
    configure(duban, org["admin"], "hotline", "http", title="12345 平台", settings={"base_url": "https://hotline.example.cn"})
    page = open_modeler(open_page, base, width=1440, height=1000)
    page.evaluate(SERVICE_TASK)
    select(page, "push")

    way = panel_field(page, "duban-service-way")
    expect(way).to_have_value("")
    way.select_option("notify")
    channel = panel_field(page, "duban-connector-name")
    expect(channel.locator("option")).to_have_text(["站内通知（inapp）", "督查室企业微信群（office_wecom）"])
    channel.select_option("office_wecom")
    panel_field(page, "duban-connector-recipients").fill("role:office unit:{lead_unit}")
    panel_field(page, "duban-connector-message").fill("事项“{item_title}”已逾期")
    page.keyboard.press("Tab")
    expect(page.locator("#properties")).to_contain_text("通知渠道")
    screenshot(page, "47-modeler-service-task-connector")
    xml = saved_xml(page, 'duban:connector="notify"', 'channel="office_wecom"',
                    'recipients="role:office unit:{lead_unit}"', "已逾期")
    assert services.validate(duban, {"push_demo.bpmn": xml}, {}, org["designer"])[0]["key"] == "push_demo"

    way.select_option("http")
    endpoint = panel_field(page, "duban-connector-name")
    expect(endpoint.locator("option")).to_have_text(["（未选择）", "12345 平台（hotline）"])
    endpoint.select_option("hotline")
    panel_field(page, "duban-connector-path").fill("/orders")
    page.keyboard.press("Tab")
    xml = saved_xml(page, 'duban:connector="http"', 'endpoint="hotline"', 'method="POST"', 'path="/orders"')
    assert "office_wecom" not in xml  # the notify declaration went with the choice

    way.select_option("external")
    topic = panel_field(page, "duban-service-topic")
    topic.fill("push dingtalk")
    expect(page.locator("#properties")).to_contain_text("主题只能含字母、数字")
    topic.fill("push-dingtalk")
    panel_field(page, "duban-service-variables").fill("title, lead_unit")
    page.keyboard.press("Tab")
    screenshot(page, "48-modeler-service-task-external")
    xml = saved_xml(page, 'camunda:type="external"', 'camunda:topic="push-dingtalk"',
                    'duban:variables="title, lead_unit"')
    assert "duban:connector" not in xml
    [checked] = services.validate(duban, {"push_demo.bpmn": xml}, {}, org["designer"])
    assert not [w for w in checked["warnings"] if "变量" in w.get("message", "")], checked["warnings"]
    assert not page.errors
