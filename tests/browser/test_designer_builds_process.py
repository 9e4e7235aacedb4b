"""A designer builds 人大代表建议办理 in the browser, from an empty canvas, and it runs as a 督办 process.

What goes through which path:
- the real UI: the properties panel sets the process's id, name, 登记督办事项 and starter role, the
  lanes' roles, the per-unit multi-instance, the script, the gateway's condition, the timers' step
  kinds and dates and the tasks' forms; every 督办 task (拟办, 交办, 签收, 答复, 审核, 催办, 责任追究,
  满意度回访) is dragged from the 督办环节 step bar; the forms no deployed process has (the start form, the
  答复 and the 回访) are made with 新建表单 and edited in form-js's editor; 验证 and 部署新版本 are pressed.
- form-js's editor API for the one field added to the start form (公开属性, so the item goes on the
  public board): dragging from form-js's palette does not take synthetic mouse events.
- bpmn-js's own services (`modeling`, `elementFactory`) inside `page.evaluate`, where pixel-level
  dragging would only test bpmn-js itself: the pool and its lanes, the plain elements (start/end
  events, the script task, the gateway, the sub-process) and their placement, the sequence flows, and
  the two timer boundary events on 答复 before the panel configures them.
Then the office starts it from 发起, the units and the office work through their inboxes; the clock of
the test server is moved (as the integration tests do) so that one unit misses its deadline in
working days, is urged (催办) and, still silent at the urge's limit, goes to 纪委 once.
"""
from __future__ import annotations

import re
from datetime import datetime

from playwright.sync_api import expect
from sqlalchemy import func, select as sql_select

from engine import services
from engine.clock import CHINA
from engine.models import Criticism
from engine.services import replies, timers
from engine.services.deploy import definition_forms
from tests.support.browser import Person, open_modeler, panel_field, screenshot, select, settle

MODELER = "window.dubanModeler.modeler"
TITLE = "关于改善城区停车难的建议"


def to_screen(page, x, y):
    """The page coordinates of a point of the diagram."""
    return page.evaluate(f"""([x, y]) => {{ const c = {MODELER}.get('canvas'), vb = c.viewbox();
        const r = c.getContainer().getBoundingClientRect();
        return [r.left + (x - vb.x) * vb.scale, r.top + (y - vb.y) * vb.scale]; }}""", [x, y])


def element_ids(page):
    return set(page.evaluate(f"() => {MODELER}.get('elementRegistry').getAll().map(e => e.id)"))


def drop_step(page, kind, x, y) -> str:
    """Drag a 督办 step from the step bar to (x, y) of the diagram, as a designer does; its new id."""
    before = element_ids(page)
    page.locator(f'.duban-step-entry[data-kind="{kind}"]').hover()
    page.mouse.down()
    sx, sy = to_screen(page, x, y)
    # Into the canvas in one move: a pointer that lingers at the canvas's edge makes diagram-js scroll it
    # (auto-scroll), and on a loaded machine the drop then lands somewhere else.
    page.mouse.move(sx - 40, sy - 40)
    sx, sy = to_screen(page, x, y)
    page.mouse.move(sx, sy, steps=6)
    page.mouse.up()
    created = [i for i in element_ids(page) - before if not i.endswith("_label")]
    assert len(created) == 1, (kind, created)
    return created[0]


