// Duban's properties provider: what a 督办 designer sets on an element, in Chinese, with the
// organisation's roles, units and deployed forms offered as choices (never typed by hand).
// It runs after bpmn-js-properties-panel's own BPMN provider (general, documentation, timer,
// multi-instance) and adds the groups the engine reads: the 督办 step and its options, the lane's
// role or unit, the process's 督办 item and starter roles, the task's form and candidates, a service
// task's topic or connector, and gateway conditions and scripts, checked as they are typed.
import { h } from "@bpmn-io/properties-panel/preact";
import {
  CheckboxEntry, SelectEntry, TextAreaEntry, TextFieldEntry, isCheckboxEntryEdited, isSelectEntryEdited,
  isTextAreaEntryEdited, isTextFieldEntryEdited,
} from "@bpmn-io/properties-panel";
import { useService } from "bpmn-js-properties-panel";
import { getBusinessObject, is, isAny } from "bpmn-js/lib/util/ModelUtil";
import { checkExpression, checkScript } from "./python";

const LOW_PRIORITY = 400;
// Groups of the BPMN provider a Duban designer uses; the others (compensation, links...) stay.
const TIMER_HINT = "时间可用工作日函数：workdays(3)（3 个工作日后）、unit_deadline(unit)（该单位办理期限）、" +
  "remind_at(unit)（预警时间）、urge_limit(unit)（催办期限），写在“日期”类型中；也可用 ISO 8601，如 " +
  "2026-12-31T17:00:00+08:00、P3D、R/P1D。循环定时的间隔不得短于 60 秒（规则 timer-min-cycle）。" +
  "“预警”“期限届满”类定时须放在按承办单位展开的多实例中。";

// The catalogue as the panel last asked for it: entries read it from here (see entryOf).
const latest = { catalogue: {}, localForms: () => ({}) };

// Entry components made once per entry, reading what changes (the catalogue) when they render: a new
// function at each getGroups would be a new component type to preact, which then mounts the entry afresh
// at every change of the diagram, and what is being typed in the next field (within the panel's
// debounce) is lost.
const ENTRIES = new Map();
function entryOf(key, Component, extra) {
  if (!ENTRIES.has(key)) ENTRIES.set(key, (p) => h(Component, { ...p, ...extra() }));
  return ENTRIES.get(key);
}

// The element's extension of `type` (duban:Step, duban:Connector), if any.
function extensionOf(bo, type) {
  const values = (bo.extensionElements && bo.extensionElements.values) || [];
  return values.find((v) => is(v, type));
}

export function stepOf(bo) {
  return extensionOf(bo, "duban:Step");
}

// Put `created` among the element's extensions in place of `old` (or beside the others), making the
// extensionElements when the element has none.
function putExtension(element, created, old, services) {
  const { bpmnFactory, modeling } = services;
  let ext = getBusinessObject(element).extensionElements;
  if (!ext) {
    ext = bpmnFactory.create("bpmn:ExtensionElements", { values: [] });
    modeling.updateProperties(element, { extensionElements: ext });
  }
  created.$parent = ext;
  modeling.updateModdleProperties(element, ext, { values: ext.values.filter((v) => v !== old).concat([created]) });
}

function hasTimer(element) {
  return (getBusinessObject(element).eventDefinitions || []).some((d) => is(d, "bpmn:TimerEventDefinition"));
}

// The kinds that fit an element: by type, and the timer kinds (those offered on boundary events)
// only on events that wait for a timer.
function catalogueKinds(catalogue, element) {
  return (catalogue.steps || []).filter((s) => (s.applies_to || []).some((type) => is(element, type)) &&
    (!(s.applies_to || []).includes("bpmn:BoundaryEvent") || hasTimer(element)));
}

function processOf(element) {
  const bo = getBusinessObject(element);
  if (is(element, "bpmn:Process")) return bo;
  if (is(element, "bpmn:Participant")) return bo.processRef;
  return null;
}

// -- the 督办 step ---------------------------------------------------------------------------------

function useCommands() {
  return { commandStack: useService("commandStack"), bpmnFactory: useService("bpmnFactory"),
           modeling: useService("modeling") };
}

