// bpmn-js's `translate` service in Chinese (diagram-js calls it for the palette, context pad,
// replace menu, search; the properties panel and bpmnlint's overlays too), and Chinese written into
// the markup of libraries without one (token simulation, form-js's editor).
import zh from "./zh";
import zhForm, { components, newFieldDefaults } from "./zh-form";

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

// Texts some libraries write straight into their markup (token simulation, form-js's editor):
// translated in place when they appear under `root`, and again whenever the library rewrites them.
const MARKUP_ATTRIBUTES = ["title", "placeholder", "aria-label"];
// CodeMirror keeps its DOM in step with the edited text: a change there would edit the field. Only
// the attributes of its content (aria-label, naming the entry) are translated.
const UNTOUCHED = ".cm-editor";
const EDITOR_CONTENT = ".cm-content";
const observed = new WeakSet();

// dictionary -> (text -> its translation or undefined). Keys with {placeholders} match texts built
// around a value ("Remove {component}"), the value translated too when it is a key; the key with
// the most fixed text is tried first.
function phrasebook(dictionary) {
  const patterns = Object.keys(dictionary).filter((key) => /{[^}]+}/.test(key))
    .sort((a, b) => b.replace(/{[^}]+}/g, "").length - a.replace(/{[^}]+}/g, "").length)
    .map((key) => {
      const names = [];
      const source = key.split(/({[^}]+})/).map((part) => {
        const name = /^{([^}]+)}$/.exec(part);
        if (!name) return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        names.push(name[1]);
        return "(.+?)";
      }).join("");
      return { regex: new RegExp("^" + source + "$"), names, template: dictionary[key] };
    });
  const exact = (text) => (Object.prototype.hasOwnProperty.call(dictionary, text) ? dictionary[text] : undefined);
  return (text) => {
    const found = exact(text);
    if (found !== undefined) return found;
    for (const { regex, names, template } of patterns) {
      const match = regex.exec(text);
      if (!match) continue;
      const values = Object.fromEntries(names.map((name, i) => [name, match[i + 1]]));
      return template.replace(/{([^}]+)}/g, (whole, name) => (name in values ? exact(values[name]) || values[name] : whole));
    }
    return undefined;
  };
}

export function translateMarkup(root, dictionary = zh) {
  if (observed.has(root)) return;
  observed.add(root);
  const lookup = phrasebook(dictionary);
  const fixAttributes = (element) => MARKUP_ATTRIBUTES.forEach((name) => {
    const value = element.getAttribute(name);
    const text = value && lookup(value.trim());
    if (text !== undefined && text !== value) element.setAttribute(name, text);
  });
  const fix = (node) => {
    if (node.nodeType === 3) {
      const text = node.nodeValue.trim();
      const translated = text && lookup(text);
      if (translated !== undefined && translated !== text) node.nodeValue = node.nodeValue.replace(text, translated);
      return;
    }
    if (node.nodeType !== 1) return;
    if (node.matches(UNTOUCHED)) {
      node.querySelectorAll(EDITOR_CONTENT).forEach(fixAttributes);
      return;
    }
    fixAttributes(node);
    node.childNodes.forEach(fix);
  };
  const untouched = (node) => {
    const element = node.nodeType === 1 ? node : node.parentElement;
    return !element || !!element.closest(UNTOUCHED);
  };
  fix(root);
  new MutationObserver((records) => records.forEach((r) => {
    if (r.type === "attributes" && r.target.matches(EDITOR_CONTENT)) fixAttributes(r.target);
    else if (untouched(r.target)) return;
    else if (r.type === "childList") r.addedNodes.forEach(fix);
    else if (r.type === "characterData") fix(r.target);
    else fixAttributes(r.target);
  })).observe(root, { childList: true, subtree: true, characterData: true,
                      attributes: true, attributeFilter: MARKUP_ATTRIBUTES });
}

// form-js's editor in Chinese: its components renamed (palette, panel header, a new field's
// default label and texts) before the first import draws the palette, its markup translated.
// Called for every editor; the container is observed once.
export function translateFormEditor(formEditor, container) {
  const formFields = formEditor.get("formFields");
  const types = {};
  // the registry has no public listing; form-js's palette reads _formFields too
  Object.keys(formFields._formFields).forEach((type) => {
    const config = formFields.get(type).config;
    renameComponent(config);
    if (config.name || config.label) types[type] = config.name || config.label;
  });
  // the FEEL pop-up's title names the field's raw type ("textfield / Field label")
  translateMarkup(container, { ...types, ...zhForm });
}

function renameComponent(config) {
  if (config.dubanChinese) return;
  config.dubanChinese = true;
  if (components[config.name]) config.name = components[config.name];
  if (components[config.label]) config.label = components[config.label];
  const create = config.create;
  if (!create) return;
  config.create = (options, isNewField) => {
    const field = create(options, isNewField);
    return isNewField ? newFieldInChinese(field) : field;
  };
}

const NEW_FIELD = { ...components, ...newFieldDefaults };

function newFieldInChinese(field) {
  const chinese = (text) => (typeof text === "string" && NEW_FIELD[text]) || text;
  ["label", "dateLabel", "timeLabel", "text"].forEach((name) => {
    if (name in field) field[name] = chinese(field[name]);
  });
  ["values", "columns"].forEach((name) => {
    if (Array.isArray(field[name])) field[name] = field[name].map((item) => ({ ...item, label: chinese(item.label) }));
  });
  return field;
}

export default { translate: ["value", translate] };