def build_frame(page):
    """The pool with two lanes, the per-unit sub-process and the plain elements, by bpmn-js's API."""
    return page.evaluate(f"""() => {{
        const m = {MODELER}, modeling = m.get('modeling'), factory = m.get('elementFactory');
        const registry = m.get('elementRegistry'), canvas = m.get('canvas');
        const pool = modeling.createShape(factory.createParticipantShape({{isExpanded: true}}),
                                          {{x: 1050, y: 400}}, canvas.getRootElement());
        modeling.resizeShape(pool, {{x: 100, y: 50, width: 1900, height: 700}});
        modeling.splitLane(pool, 2);
        const lanes = registry.filter(e => e.type === 'bpmn:Lane').sort((a, b) => a.y - b.y);
        modeling.resizeShape(lanes[0], {{x: lanes[0].x, y: 50, width: lanes[0].width, height: 200}});
        const start = registry.get('start');
        modeling.moveShape(start, {{x: 200 - start.x - 18, y: 150 - start.y - 18}});
        const at = (type, x, y, parent, attrs) => modeling.createShape(
            factory.createShape(Object.assign({{type}}, attrs || {{}})), {{x, y}}, parent);
        const script = at('bpmn:ScriptTask', 480, 150, pool);
        modeling.updateProperties(script, {{name: '生成交办通知单'}});
        const end = at('bpmn:EndEvent', 1930, 150, pool);
        modeling.updateProperties(end, {{name: '办结'}});
        const sub = factory.createShape({{type: 'bpmn:SubProcess', isExpanded: true, width: 950, height: 420}});
        const perUnit = modeling.createShape(sub, {{x: 1225, y: 505}}, pool);
        modeling.updateProperties(perUnit, {{name: '各承办单位办理',
            loopCharacteristics: m.get('bpmnFactory').create('bpmn:MultiInstanceLoopCharacteristics')}});
        const unitStart = at('bpmn:StartEvent', 800, 400, perUnit);
        const gateway = at('bpmn:ExclusiveGateway', 1420, 400, perUnit);
        modeling.updateProperties(gateway, {{name: '审核结果'}});
        const unitEnd = at('bpmn:EndEvent', 1530, 400, perUnit);
        modeling.updateProperties(unitEnd, {{name: '本单位办结'}});
        const urged = at('bpmn:EndEvent', 1250, 560, perUnit);
        modeling.updateProperties(urged, {{name: '已催办'}});
        const escalated = at('bpmn:EndEvent', 1450, 650, perUnit);
        modeling.updateProperties(escalated, {{name: '已移送纪委'}});
        return {{pool: pool.id, script: script.id, end: end.id,
                 perUnit: perUnit.id, unitStart: unitStart.id, gateway: gateway.id, unitEnd: unitEnd.id,
                 urged: urged.id, escalated: escalated.id}};
    }}""")


def boundary_timer(page, host):
    """A non-interrupting timer event on the border of `host`, with no 督办 kind (the panel configures it)."""
    return page.evaluate(f"""host => {{
        const m = {MODELER}, modeling = m.get('modeling'), factory = m.get('elementFactory');
        const task = m.get('elementRegistry').get(host);
        const shape = factory.createShape({{type: 'bpmn:BoundaryEvent',
                                            eventDefinitionType: 'bpmn:TimerEventDefinition'}});
        const event = modeling.createShape(shape, {{x: task.x + 75, y: task.y + task.height}}, task, {{attach: true}});
        modeling.updateProperties(event, {{cancelActivity: false}});
        return event.id;
    }}""", host)


def attached(page, element_id):
    """What bpmn-js made of a dropped timer: its type, host, interrupting flag and timer date."""
    return page.evaluate(f"""id => {{ const e = {MODELER}.get('elementRegistry').get(id), bo = e.businessObject;
        const timer = (bo.eventDefinitions || [])[0];
        return [bo.$type, e.host && e.host.id, bo.cancelActivity,
                timer && timer.timeDate && timer.timeDate.body]; }}""",
                         element_id)


def connect(page, *pairs):
    """Sequence flows between elements, by bpmn-js's modeling; the ids of the flows."""
    return page.evaluate(f"""pairs => {{ const m = {MODELER}, registry = m.get('elementRegistry');
        return pairs.map(([a, b]) => m.get('modeling').connect(registry.get(a), registry.get(b),
                                                                 {{type: 'bpmn:SequenceFlow'}}).id); }}""",
                         [list(p) for p in pairs])


def choose(page, element_id):
    """Select an element and wait for the panel to show it."""
    # A designer clicks the canvas to select, which leaves the panel's field: the panel follows a new
    # selection only once none of its inputs has the focus.
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    select(page, element_id)
    expect(panel_field(page, "id")).to_have_value(element_id)


def name(page, element_id, text):
    choose(page, element_id)
    field = panel_field(page, "name")
    field.fill(text)
    expect(field).to_have_value(text)


def new_form(page, element_id, label, key):
    """新建表单 for an element, its one field relabelled and rekeyed in form-js's editor."""
    choose(page, element_id)
    page.get_by_role("button", name="新建表单").click()
    expect(page.locator("#form-id")).to_have_text(element_id)
    page.locator("#form-editor .fjs-form-field", has_text="办理意见").first.click()
    props = page.locator(".fjs-properties-panel")
    field_label = props.get_by_label(re.compile("^字段标签"))
    if not field_label.is_visible():
        props.get_by_text("常规", exact=True).click()
    field_label.click()  # a CodeMirror field: typed into, as a person would
    page.keyboard.press("Control+A")
    page.keyboard.type(label)
    props.get_by_label(re.compile("^键名")).fill(key)
    expect(page.locator("#form-editor .fjs-form-field-label", has_text=label)).to_have_count(1)