function setStep(element, kind, catalogue, services) {
  const { bpmnFactory, modeling } = services;
  const bo = getBusinessObject(element);
  const ext = bo.extensionElements;
  const step = stepOf(bo);
  if (!kind) {
    if (step) modeling.updateModdleProperties(element, ext, { values: ext.values.filter((v) => v !== step) });
    return;
  }
  const spec = (catalogue.steps || []).find((s) => s.kind === kind) || { options: [] };
  const options = spec.options.filter((o) => o.default !== null && o.default !== undefined)
    .map((o) => bpmnFactory.create("duban:Option", { name: o.name, value: String(o.default) }));
  if (step) {
    modeling.updateModdleProperties(element, step, { kind, options });
    return;
  }
  const created = bpmnFactory.create("duban:Step", { kind, options });
  options.forEach((o) => { o.$parent = created; });
  putExtension(element, created, null, services);
}

function StepKindEntry(props) {
  const { element, id, catalogue } = props;
  const services = useCommands();
  const kinds = catalogueKinds(catalogue, element);
  return h(SelectEntry, {
    element, id, label: "督办环节",
    description: (catalogue.steps || []).find((s) => s.kind === ((stepOf(getBusinessObject(element)) || {}).kind))?.help,
    getValue: () => (stepOf(getBusinessObject(element)) || {}).kind || "",
    setValue: (value) => setStep(element, value, catalogue, services),
    getOptions: () => [{ value: "", label: "（无，普通环节）" }].concat(
      kinds.map((s) => ({ value: s.kind, label: s.label + "（" + s.kind + "）" }))),
  });
}

function optionValue(step, name) {
  const option = (step.options || []).find((o) => o.name === name);
  return option ? option.value : undefined;
}

function setOption(element, step, name, value, services) {
  const { bpmnFactory, modeling } = services;
  const rest = (step.options || []).filter((o) => o.name !== name);
  if (value !== undefined && value !== null && value !== "") {
    const option = bpmnFactory.create("duban:Option", { name, value: String(value) });
    option.$parent = step;
    rest.push(option);
  }
  modeling.updateModdleProperties(element, step, { options: rest });
}

function StepOptionEntry(props) {
  const { element, id, option } = props;
  const services = useCommands();
  const debounce = useService("debounceInput");
  const step = stepOf(getBusinessObject(element));
  const common = { element, id, label: option.label,
                   setValue: (value) => setOption(element, step, option.name, value, services) };
  if (option.type === "boolean") {
    return h(CheckboxEntry, { ...common, getValue: () => optionValue(step, option.name) === "true",
                              setValue: (value) => common.setValue(value ? "true" : "false") });
  }
  if (option.type === "select") {
    return h(SelectEntry, { ...common, getValue: () => optionValue(step, option.name) || "",
                            getOptions: () => [{ value: "", label: "（默认）" }].concat(
                              (option.choices || []).map((c) => (typeof c === "object" ? c : { value: c, label: c }))) });
  }
  return h(TextFieldEntry, {
    ...common, debounce, getValue: () => optionValue(step, option.name) || "",
    description: option.default !== null && option.default !== undefined ? "默认 " + option.default : undefined,
    validate: option.type === "integer" ? (v) => (v && !/^\d+$/.test(v) ? "请填写非负整数" : null) : undefined,
  });
}

function optionOf(catalogue, kind, name) {
  const spec = (catalogue.steps || []).find((s) => s.kind === kind);
  return spec && (spec.options || []).find((o) => o.name === name);
}

function stepGroup(element, catalogue) {
  if (!catalogueKinds(catalogue, element).length) return null;
  const entries = [{ id: "duban-step-kind", isEdited: isSelectEntryEdited,
                     component: entryOf("step-kind", StepKindEntry, () => ({ catalogue: latest.catalogue })) }];
  const step = stepOf(getBusinessObject(element));
  const spec = step && (catalogue.steps || []).find((s) => s.kind === step.kind);
  ((spec && spec.options) || []).forEach((option) => {
    const key = "step-option-" + step.kind + "-" + option.name;
    entries.push({ id: "duban-option-" + option.name, component: entryOf(key, StepOptionEntry, () => ({ option:
                     optionOf(latest.catalogue, step.kind, option.name) || option })),
                   isEdited: option.type === "boolean" ? isCheckboxEntryEdited : isTextFieldEntryEdited });
  });
  return { id: "duban-step", label: "督办环节", entries };
}

// -- lanes: a role or one unit -----------------------------------------------------------------

