// 督办 steps as ready-made elements (the catalogue's templates): the designer drags "签收" from the
// step bar onto the canvas and gets a user task named 签收, declared `<duban:step kind="receive">`,
// with its default form, its role and its options' defaults; a timer step comes with its timer: an
// intermediate timer event, which becomes a boundary event when dropped on a task's border (bpmn-js
// attaches it) and a start event of an event sub-process through the replace menu.
import { is } from "bpmn-js/lib/util/ModelUtil";
import CommandInterceptor from "diagram-js/lib/command/CommandInterceptor";

// The moment each timer kind waits for, written as the engine's working-day functions.
const TIMER_DEFAULTS = { remind: "remind_at(unit)", deadline: "unit_deadline(unit)", assign_due: "workdays(2)" };

export function stepShape(modeler, spec) {
  const bpmnFactory = modeler.get("bpmnFactory"), elementFactory = modeler.get("elementFactory");
  const template = spec.template || {};
  const type = template.element || spec.applies_to[0];
  const options = (spec.options || []).filter((o) => o.default !== null && o.default !== undefined)
    .map((o) => bpmnFactory.create("duban:Option", { name: o.name, value: String(o.default) }));
  const step = bpmnFactory.create("duban:Step", { kind: spec.kind, options });
  const extensionElements = bpmnFactory.create("bpmn:ExtensionElements", { values: [step] });
  step.$parent = extensionElements;
  options.forEach((o) => { o.$parent = step; });
  const attrs = { name: template.name || spec.label, extensionElements };
  const businessObject = bpmnFactory.create(type, attrs);
  extensionElements.$parent = businessObject;
  if (is(businessObject, "bpmn:UserTask")) {
    if (template.form) businessObject.set("camunda:formRef", template.form);
    if (template.form) businessObject.set("camunda:formRefBinding", "latest");
    if (template.lane_role) businessObject.set("camunda:candidateGroups", template.lane_role);
  }
  const shape = { type, businessObject };
    if (spec.kind in TIMER_DEFAULTS || (spec.applies_to || []).includes("bpmn:BoundaryEvent")) {
    shape.eventDefinitionType = "bpmn:TimerEventDefinition";
  }
  const created = elementFactory.createShape(shape);
  if (shape.eventDefinitionType) {
    const definition = created.businessObject.eventDefinitions[0];
    const body = TIMER_DEFAULTS[spec.kind] || "workdays(1)";
    definition.timeDate = bpmnFactory.create("bpmn:FormalExpression", { body });
    definition.timeDate.$parent = definition;
  }
  return created;
}

// The step bar: one button per kind; pressing it starts dragging the element (as bpmn-js's own
// palette does), clicking it attaches the element to the pointer until the next click.
export function renderStepBar(container, modeler, catalogue) {
  container.innerHTML = "";
  const create = modeler.get("create");
  (catalogue.steps || []).forEach((spec) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "duban-step-entry" + ((spec.applies_to || [])[0] === "bpmn:UserTask" ? "" : " timer");
    button.dataset.kind = spec.kind;
    button.textContent = spec.label;
    button.title = spec.help || spec.label;
    const start = (event) => { event.preventDefault(); create.start(event, stepShape(modeler, spec)); };
    button.addEventListener("mousedown", (event) => { if (event.button === 0) start(event); });
    button.addEventListener("touchstart", start, { passive: false });
    container.appendChild(button);
  });
}

// A timer step attached to a task, or turned into an event sub-process's start, starts out
// non-interrupting: it marks a deadline in work that goes on (the deploy contract requires it).
function isTimerStep(businessObject) {
  const values = (businessObject.extensionElements && businessObject.extensionElements.values) || [];
  return values.some((value) => value.$type === "duban:Step" && value.kind in TIMER_DEFAULTS);
}

class TimerStepBehavior extends CommandInterceptor {
  constructor(eventBus, modeling) {
    super(eventBus);
    this.postExecuted("shape.replace", (context) => {
      const shape = context.newShape, bo = shape && shape.businessObject;
      if (!bo || !isTimerStep(bo)) return;
      if (is(bo, "bpmn:BoundaryEvent") && bo.cancelActivity !== false) {
        modeling.updateProperties(shape, { cancelActivity: false });
      } else if (is(bo, "bpmn:StartEvent") && bo.$parent && bo.$parent.triggeredByEvent && bo.isInterrupting !== false) {
        modeling.updateProperties(shape, { isInterrupting: false });
      }
    }, true);
  }
}
TimerStepBehavior.$inject = ["eventBus", "modeling"];

export const timerStepModule = { __init__: ["dubanTimerSteps"], dubanTimerSteps: ["type", TimerStepBehavior] };
