#!/usr/bin/env python3
"""Copy the distributable files of the npm packages (node_modules/) into web/static/vendor/, and
build the modeler bundle from web/static/modeler/ with esbuild (an npm package of its own).

`make assets` runs `npm ci` and then this; the result is served from /static/vendor/ and never
committed. Only the standard library, so it runs before the virtualenv exists.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULES = ROOT / "node_modules"
VENDOR = ROOT / "web" / "static" / "vendor"
ESBUILD = MODULES / ".bin" / "esbuild"
# Bundles built from our own sources with the npm packages they import: (entry, output in VENDOR).
BUNDLES = [
    # window.DubanModeler: bpmn-js + properties panel + Duban's provider, lint, token simulation, minimap
    (ROOT / "web" / "static" / "modeler" / "index.js", "modeler/duban-modeler.js"),
    # window.DubanDmn: dmn-js's modeler (the decision table editor) in Chinese
    (ROOT / "web" / "static" / "modeler" / "dmn.js", "dmn/duban-dmn.js"),
]

# package -> (vendor folder, [(path in the package, path in the folder)]); a folder is copied whole.
FILES = {
    "@bpmn-io/form-js": ("form-js", [
        ("dist/form-viewer.umd.js", "form-viewer.umd.js"),        # window.FormViewer
        ("dist/assets/form-js.css", "form-js.css"),                # includes the date picker's styles
        ("dist/assets/form-js-base.css", "form-js-base.css"),
        ("dist/form-editor.umd.js", "form-editor.umd.js"),        # window.FormEditor (the modeler)
        ("dist/assets/form-js-editor.css", "form-js-editor.css"),
        ("dist/assets/properties-panel.css", "properties-panel.css"),
        ("dist/assets/draggle.css", "draggle.css"),
        ("LICENSE", "LICENSE"),
    ]),
    "bpmn-js": ("bpmn-js", [
        ("dist/bpmn-viewer.production.min.js", "bpmn-viewer.production.min.js"),                    # window.BpmnJS
        ("dist/bpmn-navigated-viewer.production.min.js", "bpmn-navigated-viewer.production.min.js"),
        ("dist/bpmn-modeler.production.min.js", "bpmn-modeler.production.min.js"),
        ("dist/assets", "assets"),  # diagram-js.css, bpmn-js.css, bpmn-font/css/bpmn.css and its fonts
        ("LICENSE", "LICENSE"),
    ]),
    # The DMN editor's library is bundled (BUNDLES); its style sheets, font and licence are copied.
    "dmn-js": ("dmn", [
        ("dist/assets", "assets"),  # dmn-js-shared.css, dmn-js-decision-table.css, dmn-font/ ...
        ("LICENSE", "LICENSE"),
    ]),
    # The modeler's libraries are bundled (BUNDLES); their style sheets and licences are copied.
    "@bpmn-io/properties-panel": ("properties-panel", [
        ("dist/assets/properties-panel.css", "properties-panel.css"),
        ("LICENSE", "LICENSE"),
    ]),
    "bpmn-js-properties-panel": ("properties-panel", [("LICENSE", "LICENSE-bpmn-js-properties-panel")]),
    "camunda-bpmn-moddle": ("modeler", [("LICENSE", "LICENSE-camunda-bpmn-moddle")]),
    "bpmnlint": ("bpmnlint", [("LICENSE", "LICENSE-bpmnlint")]),
    "bpmn-js-bpmnlint": ("bpmnlint", [
        ("dist/assets/css/bpmn-js-bpmnlint.css", "bpmn-js-bpmnlint.css"),
        ("LICENSE", "LICENSE"),
    ]),
    "bpmn-js-token-simulation": ("token-simulation", [
        ("assets/css/bpmn-js-token-simulation.css", "bpmn-js-token-simulation.css"),
        ("LICENSE", "LICENSE"),
    ]),
    "diagram-js-minimap": ("minimap", [
        ("assets/diagram-js-minimap.css", "diagram-js-minimap.css"),
        ("LICENSE", "LICENSE"),
    ]),
    "echarts": ("echarts", [
        ("dist/echarts.min.js", "echarts.min.js"),  # window.echarts
        ("LICENSE", "LICENSE"),
    ]),
    "swagger-ui-dist": ("swagger-ui", [
        ("swagger-ui-bundle.js", "swagger-ui-bundle.js"),  # window.SwaggerUIBundle
        ("swagger-ui-standalone-preset.js", "swagger-ui-standalone-preset.js"),
        ("swagger-ui.css", "swagger-ui.css"),
        ("oauth2-redirect.html", "oauth2-redirect.html"),
        ("oauth2-redirect.js", "oauth2-redirect.js"),
        ("favicon-16x16.png", "favicon-16x16.png"),
        ("favicon-32x32.png", "favicon-32x32.png"),
        ("LICENSE", "LICENSE"),
    ]),
}


def main() -> int:
    if not MODULES.is_dir():
        print(f"{MODULES} is missing: run `npm ci` first (make assets does)", file=sys.stderr)
        return 1
    missing = [f"{package}/{source}" for package, (_, files) in FILES.items()
               for source, _ in files if not (MODULES / package / source).exists()]
    if missing:
        print("node_modules lacks: " + ", ".join(missing), file=sys.stderr)
        return 1
    if VENDOR.exists():
        shutil.rmtree(VENDOR)
    versions = {}
    for package, (folder, files) in FILES.items():
        versions[package] = json.loads((MODULES / package / "package.json").read_text())["version"]
        for source, target in files:
            src, dst = MODULES / package / source, VENDOR / folder / target
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, dst)
            else:
                shutil.copyfile(src, dst)
    for entry, output in BUNDLES:
        if not bundle(entry, VENDOR / output):
            return 1
    (VENDOR / "versions.json").write_text(json.dumps(versions, indent=2, sort_keys=True) + "\n")
    print("web/static/vendor: " + ", ".join(f"{p} {v}" for p, v in versions.items()))
    return 0


def bundle(entry: Path, output: Path) -> bool:
    """One minified script (an IIFE setting its window globals) with everything it imports."""
    command = [str(ESBUILD), str(entry), "--bundle", "--minify", "--format=iife", "--target=es2019",
               "--legal-comments=linked", "--log-level=warning", f"--outfile={output}"]
    if subprocess.run(command, cwd=ROOT).returncode != 0:
        print(f"esbuild could not build {output.relative_to(ROOT)}", file=sys.stderr)
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