function LaneEntry(props) {
  const { element, id, catalogue, attr } = props;
  const { modeling } = useCommands();
  const bo = getBusinessObject(element);
  const choices = attr === "role"
    ? (catalogue.roles || []).map((r) => ({ value: r.id, label: r.label }))
    : (catalogue.units || []).map((u) => ({ value: u.id, label: u.name }));
  return h(SelectEntry, {
    element, id, label: attr === "role" ? "角色" : "承办单位（固定一个单位）",
    description: attr === "role" ? "泳道中的任务交给该角色；未指定时按泳道名称识别。" : "指定后泳道中的任务只交给这个单位。",
    getValue: () => bo.get("duban:" + attr) || "",
    // A lane is a role or one unit, never both: choosing one clears the other.
    setValue: (value) => modeling.updateProperties(element, attr === "role"
      ? { "duban:role": value || undefined, "duban:unit": undefined }
      : { "duban:unit": value || undefined, "duban:role": undefined }),
    getOptions: () => [{ value: "", label: "（未指定）" }].concat(choices),
  });
}

function laneGroup(element) {
  if (!is(element, "bpmn:Lane")) return null;
  return { id: "duban-lane", label: "泳道对应", entries: ["role", "unit"].map((attr) => ({
    id: "duban-lane-" + attr, isEdited: isSelectEntryEdited,
    component: entryOf("lane-" + attr, LaneEntry, () => ({ catalogue: latest.catalogue, attr })) })) };
}

// -- the process: 督办 item, who may start it -------------------------------------------------------

function ItemEntry(props) {
  const { element, id } = props;
  const { modeling } = useCommands();
  const process = processOf(element);
  return h(CheckboxEntry, {
    element, id, label: "登记督办事项（发起即进入台账）",
    getValue: () => !!process.get("duban:item"),
    setValue: (value) => modeling.updateModdleProperties(element, process, { "duban:item": value || undefined }),
  });
}

function StarterEntry(props) {
  const { element, id, role } = props;
  const { modeling } = useCommands();
  const process = processOf(element);
  const roles = () => (process.get("duban:starterRoles") || "").split(/\s+/).filter(Boolean);
  return h(CheckboxEntry, {
    element, id, label: role.label,
    getValue: () => roles().includes(role.id),
    setValue: (value) => {
      const next = roles().filter((r) => r !== role.id).concat(value ? [role.id] : []);
      modeling.updateModdleProperties(element, process, { "duban:starterRoles": next.join(" ") || undefined });
    },
  });
}

function processGroups(element, catalogue) {
  if (!processOf(element)) return [];
  return [
    { id: "duban-process", label: "督办", entries: [{ id: "duban-item", component: ItemEntry, isEdited: isCheckboxEntryEdited }] },
    { id: "duban-starters", label: "可发起的角色", entries: (catalogue.roles || []).map((role) => ({
      id: "duban-starter-" + role.id, isEdited: isCheckboxEntryEdited,
      component: entryOf("starter-" + role.id, StarterEntry, () => ({ role })) })) },
  ];
}

// -- user tasks and start events: form, candidates -----------------------------------------------

function FormEntry(props) {
  const { element, id, catalogue, localForms } = props;
  const { modeling } = useCommands();
  const bo = getBusinessObject(element);
  return h(SelectEntry, {
    element, id, label: "表单",
    description: "选择已部署的表单，或本流程中的表单；选中后在下方的表单编辑器中修改。",
    getValue: () => bo.get("camunda:formRef") || "",
    setValue: (value) => modeling.updateProperties(element, {
      "camunda:formRef": value || undefined, "camunda:formRefBinding": value ? "latest" : undefined }),
    getOptions: () => {
      const seen = new Set();
      const options = [{ value: "", label: "（无表单）" }];
      const add = (value, label) => { if (!seen.has(value)) { seen.add(value); options.push({ value, label }); } };
      Object.keys(localForms()).forEach((formId) => add(formId, formId + "（本流程）"));
      (catalogue.forms || []).forEach((f) => add(f.id, (f.name || f.id) + "（" + f.id + "）"));
      const current = bo.get("camunda:formRef");
      if (current) add(current, current + "（未找到）");
      return options;
    },
  });
}

