// bpmnlint on the canvas: the recommended rules (their messages translated by the translate module,
// which bpmn-js-bpmnlint applies to every message) plus Duban's own, reported in Chinese. The
// server checks the same and more at deploy; these show problems while the designer draws.
import recommended from "bpmnlint/config/recommended";
import { is } from "bpmnlint-utils";

import adHocSubProcess from "bpmnlint/rules/ad-hoc-sub-process";
import conditionalFlows from "bpmnlint/rules/conditional-flows";
import endEventRequired from "bpmnlint/rules/end-event-required";
import eventBasedGateway from "bpmnlint/rules/event-based-gateway";
import eventSubProcessTypedStartEvent from "bpmnlint/rules/event-sub-process-typed-start-event";
import fakeJoin from "bpmnlint/rules/fake-join";
import global from "bpmnlint/rules/global";
import labelRequired from "bpmnlint/rules/label-required";
import linkEvent from "bpmnlint/rules/link-event";
import noBpmndi from "bpmnlint/rules/no-bpmndi";
import noComplexGateway from "bpmnlint/rules/no-complex-gateway";
import noDisconnected from "bpmnlint/rules/no-disconnected";
import noDuplicateSequenceFlows from "bpmnlint/rules/no-duplicate-sequence-flows";
import noGatewayJoinFork from "bpmnlint/rules/no-gateway-join-fork";
import noImplicitSplit from "bpmnlint/rules/no-implicit-split";
import noImplicitEnd from "bpmnlint/rules/no-implicit-end";
import noImplicitStart from "bpmnlint/rules/no-implicit-start";
import noInclusiveGateway from "bpmnlint/rules/no-inclusive-gateway";
import noOverlappingElements from "bpmnlint/rules/no-overlapping-elements";
import singleBlankStartEvent from "bpmnlint/rules/single-blank-start-event";
import singleEventDefinition from "bpmnlint/rules/single-event-definition";
import startEventRequired from "bpmnlint/rules/start-event-required";
import subProcessBlankStartEvent from "bpmnlint/rules/sub-process-blank-start-event";
import superfluousGateway from "bpmnlint/rules/superfluous-gateway";
import superfluousLabel from "bpmnlint/rules/superfluous-label";
import superfluousTermination from "bpmnlint/rules/superfluous-termination";

// Lane names the engine still recognises without duban:role (engine/domain/roles.py's fallback).
const KNOWN_LANE_NAMES = ["office", "leader", "unit", "discipline", "督查室", "领导", "承办单位", "纪委"];

function userTaskForm() {
  return { check(node, reporter) {
    if (is(node, "bpmn:UserTask") && !node.get("camunda:formRef")) {
      reporter.report(node.id, "用户任务没有表单：在右侧“表单”中选择一个");
    }
  } };
}

function laneRole() {
  return { check(node, reporter) {
    if (!is(node, "bpmn:Lane") || (node.childLaneSet && node.childLaneSet.lanes.length)) return;
    if (node.get("duban:role") || node.get("duban:unit")) return;
    if (KNOWN_LANE_NAMES.includes((node.name || "").trim()) || KNOWN_LANE_NAMES.includes(node.id)) return;
    reporter.report(node.id, "泳道没有对应的角色或单位：在右侧“泳道对应”中选择");
  } };
}

// Timer steps mark a moment in work that goes on (engine/bpmn/contract.py's duban-timer-non-interrupting).
const TIMER_KINDS = ["remind", "deadline", "assign_due"];

function stepKind(node) {
  const values = (node.extensionElements && node.extensionElements.values) || [];
  const step = values.find((value) => value.$type === "duban:Step");
  return step && step.kind;
}

function timerNonInterrupting() {
  return { check(node, reporter) {
    if (!TIMER_KINDS.includes(stepKind(node))) return;
    const interruptingBoundary = is(node, "bpmn:BoundaryEvent") && node.cancelActivity !== false;
    const interruptingStart = is(node, "bpmn:StartEvent") && node.$parent && node.$parent.triggeredByEvent
      && node.isInterrupting !== false;
    if (interruptingBoundary || interruptingStart) {
      reporter.report(node.id, "期限类定时事件须为非中断：取消右侧“中断”，否则会取消所附的办理任务");
    }
  } };
}

const RULES = {
  "ad-hoc-sub-process": adHocSubProcess, "conditional-flows": conditionalFlows,
  "end-event-required": endEventRequired, "event-based-gateway": eventBasedGateway,
  "event-sub-process-typed-start-event": eventSubProcessTypedStartEvent, "fake-join": fakeJoin, "global": global,
  "label-required": labelRequired, "link-event": linkEvent, "no-bpmndi": noBpmndi,
  "no-complex-gateway": noComplexGateway, "no-disconnected": noDisconnected,
  "no-duplicate-sequence-flows": noDuplicateSequenceFlows, "no-gateway-join-fork": noGatewayJoinFork,
  "no-implicit-split": noImplicitSplit, "no-implicit-end": noImplicitEnd, "no-implicit-start": noImplicitStart,
  "no-inclusive-gateway": noInclusiveGateway, "no-overlapping-elements": noOverlappingElements,
  "single-blank-start-event": singleBlankStartEvent, "single-event-definition": singleEventDefinition,
  "start-event-required": startEventRequired, "sub-process-blank-start-event": subProcessBlankStartEvent,
  "superfluous-gateway": superfluousGateway, "superfluous-label": superfluousLabel,
  "superfluous-termination": superfluousTermination,
};
const DUBAN_RULES = {
  "user-task-form": userTaskForm, "lane-role": laneRole, "timer-non-interrupting": timerNonInterrupting,
};

export default {
  config: { rules: { ...recommended.rules, "duban/user-task-form": "error", "duban/lane-role": "warn",
    "duban/timer-non-interrupting": "error" } },
  resolver: {
    resolveRule(pkg, ruleName) {
      return pkg === "bpmnlint-plugin-duban" ? DUBAN_RULES[ruleName] : RULES[ruleName];
    },
    resolveConfig() { return null; },
  },
};
