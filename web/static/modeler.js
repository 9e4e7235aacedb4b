// The modeler: bpmn-js for the diagram, form-js's editor for the selected user task's form.
// Validation and deployment are the server's (the same checks as `duban deploy`); its problems are
// shown on the elements they name.
(function () {
  "use strict";
  var CAMUNDA = "http://camunda.org/schema/1.0/bpmn";
  var key = JSON.parse(document.getElementById("modeler-key").textContent);
  var xml = JSON.parse(document.getElementById("modeler-xml").textContent);
  var forms = JSON.parse(document.getElementById("modeler-forms").textContent) || {};
  var problems = document.getElementById("problems");
  var modeler = new BpmnJS({ container: "#canvas", keyboard: { bindTo: document } });
  var formEditor = null, formId = null, marked = [];

  function blank(processKey) {
    return '<?xml version="1.0" encoding="UTF-8"?>\n' +
      '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" ' +
      'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" ' +
      'xmlns:camunda="' + CAMUNDA + '" id="Definitions_1" targetNamespace="http://duban/bpmn">' +
      '<bpmn:process id="' + processKey + '" name="新流程" isExecutable="true">' +
      '<bpmn:startEvent id="start" name="开始"/></bpmn:process>' +
      '<bpmndi:BPMNDiagram id="d1"><bpmndi:BPMNPlane id="p1" bpmnElement="' + processKey + '">' +
      '<bpmndi:BPMNShape id="start_di" bpmnElement="start"><dc:Bounds x="180" y="160" width="36" height="36"/>' +
      '</bpmndi:BPMNShape></bpmndi:BPMNPlane></bpmndi:BPMNDiagram></bpmn:definitions>';
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

  function payload() {
    saveForm();
    return modeler.saveXML({ format: true }).then(function (result) {
      var data = new FormData();
      data.append("file", new Blob([result.xml], { type: "application/xml" }), key + ".bpmn");
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

  document.getElementById("deploy").addEventListener("click", function () {
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
  });

  document.getElementById("download").addEventListener("click", function () {
    modeler.saveXML({ format: true }).then(function (result) {
      var link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob([result.xml], { type: "application/xml" }));
      link.download = key + ".bpmn";
      link.click();
    });
  });

  problems.addEventListener("click", function (event) {
    var id = event.target.dataset && event.target.dataset.element;
    var element = id && modeler.get("elementRegistry").get(id);
    if (element) modeler.get("selection").select(element);
  });

  // -- forms -------------------------------------------------------------------------------------
  var panel = document.getElementById("form-panel");
  var createButton = document.getElementById("form-create");

  function openForm(task) {
    saveForm();
    // Without the camunda moddle extension, bpmn-js keeps camunda:* attributes verbatim in $attrs.
    var ref = task.businessObject.$attrs["camunda:formRef"];
    panel.hidden = false;
    document.getElementById("form-task").textContent = task.businessObject.name || task.id;
    document.getElementById("form-id").textContent = ref || "（无）";
    createButton.hidden = !!ref;
    createButton.dataset.task = task.id;
    if (formEditor) { formEditor.destroy(); formEditor = null; }
    formId = null;
    if (!ref) return;
    var schema = forms[ref] || { type: "default", id: ref, components: [] };
    formId = ref;
    formEditor = new FormEditor.FormEditor({ container: document.getElementById("form-editor") });
    formEditor.importSchema(schema).catch(function (error) { show("表单无法打开：" + error.message, [], "bad"); });
  }

  createButton.addEventListener("click", function () {
    var task = modeler.get("elementRegistry").get(createButton.dataset.task);
    var id = task.id;
    task.businessObject.$attrs["camunda:formRef"] = id;
    forms[id] = forms[id] || { type: "default", id: id, components: [
      { type: "textarea", key: "opinion", label: "办理意见", validate: { required: true } }] };
    openForm(task);
  });

  document.getElementById("form-close").addEventListener("click", function () {
    saveForm();
    panel.hidden = true;
  });

  modeler.on("selection.changed", function (event) {
    var selected = event.newSelection[0];
    if (selected && selected.type === "bpmn:UserTask") openForm(selected);
  });

  modeler.importXML(xml || blank(key)).then(function () {
    var definitions = modeler.getDefinitions();
    if (!definitions.$attrs["xmlns:camunda"]) definitions.$attrs["xmlns:camunda"] = CAMUNDA;
    modeler.get("canvas").zoom("fit-viewport", "auto");
    document.getElementById("canvas").dataset.ready = "true";
  }).catch(function (error) {
    show("流程图无法打开：" + error.message, [], "bad");
  });
  window.dubanModeler = { modeler: modeler, forms: forms, saveForm: saveForm };
})();