function CandidateEntry(props) {
  const { element, id, catalogue } = props;
  const { modeling } = useCommands();
  const bo = getBusinessObject(element);
  return h(SelectEntry, {
    element, id, label: "办理角色",
    description: "不选时由所在泳道决定；承办单位的环节由按单位展开的多实例决定。",
    getValue: () => bo.get("camunda:candidateGroups") || "",
    setValue: (value) => modeling.updateProperties(element, { "camunda:candidateGroups": value || undefined }),
    getOptions: () => [{ value: "", label: "（按泳道）" }].concat(
      (catalogue.roles || []).map((r) => ({ value: r.id, label: r.label }))),
  });
}

// A text field for one attribute of the element itself (`empty`: what an emptied field writes).
function AttributeEntry(props) {
  const { element, id, attr, label, description, validate, empty } = props;
  const { modeling } = useCommands();
  const debounce = useService("debounceInput");
  const bo = getBusinessObject(element);
  return h(TextFieldEntry, {
    element, id, label, description, validate, debounce,
    getValue: () => bo.get(attr) || "",
    setValue: (value) => modeling.updateProperties(element, { [attr]: value || empty }),
  });
}

const ASSIGNEE = { attr: "camunda:assignee", label: "指定办理人（用户名）", description: "一般不填：任务交给角色或单位。",
                   validate: (v) => (v && /\s/.test(v) ? "用户名不能包含空格" : null) };

function taskGroups(element) {
  const groups = [];
  if (isAny(element, ["bpmn:UserTask", "bpmn:StartEvent"]) && !(is(element, "bpmn:StartEvent") &&
      (getBusinessObject(element).eventDefinitions || []).length)) {
    groups.push({ id: "duban-form", label: "表单", entries: [{
      id: "duban-form-ref", isEdited: isSelectEntryEdited,
      component: entryOf("form-ref", FormEntry, () => ({ catalogue: latest.catalogue, localForms: latest.localForms })) }] });
  }
  if (is(element, "bpmn:UserTask")) {
    groups.push({ id: "duban-assignment", label: "办理人", entries: [
      { id: "duban-candidate-groups", isEdited: isSelectEntryEdited,
        component: entryOf("candidate-groups", CandidateEntry, () => ({ catalogue: latest.catalogue })) },
      { id: "duban-assignee", component: entryOf("assignee", AttributeEntry, () => ASSIGNEE),
        isEdited: isTextFieldEntryEdited },
    ] });
  }
  return groups;
}

// -- business rule tasks: the decision table they run -------------------------------------------

function DecisionEntry(props) {
  const { element, id, catalogue } = props;
  const { modeling } = useCommands();
  const bo = getBusinessObject(element);
  return h(SelectEntry, {
    element, id, label: "决策表",
    description: "运行所选决策表，其各输出列按名称写入流程变量；决策表在“决策表（DMN）”页中编辑和部署。",
    getValue: () => bo.get("camunda:decisionRef") || "",
    setValue: (value) => modeling.updateProperties(element, { "camunda:decisionRef": value || undefined }),
    getOptions: () => {
      const options = [{ value: "", label: "（未选择）" }];
      (catalogue.decisions || []).forEach((d) => options.push({ value: d.id, label: (d.name || d.id) + "（" + d.id + "）" }));
      const current = bo.get("camunda:decisionRef");
      if (current && !options.some((o) => o.value === current)) options.push({ value: current, label: current + "（未部署）" });
      return options;
    },
  });
}

function decisionGroups(element) {
  if (!is(element, "bpmn:BusinessRuleTask")) return [];
  return [{ id: "duban-decision", label: "决策表", entries: [
    { id: "duban-decision-ref", isEdited: isSelectEntryEdited,
      component: entryOf("decision-ref", DecisionEntry, () => ({ catalogue: latest.catalogue })) }] }];
}

// -- service tasks: a topic external programs take, or a built-in connector ----------------------

