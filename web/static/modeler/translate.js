// bpmn-js's `translate` service in Chinese (diagram-js calls it for the palette, context pad,
// replace menu, search; the properties panel and bpmnlint's overlays too).
import zh from "./zh";

// The properties panel's header names element types in Title Case ("Timer Boundary Event",
// "Message Start Event (Non Interrupting)"): looked up without case and hyphens.
const loose = (text) => text.toLowerCase().replace(/-/g, " ");
const LOOSE = Object.fromEntries(Object.entries(zh).map(([key, value]) => [loose(key), value]));

export function translate(template, replacements) {
  const text = Object.prototype.hasOwnProperty.call(zh, template) ? zh[template]
    : (LOOSE[loose(template)] || template);
  const values = replacements || {};
  return text.replace(/{([^}]+)}/g, (whole, key) => (key in values ? zh[values[key]] || values[key] : whole));
}

// Texts some libraries write straight into their markup (token simulation): translated in place
// when they appear under `root`.
export function translateMarkup(root) {
  const fix = (node) => {
    if (node.nodeType === 3) {
      const text = node.nodeValue.trim();
      if (text && zh[text]) node.nodeValue = node.nodeValue.replace(text, zh[text]);
      return;
    }
    if (node.nodeType !== 1) return;
    if (node.title && zh[node.title]) node.title = zh[node.title];
    node.childNodes.forEach(fix);
  };
  fix(root);
  new MutationObserver((records) => records.forEach((r) => {
    r.addedNodes.forEach(fix);
    if (r.type === "characterData") fix(r.target);
  })).observe(root, { childList: true, subtree: true, characterData: true });
}

export default { translate: ["value", translate] };
