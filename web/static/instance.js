// The instance monitor: the diagram with the path taken, current tasks and waiting timers marked
// (from the server's projections, not a re-parse), and the administrators' operations.
(function () {
  "use strict";
  var xml = JSON.parse(document.getElementById("diagram-xml").textContent);
  var marks = JSON.parse(document.getElementById("diagram-highlight").textContent);
  var viewer = new BpmnJS({ container: "#diagram" });

  viewer.importXML(xml).then(function () {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    canvas.zoom("fit-viewport", "auto");
    function mark(ids, css) {
      ids.forEach(function (id) { if (registry.get(id)) canvas.addMarker(id, css); });
    }
    mark(marks.passed, "passed");
    // A flow was taken when both its ends were passed (or it led into a current task).
    var passed = {};
    marks.passed.forEach(function (id) { passed[id] = true; });
    marks.current.concat(marks.waiting).forEach(function (id) { passed[id] = passed[id] || "reached"; });
    registry.filter(function (e) { return e.type === "bpmn:SequenceFlow"; }).forEach(function (flow) {
      if (flow.source && flow.target && passed[flow.source.id] === true && passed[flow.target.id]) {
        canvas.addMarker(flow.id, "passed");
      }
    });
    mark(marks.current, "current");
    mark(marks.waiting, "waiting");
    document.getElementById("diagram").dataset.ready = "true";
  }).catch(function (error) {
    document.getElementById("diagram").textContent = "流程图无法显示：" + error.message;
  });

  var box = document.querySelector(".operations");
  if (!box) return;
  var id = box.dataset.instance;
  var message = document.getElementById("op-message");
  var LABELS = { suspend: "挂起", resume: "恢复", retry: "重试", terminate: "终止", migrate: "迁移" };

  function call(op, body) {
    var path = "/api/v1/instances/" + id + "/" + (op === "migrate" ? "migration" : op);
    return fetch(path, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": window.duban.csrf },
      body: JSON.stringify(body || {})
    }).then(function (r) { return r.json().then(function (json) { return { status: r.status, body: json }; }); });
  }

  box.addEventListener("click", function (event) {
    var op = event.target.dataset && event.target.dataset.op;
    if (!op) return;
    var body = {};
    if (op === "terminate") {
      var reason = window.prompt("请填写终止原因");
      if (!reason) return;
      body.reason = reason;
    } else if (op === "migrate") {
      body.version = Number(box.dataset.latest);
    } else if (!window.confirm("确定" + LABELS[op] + "该流程实例？")) {
      return;
    }
    call(op, body).then(function (answer) {
      if (answer.status === 200) {
        window.location.reload();
      } else {
        message.textContent = LABELS[op] + "失败：" + (answer.body.message || answer.status);
        message.hidden = false;
      }
    });
  });
})();