// How a service task is done (engine/bpmn/external.py): Camunda's external task on a topic, or one of
// Duban's built-in connectors, configured by administrators and named here (their <duban:connector/>).
const SERVICE_WAYS = [
  { value: "", label: "（未设置：不能部署）" },
  { value: "external", label: "外部任务：由外部程序按主题领取" },
  { value: "notify", label: "内置连接器：发送通知" },
  { value: "http", label: "内置连接器：调用 HTTP 接口" },
];
// Whether a topic or a variable name matches the pattern deploy checks it against (the catalogue's
// `patterns`, from engine/bpmn/external.py); without the catalogue, deploy alone decides.
function matches(kind, value) {
  const pattern = (latest.catalogue.patterns || {})[kind];
  return !pattern || new RegExp(pattern, "u").test(value);
}
const CHANNEL_KINDS = ["email", "sms", "wecom", "dingtalk", "zwdingtalk"];
const CONNECTOR_FIELDS = {
  notify: [
    { attr: "recipients", label: "接收人", description: "站内通知和邮件的接收人：role:角色、unit:单位、user:用户名，空格分隔，" +
      "可用 {变量}，如 role:office unit:{lead_unit}；只通知对事项有知悉权限的人。" },
    { attr: "title", label: "标题", description: "可用 {item_title} 等变量；不填时为环节名称。" },
    { attr: "message", label: "内容", area: true, description: "可用 {item_title}、{item_deadline}、{变量名}、{变量名.字段}。" },
    { attr: "phones", label: "短信号码", description: "发短信时：存放手机号的变量，如 {phones}。" },
  ],
  http: [
    { attr: "method", label: "请求方法", choices: ["POST", "GET", "PUT", "PATCH", "DELETE"] },
    { attr: "path", label: "路径", description: "接在接口地址之后，如 /orders；可用 {变量}。" },
    { attr: "body", label: "请求体（JSON）", area: true, description: "可用 {变量}，写入时按 JSON 转义。" },
    { attr: "result", label: "应答存入变量", description: "应答 {status, body} 存入的流程变量名。" },
    { attr: "outputs", label: "应答取值", description: "变量=应答中的位置，逗号分隔，如 order_id=body.data.id。" },
  ],
};

function serviceWay(bo) {
  if (bo.get("duban:connector")) return bo.get("duban:connector");
  return bo.get("camunda:type") === "external" ? "external" : "";
}

function connectorOf(bo) {
  return extensionOf(bo, "duban:Connector");
}

function setServiceWay(element, way, services) {
  const { bpmnFactory, modeling } = services;
  const bo = getBusinessObject(element);
  const connector = way === "notify" || way === "http";
  modeling.updateProperties(element, {
    "camunda:type": way === "external" ? "external" : undefined,
    "camunda:topic": way === "external" ? bo.get("camunda:topic") || "" : undefined,
    "duban:connector": connector ? way : undefined,
    "duban:variables": way === "external" ? bo.get("duban:variables") : undefined,
  });
  const old = connectorOf(bo);
  if (!connector) {
    if (old) modeling.updateModdleProperties(element, bo.extensionElements, {
      values: bo.extensionElements.values.filter((v) => v !== old) });
    return;
  }
  // A new declaration for the chosen connector (what one kind needs is not the other's).
  const created = bpmnFactory.create("duban:Connector", way === "notify" ? { channel: "inapp" } : { method: "POST" });
  putExtension(element, created, old, services);
}

function ServiceWayEntry(props) {
  const { element, id } = props;
  const services = useCommands();
  return h(SelectEntry, {
    element, id, label: "执行方式",
    description: "服务任务不由人办理：交给外部程序（如推送政务钉钉的程序按主题领取），或由系统的内置连接器发送通知、调用接口。",
    getValue: () => serviceWay(getBusinessObject(element)),
    setValue: (value) => setServiceWay(element, value, services),
    getOptions: () => SERVICE_WAYS,
  });
}

const TOPIC_FIELD = {
  attr: "camunda:topic", label: "主题", empty: "",
  description: "外部程序按主题领取任务（Camunda 外部任务接口），如 push-dingtalk。",
  validate: (v) => (!v ? "请填写主题" : matches("topic", v) ? null : "主题只能含字母、数字和 . _ : / -，且以字母或数字开头"),
};
const VARIABLES_FIELD = {
  attr: "duban:variables", label: "交给外部程序的变量",
  description: "逗号分隔的流程变量名，如 title, lead_unit；外部程序只拿到这些变量，不填则一个也不给。",
  validate: (v) => {
    const bad = (v || "").split(",").map((n) => n.trim()).filter((n) => n && !matches("variable", n));
    return bad.length ? "不是变量名：" + bad.join("、") : null;
  },
};

