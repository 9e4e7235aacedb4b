// Duban's DMN editor bundle (built by esbuild at `make assets` into web/static/vendor/dmn/): dmn-js's
// modeler opened on the decision table, in Chinese through its `translate` service (as bpmn-js is in
// ./translate.js), with the texts it writes straight into its markup translated in place.
// The page script (web/static/dmn_editor.js) calls window.DubanDmn.create().
import DmnModeler from "dmn-js/lib/Modeler";

import zhDmn from "./zh-dmn";
import { translateMarkup } from "./translate";

export function translate(template, replacements) {
  const text = Object.prototype.hasOwnProperty.call(zhDmn, template) ? zhDmn[template] : template;
  const values = replacements || {};
  return text.replace(/{([^}]+)}/g, (whole, key) => (key in values ? zhDmn[values[key]] || values[key] : whole));
}

const translateModule = { translate: ["value", translate] };

function create(options) {
  const modeler = new DmnModeler({
    container: options.container,
    common: { additionalModules: [translateModule] },
  });
  translateMarkup(options.container, zhDmn);
  return modeler;
}

// Open the decision table of the first decision (dmn-js opens the decision requirements diagram first).
function openTable(modeler) {
  const view = modeler.getViews().find((v) => v.type === "decisionTable");
  return view ? modeler.open(view) : Promise.resolve();
}

window.DubanDmn = { create, openTable };
