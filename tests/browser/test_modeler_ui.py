"""The modeler in a real browser: a designer edits a deployed diagram's form with form-js's editor,
deploys a new version and sees it listed; a broken diagram's problems are shown on its elements; the
properties panel (in Chinese) sets ids, names, 督办 steps, lanes' roles, forms, timers and conditions;
the form editor is Chinese too (palette, properties panel, canvas); a 督办 step is dragged from the
step bar configured; lint, token simulation and the minimap are on the canvas; a new diagram gets a
unique key, and deploying under a key in use asks first."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from engine.domain import steps
from engine.services.deploy import definition_forms, latest_version
from tests.support.browser import Person, open_modeler, panel_field, screenshot, select

CJK = re.compile(r"[\u4e00-\u9fff]")


def saved_xml(page) -> str:
    return page.evaluate("() => window.dubanModeler.modeler.saveXML({format: true}).then(r => r.xml)")


def test_editing_a_form_and_deploying_a_new_version(live, open_page):
    base, duban, _ = live
    designer = Person(open_page, base, "designer")
    page = designer.page
    page.goto(f"{base}/modeler")
    page.get_by_role("link", name="督查督办主流程").first.click()
    expect(page.locator("#canvas")).to_have_attribute("data-ready", "true")
    expect(page.locator("#versions tbody tr")).to_have_count(2)  # the main process and 延期申请

    page.locator('.djs-element[data-element-id="draft_opinion"]').click()
    expect(page.locator("#form-id")).to_have_text("draft_opinion")
    editor = page.locator("#form-editor")
    editor.locator(".fjs-form-field", has_text="拟办意见").first.click()
    page.locator(".fjs-properties-panel").get_by_text("常规", exact=True).click()
    label = page.locator(".fjs-properties-panel").get_by_label(re.compile("^字段标签"))
    label.click()  # a CodeMirror field: typed into, as a person would
    page.keyboard.press("Control+A")
    page.keyboard.type("拟办意见（请写明办理要求）")
    expect(editor.locator(".fjs-form-field-label", has_text="请写明办理要求")).to_have_count(1)
    screenshot(page, "08-modeler-form")
    page.get_by_role("button", name="部署新版本").click()
    # The opened process's own key and name: a new version, no question asked.
    expect(page.locator("#problems")).to_contain_text("已部署 duban_main v2")
    expect(page.locator("#deploy-confirm")).to_be_hidden()
    expect(page).to_have_url(re.compile(r"version=2"))
    expect(page.locator('#versions tr[data-version="2"]')).to_have_count(1)
    labels = [c.get("label") for c in definition_forms(duban, "duban_main", 2)["draft_opinion"]["components"]]
    assert "拟办意见（请写明办理要求）" in labels
    assert "拟办意见（请写明办理要求）" not in [
        c.get("label") for c in definition_forms(duban, "duban_main", 1)["draft_opinion"]["components"]]


def test_problems_are_shown_on_the_elements(live, open_page):
    base, _, _ = live
    page = open_modeler(open_page, base)
    # Model a user task whose form does not exist (through the modeler's own API: palette drags are
    # what bpmn-js's tests cover).
    page.evaluate("""() => {
        const m = window.dubanModeler.modeler;
        const start = m.get('elementRegistry').get('start');
        const task = m.get('modeling').appendShape(start, {type: 'bpmn:UserTask'}, {x: 320, y: 178});
        m.get('modeling').updateProperties(task, {id: 'review', name: '审核', 'camunda:formRef': 'no_such_form'});
    }""")
    page.get_by_role("button", name="验证").click()
    expect(page.locator("#problems")).to_contain_text("验证未通过")
    expect(page.locator("#problems li[data-element='review']")).to_have_count(1)
    expect(page.locator('.djs-element.invalid[data-element-id="review"]')).to_have_count(1)
    screenshot(page, "09-modeler-problems")


def test_a_refused_timer_shows_the_rule_it_breaks_on_its_element(live, open_page):
    base, _, _ = live
    page = open_modeler(open_page, base)
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


def test_a_new_diagram_gets_a_unique_key_set_in_the_chinese_panel(live, open_page):
    base, duban, _ = live
    page = open_modeler(open_page, base)
    # Nothing selected: the panel shows the process, under a generated key.
    key_field = panel_field(page, "id")
    expect(key_field).to_have_value(re.compile(r"^Process_[a-z0-9]{4,}$"))
    generated = key_field.input_value()
    expect(page.locator("#diagram-name")).to_contain_text(generated)
    other = open_modeler(open_page, base)
    assert panel_field(other, "id").input_value() != generated  # every new diagram its own key
    panel = page.locator("#properties")
    expect(panel).to_contain_text("标识（ID）")
    expect(panel).to_contain_text("可执行")
    expect(panel.get_by_text("登记督办事项（发起即进入台账）")).to_be_visible()

    key_field.fill("npc_suggestion")
    name_field = panel_field(page, "name")
    name_field.fill("人大代表建议办理")
    page.locator("#properties").get_by_text("登记督办事项（发起即进入台账）").click()
    page.locator("#properties").get_by_text("督查室", exact=True).click()  # a starter role
    expect(page.locator("#diagram-name")).to_have_text("人大代表建议办理（npc_suggestion）")
    xml = saved_xml(page)
    assert re.search(r'<bpmn:process id="npc_suggestion" name="人大代表建议办理" isExecutable="true"'
                     r' duban:item="true" duban:starterRoles="office"', xml), xml
    assert 'xmlns:duban="urn:duban:bpmn:1"' in xml
    screenshot(page, "10-modeler-new-process")

    # Palette, context pad and panel speak Chinese.
    titles = page.locator(".djs-palette .entry[aria-label]").evaluate_all(
        "es => es.map(e => e.getAttribute('aria-label'))")
    assert titles and all(CJK.search(t) for t in titles), titles
    select(page, "start")
    pad = page.locator(".djs-context-pad .entry[title]").evaluate_all("es => es.map(e => e.title)")
    assert pad and all(CJK.search(t) for t in pad), pad
    expect(page.locator("#properties .bio-properties-panel-group-header-title").first).to_have_text("常规")
    # A large canvas with a minimap (closed until asked for), lint on the canvas.
    assert page.locator("#canvas").bounding_box()["height"] >= 560
    page.get_by_title("打开小地图").click()
    expect(page.locator(".djs-minimap.open")).to_have_count(1)
    expect(page.locator(".bjsl-button")).to_have_attribute("title", "显示/隐藏检查结果")
    assert not page.errors


def test_deploying_under_a_key_in_use_asks_first(live, open_page):
    base, duban, _ = live
    page = open_modeler(open_page, base)
    # A complete (start → end) process, then given the key of the deployed main process.
    page.evaluate("""() => { const m = window.dubanModeler.modeler;
        m.get('modeling').appendShape(m.get('elementRegistry').get('start'), {type: 'bpmn:EndEvent'},
                                      {x: 320, y: 178}); }""")
    panel_field(page, "id").fill("duban_main")
    panel_field(page, "name").fill("另一个流程")
    page.get_by_role("button", name="部署新版本").click()
    confirm = page.locator("#deploy-confirm")
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text("流程标识 duban_main 已被已部署的流程“督查督办主流程”（v1）使用")
    confirm.get_by_role("button", name="取消").click()
    expect(page.locator("#problems")).to_contain_text("已取消部署")
    assert latest_version(duban, "duban_main") == 1

    # Under a key of its own it deploys without a question.
    panel_field(page, "id").fill("npc_suggestion")
    page.get_by_role("button", name="部署新版本").click()
    expect(page.locator("#problems")).to_contain_text("已部署 npc_suggestion v1")
    expect(confirm).to_be_hidden()
    assert latest_version(duban, "duban_main") == 1


def test_renaming_a_deployed_process_asks_before_deploying(live, open_page):
    base, duban, _ = live
    page = open_modeler(open_page, base, "?key=duban_main")
    page.evaluate("""() => { const m = window.dubanModeler.modeler;
        const pool = m.get('elementRegistry').filter(e => e.type === 'bpmn:Participant')[0];
        m.get('modeling').updateModdleProperties(pool, pool.businessObject.processRef,
                                                 {name: '人大代表建议办理'}); }""")
    page.get_by_role("button", name="部署新版本").click()
    confirm = page.locator("#deploy-confirm")
    expect(confirm).to_contain_text("已部署的 duban_main 名为“督查督办主流程”，本流程名为“人大代表建议办理”")
    confirm.get_by_role("button", name="取消").click()
    expect(page.locator("#problems")).to_contain_text("已取消部署")
    assert latest_version(duban, "duban_main") == 1


def test_a_step_dragged_from_the_step_bar_comes_configured(live, open_page):
    base, _, _ = live
    page = open_modeler(open_page, base)
    receive = page.locator('.duban-step-entry[data-kind="receive"]')
    expect(receive).to_have_text("签收")
    expect(page.locator(".duban-step-entry")).to_have_count(len(steps.KINDS))
    # Dragged as a designer does: press on 签收, move over the canvas, release.
    receive.hover()
    box = page.locator("#canvas").bounding_box()
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=8)
    page.mouse.up()
    created = page.evaluate("""() => { const m = window.dubanModeler.modeler;
        const tasks = m.get('elementRegistry').filter(e => e.type === 'bpmn:UserTask');
        return tasks.map(t => t.id); }""")
    assert len(created) == 1, created
    task_id = created[0]
    xml = saved_xml(page)
    assert re.search(rf'<bpmn:userTask id="{task_id}" name="签收" camunda:formRef="unit_receive"', xml), xml
    assert '<duban:step kind="receive"' in xml
    # Selected after the drop: the panel shows its step, form and help; the form editor opens it.
    select(page, task_id)
    expect(panel_field(page, "duban-step-kind")).to_have_value("receive")
    expect(panel_field(page, "duban-form-ref")).to_have_value("unit_receive")
    expect(page.locator("#properties")).to_contain_text("须放在按承办单位展开的")
    expect(page.locator("#form-id")).to_have_text("unit_receive")
    # Another kind picked in the panel: its options' defaults are written.
    panel_field(page, "duban-step-kind").select_option("assign")
    expect(panel_field(page, "duban-option-due_workdays")).to_have_value("2")
    panel_field(page, "duban-candidate-groups").select_option("office")
    xml = saved_xml(page)
    assert re.search(r'<duban:step kind="assign">\s*<duban:option name="due_workdays" value="2" />', xml), xml
    assert 'camunda:candidateGroups="office"' in xml
    # Lint on the canvas, in Chinese: a user task without a form.
    panel_field(page, "duban-form-ref").select_option("")
    expect(page.locator(f'.djs-overlays[data-container-id="{task_id}"] .bjsl-overlay')).to_have_count(1)
    page.locator(f'.djs-overlays[data-container-id="{task_id}"] .bjsl-overlay').hover()
    expect(page.locator(f'.djs-overlays[data-container-id="{task_id}"]')).to_contain_text("用户任务没有表单")
    # A timer step comes with its timer, waiting for the unit's deadline.
    page.locator('.duban-step-entry[data-kind="deadline"]').hover()
    box = page.locator("#canvas").bounding_box()  # after the hover, which may have scrolled the page
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 200, box["y"] + box["height"] / 2, steps=8)
    page.mouse.up()
    xml = saved_xml(page)
    assert '<duban:step kind="deadline"' in xml, xml
    assert "unit_deadline(unit)</bpmn:timeDate>" in xml, xml


def test_lanes_timers_and_conditions_in_the_panel(live, open_page):
    base, _, _ = live
    page = open_modeler(open_page, base, "?key=duban_main")
    panel = page.locator("#properties")
    # A lane is mapped to a role or a unit picked from the organisation.
    select(page, "discipline")
    role = panel_field(page, "duban-lane-role")
    expect(role.locator("option")).to_have_text(["（未指定）", "督查室", "领导", "承办单位", "纪委"])
    role.select_option("discipline")
    unit = panel_field(page, "duban-lane-unit")
    assert "发改局" in unit.locator("option").all_text_contents()
    xml = saved_xml(page)
    assert re.search(r'<bpmn:lane id="discipline" name="纪委" duban:role="discipline"', xml), xml
    # A timer: its kind and value, and the working-day functions explained beside it.
    select(page, "assign_overdue")
    expect(panel).to_contain_text("定时")
    timer_type = panel.locator("select").filter(has=page.locator("option", has_text="循环")).first
    expect(timer_type.locator("option")).to_have_text(["<无>", "日期（某一时刻）", "时长", "循环"])
    expect(timer_type).to_have_value("timeDate")
    expect(panel.locator("textarea, input").filter(has_text="").nth(0)).to_be_visible()
    assert "workdays(2)" in panel.locator("textarea, input[type=text]").evaluate_all("es => es.map(e => e.value)")
    expect(panel.locator(".duban-timer-hint")).to_contain_text("workdays(3)")
    expect(panel.locator(".duban-timer-hint")).to_contain_text("不得短于 60 秒")
    # A gateway's condition is checked as it is typed.
    select(page, "flow_approve")
    condition = panel_field(page, "duban-condition-expression")
    expect(condition).to_have_value("decision == 'approve'")
    condition.fill("decision = 'approve'")
    expect(panel).to_contain_text("条件中应使用 == 比较")
    condition.fill("${decision == 'approve'}")
    expect(panel).to_contain_text("不用 ${...}")
    condition.fill("decision in ('approve', 'agree')")
    expect(panel.locator(".bio-properties-panel-error")).to_have_count(0)
    assert "decision in ('approve', 'agree')" in saved_xml(page)
    # Token simulation walks the diagram; the toolbar switches it.
    page.get_by_role("button", name="模拟运行").click()
    expect(page.get_by_role("button", name="模拟运行")).to_have_attribute("aria-pressed", "true")
    expect(page.locator(".bts-palette")).to_be_visible()
    page.get_by_role("button", name="模拟运行").click()
    expect(page.get_by_role("button", name="模拟运行")).to_have_attribute("aria-pressed", "false")

    select(page, "unit_receive")
    expect(panel_field(page, "duban-form-ref")).to_have_value("unit_receive")
    screenshot(page, "11-modeler-panel-desktop")
    assert not page.errors


def test_a_multi_instance_is_made_per_unit_in_the_panel(live, open_page):
    base, _, _ = live
    page = open_modeler(open_page, base)
    page.evaluate("""() => { const m = window.dubanModeler.modeler;
        const sub = m.get('modeling').appendShape(m.get('elementRegistry').get('start'),
                                                  {type: 'bpmn:SubProcess', isExpanded: true}, {x: 420, y: 178});
        m.get('modeling').updateProperties(sub, {id: 'handle_unit',
            loopCharacteristics: m.get('bpmnFactory').create('bpmn:MultiInstanceLoopCharacteristics')});
        m.get('selection').select(sub); }""")
    per_unit = panel_field(page, "duban-per-unit")
    expect(per_unit).not_to_be_checked()
    page.locator("#properties").get_by_text("按承办单位展开（每个承办单位一支，变量 unit）").click()
    expect(per_unit).to_be_checked()
    xml = saved_xml(page)
    assert re.search(r'<bpmn:subProcess id="handle_unit">\s*(<bpmn:incoming>.*</bpmn:incoming>\s*)?'
                     r'<bpmn:multiInstanceLoopCharacteristics>\s*'
                     r'<bpmn:loopDataInputRef>units</bpmn:loopDataInputRef>\s*'
                     r'<bpmn:inputDataItem id="unit" name="unit" />', xml), xml


def test_the_modeler_on_a_phone(live, open_page):
    base, _, _ = live
    page = open_modeler(open_page, base, "?key=duban_main", width=390, height=844)
    select(page, "office_review")
    expect(panel_field(page, "duban-form-ref")).to_have_value("office_review")
    screenshot(page, "12-modeler-panel-phone")
    canvas, panel = page.locator("#canvas").bounding_box(), page.locator("#properties").bounding_box()
    assert panel["y"] >= canvas["y"] + canvas["height"] - 1  # the panel below the canvas, not over it
    assert canvas["width"] <= 390 and panel["width"] <= 390


# Latin a Chinese designer may read in the form editor: the names of the expression language (FEEL)
# and of the HTML and Markdown syntaxes, and the title of bpmn.io's logo (its licence keeps the logo).
# The form's own keys, ids and template variables are allowed per form (form_words).
LATIN = {"FEEL", "HTML", "Markdown", "bpmn"}
ENGLISH_WORD = re.compile(r"[A-Za-z0-9_]*[A-Za-z]{3,}[A-Za-z0-9_]*")
VISIBLE_TEXTS = """root => {
  const texts = [], visible = (e) => e.checkVisibility({ visibilityProperty: true });
  const walk = (node) => {
    if (node.nodeType === 3) {
      if (node.nodeValue.trim() && visible(node.parentElement)) texts.push(node.nodeValue.trim());
      return;
    }
    if (node.nodeType !== 1 || !visible(node)) return;
    for (const name of ["placeholder", "title"]) if (node.getAttribute(name)) texts.push(node.getAttribute(name));
    node.childNodes.forEach(walk);
  };
  walk(root);
  return texts; }"""


def form_words(schema) -> set[str]:
    words = {schema["id"]}

    def walk(components):
        for c in components:
            words.update(filter(None, (c.get("key"), c.get("id"), c.get("path"))))
            words.update(re.findall(r"{{\s*([A-Za-z_]\w*)", c.get("text", "")))
            walk(c.get("components", []))

    walk(schema["components"])
    return words


def english_in_form_editor(page) -> list[str]:
    """Visible texts, placeholders and titles in the form editor with an English word in them."""
    schema = page.evaluate("() => window.dubanModeler.formEditor().getSchema()")
    allowed = LATIN | form_words(schema)
    texts = page.evaluate(VISIBLE_TEXTS, page.locator("#form-editor").element_handle())
    return sorted({t for t in texts if any(w not in allowed for w in ENGLISH_WORD.findall(t))})


def select_form_field(page, field, kind):
    """Click a field (a locator, or its label) on the form editor's canvas, see its type named `kind`
    in the properties panel and open every section there."""
    editor = page.locator("#form-editor")
    if isinstance(field, str):
        field = editor.locator(".fjs-editor-container .fjs-form-field", has_text=field).last
    field.click(position={"x": 6, "y": 6})  # a corner: a group's middle is its child's
    expect(editor.locator(".bio-properties-panel-header-type")).to_have_text(kind)
    # (their titles are clicked: a list section's header also holds its 新增 button; an empty list
    # section does not open)
    for closed in (".bio-properties-panel-group-header:not(.open):not(:has(.bio-properties-panel-add-entry-label))"
                   " .bio-properties-panel-group-header-title",
                   ".bio-properties-panel-collapsible-entry:not(.open)"
                   " .bio-properties-panel-collapsible-entry-header-title"):
        for _ in range(20):  # a panel has fewer sections than this
            if not editor.locator(closed).count():
                break
            editor.locator(closed).first.click()
        expect(editor.locator(closed)).to_have_count(0)


# Every field type Duban's forms may use, with the Chinese name the panel gives it.
FIELD_TYPES = {"textfield": "文本框", "textarea": "多行文本", "number": "数字", "datetime": "日期时间",
               "checkbox": "复选框", "checklist": "复选框组", "radio": "单选按钮组", "select": "下拉选择",
               "taglist": "下拉多选", "text": "说明文字", "group": "分组", "dynamiclist": "动态列表",
               "filepicker": "文件上传", "separator": "分隔线", "spacer": "空白间距", "button": "按钮"}


def every_field_type_form() -> dict:
    def field(kind):
        c = {"type": kind, "id": f"field_{kind}", "label": f"{FIELD_TYPES[kind]}示例"}
        if kind not in ("text", "group", "dynamiclist", "separator", "spacer", "button"):
            c["key"] = f"{kind}_value"
        if kind in ("checklist", "radio", "select", "taglist"):
            c["values"] = [{"label": "同意", "value": "yes"}, {"label": "不同意", "value": "no"}]
        if kind == "datetime":
            c.update(subtype="date", dateLabel=c.pop("label"))
        if kind == "text":
            c["text"] = "#### {{title}}"
        if kind in ("group", "dynamiclist"):
            c["components"] = [{"type": "textfield", "id": f"inner_{kind}", "key": f"inner_{kind}",
                                "label": "内部字段"}]
            c["path"] = f"{kind}_items"
        if kind == "dynamiclist":
            c["isRepeating"] = True
        return c

    return {"type": "default", "id": "every_field", "components": [field(kind) for kind in FIELD_TYPES]}


def test_the_form_editor_in_chinese(live, open_page):
    base, _, _ = live
    page = open_modeler(open_page, base, "?key=duban_main", width=1440, height=900)
    editor = page.locator("#form-editor")
    # Duban's forms, as designers open them: (task, field label, its type's name in the panel)
    fields = [("unit_receive", "第一责任人", "文本框"), ("unit_receive", "承诺办结时限", "日期时间"),
              ("unit_report", "报告已经本单位分管领导审签", "复选框"), ("unit_report", "办结情况报告", "多行文本"),
              ("office_review", "审核意见", "单选按钮组"), ("draft_opinion", "牵头单位", "下拉选择"),
              ("draft_opinion", "配合单位", "下拉多选")]
    for task, label, kind in fields:
        select(page, task)
        expect(page.locator("#form-id")).to_have_text(task)
        select_form_field(page, label, kind)
        assert english_in_form_editor(page) == [], (task, label)
    expect(editor.locator(".fjs-palette-group-title")).to_have_text(["输入", "选择", "展示", "容器", "操作"])
    expect(editor.get_by_placeholder("搜索组件")).to_be_visible()
    for group in ("常规", "校验", "布局", "条件"):
        expect(editor.locator(".bio-properties-panel-group-header-title", has_text=group)).to_have_count(1)
    screenshot(page, "modeler-form-editor-desktop")

    # A tooltip, shown on hovering the label.
    editor.locator(".bio-properties-panel-tooltip-wrapper").get_by_text("键名", exact=True).hover()
    expect(editor.locator(".bio-properties-panel-tooltip")).to_contain_text("用唯一的“键名”")
    # The pop-up editor of a label, its title naming the field's type and entry.
    editor.get_by_label(re.compile("^字段标签")).click()
    editor.get_by_title("在弹窗中编辑").first.click()
    expect(editor.locator(".bio-properties-panel-feel-popup")).to_contain_text("下拉多选 / 字段标签")
    assert english_in_form_editor(page) == []
    editor.get_by_title("保存并关闭").click()
    # The pop-up hands the focus back to its entry once it has gone, a moment later: typing before
    # then would go to the entry, not to the palette's search.
    expect(editor.locator(".bio-properties-panel-feel-popup")).to_have_count(0)
    expect(editor.get_by_label(re.compile("^字段标签"))).to_be_focused()

    # The palette is searched in Chinese; a component added from it comes with a Chinese label.
    editor.get_by_placeholder("搜索组件").fill("文本")
    expect(editor.get_by_placeholder("搜索组件")).to_have_value("文本")
    expect(editor.locator(".fjs-palette-field:visible")).to_have_text(["文本框", "多行文本"])
    editor.locator(".fjs-palette-field", has_text="多行文本").press("Enter")
    added = page.evaluate("() => window.dubanModeler.formEditor().getSchema().components.slice(-1)[0]")
    assert (added["type"], added["label"]) == ("textarea", "多行文本")
    assert english_in_form_editor(page) == []

    # Every other field type a form may use.
    page.evaluate("schema => window.dubanModeler.formEditor().importSchema(schema)", every_field_type_form())
    for kind, name in FIELD_TYPES.items():
        select_form_field(page, editor.locator(f'.fjs-editor-container .fjs-element[data-id="field_{kind}"]'), name)
        assert english_in_form_editor(page) == [], kind

    # An empty form: the canvas' empty state.
    page.evaluate("() => window.dubanModeler.formEditor()"
                  ".importSchema({type: 'default', id: 'draft_opinion', components: []})")
    expect(editor).to_contain_text("开始设计表单")
    assert english_in_form_editor(page) == []
    assert page.errors == []


def test_the_form_editor_in_chinese_on_a_phone(live, open_page):
    base, _, _ = live
    page = open_modeler(open_page, base, "?key=duban_main", width=390, height=844)
    select(page, "unit_receive")
    select_form_field(page, "第一责任人", "文本框")
    assert english_in_form_editor(page) == []
    screenshot(page, "modeler-form-editor-phone")