// The connector an administrator configured (系统管理 → 连接器), chosen by name; one the catalogue does not
// know stays choosable as it is, marked.
function ConnectorNameEntry(props) {
  const { element, id, catalogue, way } = props;
  const { modeling } = useCommands();
  const attr = way === "notify" ? "channel" : "endpoint";
  const connector = connectorOf(getBusinessObject(element));
  return h(SelectEntry, {
    element, id, label: way === "notify" ? "通知渠道" : "HTTP 接口",
    description: "连接器由系统管理员在“连接器”页中配置（地址、密钥），流程中只选用其名称。",
    getValue: () => (connector && connector.get(attr)) || "",
    setValue: (value) => modeling.updateModdleProperties(element, connector, { [attr]: value || undefined }),
    getOptions: () => {
      const options = way === "notify" ? [{ value: "inapp", label: "站内通知（inapp）" }] : [{ value: "", label: "（未选择）" }];
      (catalogue.connectors || []).filter((c) => (way === "notify" ? CHANNEL_KINDS.includes(c.kind) : c.kind === "http"))
        .forEach((c) => options.push({ value: c.name, label: (c.title || c.name) + "（" + c.name + "）" }));
      const current = connector && connector.get(attr);
      if (current && !options.some((o) => o.value === current)) options.push({ value: current, label: current + "（未配置）" });
      return options;
    },
  });
}

function ConnectorFieldEntry(props) {
  const { element, id, field } = props;
  const { modeling } = useCommands();
  const debounce = useService("debounceInput");
  const connector = connectorOf(getBusinessObject(element));
  const common = { element, id, label: field.label, description: field.description,
                   getValue: () => (connector && connector.get(field.attr)) || "",
                   setValue: (value) => modeling.updateModdleProperties(element, connector, { [field.attr]: value || undefined }) };
  if (field.choices) {
    return h(SelectEntry, { ...common, getOptions: () => field.choices.map((c) => ({ value: c, label: c })) });
  }
  return h(field.area ? TextAreaEntry : TextFieldEntry, { ...common, debounce, rows: 3 });
}

function serviceGroups(element) {
  if (!is(element, "bpmn:ServiceTask")) return [];
  const bo = getBusinessObject(element);
  const way = serviceWay(bo);
  const entries = [{ id: "duban-service-way", component: ServiceWayEntry, isEdited: isSelectEntryEdited }];
  if (way === "external") {
    entries.push({ id: "duban-service-topic", component: entryOf("topic", AttributeEntry, () => TOPIC_FIELD),
                   isEdited: isTextFieldEntryEdited },
                 { id: "duban-service-variables", component: entryOf("variables", AttributeEntry, () => VARIABLES_FIELD),
                   isEdited: isTextFieldEntryEdited });
  } else if (CONNECTOR_FIELDS[way] && connectorOf(bo)) {
    entries.push({ id: "duban-connector-name", isEdited: isSelectEntryEdited,
                   component: entryOf("connector-name-" + way, ConnectorNameEntry, () => ({ catalogue: latest.catalogue, way })) });
    CONNECTOR_FIELDS[way].forEach((field) => entries.push({
      id: "duban-connector-" + field.attr, component: entryOf("connector-" + field.attr, ConnectorFieldEntry, () => ({ field })),
      isEdited: field.choices ? isSelectEntryEdited : field.area ? isTextAreaEntryEdited : isTextFieldEntryEdited }));
  }
  return [{ id: "duban-service", label: "服务任务", entries }];
}

// -- conditions and scripts, checked as typed ----------------------------------------------------

function isConditional(element) {
  return is(element, "bpmn:SequenceFlow") && element.source &&
    isAny(element.source, ["bpmn:ExclusiveGateway", "bpmn:InclusiveGateway"]);
}

function ConditionEntry(props) {
  const { element, id } = props;
  const { modeling, bpmnFactory } = useCommands();
  const debounce = useService("debounceInput");
  const bo = getBusinessObject(element);
  return h(TextAreaEntry, {
    element, id, label: "条件表达式（Python）", debounce, monospace: true, rows: 2,
    description: "表单字段可直接使用，如 decision == 'accept'、category == 'major'；默认流不需要条件。",
    getValue: () => (bo.conditionExpression && bo.conditionExpression.body) || "",
    setValue: (value) => modeling.updateProperties(element, { conditionExpression: value
      ? bpmnFactory.create("bpmn:FormalExpression", { body: value }) : undefined }),
    validate: (value) => (value ? checkExpression(value) : null),
  });
}

function ScriptEntry(props) {
  const { element, id } = props;
  const { modeling } = useCommands();
  const debounce = useService("debounceInput");
  const bo = getBusinessObject(element);
  return h(TextAreaEntry, {
    element, id, label: "脚本（Python）", debounce, monospace: true, rows: 5,
    description: "在沙箱中执行，可读写流程变量，如 notice = urge_notice(unit)。",
    getValue: () => bo.script || "",
    setValue: (value) => modeling.updateProperties(element, { script: value || undefined, scriptFormat: "python" }),
    validate: (value) => (value ? checkScript(value) : null),
  });
}

