// Duban's modeler bundle (built by esbuild at `make assets` into web/static/vendor/modeler/):
// bpmn-js's modeler with the properties panel and Duban's provider, Duban's and Camunda's moddle
// extensions, bpmnlint on the canvas, token simulation, a minimap, the 督办 step bar and Chinese.
// The page script (web/static/modeler.js) calls window.DubanModeler.create().
import BpmnModeler from "bpmn-js/lib/Modeler";
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from "bpmn-js-properties-panel";
import camundaModdle from "camunda-bpmn-moddle/resources/camunda.json";
import lintModule from "bpmn-js-bpmnlint";
import TokenSimulationModule from "bpmn-js-token-simulation/lib/modeler";
import MinimapModule from "diagram-js-minimap";

import dubanModdle from "./duban.json";
import DubanPropertiesProvider from "./provider";
import translateModule, { translateMarkup, translateFormEditor } from "./translate";
import lintConfig from "./lint";
import { renderStepBar, stepShape, timerStepModule } from "./steps";

const dubanPropertiesModule = {
  __init__: ["dubanPropertiesProvider"],
  dubanPropertiesProvider: ["type", DubanPropertiesProvider],
};

function randomId(prefix) {
  return prefix + Math.random().toString(36).slice(2, 9);
}

// Files written by other tools (and Duban's own bpmn/) often omit <bpmn:incoming>/<bpmn:outgoing>;
// bpmnlint reads them, so they are filled in from the sequence flows after every import.
function linkFlows(modeler) {
  modeler.get("elementRegistry").filter((e) => e.type === "bpmn:SequenceFlow").forEach((flow) => {
    const bo = flow.businessObject;
    [[bo.sourceRef, "outgoing"], [bo.targetRef, "incoming"]].forEach(([node, side]) => {
      if (!node) return;
      const list = node.get(side);
      if (!list.includes(bo)) list.push(bo);
    });
  });
}

function create(options) {
  const modeler = new BpmnModeler({
    container: options.container,
    propertiesPanel: { parent: options.panel, layout: { groups: { general: { open: true } } } },
    linting: { bpmnlint: lintConfig, active: true },
    dubanProperties: { catalogue: options.catalogue, forms: options.forms },
    moddleExtensions: { camunda: camundaModdle, duban: dubanModdle },
    additionalModules: [
      BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, dubanPropertiesModule, translateModule,
      lintModule, TokenSimulationModule, MinimapModule, timerStepModule,
    ],
  });
  translateMarkup(modeler.get("canvas").getContainer());
  modeler.on("import.done", 2000, () => linkFlows(modeler));
  return modeler;
}

// translateFormEditor: form-js's editor (web/static/modeler.js creates one per opened form) in Chinese.
window.DubanModeler = { create, renderStepBar, stepShape, randomId, translateFormEditor };
