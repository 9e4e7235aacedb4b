// `make lint` checks Duban's own JavaScript in web/static/ (vendor/ is npm's, copied by `make assets`) and
// the tests' Node scripts.
const js = require("@eslint/js");
const globals = require("globals");

// What the pages' <script> tags load from web/static/vendor/ before the page's own script.
const vendor = { BpmnJS: "readonly", DubanDmn: "readonly", DubanModeler: "readonly", FormEditor: "readonly",
                 FormViewer: "readonly" };

module.exports = [
  { ignores: ["web/static/vendor/", "node_modules/", "var/", ".venv/"] },
  js.configs.recommended,
  {
    // `catch (e) { /* private mode */ }`: the scripts are ES5-style and name what they ignore.
    rules: { "no-unused-vars": ["error", { caughtErrors: "none" }] },
  },
  {
    // The pages' scripts: plain browser scripts, each in its own function, sharing window.duban*.
    files: ["web/static/*.js"],
    languageOptions: { sourceType: "script", globals: { ...globals.browser, ...vendor } },
  },
  {
    // The modeler's sources: ES modules bundled by esbuild (`make assets`).
    files: ["web/static/modeler/*.js"],
    languageOptions: { sourceType: "module", globals: { ...globals.browser } },
  },
  {
    // Node scripts the end-to-end tests run (camunda-external-task-client-js, a devDependency).
    files: ["tests/**/*.mjs"],
    languageOptions: { sourceType: "module", globals: { ...globals.node } },
  },
  {
    files: ["eslint.config.js"],
    languageOptions: { sourceType: "commonjs", globals: { ...globals.node } },
  },
];