function logicGroups(element) {
  const groups = [];
  if (isConditional(element)) {
    groups.push({ id: "duban-condition", label: "条件", entries: [
      { id: "duban-condition-expression", component: ConditionEntry, isEdited: isTextAreaEntryEdited }] });
  }
  if (is(element, "bpmn:ScriptTask")) {
    groups.push({ id: "duban-script", label: "脚本", entries: [
      { id: "duban-script-body", component: ScriptEntry, isEdited: isTextAreaEntryEdited }] });
  }
  return groups;
}

// -- the per-unit branch: a multi-instance over the item's units ---------------------------------

// The collection and item Duban's per-unit branch uses (as in bpmn/duban_main.bpmn): one instance
// for each unit in `units`, which knows its unit as `unit` (unit_deadline(unit), remind_at(unit)...).
const UNITS = "units", UNIT = "unit";

function loopOf(element) {
  const loop = getBusinessObject(element).loopCharacteristics;
  return loop && is(loop, "bpmn:MultiInstanceLoopCharacteristics") ? loop : null;
}

function isPerUnit(loop) {
  const input = loop && loop.loopDataInputRef;
  return !!input && (input.id || input) === UNITS && !!loop.inputDataItem && loop.inputDataItem.name === UNIT;
}

function PerUnitEntry(props) {
  const { element, id } = props;
  const { modeling } = useCommands();
  const moddle = useService("moddle");
  return h(CheckboxEntry, {
    element, id, label: "按承办单位展开（每个承办单位一支，变量 unit）",
    description: "签收、办结报告、答复等单位环节和单位的期限定时，须放在这样的多实例之内。",
    getValue: () => isPerUnit(loopOf(element)),
    setValue: (value) => {
      const loop = loopOf(element);
      // A reference by id to the process variable `units` (not an element of the diagram), and the
      // item each instance receives: created with moddle directly, so no diagram id is claimed.
      const ref = value ? moddle.create("bpmn:Property", { id: UNITS }) : undefined;
      const item = value ? moddle.create("bpmn:DataInput", { id: UNIT, name: UNIT }) : undefined;
      if (item) item.$parent = loop;
      modeling.updateModdleProperties(element, loop, {
        loopDataInputRef: ref, inputDataItem: item, loopCardinality: value ? undefined : loop.loopCardinality });
    },
  });
}

function TimerHint() {
  return h("div", { class: "bio-properties-panel-description duban-timer-hint" }, TIMER_HINT);
}

export default function DubanPropertiesProvider(propertiesPanel, config, translate) {
  const options = config || {};
  const catalogue = () => (options.catalogue && options.catalogue()) || {};
  const localForms = () => (options.forms && options.forms()) || {};
  this.getGroups = function (element) {
    return function (groups) {
      const c = latest.catalogue = catalogue();
      latest.localForms = localForms;
      const multi = groups.find((g) => g.id === "multiInstance");
      if (multi && loopOf(element)) {
        multi.entries = [{ id: "duban-per-unit", component: PerUnitEntry, isEdited: isCheckboxEntryEdited }]
          .concat(multi.entries);
        multi.shouldOpen = true;
      }
      const timer = groups.find((g) => g.id === "timer");
      if (timer) {
        timer.entries = timer.entries.concat([{ id: "duban-timer-hint", component: TimerHint }]);
        timer.shouldOpen = true;
      }
      const general = groups.findIndex((g) => g.id === "general");
      const added = [stepGroup(element, c), laneGroup(element)].concat(
        processGroups(element, c), taskGroups(element), decisionGroups(element), serviceGroups(element),
        logicGroups(element)).filter(Boolean);
      added.forEach((group) => { group.shouldOpen = true; });  // what a 督办 designer sets: open at once
      groups.splice(general + 1, 0, ...added);
      // Groups take their own translate for their buttons' titles ("Toggle section").
      groups.forEach((group) => { group.translate = translate; });
      return groups;
    };
  };
  propertiesPanel.registerProvider(LOW_PRIORITY, this);
}

DubanPropertiesProvider.$inject = ["propertiesPanel", "config.dubanProperties", "translate"];