def receive_task(person, unit):
    person.open_task("签收", unit)
    person.page.click("#claim")
    person.page.get_by_label("第一责任人（单位主要负责人）").fill("局长")
    person.page.get_by_label("具体责任人").fill("科长")
    person.page.get_by_label("具体承办人").fill("科员")
    person.page.get_by_label("承诺办结时限").fill("2026-10-09")
    person.page.keyboard.press("Escape")
    person.submit()


def move(duban, *when):
    """The test server's clock moved (working days pass in a moment); the timers due fired."""
    duban.clock.set(datetime(*when, tzinfo=CHINA))
    return timers.fire_all_due(duban)


def parts(duban, org, item_id):
    return {p["unit"]: p for p in services.get_item(duban, org["office"], item_id)["units"]}


def criticisms(duban):
    with duban.db.reading() as session:
        return session.scalar(sql_select(func.count(Criticism.id)).where(Criticism.reason == "escalated"))


def add_text_field(page, label, key, default):
    """A text field added to the form open in form-js's editor, through the editor's own API (its
    palette drags are what form-js's tests cover)."""
    page.evaluate("""([label, key, value]) => { const editor = window.dubanModeler.formEditor();
        const schema = editor.getSchema();
        schema.components.push({type: 'textfield', key, label, defaultValue: value, id: 'Field_' + key});
        return editor.importSchema(schema); }""", [label, key, default])
    expect(page.locator("#form-editor .fjs-form-field-label", has_text=label)).to_have_count(1)


