// The modeler page: Duban's bpmn-js bundle (window.DubanModeler: properties panel, 督办 steps,
// lint, token simulation, minimap, Chinese) for the diagram, form-js's editor for the selected task's
// form. Validation and deployment are the server's (the same checks as `duban deploy`); its problems
// are shown on the elements they name.
(function () {
  "use strict";
  var CAMUNDA = "http://camunda.org/schema/1.0/bpmn";
  var DUBAN = "urn:duban:bpmn:1";
  var openedKey = JSON.parse(document.getElementById("modeler-key").textContent);
  var xml = JSON.parse(document.getElementById("modeler-xml").textContent);
  var forms = JSON.parse(document.getElementById("modeler-forms").textContent) || {};
  var problems = document.getElementById("problems");
  // Until GET /api/v1/modeler/catalogue answers (or if it cannot): the lane roles and name patterns.
  var catalogue = JSON.parse(document.getElementById("modeler-catalogue").textContent);
  var modeler = DubanModeler.create({
    container: "#canvas", panel: "#properties",
    catalogue: function () { return catalogue; }, forms: function () { return forms; },
  });
  var formEditor = null, formId = null, formTask = null, marked = [];

  function blank(processKey) {
    return '<?xml version="1.0" encoding="UTF-8"?>\n' +
      '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" ' +
      'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" ' +
      'xmlns:camunda="' + CAMUNDA + '" xmlns:duban="' + DUBAN + '" id="Definitions_1" targetNamespace="http://duban/bpmn">' +
      '<bpmn:process id="' + processKey + '" name="新流程" isExecutable="true">' +
      '<bpmn:startEvent id="start" name="开始"/></bpmn:process>' +
      '<bpmndi:BPMNDiagram id="d1"><bpmndi:BPMNPlane id="p1" bpmnElement="' + processKey + '">' +
      '<bpmndi:BPMNShape id="start_di" bpmnElement="start"><dc:Bounds x="180" y="160" width="36" height="36"/>' +
      '</bpmndi:BPMNShape></bpmndi:BPMNPlane></bpmndi:BPMNDiagram></bpmn:definitions>';
  }

  // The process being designed: its id is the deployment key, set in the properties panel.
  function mainProcess() {
    var roots = modeler.getDefinitions().rootElements || [];
    var processes = roots.filter(function (e) { return e.$type === "bpmn:Process"; });
    return processes.filter(function (p) { return p.isExecutable; })[0] || processes[0];
  }

  function currentKey() { var p = mainProcess(); return p ? p.id : openedKey; }

  function showName() {
    var p = mainProcess();
    if (!p) return;
    document.getElementById("diagram-name").textContent = (p.name || "（未命名）") + "（" + p.id + "）";
  }

  function show(message, items, kind) {
    problems.hidden = false;
    problems.className = "problems " + (kind || "");
    problems.innerHTML = "";
    var head = document.createElement("p");
    head.textContent = message;
    problems.appendChild(head);
    if (items && items.length) {
      var list = document.createElement("ul");
      items.forEach(function (d) {
        var li = document.createElement("li");
        li.textContent = (d.element ? "[" + d.element + "] " : "") + d.message;
        if (d.rule) li.appendChild(ruleTag(d.rule));
        if (d.element) { li.dataset.element = d.element; li.className = "jump"; }
        list.appendChild(li);
      });
      problems.appendChild(list);
    }
  }

  // The limit a problem breaks (timer-min-cycle, multi-instance-max, ...), as the README names it.
  function ruleTag(rule) {
    var tag = document.createElement("span");
    tag.className = "rule";
    tag.dataset.rule = rule;
    tag.textContent = "规则 " + rule;
    return tag;
  }

  function clearMarks() {
    var canvas = modeler.get("canvas");
    marked.forEach(function (id) { canvas.removeMarker(id, "invalid"); });
    marked = [];
    modeler.get("overlays").remove({ type: "problem" });
  }

  function markProblems(details) {
    var canvas = modeler.get("canvas"), registry = modeler.get("elementRegistry"), overlays = modeler.get("overlays");
    details.forEach(function (d) {
      if (!d.element || !registry.get(d.element)) return;
      canvas.addMarker(d.element, "invalid");
      marked.push(d.element);
      var note = document.createElement("div");
      note.className = "problem-note";
      if (d.rule) note.appendChild(ruleTag(d.rule));
      note.appendChild(document.createTextNode(d.message));
      overlays.add(d.element, "problem", { position: { bottom: -6, left: 0 }, html: note });
    });
  }

  function saveForm() {
    if (formEditor && formId) forms[formId] = formEditor.getSchema();
  }

  // A deployed form a task of this diagram names (签收's unit_receive, dragged from the step bar, or
  // one picked in the panel): its schema as deployed, so the editor opens it and the deployment
  // carries it, rather than an empty form of that id.
  function deployedForm(ref) {
    var entry = (catalogue.forms || []).filter(function (f) { return f.id === ref; })[0];
    return entry && entry.schema ? JSON.parse(JSON.stringify(entry.schema)) : null;
  }

  function addDeployedForms() {
    modeler.get("elementRegistry").forEach(function (element) {
      var ref = element.businessObject && element.businessObject.get && element.businessObject.get("camunda:formRef");
      if (ref && !forms[ref] && deployedForm(ref)) forms[ref] = deployedForm(ref);
    });
  }

  function payload() {
    saveForm();
    addDeployedForms();
    return modeler.saveXML({ format: true }).then(function (result) {
      var data = new FormData();
      data.append("file", new Blob([result.xml], { type: "application/xml" }), currentKey() + ".bpmn");
      Object.keys(forms).forEach(function (id) {
        data.append("forms", new Blob([JSON.stringify(forms[id])], { type: "application/json" }), id + ".form");
      });
      return data;
    });
  }

  function send(path) {
    clearMarks();
    return payload().then(function (data) {
      return fetch(path, { method: "POST", credentials: "same-origin", body: data,
                           headers: { "X-CSRF-Token": window.duban.csrf } });
    }).then(function (r) { return r.json().then(function (body) { return { status: r.status, body: body }; }); });
  }

  function refused(answer, what) {
    show(what + "未通过：" + (answer.body.message || answer.status), answer.body.details || [], "bad");
    markProblems(answer.body.details || []);
  }

  document.getElementById("validate").addEventListener("click", function () {
    send("/api/v1/definitions/validate").then(function (answer) {
      if (answer.status !== 200) return refused(answer, "验证");
      var warnings = [];
      answer.body.forEach(function (p) { warnings = warnings.concat(p.warnings || []); });
      show("验证通过" + (warnings.length ? "（有提示）" : ""), warnings, "good");
    });
  });

  // -- deploying: a key another process already uses is confirmed first --------------------------
  function deployed() {
    return fetch("/api/v1/definitions", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : []; });
  }

  // Why deploying under this key needs a yes, or null: the key belongs to another process (a new
  // diagram, or one whose id was changed), or the deployed process of that key has another name.
  function collision(existing) {
    var process = mainProcess(), key = currentKey();
    var same = existing.filter(function (d) { return d.key === key; })[0];
    if (!same) return null;
    if (key !== openedKey) {
      return "流程标识 " + key + " 已被已部署的流程“" + same.name + "”（v" + same.version + "）使用。部署后本流程将成为它的新版本 v" +
        (same.version + 1) + "，新发起的实例都将按本流程运行。";
    }
    if (process && process.name && same.name && process.name !== same.name) {
      return "已部署的 " + key + " 名为“" + same.name + "”，本流程名为“" + process.name + "”。部署后将替换为新版本 v" +
        (same.version + 1) + "。";
    }
    return null;
  }

  function confirmDeploy(message) {
    var box = document.getElementById("deploy-confirm");
    document.getElementById("deploy-confirm-text").textContent = message + " 确定要部署吗？";
    box.hidden = false;
    return new Promise(function (resolve) {
      function answer(yes) {
        box.hidden = true;
        document.getElementById("deploy-confirm-yes").onclick = null;
        document.getElementById("deploy-confirm-no").onclick = null;
        resolve(yes);
      }
      document.getElementById("deploy-confirm-yes").onclick = function () { answer(true); };
      document.getElementById("deploy-confirm-no").onclick = function () { answer(false); };
    });
  }

  function deploy() {
    send("/api/v1/definitions").then(function (answer) {
      if (answer.status !== 201) return refused(answer, "部署");
      var message = answer.body.created ? "已部署 " + answer.body.key + " v" + answer.body.version
                                        : "内容未变化，仍为 v" + answer.body.version;
      show(message, answer.body.warnings || [], "good");
      if (answer.body.created) {
        window.setTimeout(function () {
          window.location.href = "/modeler?key=" + encodeURIComponent(answer.body.key) + "&version=" + answer.body.version;
        }, 800);
      }
    });
  }

  document.getElementById("deploy").addEventListener("click", function () {
    deployed().then(function (existing) {
      var why = collision(existing);
      if (!why) return deploy();
      return confirmDeploy(why).then(function (yes) {
        if (yes) deploy(); else show("已取消部署。", [], "");
      });
    });
  });

  document.getElementById("download").addEventListener("click", function () {
    modeler.saveXML({ format: true }).then(function (result) {
      var link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob([result.xml], { type: "application/xml" }));
      link.download = currentKey() + ".bpmn";
      link.click();
    });
  });

  problems.addEventListener("click", function (event) {
    var id = event.target.dataset && event.target.dataset.element;
    var element = id && modeler.get("elementRegistry").get(id);
    if (element) modeler.get("selection").select(element);
  });

  // -- token simulation, properties panel --------------------------------------------------------
  var simulate = document.getElementById("simulate");
  simulate.addEventListener("click", function () {
    modeler.get("toggleMode").toggleMode();
  });
  modeler.on("tokenSimulation.toggleMode", function (event) {
    simulate.setAttribute("aria-pressed", event.active ? "true" : "false");
    simulate.classList.toggle("active", !!event.active);
  });

  var work = document.getElementById("modeler-work");
  var togglePanel = document.getElementById("toggle-properties");
  togglePanel.addEventListener("click", function () {
    var hidden = work.classList.toggle("no-properties");
    togglePanel.setAttribute("aria-pressed", hidden ? "false" : "true");
    modeler.get("canvas").resized();
  });

  // -- forms -------------------------------------------------------------------------------------
  var panel = document.getElementById("form-panel");
  var createButton = document.getElementById("form-create");

  function formRefOf(element) {
    return element.businessObject.get("camunda:formRef");
  }

  function openForm(task) {
    saveForm();
    var ref = formRefOf(task);
    formTask = task.id;
    panel.hidden = false;
    document.getElementById("form-task").textContent = task.businessObject.name || task.id;
    document.getElementById("form-id").textContent = ref || "（无）";
    createButton.hidden = !!ref;
    createButton.dataset.task = task.id;
    if (formEditor) { formEditor.destroy(); formEditor = null; }
    formId = null;
    document.getElementById("form-editor").hidden = !ref;
    if (!ref) return;
    var schema = forms[ref] || deployedForm(ref) || { type: "default", id: ref, components: [] };
    formId = ref;
    var container = document.getElementById("form-editor");
    // The FEEL pop-up inside the container too, so that its texts are translated with the rest.
    formEditor = new FormEditor.FormEditor({ container: container,
                                            propertiesPanel: { feelPopupContainer: container } });
    DubanModeler.translateFormEditor(formEditor, container);  // before the import draws the palette
    formEditor.importSchema(schema).catch(function (error) { show("表单无法打开：" + error.message, [], "bad"); });
  }

  createButton.addEventListener("click", function () {
    var task = modeler.get("elementRegistry").get(createButton.dataset.task);
    var id = task.id;
    forms[id] = forms[id] || { type: "default", id: id, components: [
      { type: "textarea", key: "opinion", label: "办理意见", validate: { required: true } }] };
    modeler.get("modeling").updateProperties(task, { "camunda:formRef": id, "camunda:formRefBinding": "latest" });
    openForm(task);
  });

  document.getElementById("form-close").addEventListener("click", function () {
    saveForm();
    panel.hidden = true;
  });

  function hasForm(element) {
    return element && (element.type === "bpmn:UserTask" ||
      (element.type === "bpmn:StartEvent" && !(element.businessObject.eventDefinitions || []).length));
  }

  modeler.on("selection.changed", function (event) {
    var selected = event.newSelection[0];
    if (hasForm(selected)) openForm(selected);
  });

  // A form picked (or a task renamed) in the properties panel opens in the form editor at once.
  modeler.on("elements.changed", function (event) {
    showName();
    event.elements.forEach(function (element) {
      if (element.id === formTask && hasForm(element) && formRefOf(element) !== formId) openForm(element);
    });
  });

  // -- the canvas: the diagram beside the palette, not under it ----------------------------------
  function fitBesidePalette() {
    var canvas = modeler.get("canvas");
    canvas.zoom("fit-viewport", "auto");
    var box = canvas.viewbox(), inner = box.inner, outer = box.outer;
    var palette = canvas.getContainer().querySelector(".djs-palette");
    var left = (palette ? palette.offsetLeft + palette.offsetWidth : 0) + 40, top = 40;
    if (!inner.width || !inner.height) return;
    var scale = Math.min(1, (outer.width - left - 24) / inner.width, (outer.height - top - 24) / inner.height);
    // On a phone a whole diagram would be unreadably small: start readable, the designer pans.
    if (outer.width < 600) scale = Math.max(scale, 0.6);
    canvas.viewbox({ x: inner.x - left / scale, y: inner.y - top / scale,
                     width: outer.width / scale, height: outer.height / scale });
  }

  function loadCatalogue() {
    return fetch("/api/v1/modeler/catalogue", { credentials: "same-origin" }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (answer) {
      if (answer) catalogue = answer;
    }).catch(function () { return null; });
  }

  function importDiagram() {
    var fresh = !xml;
    return modeler.importXML(xml || blank(DubanModeler.randomId("Process_"))).then(function () {
      var definitions = modeler.getDefinitions();
      if (!definitions.$attrs["xmlns:camunda"]) definitions.$attrs["xmlns:camunda"] = CAMUNDA;
      if (!definitions.$attrs["xmlns:duban"]) definitions.$attrs["xmlns:duban"] = DUBAN;
      if (fresh) openedKey = null;  // a new diagram's generated key belongs to no deployed process
      fitBesidePalette();
      showName();
    });
  }

  loadCatalogue().then(function () {
    var bar = document.getElementById("step-bar");
    if ((catalogue.steps || []).length) DubanModeler.renderStepBar(bar, modeler, catalogue);
    else bar.innerHTML = "<small>督办环节目录暂不可用</small>";
    return importDiagram();
  }).then(function () {
    document.getElementById("canvas").dataset.ready = "true";
  }).catch(function (error) {
    show("流程图无法打开：" + error.message, [], "bad");
  });
  window.dubanModeler = { modeler: modeler, forms: forms, saveForm: saveForm,
                          formEditor: function () { return formEditor; },
                          catalogue: function () { return catalogue; } };
})();