def test_a_designer_builds_npc_suggestion_in_the_browser(live, open_page):
    base, duban, org = live
    page = open_modeler(open_page, base, width=1600, height=1000)
    # The process: its key and name, a 督办 item, started by the office — in the panel.
    panel_field(page, "id").fill("npc_suggestion")
    panel_field(page, "name").fill("人大代表建议办理")
    panel = page.locator("#properties")
    panel.get_by_text("登记督办事项（发起即进入台账）").click()
    panel.get_by_text("督查室", exact=True).click()
    expect(page.locator("#diagram-name")).to_have_text("人大代表建议办理（npc_suggestion）")

    frame = build_frame(page)
    page.evaluate(f"() => {MODELER}.get('canvas').viewbox({{x: 60, y: 20, width: 2000, height: 1000}})")
    draft = drop_step(page, "draft", 330, 150)
    assign = drop_step(page, "assign", 630, 150)
    satisfaction = drop_step(page, "satisfaction", 1800, 150)
    receive = drop_step(page, "receive", 930, 400)
    reply = drop_step(page, "reply", 1100, 400)
    review = drop_step(page, "review", 1280, 400)
    urge = drop_step(page, "urge", 1100, 560)
    escalate = drop_step(page, "escalate", 1300, 650)
    # 期限届满 from the step bar onto 答复's lower border: bpmn-js attaches it as a boundary event, and it
    # comes non-interrupting with its kind and the unit's deadline; the escalation timer has no kind.
    deadline = drop_step(page, "deadline", 1075, 440)
    assert attached(page, deadline) == ["bpmn:BoundaryEvent", reply, False, "unit_deadline(unit)"]
    escalation = boundary_timer(page, reply)
    connect(page, ("start", draft), (draft, frame["script"]), (frame["script"], assign),
            (assign, frame["perUnit"]), (frame["perUnit"], satisfaction), (satisfaction, frame["end"]),
            (frame["unitStart"], receive), (receive, reply), (reply, review), (review, frame["gateway"]),
            (deadline, urge), (urge, frame["urged"]), (escalation, escalate), (escalate, frame["escalated"]))
    accept, back = connect(page, (frame["gateway"], frame["unitEnd"]), (frame["gateway"], reply))
    page.evaluate(f"""([flow, gateway, task]) => {{ const m = {MODELER}, r = m.get('elementRegistry');
        const g = r.get(gateway), t = r.get(task);
        m.get('modeling').updateWaypoints(r.get(flow), [{{x: g.x + 25, y: g.y}}, {{x: g.x + 25, y: t.y - 30}},
            {{x: t.x + 50, y: t.y - 30}}, {{x: t.x + 50, y: t.y}}]); }}""", [back, frame["gateway"], reply])

    # In the panel: lanes and their roles, the pool's name, the per-unit branch, the script, the
    # gateway's conditions, the timers' kinds and dates, ids of the elements that get new forms.
    lanes = page.evaluate(f"""() => {MODELER}.get('elementRegistry').filter(e => e.type === 'bpmn:Lane')
        .sort((a, b) => a.y - b.y).map(e => [e.id, e.y, e.height])""")
    for (lane, *_), label, role in zip(lanes, ("督查室", "承办单位"), ("office", "unit"), strict=True):
        name(page, lane, label)
        panel_field(page, "duban-lane-role").select_option(role)
    name(page, frame["pool"], "人大代表建议办理")
    name(page, frame["unitStart"], "交办到单位")
    choose(page, frame["perUnit"])
    panel.get_by_text("按承办单位展开（每个承办单位一支，变量 unit）").click()
    expect(panel_field(page, "duban-per-unit")).to_be_checked()
    choose(page, frame["script"])
    panel_field(page, "duban-script-body").fill(
        "units = [lead_unit] + [u for u in (co_units or []) if u != lead_unit]\n"
        "notice = assignment_notice(units, opinion)")
    for flow, label, condition in ((accept, "通过", "decision == 'accept'"), (back, "退回", "decision != 'accept'")):
        name(page, flow, label)
        panel_field(page, "duban-condition-expression").fill(condition)
    name(page, deadline, "办理期限届满")
    expect(panel_field(page, "duban-step-kind")).to_have_value("deadline")
    expect(panel_field(page, "timerEventDefinitionValue")).to_have_value("unit_deadline(unit)")
    name(page, escalation, "催办期限届满")
    panel_field(page, "timerEventDefinitionType").select_option("timeDate")
    panel_field(page, "timerEventDefinitionValue").fill("urge_limit(unit)")
    for element, key in (("start", "npc_start"), (reply, "npc_reply")):
        choose(page, element)
        panel_field(page, "id").fill(key)
    start_id, reply = "npc_start", "npc_reply"
    # A new form for the start; 答复 and 满意度回访 keep the forms their templates came with.
    new_form(page, start_id, "建议标题", "title")
    # The start form also says the item is public (公示) and a 人大建议 (its source), text fields added to
    # the form in form-js's editor.
    choose(page, start_id)
    add_text_field(page, "公开属性", "classification", "public")
    add_text_field(page, "来源", "source", "npc_suggestion")
    # The whole diagram beside the palette (lane names visible) for the screenshot.
    page.evaluate(f"() => {MODELER}.get('canvas').viewbox({{x: -60, y: 0, width: 2120, height: 1330}})")
    choose(page, review)
    screenshot(page, "30-designer-built-process")
    # The canvas' lint finds no error left (a warning stays: 答复 is entered again when 审核 returns it).
    issues = page.evaluate(f"() => {MODELER}.get('linting').lint()")
    assert not [i for rule in issues.values() for i in rule if i["category"] == "error"], issues
    page.get_by_role("button", name="验证").click()
    expect(page.locator("#problems")).to_contain_text("验证通过")
    page.get_by_role("button", name="部署新版本").click()
    expect(page.locator("#problems")).to_contain_text("已部署 npc_suggestion v1")
    expect(page.locator("#deploy-confirm")).to_be_hidden()
    assert not page.errors, page.errors
    deployed = definition_forms(duban, "npc_suggestion")
    # The deployed forms the steps came with travel as deployed, not as empty forms of their ids.
    main = definition_forms(duban, "duban_main")
    for form in ("draft_opinion", "unit_receive", "office_review", "urge"):
        assert deployed[form]["components"] == main[form]["components"], form
    assert {"reply_text", "approved_by_deputy"} <= {c.get("key") for c in deployed["reply"]["components"]}
    assert {c.get("key") for c in deployed["satisfaction"]["components"]} >= {"satisfaction", "satisfaction_note"}

    # 发起: the office starts it from the start page with the form designed above.
    office = Person(open_page, base, "office")
    page = office.page
    page.get_by_role("link", name="发起", exact=True).first.click()
    page.locator("#startable tr", has_text="人大代表建议办理").get_by_role("link", name="发起").click()
    page.get_by_label("建议标题").fill(TITLE)
    screenshot(page, "31-designer-start-form")
    page.click("#submit")
    expect(page).to_have_url(re.compile(r"/items/\d+"), timeout=20000)
    item_id = int(re.search(r"/items/(\d+)", page.url).group(1))
    assert services.get_item(duban, org["office"], item_id)["status"] == "drafting"

    office.open_task("拟办")
    office.choose("牵头单位", "发改局")
    office.choose("配合单位", "财政局")
    page.get_by_label("拟办意见").fill("请发改局牵头、财政局配合答复代表")
    office.submit()
    office.open_task("交办")
    expect(page.get_by_label("交办通知单")).to_have_value(re.compile(TITLE))  # the script's notice
    office.submit()
    assert services.get_item(duban, org["office"], item_id)["status"] == "in_progress"

    fgj, czj = Person(open_page, base, "unit_a"), Person(open_page, base, "unit_b")
    for unit, name_ in ((fgj, "发改局"), (czj, "财政局")):
        receive_task(unit, name_)
    fgj.open_task("答复", "发改局")
    fgj.page.get_by_label("答复内容").fill("已与代表当面沟通，拟于年内新增停车泊位300个")
    fgj.page.get_by_label("答复已经本单位分管领导审签").check()
    fgj.submit()
    office.open_task("审核", "发改局")
    office.pick("审核通过")
    office.submit()

    # 财政局 stays silent: its deadline (10 working days, past the National Day holiday) brings 催办.
    assert move(duban, 2026, 10, 16, 17, 31) >= 1
    office = Person(open_page, base, "office")  # 30 minutes without a click sign out: signed in anew
    page = office.page
    # The browser's calendar agrees with the server's (the new limit may not lie in the past).
    page.clock.set_fixed_time(duban.clock.now())
    office.open_task("催办", "财政局")
    page.get_by_label("催办通知单").fill("请于10月21日前答复代表")
    # Picked in the calendar as people do (a typed date is taken only when flatpickr sees the field left,
    # and a Tab into its open calendar is not that).
    page.get_by_label("新的办理期限").click()
    calendar = page.locator(".flatpickr-calendar.open")
    calendar.locator(".flatpickr-day:not(.prevMonthDay):not(.nextMonthDay)", has_text="21").first.click()
    settle(page)
    page.get_by_label("时间").fill("17:30")
    page.keyboard.press("Tab")
    settle(page)
    expect(page.get_by_label("时间")).to_have_value("17:30")
    expect(page.get_by_label("新的办理期限")).not_to_have_value("")
    office.submit()
    part = parts(duban, org, item_id)["czj"]
    assert part["urged_at"] and not part["escalated_at"]
    # Still silent at the urge's limit: 纪委, once.
    assert move(duban, 2026, 10, 21, 17, 31) >= 1
    assert move(duban, 2026, 10, 22, 9) == 0
    office, czj = Person(open_page, base, "office"), Person(open_page, base, "unit_b")
    page = office.page
    assert parts(duban, org, item_id)["czj"]["escalated_at"]
    assert criticisms(duban) == 1

    # The item in the ledger, the dashboard (overdue, escalated) and the public board.
    page.goto(f"{base}/items")
    expect(page.locator("body")).to_contain_text(TITLE)
    page.goto(f"{base}/dashboard")
    expect(page.locator(f"#overdue tr[data-item='{item_id}']")).to_contain_text("已移送纪委")
    expect(page.locator("#stat-escalations")).to_have_text("1")
    board = open_page()
    board.goto(f"{base}/public")
    expect(board.locator(f"#item-{item_id}")).to_contain_text(TITLE)
    expect(board.locator(f"#item-{item_id}")).to_contain_text("具体承办人：科员")

    discipline = Person(open_page, base, "discipline")
    discipline.open_task("责任追究", "财政局")
    discipline.page.get_by_label("处理意见（责任追究）").fill("予以通报批评")
    discipline.submit()
    czj.open_task("答复", "财政局")
    czj.page.get_by_label("答复内容").fill("已答复代表：预算已安排")
    czj.page.get_by_label("答复已经本单位分管领导审签").check()
    czj.submit()
    office.open_task("审核", "财政局")
    office.pick("审核通过")
    office.submit()
    office.open_task("满意度回访")
    office.pick("基本满意")
    page.get_by_label("回访情况").fill("代表表示基本满意，希望尽快落实")
    office.submit()
    # 答复 and 回访 are on record: the lead unit's reply (答复率) and the satisfaction (满意率).
    record = replies.get_reply(duban, org["office"], item_id)
    assert (record["text"], record["satisfaction"]) == ("已与代表当面沟通，拟于年内新增停车泊位300个",
                                                        "basically_satisfied")
    [npc] = [s for s in replies.source_stats(duban, org["office"]) if s["source"] == "npc_suggestion"]
    assert (npc["replied"], npc["basically_satisfied"], npc["satisfaction_rate"]) == (1, 1, 1.0)
    assert services.get_item(duban, org["office"], item_id)["status"] == "closed"
    assert criticisms(duban) == 1
    page.goto(f"{base}/items/{item_id}")
    expect(page.locator("#item-status")).to_have_text("已销号")
